"""When the vm module asks the VM Operator to reconcile the power state again (pure, no server)."""
from __future__ import annotations

import copy
import datetime

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest

ANNOTATION = vm_manifest.POWER_REQUEST_ANNOTATION
MOMENT = datetime.datetime(2026, 12, 6, 4, 0, 0, 123456, tzinfo=datetime.timezone.utc)


def _live(spec_power="PoweredOn", status_power="PoweredOff", synced="False", annotations=None, **metadata):
    status = {"uniqueID": "vm-42", "powerState": status_power, "conditions": []}
    if synced is not None:
        status["conditions"].append({"type": "VirtualMachinePowerStateSynced", "status": synced})
    meta = dict({"name": "web-1", "namespace": "team-a", "generation": 2}, **metadata)
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": vm_manifest.API_VERSION, "kind": "VirtualMachine", "metadata": meta,
            "spec": {"powerState": spec_power}, "status": status}


def _manifest(**params):
    return vm_manifest.build(dict({"name": "web-1", "namespace": "team-a", "power_state": "PoweredOn"}, **params))[0]


def test_a_vm_powered_off_out_of_band_gets_a_reconcile_request():
    assert vm_manifest.power_drifted(_live(), "PoweredOn")
    assert vm_manifest.power_drifted(_live(synced=None), "PoweredOn")  # a VM Operator without the condition
    assert vm_manifest.power_drifted(_live(spec_power="PoweredOff", status_power="PoweredOn"), "PoweredOff")
    manifest = vm_manifest.converge_power(_manifest(), _live(), "PoweredOn", clock=lambda: MOMENT)
    assert manifest["metadata"]["annotations"] == {ANNOTATION: "2026-12-06T04:00:00.123456Z"}


def test_no_request_when_the_spec_changes_anyway_or_nothing_drifted():
    assert not vm_manifest.power_drifted(None, "PoweredOn")  # a new VM
    assert not vm_manifest.power_drifted(_live(spec_power="PoweredOff"), "PoweredOn")  # the spec changes
    assert not vm_manifest.power_drifted(_live(status_power="PoweredOn", synced="True"), "PoweredOn")
    # the VM Operator has not acted on the latest spec yet: it is still at work
    assert not vm_manifest.power_drifted(_live(synced="True"), "PoweredOn")
    stale = _live()
    stale["status"]["observedGeneration"] = 1
    assert not vm_manifest.power_drifted(stale, "PoweredOn")
    going = _live(deletionTimestamp="2026-12-06T04:00:00Z")
    assert not vm_manifest.power_drifted(going, "PoweredOn")
    uncreated = _live()
    del uncreated["status"]["uniqueID"]
    assert not vm_manifest.power_drifted(uncreated, "PoweredOn")


def test_an_earlier_request_is_kept_when_the_user_sets_annotations_of_their_own():
    live = _live(status_power="PoweredOn", synced="True", annotations={ANNOTATION: "earlier", "contact": "x"})
    manifest = vm_manifest.converge_power(_manifest(annotations={"contact": "y"}), live, "PoweredOn")
    assert manifest["metadata"]["annotations"] == {"contact": "y", ANNOTATION: "earlier"}
    # without annotations of the user's, the engine's carry-over keeps ours: the manifest stays as built
    bare = _manifest()
    assert vm_manifest.converge_power(copy.deepcopy(bare), live, "PoweredOn") == bare
