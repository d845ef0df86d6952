"""The simulated VM Operator: VirtualMachines become real vcsim VMs, and status follows vCenter."""
from __future__ import annotations

import pytest
from kubernetes import client
from pyVmomi import vim, vmodl

from testbed.vcenter import vcsim_vms, wait_for_task
from tests.testbed.conftest import GROUP, VERSION, _absent, _conditions, _get, _until, _vm

pytestmark = pytest.mark.testbed

def test_virtual_machine_becomes_a_vcsim_vm(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-1"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("network", {}).get("primaryIP4") else None)(
        _get(objects, "web-1")), 30, "web-1 PoweredOn with an IPv4")
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
    # spec.image as VM Operator's mutating webhook resolves spec.imageName
    assert vm["spec"]["image"] == {"kind": "ClusterVirtualMachineImage", "name": "vmi-0a1b2c3d4e5f60001"}
    # the image's boot disk: a Classic volume, counted in storage usage
    disk = next(d for d in real.config.hardware.device if isinstance(d, vim.vm.device.VirtualDisk))
    assert status["volumes"] == [{"name": disk.backing.fileName.rsplit("/", 1)[-1].removesuffix(".vmdk"),
                                  "type": "Classic", "attached": True, "diskUUID": disk.backing.uuid, "limit": "10Gi"}]
    assert status["storage"]["usage"]["disks"] == "10Gi"
    assert status["zone"] and status["hardwareVersion"] == int(real.config.version.removeprefix("vmx-"))
    # its zone: the cluster's AvailabilityZone, and the namespace's Zone naming the VM's pool and folder
    topology = ("topology.tanzu.vmware.com", "v1alpha1")
    zone = objects.get_cluster_custom_object(*topology, "availabilityzones", status["zone"])
    assert zone["spec"]["clusterComputeResourceMoIDs"] == [real.resourcePool.owner._moId]
    own = objects.get_namespaced_custom_object(*topology, namespace, "zones", status["zone"])
    assert own["spec"]["managedVMs"] == {"poolMoIDs": [real.resourcePool._moId], "folderMoID": real.parent._moId}
    events = client.CoreV1Api(admin_client).list_namespaced_event(
        namespace, field_selector="involvedObject.name=web-1").items
    assert "CreateSuccess" in {event.reason for event in events}


def test_power_off_in_vcenter_shows_in_status(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-2"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("powerState") == "PoweredOn" else None)(
        _get(objects, "web-2")), 30, "web-2 PoweredOn")
    wait_for_task(vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub).PowerOffVM_Task())
    after = _until(lambda: (lambda o: o if o["status"]["powerState"] == "PoweredOff" else None)(
        _get(objects, "web-2")), 30, "status PoweredOff after an out-of-band power-off")
    assert "primaryIP4" not in after["status"].get("network", {})
    assert after["spec"]["powerState"] == "PoweredOn"  # reported, not undone


def test_an_update_of_the_object_brings_vcenter_back_to_the_spec_power_state(namespace, admin_client, vcenter_si):
    """As the real VM Operator: every update of a VirtualMachine is reconciled, and its power
    reconcile compares spec.powerState with the VM's actual state in vCenter."""
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("web-5"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("powerState") == "PoweredOn" else None)(
        _get(objects, "web-5")), 30, "web-5 PoweredOn")
    assert _conditions(vm)["VirtualMachinePowerStateSynced"] == ("True", "Synced")
    real = vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub)
    wait_for_task(real.PowerOffVM_Task())
    off = _until(lambda: (lambda o: o if o["status"]["powerState"] == "PoweredOff" else None)(
        _get(objects, "web-5")), 30, "status PoweredOff after an out-of-band power-off")
    assert _conditions(off)["VirtualMachinePowerStateSynced"] == ("False", "NotSynced")
    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "web-5",
                                           {"metadata": {"annotations": {"example.com/touched": "now"}}})
    on = _until(lambda: (lambda o: o if o["status"]["powerState"] == "PoweredOn" else None)(
        _get(objects, "web-5")), 30, "web-5 powered on again by the reconcile of the update")
    assert real.runtime.powerState == "poweredOn" and on["spec"]["powerState"] == "PoweredOn"
    assert _conditions(on)["VirtualMachinePowerStateSynced"] == ("True", "Synced")


