"""Bad input, as the real users meet it: every case of ``bad_input/cases.yml`` run through
ansible-playbook against the testbed - developer-face cases as the namespace developer (EDIT, a
real /wcp/login) and as the admin, admin-face cases as the vCenter admin - each failing with one
clear message, no traceback, and nothing changed on either face (read back through both APIs
before and after each run). Prints ``bad input: N cases, T tracebacks, S side effects``."""
from __future__ import annotations

import asyncio
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.testbed

from tests.collection_path import collection_tree

CASES = yaml.safe_load((Path(__file__).parent / "bad_input" / "cases.yml").read_text())
TRACEBACK_SIGNS = ("Traceback (most recent call last)", "MODULE FAILURE", "unexpected ")
SOURCES = collection_tree() / "ansible_collections" / "pacific" / "supervisor" / "extensions" / "eda" / "plugins" / "event_source"
# per part (modules, inventory, event sources, roles): [cases, tracebacks, side effects]
TALLY = {}


def _places(estate, work):
    return {"ns": estate.NAMESPACE, "other": estate.OTHER, "cls": estate.VM_CLASS,
            "missing": str(work / "no-such-directory")}


def _tally(part, outcomes):
    """Count ``outcomes`` ([(case id, [problems], side effects)]) and say what went wrong."""
    TALLY[part] = [sum(not case.startswith("side effects") for case, _f, _s in outcomes), sum(any(p.startswith("a traceback") for p in found) for _c, found, _s in outcomes),
                   sum(side for _c, _f, side in outcomes)]
    return ["%s: %s" % (case, problem) for case, found, _side in outcomes for problem in found]


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
    places = _places(estate, work)
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


def test_every_module_refuses_bad_input_with_one_clear_message_and_changes_nothing(outcome):
    outcomes, problems = [], []
    for user, cases, results, made, removed in outcome:
        for case in cases:
            outcomes.append(("%s as %s" % (case["id"], user), judge(case, results[case["id"]]), 0))
        if made or removed:
            outcomes.append(("side effects as %s" % user, ["made: %s, removed: %s" % (made, removed)],
                             len(made) + len(removed)))
    problems = _tally("modules", outcomes)
    assert not problems, "\n".join(problems)


def _judge_text(case, text, failed=True):
    if not failed:
        return ["it did not fail: " + text[-300:]]
    found = []
    if any(sign in text for sign in TRACEBACK_SIGNS[:2]):
        found.append("a traceback: " + text[-300:])
    if not re.search(case["match"], text):
        found.append("%r does not match %r" % (text[-400:], case["match"]))
    return found


def test_the_inventory_refuses_bad_options_with_one_clear_message(testbed, admin_client, estate, tmp_path):
    layout, creds = testbed.layout, testbed.credentials
    places = _places(estate, tmp_path)
    base = {"plugin": "pacific.supervisor.workloads", "hostname": "127.0.0.1", "port": layout.ports.wcp,
            "username": creds.vcenter_user, "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert)}
    developer = {"supervisor_server": layout.supervisor_url, "supervisor_username": creds.developer_user,
                 "supervisor_password": creds.developer_password, "supervisor_ca_cert": str(testbed.pki.ca_cert)}
    env = estate.ansible_environment(tmp_path, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    outcomes = []
    before = estate.snapshot(testbed, admin_client)
    for case in CASES["inventory"]:
        options = dict(base, **estate.filled(case["options"], places))
        if options.get("supervisor"):
            options = dict(developer, **options)
        source = tmp_path / (case["id"] + ".workloads.yml")
        source.write_text(yaml.safe_dump(options))
        done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(source),
                               "--list"], env=env, capture_output=True, text=True, timeout=300, check=False)
        message = "\n".join(line for line in done.stderr.splitlines() if "pacific.supervisor.workloads:" in line)
        outcomes.append((case["id"], _judge_text(case, message or done.stderr, done.returncode != 0), 0))
    made = sorted(estate.snapshot(testbed, admin_client) ^ before)
    outcomes.append(("side effects", ["made or removed: %s" % made] if made else [], len(made)))
    problems = _tally("inventory", outcomes)
    assert not problems, "\n".join(problems)


