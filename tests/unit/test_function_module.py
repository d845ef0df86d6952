"""The function module's choices about spec.replicas, over a fake engine: a new function gets
min-scale, a live one's apply leaves the replicas out (the activator's), and only a min-scale
above the live replicas raises them, through the scale subresource."""
from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import reach
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import function_manifest as fm
from ansible_collections.pacific.supervisor.plugins.modules import function


class FakeEngine(object):
    field_manager = "pacific.supervisor"

    def __init__(self, live=None, service=None):
        self.objects = {"Deployment": live, "Service": service}
        self.applied, self.scaled, self.deleted = [], [], []
        self.changes = Changes()
        self.check_mode = False

    def namespace_state(self, namespace):
        return reach.THERE

    def get(self, resource, name, namespace=None):
        return copy.deepcopy(self.objects[resource.kind])

    def ensure(self, desired, state="present", check_mode=False, wait=False, wait_timeout=600, before=None,
               readiness=None):
        kind = desired["kind"]
        if state == "absent":
            self.deleted.append(kind)
            self.objects[kind] = None
            return {"changed": before is not None, "object": None, "diff": {"before": before or {}, "after": {}}}
        self.applied.append(copy.deepcopy(desired))
        after = copy.deepcopy(before) if before else {"metadata": {}, "spec": {}}
        after.update(copy.deepcopy(dict((key, value) for key, value in desired.items() if key != "spec")))
        after["spec"] = dict(after.get("spec") or {}, **copy.deepcopy(desired.get("spec") or {}))
        self.objects[kind] = after
        changed = fm.policy_of(after) != fm.policy_of(before or {"metadata": {}}) if kind == "Deployment" else True
        return {"changed": changed or before is None, "object": after, "diff": {"before": before or {}, "after": after}}

    def scale(self, resource, name, namespace, replicas, dry_run=False):
        self.scaled.append((replicas, dry_run))
        if not dry_run:
            self.objects["Deployment"]["spec"]["replicas"] = replicas
        return {"spec": {"replicas": replicas}}


def _params(**changes):
    params = dict((option, None) for option in function.ARGUMENT_SPEC)
    params.update(name="hello", namespace="team-a", state="present", image="pacific/echo:1.0",
                  force_conflicts=False, wait=False, wait_timeout=600)
    params.update(changes)
    return params


def _run(engine, monkeypatch, check_mode=False, **changes):
    monkeypatch.setattr(function, "Engine", lambda *args, **kwargs: engine)
    monkeypatch.setattr(function, "connect", lambda params: None)
    run = SimpleNamespace(check_mode=check_mode, diff=True, warn=lambda message: None, changes=engine.changes)
    return function.handle(_params(**changes), run)


def _live(replicas, min_scale=0):
    deployment = fm.build(_params(min_scale=min_scale))[0]
    deployment["spec"]["replicas"] = replicas
    deployment["metadata"]["managedFields"] = [
        {"manager": "pacific.supervisor", "operation": "Apply", "fieldsV1": {"f:metadata": {}}},
        {"manager": "function-activator", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    return deployment


def test_a_new_function_is_made_at_min_scale(monkeypatch):
    engine = FakeEngine()
    result = _run(engine, monkeypatch, min_scale=2, activator_url="http://a:1")
    assert engine.applied[0]["spec"]["replicas"] == 2
    assert engine.scaled == [] and result["raised_replicas"] is None
    assert result["url"] == "http://a:1/function/team-a/hello/"
    assert result["diff"][0]["before_header"] == "Deployment hello in namespace team-a"


def test_a_rerun_leaves_the_activators_replicas_alone(monkeypatch):
    engine = FakeEngine(live=_live(3))
    result = _run(engine, monkeypatch)
    assert "replicas" not in engine.applied[0]["spec"]
    assert engine.scaled == []
    assert result["changed"] is False and result["scale"]["replicas"] == 3


def test_a_min_scale_above_the_replicas_raises_them_through_the_scale_subresource(monkeypatch):
    engine = FakeEngine(live=_live(1))
    result = _run(engine, monkeypatch, check_mode=True, min_scale=4)
    assert engine.scaled == [(4, True)] and "replicas" not in engine.applied[0]["spec"]
    assert result["changed"] and result["raised_replicas"] == 4
    assert result["diff"][0]["before"]["spec"]["replicas"] == 1 and result["diff"][0]["after"]["spec"]["replicas"] == 4
    assert not engine.changes  # nothing recorded in check mode


def test_a_lower_min_scale_keeps_the_replicas(monkeypatch):
    engine = FakeEngine(live=_live(3, min_scale=3))
    result = _run(engine, monkeypatch, min_scale=0)
    assert engine.scaled == [] and result["raised_replicas"] is None and result["scale"]["replicas"] == 3
    assert result["changed"]  # the annotation


def test_a_deployment_that_is_not_a_function_is_left_alone(monkeypatch):
    plain = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello", "labels": {"app": "x"}},
             "spec": {"replicas": 1}}
    for state in ("present", "absent"):
        engine = FakeEngine(live=plain)
        with pytest.raises(errors.AlreadyExists, match="is not a function"):
            _run(engine, monkeypatch, state=state)
        assert engine.applied == [] and engine.deleted == []


def test_absent_takes_the_functions_service_then_the_deployment(monkeypatch):
    service = fm.build(_params(service=True))[1]
    engine = FakeEngine(live=_live(0), service=service)
    result = _run(engine, monkeypatch, state="absent")
    assert engine.deleted == ["Service", "Deployment"]
    assert result["changed"] and [d["before_header"].split()[0] for d in result["diff"]] == ["Deployment", "Service"]
