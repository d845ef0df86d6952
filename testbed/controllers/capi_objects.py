"""The objects Cluster API, its kubeadm control plane and CAPV (supervisor mode) make of a guest cluster.

Pure builders, no API calls: a TanzuKubernetesCluster becomes a topology Cluster of the
``tanzukubernetescluster`` ClusterClass; a topology Cluster becomes a VSphereCluster (its
infrastructure), a KubeadmControlPlane, one MachineDeployment -> MachineSet per node pool,
Machines, a VSphereMachine per Machine and a VM Operator VirtualMachine per VSphereMachine, and a
VirtualMachineSetResourcePolicy that gives the cluster's VMs a resource pool and folder of their
own in vCenter. Names are deterministic (the topology controller's are random suffixes), so that
a testbed restart finds what it made: ``<cluster>-control-plane``, ``<cluster>-<pool>`` (a
MachineDeployment), ``<deployment>-<version digest>`` (its MachineSet), ``<set>-<ordinal>`` (a
Machine, its VSphereMachine and VirtualMachine alike).

Bootstrap, as Cluster API's kubeadm bootstrap provider: the KubeadmControlPlane carries a
``kubeadmConfigSpec``, each MachineDeployment's template names a KubeadmConfigTemplate (named as
the deployment, as its VSphereMachineTemplate is), and every Machine has a KubeadmConfig of its
own name (what KCP and the MachineSet controller name it), owned by the Machine, whose bootstrap
data Secret (again of that name) the Machine's ``spec.bootstrap.dataSecretName`` names.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import yaml

CAPI = ("cluster.x-k8s.io", "v1beta1")
KCP = ("controlplane.cluster.x-k8s.io", "v1beta1", "kubeadmcontrolplanes")
CAPV = ("vmware.infrastructure.cluster.x-k8s.io", "v1beta1")
BOOTSTRAP = ("bootstrap.cluster.x-k8s.io", "v1beta1")
# what Cluster API types a bootstrap data Secret as
BOOTSTRAP_SECRET_TYPE = "cluster.x-k8s.io/secret"
CRI_SOCKET = "/var/run/containerd/containerd.sock"
VMOP = ("vmoperator.vmware.com", "v1alpha3")
TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")

CLUSTER_CLASS = "tanzukubernetescluster"
WORKER_CLASS = "node-pool"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
CONTROL_PLANE_NAME_LABEL = "cluster.x-k8s.io/control-plane-name"
DEPLOYMENT_NAME_LABEL = "cluster.x-k8s.io/deployment-name"
SET_NAME_LABEL = "cluster.x-k8s.io/set-name"
TEMPLATE_HASH_LABEL = "machine-template-hash"
# what Cluster API's topology controller marks its objects with
TOPOLOGY_OWNED = "topology.cluster.x-k8s.io/owned"
DEPLOYMENT_LABEL = "topology.cluster.x-k8s.io/deployment-name"
# what CAPV in supervisor mode labels and annotates a node's VirtualMachine with
CAPV_CLUSTER_LABEL = "capv.vmware.com/cluster.name"
CAPV_ROLE_LABEL = "capv.vmware.com/cluster.role"
LEGACY_CLUSTER_LABEL, LEGACY_ROLE_LABEL = "capw.vmware.com/cluster.name", "capw.vmware.com/cluster.role"
MODULE_GROUP_ANNOTATION = "vsphere-cluster-module-group"
TAG_ANNOTATION = "vsphere-tag"
CONTROL_PLANE_GROUP = "control-plane-group"
TKR_LABEL = "run.tanzu.vmware.com/tkr"
NODE_IMAGE = "photon-5"


@dataclass(frozen=True)
class Pool:
    name: str
    control_plane: bool
    replicas: int
    vm_class: str
    storage_class: str


def _variables(items: list[dict] | None) -> dict:
    return {v["name"]: v.get("value") for v in items or [] if "name" in v}


def tkc_pools(tkc: dict) -> tuple[str, list[Pool]]:
    """(TKR name, pools) of a TanzuKubernetesCluster."""
    topology = tkc.get("spec", {})["topology"]
    plane = topology["controlPlane"]
    release = ((plane.get("tkr") or {}).get("reference") or {}).get("name") or "v1.35.4---vmware.1-fips-vkr.1"
    pools = [Pool("control-plane", True, plane.get("replicas", 1), plane["vmClass"], plane["storageClass"])]
    pools += [Pool(p["name"], False, p.get("replicas", 0), p["vmClass"], p["storageClass"])
              for p in topology.get("nodePools", [])]
    return release, pools


def cluster_pools(cluster: dict) -> tuple[str, list[Pool]]:
    """(version, pools) of a topology Cluster: the class's vmClass / storageClass variables, a
    machine deployment's overrides of them."""
    topology = cluster.get("spec", {}).get("topology") or {}
    variables = _variables(topology.get("variables"))
    vm_class = variables.get("vmClass") or "best-effort-small"
    storage = variables.get("storageClass") or "vsan-default-storage-policy"
    pools = [Pool("control-plane", True, (topology.get("controlPlane") or {}).get("replicas", 1), vm_class, storage)]
    for md in (topology.get("workers") or {}).get("machineDeployments", []):
        overrides = _variables((md.get("variables") or {}).get("overrides"))
        pools.append(Pool(md["name"], False, md.get("replicas", 0), overrides.get("vmClass") or vm_class,
                          overrides.get("storageClass") or storage))
    return topology.get("version", ""), pools