def test_spec_power_state_drives_vcenter(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("web-3", powerState="PoweredOff"))
    vm = _until(lambda: (lambda o: o if o.get("status", {}).get("uniqueID") else None)(_get(objects, "web-3")),
                30, "web-3 created")
    real = vim.VirtualMachine(vm["status"]["uniqueID"], vcenter_si._stub)
    assert real.runtime.powerState == "poweredOff"
    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "web-3",
                                           {"spec": {"powerState": "PoweredOn"}})
    _until(lambda: _get(objects, "web-3")["status"]["powerState"] == "PoweredOn", 30, "web-3 powered on")
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
    vm = _until(lambda: (lambda o: o if condition in _conditions(o) else None)(_get(objects, name)), 30,
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
                30, "web-4 created")
    objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "web-4")

    _until(lambda: _absent(_get, objects, "web-4"), 30, "VirtualMachine web-4 deleted")
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
    ips = sorted(_until(lambda: (_get(objects, n).get("status", {}).get("network") or {}).get("primaryIP4"), 30, n)
                 for n in ("svc-a", "svc-b"))
    endpoints = _until(lambda: (lambda e: e if e.subsets and len(e.subsets[0].addresses) == 2 else None)(
        core.read_namespaced_endpoints("svc", namespace)), 30, "Endpoints of both VMs")
    assert sorted(a.ip for a in endpoints.subsets[0].addresses) == ips
    assert endpoints.subsets[0].ports[0].port == 8080
    assert core.read_namespaced_service("svc", namespace).spec.ports[0].port == 80
    published = _until(lambda: objects.get_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                   "virtualmachineservices", "svc").get("status"),
                       30, "a load-balancer address")
    assert published["loadBalancer"]["ingress"][0]["ip"].startswith("10.245.")

    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "svc-b",
                                           {"spec": {"powerState": "PoweredOff"}})
    _until(lambda: [a.ip for a in core.read_namespaced_endpoints("svc", namespace).subsets[0].addresses]
           == [_get(objects, "svc-a")["status"]["network"]["primaryIP4"]], 30, "the powered-off VM dropped")


def test_vm_set_resource_policy_places_its_vms_together(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    # a VM may name its policy before the policy exists: it waits, saying why
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("set-0", reserved={"resourcePolicyName": "web-set"}))
    waiting = _until(lambda: (lambda o: o if "VirtualMachineCreated" in _conditions(o) else None)(
        _get(objects, "set-0")), 30, "set-0 waiting for its policy")
    assert _conditions(waiting)["VirtualMachineCreated"] == ("False", "ResourcePolicyNotFound")
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachinesetresourcepolicies", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachineSetResourcePolicy", "metadata": {"name": "web-set"},
        "spec": {"resourcePool": {"name": "web-pool"}, "folder": "web-folder"}})
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("set-1", reserved={"resourcePolicyName": "web-set"}))
    for name in ("set-0", "set-1"):
        moref = _until(lambda: _get(objects, name).get("status", {}).get("uniqueID"), 30, f"{name} created")
        real = vim.VirtualMachine(moref, vcenter_si._stub)
        assert (real.resourcePool.name, real.resourcePool.parent.name) == ("web-pool", namespace)
        assert (real.parent.name, real.parent.parent.name) == ("web-folder", namespace)


def test_content_library_items_become_images_a_vm_can_use(testbed, namespace, admin_client, vcenter_si):
    import requests

    from tests.testbed.conftest import Vcenter

    rest = requests.Session()
    rest.trust_env, rest.verify = False, str(testbed.pki.ca_cert)
    base = testbed.layout.vcenter_url + "/rest/com/vmware"  # the WCP endpoint proxies /rest to vcsim
    creds = testbed.credentials
    rest.headers["vmware-api-session-id"] = rest.post(
        base + "/cis/session", auth=(creds.vcenter_user, creds.vcenter_password)).json()["value"]
    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datastore], True)
    datastore = view.view[0]._moId
    view.Destroy()
    library = rest.post(base + "/content/local-library", json={"create_spec": {
        "name": "vmop-test-images", "type": "LOCAL",
        "storage_backings": [{"datastore_id": datastore, "type": "DATASTORE"}]}}).json()["value"]
    rest.post(base + "/content/library/item", json={"create_spec": {
        "library_id": library, "name": "centos-stream-9", "type": "ovf"}}).raise_for_status()

    admin = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    path = f"/api/vcenter/namespaces/instances/{namespace}"
    unknown = admin.call("PATCH", path, json={"vm_service_spec": {"vm_classes": ["vmop-small"],
                                                                  "content_libraries": ["no-such-library"]}})
    assert unknown.status_code == 400 and "unknown content library" in unknown.text
    assert admin.call("PATCH", path, json={"vm_service_spec": {"vm_classes": ["vmop-small"],
                                                               "content_libraries": [library]}}).status_code == 204
    objects = client.CustomObjectsApi(admin_client)
    image = _until(lambda: next((i for i in objects.list_namespaced_custom_object(
        GROUP, VERSION, namespace, "virtualmachineimages")["items"]
        if i.get("status", {}).get("name") == "centos-stream-9"), None), 30, "VirtualMachineImage from the library")
    assert image["metadata"]["name"].startswith("vmi-")
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("from-library", imageName="centos-stream-9"))
    _until(lambda: _get(objects, "from-library").get("status", {}).get("uniqueID"), 30, "a VM from the library image")

    admin.call("PATCH", path, json={"vm_service_spec": {"vm_classes": ["vmop-small"], "content_libraries": []}})
    _until(lambda: not objects.list_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachineimages")["items"],
           30, "images gone with the library")
