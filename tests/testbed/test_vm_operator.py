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


def test_virtual_machine_service_publishes_selected_vms(namespace, admin_client):
    objects, core = client.CustomObjectsApi(admin_client), client.CoreV1Api(admin_client)
    for name in ("svc-a", "svc-b"):
        vm = _vm(name)
        vm["metadata"]["labels"] = {"app": "svc"}
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", vm)
    service = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachineService", "metadata": {"name": "svc"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "svc"},
                        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}]}}
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachineservices", service)
    ips = sorted(_until(lambda: (_get(objects, n).get("status", {}).get("network") or {}).get("primaryIP4"), 5, n)
                 for n in ("svc-a", "svc-b"))
    endpoints = _until(lambda: (lambda e: e if e.subsets and len(e.subsets[0].addresses) == 2 else None)(
        core.read_namespaced_endpoints("svc", namespace)), 5, "Endpoints of both VMs")
    assert sorted(a.ip for a in endpoints.subsets[0].addresses) == ips
    assert endpoints.subsets[0].ports[0].port == 8080
    assert core.read_namespaced_service("svc", namespace).spec.ports[0].port == 80
    published = _until(lambda: objects.get_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                   "virtualmachineservices", "svc").get("status"),
                       5, "a load-balancer address")
    assert published["loadBalancer"]["ingress"][0]["ip"].startswith("10.245.")

    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "svc-b",
                                           {"spec": {"powerState": "PoweredOff"}})
    _until(lambda: [a.ip for a in core.read_namespaced_endpoints("svc", namespace).subsets[0].addresses]
           == [_get(objects, "svc-a")["status"]["network"]["primaryIP4"]], 5, "the powered-off VM dropped")


def test_vm_set_resource_policy_places_its_vms_together(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachinesetresourcepolicies", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachineSetResourcePolicy", "metadata": {"name": "web-set"},
        "spec": {"resourcePool": {"name": "web-pool"}, "folder": "web-folder"}})
    for name in ("set-0", "set-1"):
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                                _vm(name, reserved={"resourcePolicyName": "web-set"}))
    for name in ("set-0", "set-1"):
        moref = _until(lambda: _get(objects, name).get("status", {}).get("uniqueID"), 5, f"{name} created")
        real = vim.VirtualMachine(moref, vcenter_si._stub)
        assert (real.resourcePool.name, real.resourcePool.parent.name) == ("web-pool", namespace)
        assert (real.parent.name, real.parent.parent.name) == ("web-folder", namespace)