def digest(version: str) -> str:
    return hashlib.sha256(version.encode()).hexdigest()[:5]


def control_plane_name(cluster: str) -> str:
    return f"{cluster}-control-plane"


def deployment_name(cluster: str, pool: str) -> str:
    return f"{cluster}-{pool}"


def set_name(cluster: str, pool: str, version: str) -> str:
    return f"{deployment_name(cluster, pool)}-{digest(version)}"


def machine_names(cluster: str, version: str, pools: list[Pool]) -> dict[str, Pool]:
    return {f"{set_name(cluster, pool.name, version)}-{index}": pool for pool in pools for index in range(pool.replicas)}


def ordinal(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


def owner(obj: dict, controller: bool = True) -> dict:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


def ref(api: tuple, kind: str, name: str, namespace: str) -> dict:
    return {"apiVersion": f"{api[0]}/{api[1]}", "kind": kind, "name": name, "namespace": namespace}


def owned_by(obj: dict, owner: dict) -> bool:
    """Whether ``owner`` (by its uid) is among ``obj``'s owner references."""
    return any(ref.get("uid") == owner["metadata"]["uid"] for ref in obj["metadata"].get("ownerReferences", []))


def kubernetes_version(release: dict) -> str:
    """The Kubernetes version of a TanzuKubernetesRelease, e.g. v1.35.4+vmware.1-fips."""
    return (release.get("spec", {}).get("kubernetes") or {}).get("version") or release["spec"]["version"]


def cluster_of_tkc(tkc: dict, version: str, release: str) -> dict:
    """The topology Cluster the TKG controller of vSphere 8 realises a TanzuKubernetesCluster as:
    same name, owned by the TKC, the ``tanzukubernetescluster`` class, the TKR's Kubernetes version,
    one machine deployment of class ``node-pool`` per node pool."""
    _release, pools = tkc_pools(tkc)
    plane, workers = pools[0], pools[1:]
    network = (tkc.get("spec", {}).get("settings") or {}).get("network") or {}
    return {
        "apiVersion": f"{CAPI[0]}/{CAPI[1]}", "kind": "Cluster",
        "metadata": {"name": tkc["metadata"]["name"], "namespace": tkc["metadata"]["namespace"],
                     "labels": {TKR_LABEL: release}, "ownerReferences": [owner(tkc)]},
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": (network.get("pods") or {}).get("cidrBlocks") or ["192.168.0.0/16"]},
                "services": {"cidrBlocks": (network.get("services") or {}).get("cidrBlocks") or ["10.96.0.0/12"]},
                "serviceDomain": network.get("serviceDomain") or "cluster.local"},
            "topology": {
                "class": CLUSTER_CLASS, "version": version,
                "controlPlane": {"replicas": plane.replicas},
                "workers": {"machineDeployments": [
                    {"class": WORKER_CLASS, "name": pool.name, "replicas": pool.replicas,
                     "variables": {"overrides": [{"name": "vmClass", "value": pool.vm_class},
                                                 {"name": "storageClass", "value": pool.storage_class}]}}
                    for pool in workers]},
                "variables": [{"name": "vmClass", "value": plane.vm_class},
                              {"name": "storageClass", "value": plane.storage_class}]}},
    }


