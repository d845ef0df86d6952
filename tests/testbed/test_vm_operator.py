"""The simulated VM Operator: VirtualMachines become real vcsim VMs, and status follows vCenter."""
from __future__ import annotations

import ssl
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim, vmodl

from testbed.layout import HOST

pytestmark = pytest.mark.testbed

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
NAMESPACE = "vmop-test"
VM_CLASS = "vmop-small"


@pytest.fixture(scope="module")
def namespace(testbed, admin_client):
    """A vSphere Namespace with one VM class, made through the vCenter API as an admin would."""
    from tests.testbed.test_wcp import Vcenter

    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    core = client.CoreV1Api(admin_client)
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")  # an aborted run's
    _until(lambda: _absent(core.read_namespace, NAMESPACE), 30, "the namespace of an earlier run to go")
    vcenter.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                 json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 4096})
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances",
                          json={"cluster": cluster, "namespace": NAMESPACE, "vm_service_spec": {"vm_classes": [VM_CLASS]}})
    assert answer.status_code == 204, answer.text
    objects = client.CustomObjectsApi(admin_client)
    _until(lambda: objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachineclasses", VM_CLASS),
           5, "VM class bound into the namespace")
    yield NAMESPACE
    for vm in objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"]:
        objects.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines", vm["metadata"]["name"])
    # while the VM Operator runs, so that no finalizer outlives it
    _until(lambda: not objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"],
           10, "VirtualMachines deleted")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    vcenter.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


@pytest.fixture(scope="module")
def vcenter_si(testbed):
    context = ssl.create_default_context(cafile=str(testbed.pki.ca_cert))
    si = SmartConnect(host=HOST, port=testbed.layout.ports.wcp, user=testbed.credentials.vcenter_user,
                      pwd=testbed.credentials.vcenter_password, sslContext=context)
    yield si
    Disconnect(si)


def _absent(read, *args) -> bool:
    try:
        read(*args)
    except ApiException as err:
        if err.status == 404:
            return True
        raise
    return False


def _until(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except ApiException as err:
            if err.status != 404:
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def _vm(name: str, **spec) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine", "metadata": {"name": name},
            "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "wcp-default",
                     "powerState": "PoweredOn", **spec}}


def _get(objects, name):
    return objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines", name)


def _conditions(vm) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in vm.get("status", {}).get("conditions", [])}


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
    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    assert name not in {v.name for v in view.view}
    view.Destroy()
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
