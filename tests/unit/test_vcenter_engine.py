"""The vCenter face's converge engine over a fake REST session: get, plan, write, diff, wait."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import readiness
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    InvalidArgument, WaitFailed, WaitTimeout)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds as supervisor_kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import (
    CLUSTERS, NAMESPACES, VM_CLASSES)

NS = NAMESPACES + "/team-a"
VMC = VM_CLASSES + "/small"
SV = CLUSTERS + "/domain-c8"


class FakeSession(object):
    """Answers GETs from a timeline per path (each GET takes the next answer; the last one stays)
    and records every call. Writes change nothing by themselves: the timeline says what comes."""

    def __init__(self, **timelines):
        self.timelines = dict((path, list(answers)) for path, answers in timelines.items())
        self.calls = []

    def _read(self, path):
        answers = self.timelines.get(path) or [None]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return copy.deepcopy(answer)

    def get_or_none(self, path, query=None):
        self.calls.append(("GET", path))
        return self._read(path)

    def get(self, path, query=None):
        self.calls.append(("GET", path))
        return self._read(path)

    def call(self, method, path, body=None, query=None):
        self.calls.append((method, path, body, query))

    def writes(self):
        return [call for call in self.calls if call[0] != "GET"]


class Run(object):
    def __init__(self):
        self.changes = Changes()


class Clock(object):
    """A clock that moves only when the engine sleeps."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def _engine(session, run=None):
    clock = Clock()
    return Engine(session, run or Run(), clock=clock, sleep=clock.sleep), clock


def _namespace(status="RUNNING", **fields):
    info = {"cluster": "domain-c8", "description": "", "storage_specs": [{"policy": "p-1"}],
            "resource_spec": {}, "vm_service_spec": {}, "access_list": [], "config_status": status}
    info.update(fields)
    return info


SETTINGS = {"cluster": "domain-c8", "description": None, "storage_specs": [{"policy": "p-1", "limit": None}],
            "limits": {}, "vm_classes": None, "access": None}


# --- namespaces ---------------------------------------------------------------------------------
def test_check_mode_plans_a_create_and_sends_nothing():
    session = FakeSession()
    run = Run()
    engine, _clock = _engine(session, run)
    outcome = engine.ensure(kinds.NAMESPACE, "team-a", SETTINGS, check_mode=True, wait=True)
    assert outcome["changed"] and outcome["action"] == "create"
    assert outcome["diff"]["before"] == {}
    assert outcome["diff"]["after"]["cluster"] == "domain-c8"
    assert outcome["object"] == outcome["diff"]["after"]
    assert session.writes() == [] and not run.changes


def test_a_create_is_sent_recorded_and_waited_for_until_running():
    session = FakeSession(**{NS: [None, _namespace("CONFIGURING"), _namespace("CONFIGURING"), _namespace()]})
    run = Run()
    engine, clock = _engine(session, run)
    outcome = engine.ensure(kinds.NAMESPACE, "team-a", SETTINGS, wait=True, wait_timeout=10)
    assert session.writes() == [("POST", NAMESPACES, {"cluster": "domain-c8", "namespace": "team-a",
                                                      "storage_specs": [{"policy": "p-1"}]}, None)]
    assert run.changes.what() == ["namespace team-a"]
    assert outcome["object"]["config_status"] == "RUNNING"
    assert clock.slept == [0.5, 0.5]


def test_an_unchanged_namespace_is_neither_written_nor_waited_for():
    session = FakeSession(**{NS: [_namespace("CONFIGURING")]})
    engine, clock = _engine(session)
    outcome = engine.ensure(kinds.NAMESPACE, "team-a", SETTINGS, wait=True)
    assert not outcome["changed"] and outcome["action"] is None
    assert outcome["diff"]["before"] == outcome["diff"]["after"]
    assert session.writes() == [] and clock.slept == []


def test_an_update_patches_only_what_differs():
    session = FakeSession(**{NS: [_namespace()]})
    engine, _clock = _engine(session)
    outcome = engine.ensure(kinds.NAMESPACE, "team-a", dict(SETTINGS, description="new"), wait=True)
    assert session.writes() == [("PATCH", NS, {"description": "new"}, None)]
    assert outcome["diff"]["before"]["description"] == "" and outcome["diff"]["after"]["description"] == "new"


def test_desired_as_a_callable_is_resolved_after_the_get_and_never_for_absent():
    session = FakeSession(**{NS: [_namespace()]})
    engine, _clock = _engine(session)

    def unresolvable():
        raise AssertionError("names resolved for a deletion")

    outcome = engine.ensure(kinds.NAMESPACE, "team-a", unresolvable, state="absent", wait=True)
    assert outcome["changed"] and outcome["diff"]["after"] == {} and outcome["object"] is None
    assert session.writes() == [("DELETE", NS, None, None)]  # a namespace's deletion is not waited for

    order = []
    session = FakeSession()
    session.get_or_none = lambda path, query=None: order.append("GET")
    engine, _clock = _engine(session)
    engine.ensure(kinds.NAMESPACE, "team-a", lambda: order.append("resolve") or SETTINGS, check_mode=True)
    assert order == ["GET", "resolve"]


