"""Every module's documentation renders, and ansible-doc prints nothing else: no deprecation warning
from a dependency (cryptography 51 warned on every command), no documentation error."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testbed.layout import REPO_ROOT
from tests.collection_path import collection_tree

MODULES = sorted(path.stem for path in (REPO_ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def test_ansible_doc_renders_every_module_quietly():
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()), "ANSIBLE_NOCOLOR": "1"}
    doc = str(Path(sys.executable).parent / "ansible-doc")
    answer = subprocess.run([doc, *(f"pacific.supervisor.{module}" for module in MODULES)],
                            env=env, capture_output=True, text=True, check=False)
    assert answer.returncode == 0, answer.stderr
    assert answer.stderr == ""
    for module in MODULES:
        assert f"pacific.supervisor.{module}" in answer.stdout
