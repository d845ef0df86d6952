"""pytest fixtures that bring the testbed up once per session (loaded with ``-p testbed.pytest_plugin``).

Tests get their own state directory and ports, apart from a developer's own testbed, unless
PACIFIC_TESTBED_STATE is set. PACIFIC_TESTBED_KEEP=1 leaves the testbed running afterwards.
"""
from __future__ import annotations

import os
from dataclasses import replace

import pytest

from testbed.layout import Layout, Ports
from testbed.stack import Testbed

TEST_PORT_BASE = 26540


def isolated_layout(name: str = "test", port_base: int = TEST_PORT_BASE) -> Layout:
    """A layout of its own for tests: state under the cache home, ports from ``port_base``."""
    base = Layout.from_env()
    if name == "test" and "PACIFIC_TESTBED_STATE" in os.environ:
        return base
    return replace(base, state=base.home / f"{name}-state", ports=Ports.from_base(port_base))



@pytest.fixture(scope="session")
def testbed() -> Testbed:
    bed = Testbed(isolated_layout())
    bed.up()
    yield bed
    if os.environ.get("PACIFIC_TESTBED_KEEP") != "1":
        bed.down()


@pytest.fixture(scope="session")
def admin_client(testbed):
    with testbed.admin_client() as api_client:
        yield api_client
