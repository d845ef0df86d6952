"""Every molecule scenario of the collection (extensions/molecule/<scenario>), run with molecule's own
test sequence (prepare, converge, idempotence, verify, destroy) against the testbed, as a user runs
them against a Supervisor: connection settings from the environment."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testbed.cli import env_values
from testbed.layout import REPO_ROOT
from tests.collection_path import collection_tree

pytestmark = pytest.mark.testbed

EXTENSIONS = REPO_ROOT / "extensions"


def _scenarios() -> list[str]:
    return sorted(path.parent.name for path in (EXTENSIONS / "molecule").glob("*/molecule.yml"))


def test_there_are_scenarios():
    assert _scenarios(), "extensions/molecule holds the roles' scenarios"


@pytest.mark.parametrize("scenario", _scenarios())
def test_molecule_scenario(testbed, scenario, tmp_path):
    bindir = Path(sys.executable).parent
    env = {
        **os.environ, **env_values(testbed),
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule"),
        "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1",
    }
    done = subprocess.run([str(bindir / "molecule"), "test", "-s", scenario], cwd=EXTENSIONS, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    # the idempotence step ran and passed: a second converge changed nothing
    assert re.search(r"idempotence\W+Executed: Successful", output), output[-3000:]