def test_absent_when_there_is_nothing_is_no_change():
    session = FakeSession()
    engine, _clock = _engine(session)
    outcome = engine.ensure(kinds.NAMESPACE, "team-a", None, state="absent")
    assert outcome == {"changed": False, "diff": {"before": {}, "after": {}}, "action": None, "sent": None,
                       "object": None}


def test_a_namespace_in_error_fails_the_wait_at_once_with_vcenters_words_and_stays_a_change():
    failed = _namespace("ERROR", messages=[{"details": {"default_message": "quota too small"}}])
    session = FakeSession(**{NS: [None, failed]})
    run = Run()
    engine, clock = _engine(session, run)
    with pytest.raises(WaitFailed, match="^namespace team-a failed to configure: quota too small$"):
        engine.ensure(kinds.NAMESPACE, "team-a", SETTINGS, wait=True)
    assert run.changes.what() == ["namespace team-a"] and clock.slept == []


def test_the_deadline_names_the_last_state():
    session = FakeSession(**{NS: [None, _namespace("CONFIGURING")]})
    engine, _clock = _engine(session)
    with pytest.raises(WaitTimeout) as failure:
        engine.ensure(kinds.NAMESPACE, "team-a", SETTINGS, wait=True, wait_timeout=2)
    assert failure.value.msg == ("namespace team-a to be configured (RUNNING) did not happen within 2 s; "
                                 "last state: CONFIGURING")


def test_a_cluster_left_out_is_the_only_supervisor_and_none_or_two_is_an_error():
    settings = dict(SETTINGS)
    del settings["cluster"]
    session = FakeSession(**{CLUSTERS: [[{"cluster": "domain-c8", "config_status": "RUNNING"},
                                         {"cluster": "domain-c9", "config_status": "ERROR"}]]})
    engine, _clock = _engine(session)
    assert engine.ensure(kinds.NAMESPACE, "team-a", settings, check_mode=True)["diff"]["after"]["cluster"] == \
        "domain-c8"
    session = FakeSession(**{CLUSTERS: [[]]})
    engine, _clock = _engine(session)
    with pytest.raises(InvalidArgument, match=r"^set cluster: 0 clusters run a Supervisor \(none\)$"):
        engine.ensure(kinds.NAMESPACE, "team-a", settings)
    assert session.writes() == []


def test_an_unknown_state_is_refused():
    with pytest.raises(InvalidArgument, match="state must be present or absent"):
        _engine(FakeSession())[0].ensure(kinds.NAMESPACE, "team-a", SETTINGS, state="gone")


# --- VM classes ---------------------------------------------------------------------------------
VM_CLASS_PARAMS = {"cpu_count": 2, "memory_mb": 2048, "cpu_reservation": None, "memory_reservation": None,
                   "description": None, "devices": None}


def test_a_vm_class_is_created_then_read_back_and_its_preview_names_it():
    created = {"id": "small", "cpu_count": 2, "memory_MB": 2048}
    session = FakeSession(**{VMC: [None, created]})
    outcome = _engine(session)[0].ensure(kinds.VM_CLASS, "small", VM_CLASS_PARAMS)
    assert session.writes() == [("POST", VM_CLASSES, {"id": "small", "cpu_count": 2, "memory_MB": 2048}, None)]
    assert outcome["object"] == created
    preview = _engine(FakeSession())[0].ensure(kinds.VM_CLASS, "small", VM_CLASS_PARAMS, check_mode=True)
    assert preview["object"]["id"] == "small" and preview["object"]["memory_MB"] == 2048


def test_a_vm_class_without_a_change_sends_nothing_and_a_change_one_patch():
    current = {"id": "small", "cpu_count": 2, "memory_MB": 2048}
    session = FakeSession(**{VMC: [current]})
    assert not _engine(session)[0].ensure(kinds.VM_CLASS, "small", VM_CLASS_PARAMS)["changed"]
    outcome = _engine(session)[0].ensure(kinds.VM_CLASS, "small", dict(VM_CLASS_PARAMS, cpu_count=4))
    assert session.writes() == [("PATCH", VMC, {"cpu_count": 4}, None)]
    assert outcome["diff"] == {"before": kinds.VM_CLASS.normalise(current, None),
                               "after": dict(kinds.VM_CLASS.normalise(current, None), cpu_count=4)}


