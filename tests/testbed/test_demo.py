"""`python -m testbed demo` (what `make demo` shows) builds its estate and draws it, twice alike."""
from __future__ import annotations

import pytest

from testbed import demo

pytestmark = pytest.mark.testbed


def test_demo_builds_and_shows_every_deployment_unit(testbed):
    first = demo.run(testbed)
    assert "vSphere Namespace demo" in first
    assert "VM web-1: PoweredOn, 10.244." in first
    assert "guest cluster tkc-1: running v1.35.4" in first and "3 machines" in first
    assert "pod echo: Running on dc0-c0-h" in first
    second = demo.run(testbed)  # idempotent: nothing new is made
    assert second.count("VM web-1") == 1 and second.count("pod echo") == 1
