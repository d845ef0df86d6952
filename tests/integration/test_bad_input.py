"""Bad input, as the real users meet it: every case of ``bad_input/cases.yml`` run through
ansible-playbook against the testbed - developer-face cases as the namespace developer (EDIT, a
real /wcp/login) and as the admin, admin-face cases as the vCenter admin - each failing with one
clear message, no traceback, and nothing changed on either face (read back through both APIs
before and after each run). Prints ``bad input: N cases, T tracebacks, S side effects``."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.testbed

CASES = yaml.safe_load((Path(__file__).parent / "bad_input" / "cases.yml").read_text())
TRACEBACK_SIGNS = ("Traceback (most recent call last)", "MODULE FAILURE", "unexpected ")


def judge(case: dict, result: dict) -> list[str]:
    """What is wrong with one case's result (nothing when it failed with one clear message)."""
    message = result.get("msg")
    if not result.get("failed"):
        return ["it did not fail: %s" % json.dumps(result)[:300]]
    if not isinstance(message, str) or not message.strip():
        return ["no message: %s" % json.dumps(result)[:300]]
    problems = []
    if any(sign in message for sign in TRACEBACK_SIGNS) or "Traceback" in str(result.get("module_stderr", "")):
        problems.append("a traceback: " + message[:300])
    if not re.search(case["match"], message):
        problems.append("message %r does not match %r" % (message[:400], case["match"]))
    return problems


@pytest.fixture(scope="module")
def outcome(testbed, admin_client, estate, tmp_path_factory):
    """Per run (developer, admin, vCenter admin): its cases, their results, what it made or removed."""
    work = tmp_path_factory.mktemp("bad-input")
    places = {"ns": estate.NAMESPACE, "other": estate.OTHER, "cls": estate.VM_CLASS,
              "missing": str(work / "no-such-directory")}
    plan = [(user, [case for case in CASES["developer_face"] if case.get("as", "both") in ("both", user)])
            for user in ("developer", "admin")] + [("vcenter", CASES["vcenter_face"])]
    runs, going = [], set()
    for user, cases in plan:
        defaults = estate.connections(testbed, "admin" if user == "vcenter" else user)
        defaults["pacific.supervisor.login"] = defaults["group/pacific.supervisor.supervisor"]
        tasks = [dict(case, args=estate.filled(case["args"], places)) for case in cases]
        before = estate.snapshot(testbed, admin_client)
        results, output = estate.run_tasks(testbed, work, "bad-input-" + user, tasks, defaults)
        after = estate.snapshot(testbed, admin_client)
        assert "Traceback (most recent call last)" not in output, output[-4000:]
        made, removed = sorted(after - before), sorted(before - after - going)
        runs.append((user, cases, results, made, removed))
        estate.remove(testbed, admin_client, made)
        going.update(made)
    return runs


def test_every_bad_input_fails_with_one_clear_message_and_changes_nothing(outcome):
    problems, count, tracebacks, side_effects = [], 0, 0, 0
    for user, cases, results, made, removed in outcome:
        for case in cases:
            count += 1
            found = judge(case, results[case["id"]])
            tracebacks += any(problem.startswith("a traceback") for problem in found)
            problems.extend("%s as %s: %s" % (case["id"], user, problem) for problem in found)
        side_effects += len(made) + len(removed)
        if made or removed:
            problems.append("side effects as %s - made: %s, removed: %s" % (user, made, removed))
    print("\nbad input: %d cases, %d tracebacks, %d side effects" % (count, tracebacks, side_effects))
    assert count >= 60
    assert not problems, "\n".join(problems)
