"""Helpers and fixtures shared by the testbed's tests."""
from __future__ import annotations

import time

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed import admission
from testbed.vcenter import session


class Vcenter:
    """A vSphere Automation API session against the testbed's vCenter endpoint."""

    def __init__(self, testbed, user: str, password: str):
        self.base = testbed.layout.vcenter_url
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override the testbed CA
        self.http.verify = str(testbed.pki.ca_cert)
        answer = self.http.post(self.base + "/api/session", auth=(user, password))
        answer.raise_for_status()
        self.http.headers["vmware-api-session-id"] = answer.json()

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.base + path, **kwargs)


GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
NAMESPACE = "vmop-test"
VM_CLASS = "vmop-small"


@pytest.fixture(scope="session")
def namespace(testbed, admin_client):
    """A vSphere Namespace with one VM class, made through the vCenter API as an admin would."""
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
           30, "VM class bound into the namespace")
    yield NAMESPACE
    # guest clusters first: their controller would make their VMs again
    for group, version, plural in (("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters"),
                                   ("cluster.x-k8s.io", "v1beta1", "clusters")):
        for cluster in objects.list_namespaced_custom_object(group, version, NAMESPACE, plural)["items"]:
            objects.delete_namespaced_custom_object(group, version, NAMESPACE, plural, cluster["metadata"]["name"])
    for vm in objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"]:
        objects.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines", vm["metadata"]["name"])
    # while the VM Operator runs, so that no finalizer outlives it
    left = []

    def all_gone() -> bool:
        left[:] = [vm["metadata"]["name"] for vm in
                   objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"]]
        return not left

    try:
        _until(all_gone, 30, "VirtualMachines deleted")
    except pytest.fail.Exception:
        pytest.fail(f"VirtualMachines of {NAMESPACE} not deleted within 30 s: {left}")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    vcenter.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


@pytest.fixture(scope="session")
def vcenter_si(testbed):
    # straight to vcsim: tests restart the WCP proxy, which would cut a long-lived session
    with session(testbed.layout) as si:
        yield si


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
            "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                     "powerState": "PoweredOn", **spec}}


def _get(objects, name):
    return objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines", name)


def _conditions(vm) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in vm.get("status", {}).get("conditions", [])}


VDS_CLUSTERS = "/api/vcenter/namespace-management/clusters"
VDS_NAMESPACE = "vds-team"
VSAN_POLICY = "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"  # vcsim's "vSAN Default Storage Policy"


@pytest.fixture(scope="module")
def vds_namespace(testbed, admin_client):
    """A vSphere Namespace (the developer EDITs it) on a second cluster enabled with VDS networking (the
    testbed's own Supervisor uses NSX)."""
    admin = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    enabled = {c["cluster"] for c in admin.call("GET", VDS_CLUSTERS).json()}
    primary = admin.call("GET", VDS_CLUSTERS).json()[0]["cluster"]
    spare = next(c["cluster"] for c in admin.call("GET", "/api/vcenter/cluster").json() if c["cluster"] != primary)
    core = client.CoreV1Api(admin_client)
    admin.call("DELETE", f"/api/vcenter/namespaces/instances/{VDS_NAMESPACE}")  # an aborted run's
    _until(lambda: _absent(core.read_namespace, VDS_NAMESPACE), 60, "the namespace of an earlier run to go")
    if spare in enabled:  # an aborted run's, or another test's
        admin.call("POST", f"{VDS_CLUSTERS}/{spare}?action=disable")
        _until(lambda: admin.call("GET", f"{VDS_CLUSTERS}/{spare}").status_code == 404, 30, "the second Supervisor gone")
    spec = {"size_hint": "TINY", "network_provider": "VSPHERE_NETWORK", "master_storage_policy": VSAN_POLICY}
    answer = admin.call("POST", f"{VDS_CLUSTERS}/{spare}?action=enable", json=spec)
    assert answer.status_code == 204, answer.text
    _until(lambda: admin.call("GET", f"{VDS_CLUSTERS}/{spare}").json()["config_status"] == "RUNNING", 30,
           "the second Supervisor RUNNING")
    assert admin.call("GET", f"{VDS_CLUSTERS}/{spare}").json()["network_provider"] == "VSPHERE_NETWORK"
    user, domain = testbed.credentials.developer_user.split("@")
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": spare, "namespace": VDS_NAMESPACE,
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}]})
    assert answer.status_code == 204, answer.text
    _until(lambda: admission.refuses_pods(core.read_namespace(VDS_NAMESPACE).metadata.labels), 30,
           "the namespace mirrored with its Supervisor's network provider")
    yield VDS_NAMESPACE
    admin.call("DELETE", f"/api/vcenter/namespaces/instances/{VDS_NAMESPACE}")
    _until(lambda: _absent(core.read_namespace, VDS_NAMESPACE), 60, "the namespace to go")
    admin.call("POST", f"{VDS_CLUSTERS}/{spare}?action=disable")
    _until(lambda: admin.call("GET", f"{VDS_CLUSTERS}/{spare}").status_code == 404, 30, "the second Supervisor disabled")
