"""pytest fixtures that bring the testbed up once per session (loaded with ``-p testbed.pytest_plugin``).

Tests get their own state directory and ports, apart from a developer's own testbed, unless
PACIFIC_TESTBED_STATE is set. PACIFIC_TESTBED_KEEP=1 leaves the testbed running afterwards.

A session holds its testbed with a lock: two sessions at once (two checkouts, two CI jobs on one
machine) never share one, where either would delete the other's namespaces and stop its daemons.
The second takes the next free test testbed, or with PACIFIC_TESTBED_STATE set stops with a clear error.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import replace

import pytest

from testbed.layout import Layout, Ports
from testbed.stack import Testbed

TEST_PORT_BASE = 26540
SLOTS = 3  # test testbeds side by side: ports from 26540, 24540, 22540 (each uses its base .. base + 1500)


def isolated_layout(name: str = "test", port_base: int = TEST_PORT_BASE) -> Layout:
    """A layout of its own for tests: state under the cache home, ports from ``port_base``."""
    base = Layout.from_env()
    if name == "test" and "PACIFIC_TESTBED_STATE" in os.environ:
        return base
    return replace(base, state=base.home / f"{name}-state", ports=Ports.from_base(port_base))



def _lock(layout: Layout):
    """An exclusive lock on ``layout``'s state, held by the returned file; None when another holds it."""
    layout.state.parent.mkdir(parents=True, exist_ok=True)
    held = open(layout.state.parent / f"{layout.state.name}.lock", "a+")  # pylint: disable=consider-using-with
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held.close()
        return None
    return held


def claimed_layout() -> tuple[Layout, object]:
    """The layout of a test testbed no other session uses, and the lock that keeps it so."""
    if "PACIFIC_TESTBED_STATE" in os.environ:
        layout = isolated_layout()
        held = _lock(layout)
        if held is None:
            raise pytest.UsageError(f"another test session uses the testbed in {layout.state}: wait for it, or give "
                                    "this one its own PACIFIC_TESTBED_STATE and PACIFIC_TESTBED_PORT_BASE")
        return layout, held
    for slot in range(SLOTS):
        layout = isolated_layout("test" if slot == 0 else f"test{slot}", TEST_PORT_BASE - 2000 * slot)
        held = _lock(layout)
        if held is not None:
            return layout, held
    raise pytest.UsageError(f"{SLOTS} test sessions are running already, each with a testbed of its own: wait for one")


@pytest.fixture(scope="session")
def testbed() -> Testbed:
    layout, held = claimed_layout()
    bed = Testbed(layout)
    bed.up()
    yield bed
    if os.environ.get("PACIFIC_TESTBED_KEEP") != "1":
        bed.down()
    held.close()


@pytest.fixture(scope="session")
def admin_client(testbed):
    with testbed.admin_client() as api_client:
        yield api_client
