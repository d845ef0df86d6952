"""The testbed's real peers answer as a Supervisor's would: apiserver, CRDs, RBAC, vCenter."""
from __future__ import annotations

import copy
import ssl
import time
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.testbed.conftest import _absent, _until

pytestmark = pytest.mark.testbed

NAMESPACE = "testbed-peers"


def _get(testbed, path: str, token: str | None = None, client_cert: bool = True) -> int:
    context = ssl.create_default_context(cafile=str(testbed.pki.ca_cert))
    if client_cert:
        context.load_cert_chain(str(testbed.pki.client_cert("admin")), str(testbed.pki.client_key("admin")))
    request = urllib.request.Request(testbed.layout.apiserver_url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture(scope="module")
def namespace(admin_client):
    core = client.CoreV1Api(admin_client)
    core.create_namespace({"metadata": {"name": NAMESPACE}})
    yield NAMESPACE
    core.delete_namespace(NAMESPACE)


def test_apiserver_is_ready(testbed):
    assert _get(testbed, "/readyz?verbose") == 200


def test_apiserver_refuses_anonymous_callers(testbed):
    assert _get(testbed, "/api/v1/namespaces", client_cert=False) in (401, 403)


@pytest.mark.parametrize(
    "crd",
    [
        "virtualmachines.vmoperator.vmware.com",
        "virtualmachineclasses.vmoperator.vmware.com",
        "virtualmachineservices.vmoperator.vmware.com",
        "virtualmachinesetresourcepolicies.vmoperator.vmware.com",
        "clusters.cluster.x-k8s.io",
        "machines.cluster.x-k8s.io",
        "tanzukubernetesclusters.run.tanzu.vmware.com",
        "tanzukubernetesreleases.run.tanzu.vmware.com",
    ],
)
def test_crd_is_established(admin_client, crd):
    found = client.ApiextensionsV1Api(admin_client).read_custom_resource_definition(crd)
    conditions = {c.type: c.status for c in found.status.conditions}
    assert conditions["Established"] == "True"


def test_upstream_crds_come_from_the_module_cache(admin_client):
    found = client.ApiextensionsV1Api(admin_client).read_custom_resource_definition(
        "virtualmachines.vmoperator.vmware.com"
    )
    source = found.metadata.annotations["testbed.pacific.supervisor/source"]
    assert source.startswith("vm-operator@v") and source.endswith("vmoperator.vmware.com_virtualmachines.yaml")


VIRTUAL_MACHINE = {
    "apiVersion": "vmoperator.vmware.com/v1alpha3",
    "kind": "VirtualMachine",
    "metadata": {"name": "web-1"},
    "spec": {
        "className": "best-effort-small",
        "imageName": "vmi-0123456789abcdef0",
        "storageClass": "vsan-default-storage-policy",
        "powerState": "PoweredOn",
    },
}
CLUSTER = {
    "apiVersion": "cluster.x-k8s.io/v1beta1",
    "kind": "Cluster",
    "metadata": {"name": "capi-1"},
    "spec": {"topology": {"class": "tanzukubernetescluster", "version": "v1.33.1---vmware.1-fips-vkr.2"}},
}
TKC = {
    "apiVersion": "run.tanzu.vmware.com/v1alpha3",
    "kind": "TanzuKubernetesCluster",
    "metadata": {"name": "tkc-1"},
    "spec": {
        "topology": {
            "controlPlane": {
                "replicas": 1,
                "vmClass": "best-effort-small",
                "storageClass": "vsan-default-storage-policy",
                "tkr": {"reference": {"name": "v1.33.1---vmware.1-fips-vkr.2"}},
            },
            "nodePools": [
                {"name": "workers", "replicas": 2, "vmClass": "best-effort-small", "storageClass": "vsan-default-storage-policy"}
            ],
        },
        "settings": {"network": {"cni": {"name": "antrea"}, "pods": {"cidrBlocks": ["192.168.0.0/16"]}}},
    },
}
PLURALS = {"VirtualMachine": "virtualmachines", "Cluster": "clusters", "TanzuKubernetesCluster": "tanzukubernetesclusters"}


def _crud(admin_client):
    return client.CustomObjectsApi(admin_client)


def _coordinates(manifest):
    group, version = manifest["apiVersion"].split("/")
    return group, version, PLURALS[manifest["kind"]]


@pytest.mark.parametrize("manifest", [VIRTUAL_MACHINE, CLUSTER, TKC], ids=lambda m: m["kind"])
def test_supervisor_object_round_trips(admin_client, namespace, manifest):
    group, version, plural = _coordinates(manifest)
    objects = _crud(admin_client)
    objects.create_namespaced_custom_object(group, version, namespace, plural, manifest, field_validation="Strict")
    try:
        read = objects.get_namespaced_custom_object(group, version, namespace, plural, manifest["metadata"]["name"])
        # what we sent comes back; the CRD's schema may add defaults (VM power modes) beside it
        assert {key: read["spec"][key] for key in manifest["spec"]} == manifest["spec"]
        assert read["metadata"]["uid"]
    finally:
        objects.delete_namespaced_custom_object(group, version, namespace, plural, manifest["metadata"]["name"])
        # controllers may hold a finalizer briefly
        _until(lambda: _absent(objects.get_namespaced_custom_object, group, version, namespace, plural,
                               manifest["metadata"]["name"]), 30, "the object deleted")


def _with(manifest, path: list[str], value):
    changed = copy.deepcopy(manifest)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("manifest", "path", "value", "complaint"),
    [
        (VIRTUAL_MACHINE, ["spec", "powerState"], "On", "spec.powerState"),
        (VIRTUAL_MACHINE, ["spec", "colour"], "blue", "unknown field"),
        (TKC, ["spec", "topology", "controlPlane", "replicas"], 0, "spec.topology.controlPlane.replicas"),
        (TKC, ["spec", "topology", "controlPlane", "replicas"], "three", "spec.topology.controlPlane.replicas"),
        (TKC, ["spec", "topology", "workers"], {"count": 2}, "unknown field"),
        (CLUSTER, ["spec", "topology", "class"], 7, "spec.topology.class"),
    ],
    ids=["vm-power-state-enum", "vm-unknown-field", "tkc-zero-control-plane", "tkc-replicas-type",
         "tkc-v1alpha1-field", "cluster-class-type"],
)
def test_schema_rejects_a_bad_field(admin_client, namespace, manifest, path, value, complaint):
    group, version, plural = _coordinates(manifest)
    objects = _crud(admin_client)
    bad = _with(manifest, path, value)
    with pytest.raises(ApiException) as raised:
        objects.create_namespaced_custom_object(group, version, namespace, plural, bad, field_validation="Strict")
    assert raised.value.status in (400, 422)
    assert complaint in raised.value.body
    listed = objects.list_namespaced_custom_object(group, version, namespace, plural)["items"]
    assert listed == []


def test_rbac_denies_a_token_without_bindings(testbed, namespace):
    token = testbed.credentials.nobody_token
    assert _get(testbed, f"/apis/vmoperator.vmware.com/v1alpha3/namespaces/{namespace}/virtualmachines",
                token=token, client_cert=False) == 403
    assert _get(testbed, "/api/v1/namespaces", token=token, client_cert=False) == 403


def test_rbac_admits_the_admin_token(testbed, namespace):
    token = testbed.credentials.admin_token
    assert _get(testbed, f"/apis/vmoperator.vmware.com/v1alpha3/namespaces/{namespace}/virtualmachines",
                token=token, client_cert=False) == 200


def test_controller_manager_finalizes_namespace_deletion(admin_client):
    core = client.CoreV1Api(admin_client)
    core.create_namespace({"metadata": {"name": "testbed-short-lived"}})
    core.delete_namespace("testbed-short-lived")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            core.read_namespace("testbed-short-lived")
        except ApiException as err:
            assert err.status == 404
            return
        time.sleep(0.2)
    pytest.fail("namespace still present 30 s after deletion: is kube-controller-manager running?")
