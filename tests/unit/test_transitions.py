"""The supervisor event source's pure logic: kinds, states, transitions and their de-duplication."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import event_kinds, transitions
from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.events import SourceOptions

VM = event_kinds.resolve(["VirtualMachine"])[0]
POD = event_kinds.resolve(["pods"])[0]
QUOTA = event_kinds.resolve(["ResourceQuota"])[0]
EVENT = event_kinds.resolve(["Event"])[0]


def vm(uid="u1", rv="10", power=None, conditions=(), name="web-1"):
    status = {"conditions": [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in conditions]}
    if power:
        status["powerState"] = power
    return {"apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
            "metadata": {"name": name, "namespace": "team-a", "uid": uid, "resourceVersion": rv,
                         "labels": {"app": "web"}},
            "status": status}


def changes(events):
    return [(e["change"], e.get("condition") or e.get("container"), e["from"], e["to"]) for e in events]


# --- kinds ------------------------------------------------------------------------------------
def test_kinds_resolve_by_name_plural_and_version():
    kinds = event_kinds.resolve(["virtualmachine", "Pod", {"kind": "Machine", "api_version": "cluster.x-k8s.io/v1beta2"},
                                 "pods"])
    assert [(k.kind, k.api_version) for k in kinds] == [
        ("VirtualMachine", "vmoperator.vmware.com/v1alpha3"), ("Pod", "v1"), ("Machine", "cluster.x-k8s.io/v1beta2")]
    assert event_kinds.resolve(["Machine"])[0].api_version == "cluster.x-k8s.io/v1beta1"  # the registry is untouched


def test_unknown_kind_is_one_clear_message():
    with pytest.raises(InvalidArgument, match=r"unknown kind 'Deployment'; the supervisor event source watches "
                                              r"VirtualMachine, TanzuKubernetesCluster, .*Event"):
        event_kinds.resolve(["Pod", "Deployment"])
    with pytest.raises(InvalidArgument, match="kinds: name at least one"):
        event_kinds.resolve([])


@pytest.mark.parametrize("kind, namespace, path", [
    ("Pod", "a", "/api/v1/namespaces/a/pods"), ("Pod", None, "/api/v1/pods"),
    ("VirtualMachine", "a", "/apis/vmoperator.vmware.com/v1alpha3/namespaces/a/virtualmachines"),
    ("Namespace", "a", "/api/v1/namespaces"),
])
def test_collection_paths(kind, namespace, path):
    assert event_kinds.resolve([kind])[0].resource.path(namespace) == path


# --- states and diffs ---------------------------------------------------------------------------
def test_quantities():
    q = transitions.quantity
    assert q("500m") < q("1") == q("1000m")
    assert q("2Gi") == 2 * 1024 ** 3 and q("1k") == 1000 and q("1e3") == 1000
    assert q("banana") is None


def test_quota_exhaustion_is_a_transition():
    tracker = transitions.ObjectTracker(QUOTA)
    quota = {"metadata": {"uid": "q", "resourceVersion": "1", "name": "team-a", "namespace": "team-a"},
             "status": {"hard": {"pods": "3", "requests.memory": "1Gi"}, "used": {"pods": "2", "requests.memory": "512Mi"}}}
    tracker.relisted([quota])
    quota = {**quota, "metadata": {**quota["metadata"], "resourceVersion": "2"},
             "status": {"hard": {"pods": "2", "requests.memory": "1Gi"}, "used": {"pods": "2", "requests.memory": "1024Mi"}}}
    (event,) = tracker.observe("MODIFIED", quota)
    assert (event["change"], event["from"], event["to"]) == ("quota", [], ["pods", "requests.memory"])
    assert event["hard"]["pods"] == "2" and event["used"]["pods"] == "2"


def test_vm_lifecycle_transitions_in_order_with_reason_and_message():
    tracker = transitions.ObjectTracker(VM)
    assert tracker.relisted([]) == []
    added = tracker.observe("ADDED", vm(rv="1"))
    assert changes(added) == [("added", None, None, None)]
    assert added[0]["state"] == {"power_state": None, "conditions": {}}
    created = tracker.observe("MODIFIED", vm(rv="2", power="PoweredOn", conditions=[
        ("VirtualMachineCreated", "True", "CreateSuccess", "made"), ("VirtualMachineClassReady", "True", "", "")]))
    assert changes(created) == [
        ("power_state", None, None, "PoweredOn"),
        ("condition", "VirtualMachineClassReady", None, {"status": "True", "reason": "", "message": ""}),
        ("condition", "VirtualMachineCreated", None, {"status": "True", "reason": "CreateSuccess", "message": "made"}),
    ]
    assert created[2]["reason"] == "CreateSuccess" and created[2]["message"] == "made"
    first = created[0]
    assert {k: first[k] for k in ("kind", "api_version", "namespace", "name", "uid", "resource_version", "labels")} == {
        "kind": "VirtualMachine", "api_version": "vmoperator.vmware.com/v1alpha3", "namespace": "team-a",
        "name": "web-1", "uid": "u1", "resource_version": "2", "labels": {"app": "web"}}
    # only the message changed: no transition
    assert tracker.observe("MODIFIED", vm(rv="3", power="PoweredOn", conditions=[
        ("VirtualMachineCreated", "True", "CreateSuccess", "still made"), ("VirtualMachineClassReady", "True", "", "")])) == []
    flipped = tracker.observe("MODIFIED", vm(rv="4", power="PoweredOff", conditions=[
        ("VirtualMachineCreated", "False", "CreateFailed", "gone")]))
    assert changes(flipped) == [
        ("power_state", None, "PoweredOn", "PoweredOff"),
        ("condition", "VirtualMachineClassReady", {"status": "True", "reason": "", "message": ""}, None),
        ("condition", "VirtualMachineCreated", {"status": "True", "reason": "CreateSuccess", "message": "still made"},
         {"status": "False", "reason": "CreateFailed", "message": "gone"}),
    ]
    deleted = tracker.observe("DELETED", vm(rv="5"))
    assert changes(deleted) == [("deleted", None, None, None)]
    assert deleted[0]["state"]["power_state"] == "PoweredOff"


def test_pod_container_states():
    tracker = transitions.ObjectTracker(POD)

    def pod(rv, phase, state, restarts=0):
        return {"metadata": {"uid": "p", "resourceVersion": rv, "name": "p", "namespace": "n"},
                "status": {"phase": phase, "containerStatuses": [{"name": "main", "restartCount": restarts, "state": state}]}}

    tracker.relisted([pod("1", "Running", {"running": {}})])
    events = tracker.observe("MODIFIED", pod("2", "Running", {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}, 3))
    assert changes(events) == [("container", "main", "Running", "CrashLoopBackOff")]
    assert events[0]["restart_count"] == 3 and events[0]["message"] == "back-off"
    events = tracker.observe("MODIFIED", pod("3", "Failed", {"terminated": {"reason": "Error"}}, 3))
    assert changes(events) == [("phase", None, "Running", "Failed"), ("container", "main", "CrashLoopBackOff", "Error")]


# --- de-duplication --------------------------------------------------------------------------
def test_replayed_and_stale_watch_events_emit_nothing():
    tracker = transitions.ObjectTracker(VM)
    tracker.relisted([vm(rv="5", power="PoweredOn")])
    off = vm(rv="7", power="PoweredOff")
    assert len(tracker.observe("MODIFIED", off)) == 1
    assert tracker.observe("MODIFIED", off) == []                          # delivered twice
    assert tracker.observe("MODIFIED", vm(rv="6", power="PoweredOn")) == []  # an older state, replayed
    assert len(tracker.observe("DELETED", off)) == 1
    assert tracker.observe("DELETED", off) == []
    assert tracker.observe("MODIFIED", off) == []                          # late news of a deleted object


def test_relist_after_gone_emits_only_what_changed_meanwhile():
    tracker = transitions.ObjectTracker(VM, snapshot=True)
    first = tracker.relisted([vm("a", "1", "PoweredOn"), vm("b", "2", "PoweredOn", name="b"),
                              vm("c", "3", "PoweredOn", name="c")])
    assert [(e["change"], e["name"]) for e in first] == [("snapshot", "web-1"), ("snapshot", "b"), ("snapshot", "c")]
    assert first[0]["state"] == {"power_state": "PoweredOn", "conditions": {}}
    # watched: b powered off
    assert changes(tracker.observe("MODIFIED", vm("b", "4", "PoweredOff", name="b"))) == [
        ("power_state", None, "PoweredOn", "PoweredOff")]
    # 410 Gone, then a relist: a unchanged, b unchanged since seen, c powered off, d new, c... and e gone
    again = tracker.relisted([vm("a", "1", "PoweredOn"), vm("b", "4", "PoweredOff", name="b"),
                              vm("c", "9", "PoweredOff", name="c"), vm("d", "8", "PoweredOn", name="d")])
    assert [(e["change"], e["name"], e["from"], e["to"]) for e in again] == [
        ("power_state", "c", "PoweredOn", "PoweredOff"),
        ("added", "d", None, None), ("power_state", "d", None, "PoweredOn")]
    # and once more, a relist without a (deleted meanwhile): exactly one deletion
    third = tracker.relisted([vm("b", "4", "PoweredOff", name="b"), vm("c", "9", "PoweredOff", name="c"),
                              vm("d", "8", "PoweredOn", name="d")])
    assert [(e["change"], e["name"]) for e in third] == [("deleted", "web-1")]
    assert tracker.relisted([vm("b", "4", "PoweredOff", name="b"), vm("c", "9", "PoweredOff", name="c"),
                             vm("d", "8", "PoweredOn", name="d")]) == []


def test_first_list_without_snapshot_is_only_a_baseline():
    tracker = transitions.ObjectTracker(VM)
    assert tracker.relisted([vm(rv="1", power="PoweredOn")]) == []
    assert changes(tracker.observe("MODIFIED", vm(rv="2", power="PoweredOff"))) == [
        ("power_state", None, "PoweredOn", "PoweredOff")]


def k8s_event(uid="e1", count=1, reason="CreateFailure", last="2026-01-01T00:00:01Z", rv="1"):
    return {"metadata": {"uid": uid, "name": "web-1.abc", "namespace": "team-a", "resourceVersion": rv},
            "involvedObject": {"kind": "VirtualMachine", "name": "web-1", "namespace": "team-a", "uid": "u1",
                               "apiVersion": "vmoperator.vmware.com/v1alpha3"},
            "reason": reason, "message": "no", "type": "Warning", "count": count, "lastTimestamp": last,
            "firstTimestamp": "2026-01-01T00:00:00Z", "source": {"component": "vm-operator"}}


def test_kubernetes_events_once_per_occurrence():
    tracker = transitions.EventTracker(EVENT)
    assert tracker.relisted([k8s_event("old")]) == []
    assert tracker.observe("MODIFIED", k8s_event("old")) == []  # seen in the list
    (event,) = tracker.observe("ADDED", k8s_event())
    assert {k: event[k] for k in ("change", "kind", "namespace", "name", "uid", "reason", "message", "event_type",
                                  "count", "event_uid", "source_component")} == {
        "change": "event", "kind": "VirtualMachine", "namespace": "team-a", "name": "web-1", "uid": "u1",
        "reason": "CreateFailure", "message": "no", "event_type": "Warning", "count": 1, "event_uid": "e1",
        "source_component": "vm-operator"}
    assert tracker.observe("ADDED", k8s_event()) == []
    assert tracker.relisted([k8s_event()]) == []  # a relist replays nothing
    assert [e["count"] for e in tracker.observe("MODIFIED", k8s_event(count=2, last="2026-01-01T00:00:05Z"))] == [2]
    assert tracker.observe("DELETED", k8s_event(count=2)) == []


def test_event_reasons_filter():
    tracker = transitions.EventTracker(EVENT, reasons=["BackOff"])
    tracker.relisted([])
    assert tracker.observe("ADDED", k8s_event(reason="CreateFailure")) == []
    assert [e["reason"] for e in tracker.observe("ADDED", k8s_event("e2", reason="BackOff"))] == ["BackOff"]


def test_a_relist_of_many_events_replays_none_and_forgets_the_expired():
    """More Events than any fixed memory would hold: after a 410 relist none comes again, and
    what expired meanwhile is forgotten rather than kept forever."""
    tracker = transitions.EventTracker(EVENT)
    listed = [k8s_event(f"e{n}") for n in range(25000)]
    assert tracker.relisted(listed) == []
    (new,) = tracker.observe("ADDED", k8s_event("fresh"))
    assert new["event_uid"] == "fresh"
    assert tracker.relisted(listed[1:] + [k8s_event("fresh")]) == []  # e0 expired while not watching
    assert len(tracker.seen) == 25000 and "e0" not in tracker.seen
    tracker.observe("DELETED", k8s_event("e1"))
    assert "e1" not in tracker.seen
    assert [e["count"] for e in tracker.relisted([k8s_event("e2", count=3, last="2026-01-01T00:00:09Z")])] == [3]
    assert set(tracker.seen) == {"e2"}


def test_snapshot_includes_existing_kubernetes_events():
    tracker = transitions.EventTracker(EVENT, snapshot=True)
    assert [e["change"] for e in tracker.relisted([k8s_event()])] == ["event"]


# --- options ------------------------------------------------------------------------------
def test_bad_options_are_one_clear_message():
    with pytest.raises(InvalidArgument, match="unknown option.s. kind; the supervisor event source takes kinds"):
        SourceOptions({"kind": "Pod"}, environ={})
    with pytest.raises(InvalidArgument, match="namespaces must be a list of strings"):
        SourceOptions({"kinds": ["Pod"], "namespaces": [1]}, environ={})
    options = SourceOptions({"kinds": "Pod", "namespaces": "b,a,b", "eda_feedback_queue": None}, environ={})
    assert options.namespaces == ["a", "b"]


def test_backoff_is_exponential_bounded_and_resets():
    backoff = Backoff(base=1, cap=8, jitter=lambda: 1.0)
    assert [backoff.next() for attempt in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    assert backoff.next() == 1
    assert 0.5 <= Backoff(base=1, jitter=lambda: 0.0).next() == 0.5


def test_an_event_names_the_kind_of_its_objects_controlling_owner():
    """A Cluster API Cluster that realises a TanzuKubernetesCluster says so (rules about the TKC skip it)."""
    kind = event_kinds.resolve(["Cluster"])[0]
    realised = {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                "metadata": {"name": "tkc-1", "namespace": "team-a", "uid": "c1", "ownerReferences": [
                    {"kind": "TanzuKubernetesCluster", "name": "tkc-1", "controller": True}]}}
    assert transitions.identity(kind, realised)["owner_kind"] == "TanzuKubernetesCluster"
    realised["metadata"]["ownerReferences"] = [{"kind": "Other", "name": "x"}]  # an owner, not the controller
    assert transitions.identity(kind, realised)["owner_kind"] == ""