def _meta(cluster: dict, name: str, labels: dict | None = None, owners: list[dict] | None = None) -> dict:
    return {"name": name, "namespace": cluster["metadata"]["namespace"],
            "labels": {CLUSTER_LABEL: cluster["metadata"]["name"], **(labels or {})},
            "ownerReferences": owners if owners is not None else [owner(cluster)]}


def vsphere_cluster(cluster: dict) -> dict:
    return {"apiVersion": f"{CAPV[0]}/{CAPV[1]}", "kind": "VSphereCluster",
            "metadata": _meta(cluster, cluster["metadata"]["name"], {TOPOLOGY_OWNED: ""}), "spec": {}}


def resource_policy(cluster: dict, infra: dict, pools: list[Pool]) -> dict:
    """CAPV's VirtualMachineSetResourcePolicy: a resource pool and folder named after the cluster,
    inside its namespace's, and a cluster module group for the control plane and each deployment."""
    name = cluster["metadata"]["name"]
    groups = [CONTROL_PLANE_GROUP] + [deployment_name(name, p.name) for p in pools if not p.control_plane]
    return {"apiVersion": f"{VMOP[0]}/{VMOP[1]}", "kind": "VirtualMachineSetResourcePolicy",
            "metadata": _meta(cluster, name, owners=[owner(infra)]),
            "spec": {"resourcePool": {"name": name}, "folder": name, "clusterModuleGroups": groups}}


def machine_template(cluster: dict, name: str, pool: Pool) -> dict:
    return {"apiVersion": f"{CAPV[0]}/{CAPV[1]}", "kind": "VSphereMachineTemplate",
            "metadata": _meta(cluster, name, {TOPOLOGY_OWNED: ""}),
            "spec": {"template": {"spec": {"className": pool.vm_class, "imageName": NODE_IMAGE,
                                           "storageClass": pool.storage_class}}}}


# --- bootstrap: the kubeadm bootstrap provider's objects ---------------------------------------
def _node_registration() -> dict:
    # kubeadm's node name from the VM's cloud-init metadata; the vSphere cloud provider runs outside the kubelet
    return {"name": "{{ ds.meta_data.hostname }}", "criSocket": CRI_SOCKET,
            "kubeletExtraArgs": {"cloud-provider": "external"}}


def _cluster_configuration(cluster: dict) -> dict:
    network = cluster.get("spec", {}).get("clusterNetwork") or {}
    networking = {"podSubnet": ",".join((network.get("pods") or {}).get("cidrBlocks") or []),
                  "serviceSubnet": ",".join((network.get("services") or {}).get("cidrBlocks") or []),
                  "dnsDomain": network.get("serviceDomain") or ""}
    return {"clusterName": cluster["metadata"]["name"],
            "networking": {key: value for key, value in networking.items() if value},
            "apiServer": {"extraArgs": {"cloud-provider": "external"}},
            "controllerManager": {"extraArgs": {"cloud-provider": "external"}}}


def control_plane_config_spec(cluster: dict) -> dict:
    """The KubeadmControlPlane's ``kubeadmConfigSpec``: how its first Machine inits the cluster, the
    others join it."""
    return {"format": "cloud-config", "clusterConfiguration": _cluster_configuration(cluster),
            "initConfiguration": {"nodeRegistration": _node_registration()},
            "joinConfiguration": {"nodeRegistration": _node_registration()}}


def worker_config_spec() -> dict:
    return {"format": "cloud-config", "joinConfiguration": {"nodeRegistration": _node_registration()}}


def kubeadm_config_template(cluster: dict, name: str) -> dict:
    """A MachineDeployment's KubeadmConfigTemplate (the topology controller's, owned by the Cluster)."""
    return {"apiVersion": f"{BOOTSTRAP[0]}/{BOOTSTRAP[1]}", "kind": "KubeadmConfigTemplate",
            "metadata": _meta(cluster, name, {TOPOLOGY_OWNED: ""}),
            "spec": {"template": {"spec": worker_config_spec()}}}


def machine_config_spec(plane_spec: dict | None, template_spec: dict | None, initialized: bool) -> dict:
    """A Machine's KubeadmConfig spec: a control plane Machine's from its KubeadmControlPlane's
    (init while the control plane is not yet initialized, else join as a control plane node),
    a worker's cloned from its deployment's template."""
    if plane_spec is None:
        return dict(template_spec or worker_config_spec())
    if not initialized:
        return {key: value for key, value in plane_spec.items() if key != "joinConfiguration"}
    join = dict(plane_spec.get("joinConfiguration") or {})
    join["controlPlane"] = {}
    return {**{key: value for key, value in plane_spec.items()
               if key not in ("clusterConfiguration", "initConfiguration", "joinConfiguration")},
            "joinConfiguration": join}


