"""Guest cluster manifests from module options: TKC and topology Cluster, kept options, release
resolution, validation and the summary."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_cluster_manifest as gcm

TKR_134 = "v1.34.4---vmware.1-fips-vkr.2"
TKR_135 = "v1.35.4---vmware.1-fips-vkr.1"


def tkr(name, ready="True", kubernetes=None):
    version = name.replace("---", "+")
    return {"metadata": {"name": name},
            "spec": {"version": version, "kubernetes": {"version": kubernetes or version.split("-vkr")[0]}},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


TKRS = [tkr(TKR_134), tkr(TKR_135), tkr("v1.35.2---vmware.1-fips-vkr.1"), tkr("v1.36.0---vmware.1-vkr.1", "False")]


def params(**overrides):
    base = {"name": "tkc-1", "namespace": "team-a", "state": "present", "api": "tkc", "version": None,
            "control_plane_replicas": None, "vm_class": "small", "storage_class": "gold", "cluster_class": None,
            "node_pools": [{"name": "workers", "replicas": 1, "vm_class": None, "storage_class": None,
                            "worker_class": "node-pool"}]}
    base.update(overrides)
    return base


def test_tkc_manifest_names_the_release_for_the_control_plane_and_every_pool():
    manifest = gcm.build(params(), None, gcm.resolve_release("v1.34", TKRS))
    assert manifest == {
        "apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster",
        "metadata": {"name": "tkc-1", "namespace": "team-a"},
        "spec": {"topology": {
            "controlPlane": {"replicas": 1, "vmClass": "small", "storageClass": "gold",
                             "tkr": {"reference": {"name": TKR_134}}},
            "nodePools": [{"name": "workers", "replicas": 1, "vmClass": "small", "storageClass": "gold",
                           "tkr": {"reference": {"name": TKR_134}}}]}}}


def test_capi_manifest_is_a_topology_with_class_variables_and_per_pool_overrides():
    pools = [{"name": "md-0", "replicas": 2, "vm_class": None, "storage_class": None, "worker_class": "node-pool"},
             {"name": "big", "replicas": 0, "vm_class": "large", "storage_class": None, "worker_class": "gpu"}]
    manifest = gcm.build(params(api="capi", node_pools=pools), None, gcm.resolve_release("1.35.4", TKRS))
    assert manifest["apiVersion"] == "cluster.x-k8s.io/v1beta1" and manifest["kind"] == "Cluster"
    assert manifest["spec"]["topology"] == {
        "class": "tanzukubernetescluster", "version": "v1.35.4+vmware.1-fips-vkr.1",
        "controlPlane": {"replicas": 1},
        "variables": [{"name": "vmClass", "value": "small"}, {"name": "storageClass", "value": "gold"}],
        "workers": {"machineDeployments": [
            {"class": "node-pool", "name": "md-0", "replicas": 2},
            {"class": "gpu", "name": "big", "replicas": 0,
             "variables": {"overrides": [{"name": "vmClass", "value": "large"}]}}]}}


@pytest.mark.parametrize("api", ["tkc", "capi"])
def test_options_left_out_keep_what_the_cluster_has(api):
    created = gcm.build(params(api=api, control_plane_replicas=3), None, gcm.resolve_release("v1.34", TKRS))
    scaled = gcm.build(params(api=api, vm_class=None, storage_class=None,
                              node_pools=[{"name": "workers", "replicas": 3}]), created)
    assert gcm.current_options(scaled, api) == dict(gcm.current_options(created, api), node_pools=[
        dict(gcm.current_options(created, api)["node_pools"][0], replicas=3)])
    untouched = gcm.build(params(api=api, vm_class=None, storage_class=None, node_pools=None), created)
    assert untouched == created


def test_a_kubernetes_version_keeps_the_current_release_when_it_matches():
    assert gcm.resolve_release("v1.35", TKRS).name == TKR_135  # the newest v1.35
    older = "v1.35.2---vmware.1-fips-vkr.1"
    assert gcm.resolve_release("v1.35", TKRS, current=older).name == older
    assert gcm.resolve_release("v1.35", TKRS, current=TKR_134).name == TKR_135
    assert gcm.resolve_release(TKR_134, TKRS).version == "v1.34.4+vmware.1-fips-vkr.2"
    assert gcm.resolve_release("v1.34.4+vmware.1-fips-vkr.2", TKRS).name == TKR_134


@pytest.mark.parametrize("requested", ["v1.19", "1.36", "v1.35.9", "v1.35.4---vmware.9"])
def test_a_release_the_supervisor_does_not_offer_is_refused_with_what_it_offers(requested):
    with pytest.raises(errors.InvalidArgument) as caught:
        gcm.resolve_release(requested, TKRS)
    assert caught.value.msg == ("Kubernetes version {0!r} is not offered by this Supervisor (offered: {1}, "
                                "v1.35.2---vmware.1-fips-vkr.1, {2})".format(requested, TKR_134, TKR_135))


def test_without_a_release_list_only_a_complete_version_is_taken():
    assert gcm.resolve_release("v1.35.4+vmware.1", None) == gcm.Release("v1.35.4---vmware.1", "v1.35.4+vmware.1")
    with pytest.raises(errors.InvalidArgument, match="incomplete"):
        gcm.resolve_release("v1.35", None)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": "TKC_1"}, "guest cluster name 'TKC_1' is not a valid DNS-1123 label"),
    ({"control_plane_replicas": 0}, "control_plane_replicas must be a positive odd number (1 or 3), not 0"),
    ({"control_plane_replicas": 2}, "control_plane_replicas must be a positive odd number (1 or 3), not 2"),
    ({"control_plane_replicas": 5}, "control_plane_replicas of a TanzuKubernetesCluster must be 1 or 3, not 5"),
    ({"node_pools": [{"name": "workers", "replicas": -1}]}, "replicas of node pool 'workers' must be 0 or more, not -1"),
    ({"node_pools": [{"name": "Workers"}]}, "node pool name 'Workers' is not a valid DNS-1123 label"),
    ({"node_pools": [{"name": "a"}, {"name": "a"}]}, "node pool 'a' is given twice"),
    ({"version": "latest"}, "version 'latest' is not a Kubernetes version"),
    ({"vm_class": ""}, "vm_class must not be empty"),
])
def test_bad_options_are_refused_before_anything_is_built(overrides, message):
    with pytest.raises(errors.InvalidArgument) as caught:
        gcm.validate(params(**overrides))
    assert caught.value.msg.startswith(message)


def test_five_control_plane_nodes_are_fine_for_a_cluster_api_cluster():
    gcm.validate(params(api="capi", control_plane_replicas=5))


def test_absent_needs_only_a_valid_name():
    gcm.validate(params(state="absent", control_plane_replicas=-4))


@pytest.mark.parametrize(("api", "overrides", "missing"), [
    ("tkc", {"vm_class": None}, "vm_class"),
    ("tkc", {"vm_class": None, "storage_class": None}, "vm_class and storage_class"),
    ("capi", {}, "version"),
])
def test_creating_needs_classes_and_for_capi_a_version(api, overrides, missing):
    with pytest.raises(errors.InvalidArgument) as caught:
        gcm.build(params(api=api, **overrides))
    assert caught.value.msg == "creating guest cluster tkc-1 needs " + missing


def machine(pool, phase="Running", deleting=False):
    labels = {"cluster.x-k8s.io/cluster-name": "tkc-1"}
    if pool == "control-plane":
        labels["cluster.x-k8s.io/control-plane"] = ""
    else:
        labels["topology.cluster.x-k8s.io/deployment-name"] = pool
    metadata = {"name": "m", "labels": labels}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": phase}}


def test_summary_of_a_tkc_counts_running_machines_per_pool():
    obj = gcm.build(params(node_pools=[{"name": "workers", "replicas": 3}]), None, gcm.resolve_release("v1.34", TKRS))
    obj["metadata"].update(generation=2)
    obj["status"] = {"phase": "running", "version": "v1.34.4", "observedGeneration": 2,
                     "apiEndpoints": [{"host": "127.0.0.1", "port": 17440}],
                     "conditions": [{"type": "Ready", "status": "True"}]}
    summary = gcm.summarize(obj, [machine("control-plane"), machine("workers"), machine("workers", "Provisioning"),
                                  machine("workers", deleting=True)])
    assert summary["ready"] and summary["api"] == "tkc" and summary["version"] == TKR_134
    assert summary["kubernetes_version"] == "v1.34.4" and summary["phase"] == "running"
    assert summary["control_plane_endpoint"] == {"host": "127.0.0.1", "port": 17440}
    assert summary["control_plane"] == {"replicas": 1, "ready_replicas": 1, "vm_class": "small", "storage_class": "gold"}
    assert summary["node_pools"] == [{"name": "workers", "replicas": 3, "ready_replicas": 1, "vm_class": "small",
                                      "storage_class": "gold"}]
    assert summary["kubeconfig_secret"] == "tkc-1-kubeconfig"


def test_summary_lists_each_machine_and_why_a_failed_one_is_held():
    obj = gcm.build(params(), None, gcm.resolve_release("v1.34", TKRS))
    lost = machine("workers", "Failed")
    lost["metadata"]["name"] = "tkc-1-workers-0"
    lost["status"].update(nodeRef=None, conditions=[
        {"type": "InfrastructureReady", "status": "False", "reason": "VirtualMachineNotRunning",
         "message": "VM vm-42 is PoweredOff"},
        {"type": "Ready", "status": "False", "reason": "VirtualMachineNotRunning", "message": ""}])
    plane = machine("control-plane")
    plane["metadata"]["name"] = "tkc-1-control-plane-0"
    plane["status"].update(nodeRef={"name": "tkc-1-control-plane-0"}, conditions=[{"type": "Ready", "status": "True"}])
    summary = gcm.summarize(obj, [lost, plane])
    assert summary["machines"] == [
        {"name": "tkc-1-control-plane-0", "pool": "control-plane", "phase": "Running", "running": True,
         "failed": False, "deleting": False, "reason": None, "message": None, "node": "tkc-1-control-plane-0"},
        {"name": "tkc-1-workers-0", "pool": "workers", "phase": "Failed", "running": False, "failed": True,
         "deleting": False, "reason": "VirtualMachineNotRunning", "message": "VM vm-42 is PoweredOff",
         "node": None},
    ]
    assert gcm.summarize(obj)["machines"] == []


def test_summary_of_a_capi_cluster_reads_its_endpoint_from_the_spec_and_its_failure_from_conditions():
    obj = gcm.build(params(api="capi"), None, gcm.resolve_release("v1.35", TKRS))
    obj["spec"]["controlPlaneEndpoint"] = {"host": "", "port": 0}
    obj["status"] = {"phase": "Failed", "conditions": [
        {"type": "Ready", "status": "False", "severity": "Error", "reason": "TKRNotFound", "message": "not offered"}]}
    summary = gcm.summarize(obj)
    assert summary["api"] == "capi" and summary["cluster_class"] == "tanzukubernetescluster"
    assert summary["control_plane_endpoint"] is None
    assert not summary["ready"] and summary["state_message"] == "Ready=False (not offered)"
    assert summary["node_pools"][0]["ready_replicas"] == 0


def test_an_older_release_than_the_cluster_runs_is_refused():
    newer, older = gcm.resolve_release("v1.35", TKRS), gcm.resolve_release("v1.34", TKRS)
    gcm.check_no_downgrade(TKR_134, newer, "tkc-1")
    gcm.check_no_downgrade(TKR_135, newer, "tkc-1")
    gcm.check_no_downgrade(None, older, "tkc-1")
    with pytest.raises(errors.InvalidArgument) as caught:
        gcm.check_no_downgrade("v1.35.4+vmware.1-fips-vkr.1", older, "tkc-1")
    assert caught.value.msg == ("guest cluster tkc-1 runs v1.35.4+vmware.1-fips-vkr.1; it cannot be downgraded to "
                                + TKR_134)


def test_a_tkc_without_a_ready_condition_is_as_ready_as_the_cluster_api_cluster_realising_it():
    obj = gcm.build(params(), None, gcm.resolve_release("v1.34", TKRS))
    obj["metadata"].update(generation=1)
    obj["status"] = {"observedGeneration": 1}
    realising = {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster",
                 "metadata": {"name": "tkc-1", "namespace": "team-a", "generation": 3},
                 "spec": {"topology": {"class": "tanzukubernetescluster"}},
                 "status": {"observedGeneration": 3, "phase": "Provisioned", "conditions": [
                     {"type": "ControlPlaneReady", "status": "True"}, {"type": "InfrastructureReady", "status": "True"}]}}
    summary = gcm.summarize(obj, [], realising)
    assert summary["ready"] and summary["phase"] == "Provisioned" and summary["capi_cluster"] == "tkc-1"
    assert gcm.summarize(obj, [])["ready"] is False and gcm.summarize(obj, [])["capi_cluster"] is None
    # the TKC's own Ready condition wins
    obj["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "Provisioning"}]
    assert gcm.summarize(obj, [], realising)["ready"] is False
