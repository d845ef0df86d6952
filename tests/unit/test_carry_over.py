"""drift.carry_over: what a module's unset option means on an object an earlier run of ours applied."""
from __future__ import annotations

import json

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.drift import carry_over

MANAGER = "pacific.supervisor"


def _live(fields, manager=MANAGER, **body):
    return {"apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
            "metadata": {"name": "web-1", "namespace": "team-a", "labels": {"app": "web", "tier": "front"},
                         "annotations": {"note": "kept"},
                         "managedFields": [
                             {"manager": manager, "operation": "Apply", "fieldsV1": json.dumps(fields)},
                             {"manager": "vm-operator", "operation": "Update", "subresource": "status",
                              "fieldsV1": json.dumps({"f:status": {"f:powerState": {}}})}]},
            "spec": {"className": "small", "imageName": "ubuntu", "storageClass": "wcp-default",
                     "powerState": "PoweredOn", "network": {"interfaces": [{"name": "eth0"}]},
                     "instanceUUID": "set-by-the-controller"},
            **body}


OURS = {"f:metadata": {"f:labels": {"f:app": {}, "f:tier": {}}, "f:annotations": {"f:note": {}}},
        "f:spec": {"f:className": {}, "f:imageName": {}, "f:storageClass": {}, "f:powerState": {},
                   "f:network": {"f:interfaces": {'k:{"name":"eth0"}': {".": {}, "f:name": {}}}}}}


def _desired(**spec):
    return {"apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
            "metadata": {"name": "web-1", "namespace": "team-a"}, "spec": spec}


def test_a_power_change_alone_keeps_every_field_we_set():
    merged = carry_over(_live(OURS), _desired(powerState="PoweredOff"), MANAGER)
    assert merged["spec"] == {"className": "small", "imageName": "ubuntu", "storageClass": "wcp-default",
                              "powerState": "PoweredOff", "network": {"interfaces": [{"name": "eth0"}]}}
    assert merged["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert merged["metadata"]["annotations"] == {"note": "kept"}


def test_fields_we_do_not_own_are_not_taken():
    merged = carry_over(_live(OURS), _desired(powerState="PoweredOff"), MANAGER)
    assert "instanceUUID" not in merged["spec"]  # the controller's, not ours
    assert "status" not in merged and "managedFields" not in merged["metadata"]


def test_labels_given_are_the_whole_set():
    desired = _desired(powerState="PoweredOn")
    desired["metadata"]["labels"] = {"app": "web"}
    merged = carry_over(_live(OURS), desired, MANAGER)
    assert merged["metadata"]["labels"] == {"app": "web"}
    assert merged["metadata"]["annotations"] == {"note": "kept"}


def test_a_list_given_replaces_the_list():
    merged = carry_over(_live(OURS), _desired(network={"interfaces": [{"name": "eth1"}]}), MANAGER)
    assert merged["spec"]["network"] == {"interfaces": [{"name": "eth1"}]}
    assert merged["spec"]["className"] == "small"


def test_given_values_win_and_the_input_is_not_changed():
    desired = _desired(className="large")
    merged = carry_over(_live(OURS), desired, MANAGER)
    assert merged["spec"]["className"] == "large" and desired == _desired(className="large")


def test_nothing_to_carry_without_an_object_or_our_apply():
    desired = _desired(powerState="PoweredOff")
    assert carry_over(None, desired, MANAGER) == desired
    assert carry_over(_live(OURS, manager="kubectl"), desired, MANAGER) == desired
