"""A failure after a change still says changed (run_module reading the run's Changes), and the
checks every module shares (wait_timeout) - through AnsibleModule itself, no server."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine

SPEC = dict(name=dict(type="str"), wait_timeout=dict(type="int", default=600))
DIFF = {"before": {}, "after": {"metadata": {"name": "web-1"}}}


def _run(handler, args, capsys, diff=False):
    args = dict(args, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        run_module(SPEC, handler)
    return json.loads(capsys.readouterr().out)


def test_a_wait_failing_after_a_write_is_reported_as_a_change_with_its_diff(capsys):
    def handler(params, run):
        run.changes.record("VirtualMachine web-1 in namespace team-a", DIFF)
        raise errors.WaitTimeout("VirtualMachine web-1 in namespace team-a was not ready within 5 seconds",
                                 last_status={"powerState": "PoweredOff"})

    result = _run(handler, {"name": "web-1"}, capsys, diff=True)
    assert result["failed"] and result["changed"] is True
    assert result["msg"] == "VirtualMachine web-1 in namespace team-a was not ready within 5 seconds"
    assert result["changed_objects"] == ["VirtualMachine web-1 in namespace team-a"]
    assert result["diff"] == DIFF and result["last_status"] == {"powerState": "PoweredOff"}


def test_without_diff_mode_the_failure_carries_no_diff(capsys):
    def handler(params, run):
        run.changes.record("a", DIFF)
        run.changes.record("b", {"before": {"x": 1}, "after": {}})
        raise ValueError("boom")

    result = _run(handler, {}, capsys)
    assert result["failed"] and result["changed"] is True and "diff" not in result
    assert result["changed_objects"] == ["a", "b"] and result["msg"] == "unexpected ValueError: boom"


def test_a_failure_before_any_change_is_not_a_change(capsys):
    def handler(params, run):
        raise errors.InvalidArgument("bad")

    result = _run(handler, {}, capsys, diff=True)
    assert result["failed"] and not result.get("changed") and "changed_objects" not in result


def test_a_negative_wait_timeout_is_one_message_before_the_handler_runs(capsys):
    called = []
    result = _run(lambda params, run: called.append(1) or {}, {"wait_timeout": -5}, capsys)
    assert result["msg"] == "wait_timeout must be 1 or more, got -5" and not called
    assert "exception" not in result and not result.get("changed")


class _Resource(object):
    namespaced = True
    api_version, kind = "v1", "ConfigMap"

    def path(self, namespace=None, name=None):
        return "/api/v1/namespaces/{0}/configmaps/{1}".format(namespace, name)

    def describe(self, name, namespace=None):
        return "ConfigMap {0} in namespace {1}".format(name, namespace)


class _Client(object):
    """Answers one apply, one delete and, for the waits, fails: what happens after is our concern."""

    server = "https://supervisor.invalid"

    def __init__(self):
        self.writes = []

    def resource(self, api_version, kind):
        return _Resource()

    def request(self, method, path, target, body=None, query=None, content_type=None):
        if method == "GET" and "watch" not in dict(query or []):
            raise errors.Unreachable("no server in a unit test")
        self.writes.append((method, dict(query or []).get("dryRun")))
        if method == "PATCH":
            return dict(body, metadata=dict(body["metadata"], uid="u1", resourceVersion="1"))
        return {}


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}}


def test_the_engine_records_real_writes_that_change_something_and_no_dry_runs():
    changes = Changes()
    engine = Engine(_Client(), run=SimpleNamespace(changes=changes, check_mode=False, warn=None))
    engine.ensure(CONFIG, check_mode=True, before=None)
    assert not changes
    engine.ensure(CONFIG, before=None)
    assert changes.what() == ["ConfigMap c in namespace n"]
    assert changes.failure_fields(True)["diff"]["after"]["data"] == {"a": "1"}
    live = dict(CONFIG, metadata=dict(CONFIG["metadata"], uid="u1"))
    engine.ensure(CONFIG, before=live)  # the same again: no change, nothing recorded
    engine.ensure(CONFIG, state="absent", before=live)
    assert changes.what() == ["ConfigMap c in namespace n"] * 2
    assert changes.made[1][1] == {"before": CONFIG, "after": {}}


def test_a_batch_records_each_object_it_wrote_before_a_later_step_fails():
    changes = Changes()
    engine = Engine(_Client(), run=SimpleNamespace(changes=changes, check_mode=False, warn=None))
    items = [batch.Item(dict(CONFIG, metadata=dict(CONFIG["metadata"], name=name)), "definition", _Resource())
             for name in ("one", "two")]
    batch.converge_present(engine, items, check_mode=True)
    assert not changes
    batch.converge_present(engine, items, check_mode=False)
    assert changes.what() == ["ConfigMap one in namespace n", "ConfigMap two in namespace n"]
    assert changes.failure_fields(True)["diff"][1]["after_header"] == "ConfigMap two in namespace n"
