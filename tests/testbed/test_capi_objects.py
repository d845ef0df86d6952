"""The objects a guest cluster is realised as (testbed.controllers.capi_objects), without starting anything."""
from __future__ import annotations

from testbed.controllers import capi_objects as objects

TKC = {"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster",
       "metadata": {"name": "tkc-a", "namespace": "team-a", "uid": "u-tkc"},
       "spec": {"topology": {"controlPlane": {"replicas": 3, "vmClass": "guaranteed-small", "storageClass": "gold",
                                              "tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}},
                             "nodePools": [{"name": "workers", "replicas": 2, "vmClass": "best-effort-large",
                                            "storageClass": "silver"}]}}}


def _with_uid(obj: dict, uid: str) -> dict:
    return {**obj, "metadata": {**obj["metadata"], "uid": uid}}


def test_a_tkc_is_a_topology_cluster_of_the_tanzukubernetescluster_class_owned_by_it():
    cluster = objects.cluster_of_tkc(TKC, "v1.35.4+vmware.1-fips", "v1.35.4---vmware.1-fips-vkr.1")
    assert cluster["metadata"]["ownerReferences"] == [{
        "apiVersion": TKC["apiVersion"], "kind": "TanzuKubernetesCluster", "name": "tkc-a", "uid": "u-tkc",
        "controller": True, "blockOwnerDeletion": True}]
    assert cluster["metadata"]["labels"] == {"run.tanzu.vmware.com/tkr": "v1.35.4---vmware.1-fips-vkr.1"}
    topology = cluster["spec"]["topology"]
    assert (topology["class"], topology["version"], topology["controlPlane"]) == (
        "tanzukubernetescluster", "v1.35.4+vmware.1-fips", {"replicas": 3})
    assert [(md["class"], md["name"], md["replicas"]) for md in topology["workers"]["machineDeployments"]] == [
        ("node-pool", "workers", 2)]
    # read back, the Cluster has the TKC's pools: per pool class and storage as variable overrides
    version, pools = objects.cluster_pools(cluster)
    assert version == "v1.35.4+vmware.1-fips"
    assert pools == objects.tkc_pools(TKC)[1]


def test_names_and_owners_chain_from_the_cluster_to_the_virtual_machine():
    cluster = _with_uid(objects.cluster_of_tkc(TKC, "v1.35.4+vmware.1-fips", "tkr"), "u-cluster")
    version, pools = objects.cluster_pools(cluster)
    plane = _with_uid(objects.control_plane(cluster, version, pools[0]), "u-kcp")
    deployment = _with_uid(objects.machine_deployment(cluster, version, pools[1]), "u-md")
    machine_set = _with_uid(objects.machine_set(cluster, deployment, version, pools[1]), "u-ms")
    names = objects.machine_names("tkc-a", version, pools)
    digest = objects.digest(version)
    assert sorted(names) == sorted([f"tkc-a-control-plane-{digest}-{i}" for i in range(3)] +
                                   [f"tkc-a-workers-{digest}-{i}" for i in range(2)])
    assert (plane["metadata"]["name"], deployment["metadata"]["name"], machine_set["metadata"]["name"]) == (
        "tkc-a-control-plane", "tkc-a-workers", f"tkc-a-workers-{digest}")
    assert machine_set["metadata"]["ownerReferences"][0]["uid"] == "u-md"

    worker = _with_uid(objects.machine(cluster, machine_set, f"tkc-a-workers-{digest}-0", pools[1], version), "u-m")
    labels = worker["metadata"]["labels"]
    assert labels == {"cluster.x-k8s.io/cluster-name": "tkc-a", "topology.cluster.x-k8s.io/deployment-name": "workers",
                      "cluster.x-k8s.io/deployment-name": "tkc-a-workers",
                      "cluster.x-k8s.io/set-name": f"tkc-a-workers-{digest}", "machine-template-hash": digest}
    assert worker["metadata"]["ownerReferences"][0]["uid"] == "u-ms"
    assert worker["spec"]["infrastructureRef"]["kind"] == "VSphereMachine"
    infra = _with_uid(objects.vsphere_machine(worker, pools[1]), "u-vsm")
    assert infra["spec"] == {"className": "best-effort-large", "imageName": "photon-5", "storageClass": "silver"}
    vm = objects.virtual_machine(infra, "tkc-a", pools[1])
    assert vm["metadata"]["ownerReferences"][0]["uid"] == "u-vsm"
    assert vm["metadata"]["labels"]["capv.vmware.com/cluster.role"] == "node"
    assert vm["spec"]["reserved"] == {"resourcePolicyName": "tkc-a"}

    leader = objects.machine(cluster, plane, f"tkc-a-control-plane-{digest}-0", pools[0], version)
    assert leader["metadata"]["labels"]["cluster.x-k8s.io/control-plane"] == ""
    assert leader["metadata"]["ownerReferences"][0]["uid"] == "u-kcp"


def test_the_cluster_gets_a_resource_pool_and_folder_of_its_own():
    cluster = _with_uid(objects.cluster_of_tkc(TKC, "v1.35.4+vmware.1-fips", "tkr"), "u-cluster")
    infra = _with_uid(objects.vsphere_cluster(cluster), "u-infra")
    policy = objects.resource_policy(cluster, infra, objects.cluster_pools(cluster)[1])
    assert policy["spec"] == {"resourcePool": {"name": "tkc-a"}, "folder": "tkc-a",
                              "clusterModuleGroups": ["control-plane-group", "tkc-a-workers"]}
    assert policy["metadata"]["ownerReferences"][0]["kind"] == "VSphereCluster"


def test_a_spec_is_patched_only_where_it_lacks_what_is_wanted():
    from testbed.controllers.guest_clusters import _contains

    # what the server defaulted inside (rolloutStrategy, ...) is no difference
    assert _contains({"replicas": 1, "template": {"spec": {"clusterName": "a", "nodeDrainTimeout": "0s"}}},
                     {"replicas": 1, "template": {"spec": {"clusterName": "a"}}})
    assert not _contains({"replicas": 1}, {"replicas": 2})
    assert not _contains({"workers": [{"name": "a"}]}, {"workers": [{"name": "a"}, {"name": "b"}]})
    assert _contains(None, {})


def test_bootstrap_objects_are_named_and_owned_as_the_kubeadm_providers_make_them():
    cluster = _with_uid(objects.cluster_of_tkc(TKC, "v1.35.4+vmware.1-fips", "tkr"), "u-cluster")
    version, pools = objects.cluster_pools(cluster)
    plane = objects.control_plane(cluster, version, pools[0])
    spec = plane["spec"]["kubeadmConfigSpec"]
    assert spec["format"] == "cloud-config" and spec["clusterConfiguration"]["networking"] == {
        "podSubnet": "192.168.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    deployment = objects.machine_deployment(cluster, version, pools[1])
    assert deployment["spec"]["template"]["spec"]["bootstrap"] == {"configRef": {
        "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta1", "kind": "KubeadmConfigTemplate", "name": "tkc-a-workers",
        "namespace": "team-a"}}
    template = objects.kubeadm_config_template(cluster, "tkc-a-workers")
    assert template["metadata"]["ownerReferences"][0]["uid"] == "u-cluster"
    assert "joinConfiguration" in template["spec"]["template"]["spec"]

    plane = _with_uid(plane, "u-kcp")
    first = _with_uid(objects.machine(cluster, plane, "tkc-a-control-plane-x-0", pools[0], version), "u-m0")
    assert first["spec"]["bootstrap"] == {"configRef": {
        "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta1", "kind": "KubeadmConfig", "name": "tkc-a-control-plane-x-0",
        "namespace": "team-a"}}
    # the first control plane Machine inits the cluster, a later one joins it as a control plane node
    init = objects.machine_config_spec(spec, None, initialized=False)
    assert set(init) == {"format", "clusterConfiguration", "initConfiguration"}
    join = objects.machine_config_spec(spec, None, initialized=True)
    assert set(join) == {"format", "joinConfiguration"} and join["joinConfiguration"]["controlPlane"] == {}
    config = _with_uid(objects.kubeadm_config(first, init), "u-kc")
    assert config["metadata"]["name"] == "tkc-a-control-plane-x-0"
    assert config["metadata"]["labels"] == first["metadata"]["labels"]
    assert [(o["kind"], o["uid"], o["controller"]) for o in config["metadata"]["ownerReferences"]] == [
        ("Machine", "u-m0", True)]
    secret = objects.bootstrap_secret(config, "tkc-a")
    assert secret["type"] == "cluster.x-k8s.io/secret"
    assert secret["metadata"]["labels"] == {"cluster.x-k8s.io/cluster-name": "tkc-a"}
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "KubeadmConfig"
    assert secret["stringData"]["format"] == "cloud-config"
    data = secret["stringData"]["value"]
    assert data.startswith("## template: jinja\n#cloud-config\n") and "kubeadm init --config" in data
    worker_spec = objects.machine_config_spec(None, template["spec"]["template"]["spec"], initialized=True)
    worker_config = objects.kubeadm_config(first, worker_spec)
    assert "kubeadm join --config" in objects.bootstrap_data(worker_config)