def test_the_event_sources_refuse_bad_arguments_at_once_with_one_message(testbed, estate, tmp_path):
    layout, creds = testbed.layout, testbed.credentials
    places = _places(estate, tmp_path)
    connections = {
        "supervisor_events": {"server": layout.supervisor_url, "username": creds.developer_user,
                              "password": creds.developer_password, "ca_cert": str(testbed.pki.ca_cert),
                              "namespaces": [estate.NAMESPACE]},
        "function_activator": {"server": layout.supervisor_url, "username": creds.developer_user,
                               "password": creds.developer_password, "ca_cert": str(testbed.pki.ca_cert),
                               "namespaces": [estate.NAMESPACE],
                               "host": "127.0.0.1", "port": 0},
        "vcenter_events": {"hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
                           "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert)},
    }
    outcomes = []
    for case in CASES["event_sources"]:
        main = runpy.run_path(str(SOURCES / (case["source"] + ".py")))["main"]
        args = dict(connections[case["source"]], **estate.filled(case["args"], places))
        try:
            asyncio.run(asyncio.wait_for(main(asyncio.Queue(), args), 30))
        except Exception as err:  # pylint: disable=broad-except
            found = _judge_text(case, str(err))
            if type(err).__module__.split(".")[-1] != "errors" or "\n" in str(err):
                found.append("not one of the collection's errors, on one line: %s: %s" % (type(err).__name__, err))
        else:
            found = ["it did not fail"]
        outcomes.append((case["id"], found, 0))
    problems = _tally("event sources", outcomes)
    assert not problems, "\n".join(problems)


def test_the_roles_refuse_bad_variables_before_any_task(testbed, admin_client, estate, tmp_path):
    places = _places(estate, tmp_path)
    tasks = []
    for number, case in enumerate(CASES["roles"]):
        tasks.append({"name": case["id"], "block": [{"ansible.builtin.include_role": {
            "name": "pacific.supervisor." + case["role"]}, "vars": estate.filled(case["vars"], places)}],
            "rescue": [{"ansible.builtin.set_fact": {f"role_{number}": "{{ ansible_failed_result }}"}}]})
    gathered = "{{ {" + ", ".join("'%s': role_%d | default({'failed': false})" % (case["id"], number)
                                  for number, case in enumerate(CASES["roles"])) + "} | to_json }}"
    results = tmp_path / "roles.json"
    tasks.append({"name": "the results", "ansible.builtin.copy": {"content": gathered, "dest": str(results),
                                                                  "mode": "0600"}, "no_log": True})
    playbook = tmp_path / "roles.yml"
    defaults = estate.connections(testbed, "developer")
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                         "module_defaults": defaults, "tasks": tasks}]))
    env = estate.ansible_environment(tmp_path)
    before = estate.snapshot(testbed, admin_client)
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           str(playbook)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert results.exists(), done.stdout[-3000:] + done.stderr[-2000:]
    answers = json.loads(results.read_text())
    outcomes = [(case["id"], _judge_text(case, str(answers[case["id"]].get("msg")),
                                         answers[case["id"]].get("failed", False)), 0) for case in CASES["roles"]]
    made = sorted(estate.snapshot(testbed, admin_client) ^ before)
    outcomes.append(("side effects", ["made or removed: %s" % made] if made else [], len(made)))
    problems = _tally("roles", outcomes)
    assert not problems, "\n".join(problems)


def test_zz_the_count(capsys):
    """The line the README quotes, over every part above (printed whatever they found)."""
    cases, tracebacks, side_effects = (sum(counts[i] for counts in TALLY.values()) for i in range(3))
    with capsys.disabled():
        print("\nbad input: %d cases, %d tracebacks, %d side effects (%s)" % (
            cases, tracebacks, side_effects, ", ".join("%s %d" % (part, counts[0]) for part, counts in TALLY.items())))
    assert set(TALLY) == {"modules", "inventory", "event sources", "roles"}
    assert cases >= 60
