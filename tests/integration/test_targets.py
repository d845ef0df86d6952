"""Every integration target, run by ansible-playbook against the testbed."""
from __future__ import annotations

import pytest

from tests.integration.conftest import TARGETS

pytestmark = pytest.mark.testbed


def _targets() -> list[str]:
    return sorted(path.name for path in TARGETS.iterdir() if (path / "tasks" / "main.yml").is_file())


@pytest.mark.parametrize("target", _targets())
def test_target(run_target, target):
    done = run_target(target)
    assert done.returncode == 0, f"target {target} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