def kubeadm_config(machine_obj: dict, spec: dict) -> dict:
    """The KubeadmConfig of a Machine: its name, its labels, owned (controller) by the Machine."""
    meta = machine_obj["metadata"]
    return {"apiVersion": f"{BOOTSTRAP[0]}/{BOOTSTRAP[1]}", "kind": "KubeadmConfig",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(meta.get("labels") or {}),
                         "ownerReferences": [owner(machine_obj)]},
            "spec": spec}


def bootstrap_data(config: dict) -> str:
    """The cloud-config a KubeadmConfig renders: kubeadm's configuration file and the kubeadm call."""
    spec = config.get("spec") or {}
    documents = []
    if "initConfiguration" in spec:
        documents.append({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
                          **spec["initConfiguration"]})
        documents.append({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
                          **(spec.get("clusterConfiguration") or {})})
        command = "kubeadm init --config /run/kubeadm/kubeadm.yaml"
    else:
        documents.append({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration",
                          **(spec.get("joinConfiguration") or {})})
        command = "kubeadm join --config /run/kubeadm/kubeadm-join-config.yaml"
    path = command.rsplit(" ", 1)[1]
    cloud_config = {
        "write_files": [{"path": path, "owner": "root:root", "permissions": "0640",
                         "content": yaml.safe_dump_all(documents, sort_keys=True)}],
        "runcmd": [command, "mkdir -p /run/cluster-api && echo success > /run/cluster-api/bootstrap-success.complete"],
    }
    return "## template: jinja\n#cloud-config\n" + yaml.safe_dump(cloud_config, sort_keys=False)


def bootstrap_secret(config: dict, cluster: str) -> dict:
    """The bootstrap data Secret of a KubeadmConfig: its name, owned by it, labelled with the cluster."""
    meta = config["metadata"]
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": {CLUSTER_LABEL: cluster},
                         "ownerReferences": [owner(config)]},
            "type": BOOTSTRAP_SECRET_TYPE,
            "stringData": {"value": bootstrap_data(config), "format": (config.get("spec") or {}).get("format")
                           or "cloud-config"}}


def control_plane(cluster: dict, version: str, pool: Pool) -> dict:
    name = control_plane_name(cluster["metadata"]["name"])
    namespace = cluster["metadata"]["namespace"]
    return {"apiVersion": f"{KCP[0]}/{KCP[1]}", "kind": "KubeadmControlPlane",
            "metadata": _meta(cluster, name, {TOPOLOGY_OWNED: ""}),
            "spec": {"replicas": pool.replicas, "version": version,
                     "kubeadmConfigSpec": control_plane_config_spec(cluster),
                     "machineTemplate": {"infrastructureRef": ref(CAPV, "VSphereMachineTemplate", name, namespace)}}}


def _machine_spec(cluster: dict, version: str, template: str) -> dict:
    """A worker Machine's template: the deployment's KubeadmConfigTemplate and VSphereMachineTemplate."""
    namespace = cluster["metadata"]["namespace"]
    return {"clusterName": cluster["metadata"]["name"], "version": version,
            "bootstrap": {"configRef": ref(BOOTSTRAP, "KubeadmConfigTemplate", template, namespace)},
            "infrastructureRef": ref(CAPV, "VSphereMachineTemplate", template, namespace)}


