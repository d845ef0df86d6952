"""The conformance suite: VMware's own clients against the running testbed (issue 15).

Every client call is one case. Whether a call answers as vCenter 8 / a Supervisor would is data:
``known_failures.json`` names the calls that still do not, each with its reason. A case fails when
a call not listed there fails, and also when a listed call now passes, so the list stays true.
At the end the suite prints how many of the calls answered as the real product would.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

KNOWN_FAILURES_FILE = Path(__file__).with_name("known_failures.json")
# call id -> True (answered as vCenter 8 / a Supervisor would) or False; filled as cases run
OUTCOMES: dict[str, bool] = {}


def known_failures() -> dict[str, str]:
    """call id -> why it still fails against the testbed."""
    return json.loads(KNOWN_FAILURES_FILE.read_text())


def judge(call: str, problem: str | None) -> None:
    """Record one call's outcome and hold it against the list of known failures.

    ``problem`` is None when the client's answer was what vCenter 8 / a Supervisor returns,
    else what differed."""
    OUTCOMES[call] = problem is None
    reason = known_failures().get(call)
    if problem is not None and reason is None:
        pytest.fail(f"{call}: {problem}")
    if problem is None and reason is not None:
        pytest.fail(f"{call} now answers as vCenter 8 would: take it off tests/conformance/known_failures.json "
                    f"(listed because: {reason})")
    if problem is not None:
        pytest.xfail(f"{call}: known failure ({reason}): {problem}")


def pytest_terminal_summary(terminalreporter) -> None:
    if OUTCOMES:
        passed = sum(OUTCOMES.values())
        terminalreporter.write_line(f"conformance: {passed} of {len(OUTCOMES)} client calls answered as "
                                    "vCenter 8 / a Supervisor would")
