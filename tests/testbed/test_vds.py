"""A Supervisor on VDS networking runs no user pod: vSphere Pods for generic use need NSX.

The testbed's own Supervisor uses NSX; these tests enable a second cluster with
``network_provider: VSPHERE_NETWORK`` and make a vSphere Namespace there for the developer.
"""
from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed import admission
from testbed.vcenter import developer_token
from tests.testbed.conftest import Vcenter, _absent, _until

pytestmark = pytest.mark.testbed

CLUSTERS = "/api/vcenter/namespace-management/clusters"
NAMESPACE = "vds-team"
VSAN_POLICY = "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"  # vcsim's "vSAN Default Storage Policy"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


@pytest.fixture(scope="module")
def vds_namespace(testbed, admin_client):
    """A vSphere Namespace (the developer EDITs it) on a second cluster enabled with VDS networking."""
    admin = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    enabled = {c["cluster"] for c in admin.call("GET", CLUSTERS).json()}
    primary = admin.call("GET", CLUSTERS).json()[0]["cluster"]
    spare = next(c["cluster"] for c in admin.call("GET", "/api/vcenter/cluster").json() if c["cluster"] != primary)
    core = client.CoreV1Api(admin_client)
    admin.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")  # an aborted run's
    _until(lambda: _absent(core.read_namespace, NAMESPACE), 60, "the namespace of an earlier run to go")
    if spare not in enabled:
        spec = {"size_hint": "TINY", "network_provider": "VSPHERE_NETWORK", "master_storage_policy": VSAN_POLICY}
        answer = admin.call("POST", f"{CLUSTERS}/{spare}?action=enable", json=spec)
        assert answer.status_code == 204, answer.text
    _until(lambda: admin.call("GET", f"{CLUSTERS}/{spare}").json()["config_status"] == "RUNNING", 30,
           "the second Supervisor RUNNING")
    assert admin.call("GET", f"{CLUSTERS}/{spare}").json()["network_provider"] == "VSPHERE_NETWORK"
    user, domain = testbed.credentials.developer_user.split("@")
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": spare, "namespace": NAMESPACE,
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}]})
    assert answer.status_code == 204, answer.text
    _until(lambda: admission.refuses_pods(core.read_namespace(NAMESPACE).metadata.labels), 30,
           "the namespace mirrored with its Supervisor's network provider")
    yield NAMESPACE
    admin.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    _until(lambda: _absent(core.read_namespace, NAMESPACE), 60, "the namespace to go")
    if spare not in enabled:
        admin.call("POST", f"{CLUSTERS}/{spare}?action=disable")
        _until(lambda: admin.call("GET", f"{CLUSTERS}/{spare}").status_code == 404, 30, "the second Supervisor disabled")


def _developer(testbed, admin_client) -> client.CoreV1Api:
    configuration = client.Configuration()
    configuration.host = admin_client.configuration.host
    configuration.ssl_ca_cert = str(testbed.pki.ca_cert)
    configuration.api_key = {"authorization": f"Bearer {developer_token(testbed)}"}
    return client.CoreV1Api(client.ApiClient(configuration))


def test_a_vds_supervisor_refuses_a_developers_pod_at_admission(testbed, admin_client, vds_namespace):
    developer = _developer(testbed, admin_client)
    with pytest.raises(ApiException) as refused:
        developer.create_namespaced_pod(vds_namespace, POD)
    assert refused.value.status == 403, refused.value.body
    assert "VDS" in refused.value.body and "NSX" in refused.value.body
    # a dry run is refused the same, as kubectl --dry-run=server sees it
    with pytest.raises(ApiException) as dry:
        developer.create_namespaced_pod(vds_namespace, POD, dry_run="All")
    assert dry.value.status == 403
    assert developer.list_namespaced_pod(vds_namespace).items == []


def test_the_nsx_supervisor_still_admits_pods(admin_client, namespace, vds_namespace):
    core = client.CoreV1Api(admin_client)
    assert core.read_namespace(namespace).metadata.labels[admission.NETWORK_PROVIDER_LABEL] == "NSXT_CONTAINER_PLUGIN"
    core.create_namespaced_pod(namespace, POD, dry_run="All")