# --- a cluster's Supervisor ---------------------------------------------------------------------
class FakeLookup(object):
    IDS = {("storage policy", "Gold"): "p-gold", ("network", "VM Network"): "network-1"}

    def one(self, kind, name):
        return self.IDS[(kind, name)]

    def name_of(self, kind, identifier):
        return dict((value, name) for (_kind, name), value in self.IDS.items())[identifier]


def _wish(**params):
    options = {"cluster": "Cluster-1", "state": "present", "storage_policy": None, "network_provider": None,
               "management_network": None, "size_hint": None, "default_image_registry": None}
    options.update(params)
    return supervisor_spec.Wish(options, FakeLookup())


RUNNING = {"cluster": "domain-c8", "config_status": "RUNNING", "size_hint": "TINY",
           "network_provider": "VSPHERE_NETWORK", "master_storage_policy": "p-gold",
           "ephemeral_storage_policy": "p-gold", "image_storage": {"storage_policy": "p-gold"}}


def test_enabling_waits_until_running_and_the_diff_is_read_back():
    session = FakeSession(**{SV: [None, dict(RUNNING, config_status="CONFIGURING"), RUNNING]})
    outcome = _engine(session)[0].ensure(kinds.SUPERVISOR, "domain-c8", _wish(storage_policy="Gold"), wait=True)
    method, path, body, query = session.writes()[0]
    assert (method, path, query) == ("POST", SV, {"action": "enable"})
    assert body["master_storage_policy"] == "p-gold" and body["size_hint"] == "SMALL"
    assert outcome["diff"] == {"before": {"config_status": "DISABLED"},
                               "after": supervisor_spec.settings_of(RUNNING, FakeLookup())}
    assert outcome["object"] == RUNNING


def test_a_supervisor_being_removed_is_enabled_again_but_not_disabled_again():
    removing = dict(RUNNING, config_status="REMOVING")
    session = FakeSession(**{SV: [removing, removing, None]})
    outcome = _engine(session)[0].ensure(kinds.SUPERVISOR, "domain-c8", _wish(), state="absent", wait=True)
    assert not outcome["changed"] and session.writes() == []
    assert session.calls.count(("GET", SV)) == 3  # waited until gone though nothing was sent
    assert outcome["object"] is None
    check = _engine(FakeSession(**{SV: [removing]}))[0].ensure(
        kinds.SUPERVISOR, "domain-c8", _wish(storage_policy="Gold"), check_mode=True)
    assert check["action"] == "create" and check["object"] == removing  # check mode shows it as it is


def test_a_running_supervisor_is_updated_with_one_patch_and_refuses_fixed_fields_before_any_write():
    session = FakeSession(**{SV: [RUNNING]})
    outcome = _engine(session)[0].ensure(kinds.SUPERVISOR, "domain-c8", _wish(size_hint="MEDIUM"), wait=True)
    assert session.writes() == [("PATCH", SV, {"size_hint": "MEDIUM"}, None)]
    assert outcome["action"] == "update" and supervisor_spec.updated_fields(outcome["sent"]) == ["size_hint"]
    session = FakeSession(**{SV: [RUNNING]})
    with pytest.raises(InvalidArgument, match="cannot change network_provider"):
        _engine(session)[0].ensure(kinds.SUPERVISOR, "domain-c8", _wish(network_provider="NSX_VPC"))
    assert session.writes() == []


def test_a_supervisor_in_error_fails_the_wait_even_without_a_change():
    failed = dict(RUNNING, config_status="ERROR", messages=[{"default_message": "no IP addresses left"}])
    session = FakeSession(**{SV: [failed]})
    with pytest.raises(WaitFailed, match="^configuring workload management on domain-c8 failed: no IP addresses left$"):
        _engine(session)[0].ensure(kinds.SUPERVISOR, "domain-c8", _wish(), wait=True)


# --- readiness as data --------------------------------------------------------------------------
def test_the_vcenter_predicates_say_ready_pending_with_the_state_or_failed():
    assert kinds.namespace_configured(_namespace()) == readiness.Verdict(readiness.READY)
    assert kinds.namespace_configured(None) == readiness.Verdict(readiness.PENDING, None)
    assert kinds.namespace_configured(_namespace("ERROR")) == readiness.Verdict(readiness.FAILED, "no reason given")
    assert kinds.supervisor_running(None) == readiness.Verdict(readiness.PENDING, "DISABLED")
    assert kinds.missing(None).state == readiness.READY
    assert kinds.missing(dict(RUNNING, config_status="REMOVING")) == readiness.Verdict(readiness.PENDING, "REMOVING")


def test_both_faces_share_one_verdict():
    assert supervisor_kinds.Verdict is readiness.Verdict
    assert (supervisor_kinds.READY, supervisor_kinds.PENDING, supervisor_kinds.FAILED) == (
        readiness.READY, readiness.PENDING, readiness.FAILED)
