"""The simulated VM Operator: VirtualMachines become real vcsim VMs, and status follows vCenter."""
from __future__ import annotations

import pytest
from kubernetes import client
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from tests.testbed.conftest import GROUP, VERSION, _absent, _conditions, _get, _until, _vm, vcsim_vms

pytestmark = pytest.mark.testbed

def test_virtual_machine_becomes_a_vcsim_vm_within_five_seconds(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-1"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("network", {}).get("primaryIP4") else None)(
        _get(objects, "web-1")), 5, "web-1 PoweredOn with an IPv4")
    status = vm["status"]
    assert status["powerState"] == "PoweredOn"
    assert _conditions(vm)["VirtualMachineCreated"] == ("True", "True")
    assert vm["metadata"]["finalizers"] == ["vmoperator.vmware.com/virtualmachine"]

    real = vim.VirtualMachine(status["uniqueID"], vcenter_si._stub)
    assert real.name == "web-1"
    assert real.resourcePool.name == namespace and real.parent.name == namespace
    assert (real.config.hardware.numCPU, real.config.hardware.memoryMB) == (2, 4096)
    assert real.config.uuid == status["biosUUID"] and real.config.instanceUuid == status["instanceUUID"]
    assert real.runtime.powerState == "poweredOn"
    events = client.CoreV1Api(admin_client).list_namespaced_event(
        namespace, field_selector="involvedObject.name=web-1").items
    assert "CreateSuccess" in {event.reason for event in events}


def test_power_off_in_vcenter_shows_in_status_within_two_seconds(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-2"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("powerState") == "PoweredOn" else None)(
        _get(objects, "web-2")), 5, "web-2 PoweredOn")
    WaitForTask(vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub).PowerOffVM_Task())
    after = _until(lambda: (lambda o: o if o["status"]["powerState"] == "PoweredOff" else None)(
        _get(objects, "web-2")), 2, "status PoweredOff after an out-of-band power-off")
    assert "primaryIP4" not in after["status"].get("network", {})
    assert after["spec"]["powerState"] == "PoweredOn"  # reported, not undone


def test_spec_power_state_drives_vcenter(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("web-3", powerState="PoweredOff"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("uniqueID") else None)(_get(objects, "web-3")),
                5, "web-3 created")
    real = vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub)
    assert real.runtime.powerState == "poweredOff"
    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "web-3",
                                           {"spec": {"powerState": "PoweredOn"}})
    _until(lambda: _get(objects, "web-3")["status"]["powerState"] == "PoweredOn", 5, "web-3 powered on")
    assert real.runtime.powerState == "poweredOn"


@pytest.mark.parametrize(("spec", "condition"), [
    ({"className": "no-such-class"}, "VirtualMachineClassReady"),
    ({"imageName": "no-such-image"}, "VirtualMachineImageReady"),
], ids=["unknown-class", "unknown-image"])
def test_unknown_class_or_image_sets_the_condition_and_makes_no_vm(namespace, admin_client, vcenter_si, spec,
                                                                   condition):
    objects = client.CustomObjectsApi(admin_client)
    name = f"bad-{condition.lower()[:20]}"
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm(name, **spec))
    vm = _until(lambda: (lambda o: o if condition in _conditions(o) else None)(_get(objects, name)), 5,
                f"{condition} reported")
    assert _conditions(vm)[condition] == ("False", "NotFound")
    assert _conditions(vm)["VirtualMachineCreated"][0] == "False"
    assert "uniqueID" not in vm["status"]
    assert name not in vcsim_vms(vcenter_si)
    events = client.CoreV1Api(admin_client).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={name}").items
    assert [e.type for e in events if e.reason == "CreateFailure"] == ["Warning"]


def test_deleting_the_virtual_machine_destroys_the_vm(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-4"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("uniqueID") else None)(_get(objects, "web-4")),
                5, "web-4 created")
    objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "web-4")

    _until(lambda: _absent(_get, objects, "web-4"), 5, "VirtualMachine web-4 deleted")
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):
        vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub).name  # noqa: B018
