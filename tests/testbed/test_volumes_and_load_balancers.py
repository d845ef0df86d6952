"""The CNS-like provisioner binds claims of a namespace's storage classes; LoadBalancer Services in
front of native pods get an address, as NSX gives one."""
from __future__ import annotations

import pytest
from kubernetes import client

from tests.testbed.conftest import _absent, _until

pytestmark = pytest.mark.testbed
CLASS, OTHER_CLASS = "testbed-cns-gold", "testbed-cns-silver"


@pytest.fixture(scope="module")
def classes(admin_client):
    storage = client.StorageV1Api(admin_client)
    for name in (CLASS, OTHER_CLASS):
        if _absent(storage.read_storage_class, name):
            storage.create_storage_class({"metadata": {"name": name}, "provisioner": "csi.vsphere.vmware.com",
                                          "reclaimPolicy": "Delete", "parameters": {"storagePolicyID": name}})
    yield CLASS, OTHER_CLASS
    for name in (CLASS, OTHER_CLASS):
        storage.delete_storage_class(name)


def _claim(name, storage_class, size="2Gi"):
    return {"metadata": {"name": name}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                                                 "resources": {"requests": {"storage": size}}}}


def test_a_claim_of_the_namespaces_class_is_bound_to_a_cns_volume_that_goes_with_it(admin_client, namespace, classes):
    core = client.CoreV1Api(admin_client)
    core.create_namespaced_persistent_volume_claim(namespace, _claim("data", CLASS))
    bound = _until(lambda: (lambda c: c if c.status.phase == "Bound" else None)(
        core.read_namespaced_persistent_volume_claim("data", namespace)), 30, "claim data Bound")
    volume = core.read_persistent_volume(bound.spec.volume_name)
    assert volume.spec.csi.driver == "csi.vsphere.vmware.com" and volume.spec.capacity["storage"] == "2Gi"
    assert volume.spec.claim_ref.uid == bound.metadata.uid and volume.spec.storage_class_name == CLASS
    core.delete_namespaced_persistent_volume_claim("data", namespace)
    _until(lambda: _absent(core.read_persistent_volume, bound.spec.volume_name), 60, "the claim's volume deleted")


def test_a_class_the_namespace_quota_does_not_name_is_not_provisioned(admin_client, namespace, classes):
    core = client.CoreV1Api(admin_client)
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": "storage-classes"}, "spec": {"hard": {
        f"{CLASS}.storageclass.storage.k8s.io/requests.storage": "10Gi"}}})
    try:
        core.create_namespaced_persistent_volume_claim(namespace, _claim("elsewhere", OTHER_CLASS))
        event = _until(lambda: [e for e in core.list_namespaced_event(namespace).items
                                if e.involved_object.name == "elsewhere" and e.reason == "ProvisioningFailed"],
                       30, "a ProvisioningFailed Event")
        assert "not assigned to namespace" in event[0].message and event[0].type == "Warning"
        assert core.read_namespaced_persistent_volume_claim("elsewhere", namespace).status.phase == "Pending"
    finally:
        core.delete_namespaced_persistent_volume_claim("elsewhere", namespace)
        core.delete_namespaced_resource_quota("storage-classes", namespace)


def test_a_load_balancer_service_gets_an_address_and_a_cluster_ip_one_none(admin_client, namespace):
    core = client.CoreV1Api(admin_client)
    for name, kind in (("web-lb", "LoadBalancer"), ("web-internal", "ClusterIP")):
        core.create_namespaced_service(namespace, {"metadata": {"name": name}, "spec": {
            "type": kind, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    try:
        ingress = _until(lambda: core.read_namespaced_service("web-lb", namespace).status.load_balancer.ingress,
                         30, "a load-balancer address")
        assert ingress[0].ip.startswith("10.245.")
        assert not core.read_namespaced_service("web-internal", namespace).status.load_balancer.ingress
    finally:
        for name in ("web-lb", "web-internal"):
            core.delete_namespaced_service(name, namespace)
