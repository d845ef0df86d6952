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

pytestmark = pytest.mark.testbed

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}


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


def test_the_spherelet_runs_no_pod_there_even_one_past_admission(admin_client, vds_namespace):
    """A pod admitted before the policy took effect: the Spherelet leaves it Pending, saying why."""
    from tests.testbed.conftest import _until

    admission_api = client.AdmissionregistrationV1Api(admin_client)
    core = client.CoreV1Api(admin_client)
    admission_api.delete_validating_admission_policy_binding(admission.POLICY)
    try:
        _until(lambda: _admitted(core, vds_namespace), 30, "the pod admitted without the binding")
    finally:
        admission.install(admin_client)
    try:
        def unschedulable():
            pod = core.read_namespaced_pod("early", vds_namespace)
            return [c for c in pod.status.conditions or [] if c.type == "PodScheduled" and c.reason == "Unschedulable"]
        condition = _until(unschedulable, 30, "the pod marked Unschedulable")[0]
        assert "VDS" in condition.message
        pod = core.read_namespaced_pod("early", vds_namespace)
        assert pod.status.phase == "Pending" and not pod.spec.node_name
    finally:
        core.delete_namespaced_pod("early", vds_namespace, grace_period_seconds=0)


def _admitted(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.create_namespaced_pod(namespace, {**POD, "metadata": {"name": "early"}})
    except ApiException as err:
        if err.status == 409:
            return True
        if err.status == 403:  # the apiserver has not seen the binding go yet
            return False
        raise
    return True