def machine_deployment(cluster: dict, version: str, pool: Pool) -> dict:
    name = deployment_name(cluster["metadata"]["name"], pool.name)
    selector = {CLUSTER_LABEL: cluster["metadata"]["name"], DEPLOYMENT_LABEL: pool.name}
    return {"apiVersion": f"{CAPI[0]}/{CAPI[1]}", "kind": "MachineDeployment",
            "metadata": _meta(cluster, name, {TOPOLOGY_OWNED: "", DEPLOYMENT_LABEL: pool.name}),
            "spec": {"clusterName": cluster["metadata"]["name"], "replicas": pool.replicas,
                     "selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector}, "spec": _machine_spec(cluster, version, name)}}}


def machine_set(cluster: dict, deployment: dict, version: str, pool: Pool) -> dict:
    name = set_name(cluster["metadata"]["name"], pool.name, version)
    labels = {DEPLOYMENT_LABEL: pool.name, DEPLOYMENT_NAME_LABEL: deployment["metadata"]["name"],
              TEMPLATE_HASH_LABEL: digest(version)}
    selector = {CLUSTER_LABEL: cluster["metadata"]["name"], **labels}
    return {"apiVersion": f"{CAPI[0]}/{CAPI[1]}", "kind": "MachineSet",
            "metadata": _meta(cluster, name, {**labels, TOPOLOGY_OWNED: ""}, owners=[owner(deployment)]),
            "spec": {"clusterName": cluster["metadata"]["name"], "replicas": pool.replicas,
                     "selector": {"matchLabels": selector},
                     "template": {"metadata": {"labels": selector},
                                  "spec": _machine_spec(cluster, version, deployment["metadata"]["name"])}}}


def machine(cluster: dict, parent: dict, name: str, pool: Pool, version: str) -> dict:
    """A Machine of the control plane (``parent`` the KubeadmControlPlane) or of a MachineSet."""
    if pool.control_plane:
        labels = {CONTROL_PLANE_LABEL: "", CONTROL_PLANE_NAME_LABEL: parent["metadata"]["name"]}
    else:
        labels = {DEPLOYMENT_LABEL: pool.name, DEPLOYMENT_NAME_LABEL: parent["metadata"]["labels"][DEPLOYMENT_NAME_LABEL],
                  SET_NAME_LABEL: parent["metadata"]["name"], TEMPLATE_HASH_LABEL: digest(version)}
    namespace = cluster["metadata"]["namespace"]
    return {"apiVersion": f"{CAPI[0]}/{CAPI[1]}", "kind": "Machine",
            "metadata": _meta(cluster, name, labels, owners=[owner(parent)]),
            "spec": {"clusterName": cluster["metadata"]["name"], "version": version,
                     "bootstrap": {"configRef": ref(BOOTSTRAP, "KubeadmConfig", name, namespace)},
                     "infrastructureRef": ref(CAPV, "VSphereMachine", name, namespace)}}


def vsphere_machine(machine_obj: dict, pool: Pool) -> dict:
    labels = {key: value for key, value in machine_obj["metadata"]["labels"].items()}
    return {"apiVersion": f"{CAPV[0]}/{CAPV[1]}", "kind": "VSphereMachine",
            "metadata": {"name": machine_obj["metadata"]["name"], "namespace": machine_obj["metadata"]["namespace"],
                         "labels": labels, "ownerReferences": [owner(machine_obj)]},
            "spec": {"className": pool.vm_class, "imageName": NODE_IMAGE, "storageClass": pool.storage_class}}


def virtual_machine(vsphere_machine_obj: dict, cluster: str, pool: Pool) -> dict:
    """The VM Operator VirtualMachine CAPV makes of a VSphereMachine: labelled with its cluster and
    role, placed by the cluster's resource policy, in the anti-affinity group of its pool."""
    role = "controlplane" if pool.control_plane else "node"
    # (CAPV copies none of the Machine's labels: the control-plane label is not on the VM)
    labels = {CLUSTER_LABEL: cluster, CAPV_CLUSTER_LABEL: cluster, CAPV_ROLE_LABEL: role,
              LEGACY_CLUSTER_LABEL: cluster, LEGACY_ROLE_LABEL: role}
    if pool.control_plane:
        annotations = {MODULE_GROUP_ANNOTATION: CONTROL_PLANE_GROUP, TAG_ANNOTATION: "CtrlVmVmAATag"}
    else:
        annotations = {MODULE_GROUP_ANNOTATION: deployment_name(cluster, pool.name), TAG_ANNOTATION: "WorkerVmVmAATag"}
    spec = vsphere_machine_obj["spec"]
    return {"apiVersion": f"{VMOP[0]}/{VMOP[1]}", "kind": "VirtualMachine",
            "metadata": {"name": vsphere_machine_obj["metadata"]["name"],
                         "namespace": vsphere_machine_obj["metadata"]["namespace"],
                         "labels": labels, "annotations": annotations,
                         "ownerReferences": [owner(vsphere_machine_obj)]},
            "spec": {"className": spec["className"], "imageName": spec["imageName"],
                     "storageClass": spec["storageClass"], "powerState": "PoweredOn",
                     "reserved": {"resourcePolicyName": cluster}}}
