"""Cluster API / TKG: guest clusters become Machines, vcsim VMs and a real guest kube-apiserver."""
from __future__ import annotations

import base64
import json
import time

import pytest
import yaml
from kubernetes import client, config

from testbed.vcenter import vcsim_vms, vm_named
from tests.testbed.conftest import VM_CLASS, _absent, _until

pytestmark = pytest.mark.testbed

TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")
CAPI_CLUSTER = ("cluster.x-k8s.io", "v1beta1", "clusters")
MACHINES = ("cluster.x-k8s.io", "v1beta1", "machines")
VSPHERE_CLUSTERS = ("vmware.infrastructure.cluster.x-k8s.io", "v1beta1", "vsphereclusters")
VSPHERE_MACHINES = ("vmware.infrastructure.cluster.x-k8s.io", "v1beta1", "vspheremachines")
KUBEADM_CONFIGS = ("bootstrap.cluster.x-k8s.io", "v1beta1", "kubeadmconfigs")
KUBEADM_CONFIG_TEMPLATES = ("bootstrap.cluster.x-k8s.io", "v1beta1", "kubeadmconfigtemplates")


def tkc(name: str, workers: int, release: str = "v1.34.4---vmware.1-fips-vkr.2") -> dict:
    pool = {"name": "workers", "replicas": workers, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy"}
    return {"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster", "metadata": {"name": name},
            "spec": {"topology": {"controlPlane": {"replicas": 1, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy",
                                                   "tkr": {"reference": {"name": release}}},
                                  "nodePools": [pool]}}}


def _read(objects, namespace, kind, name):
    return objects.get_namespaced_custom_object(*kind[:2], namespace, kind[2], name)


def _ready(objects, namespace, kind, name, timeout=60):
    def probe():
        obj = _read(objects, namespace, kind, name)
        status = obj.get("status", {})
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
        return obj if ready and status.get("observedGeneration") == obj["metadata"]["generation"] else None

    return _until(probe, timeout, f"{kind[2]} {name} Ready")


def _machines(objects, namespace, cluster):
    return sorted(m["metadata"]["name"] for m in objects.list_namespaced_custom_object(
        *MACHINES[:2], namespace, MACHINES[2], label_selector=f"cluster.x-k8s.io/cluster-name={cluster}")["items"])


def _vcsim_vms(vcenter_si, cluster) -> set[str]:
    """The VMs in the guest cluster's own folder (CAPV's resource policy puts them there)."""
    return set(vcsim_vms(vcenter_si, cluster))


def _own_placement(vcenter_si, namespace, cluster) -> list[str]:
    """The guest cluster's own resource pool and folder in vCenter, those that are there."""
    from pyVmomi import vim, vmodl

    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ResourcePool, vim.Folder], True)
    found = []
    try:
        for entity in view.view:
            try:
                if entity.name == cluster and entity.parent.name == namespace:
                    found.append(f"{type(entity).__name__}:{entity.name}")
            except vmodl.fault.ManagedObjectNotFound:  # destroyed between the view and the read: gone
                continue
        return found
    finally:
        view.Destroy()


def _placement(vcenter_si, name) -> tuple[str, str]:
    """(folder path under the datacenter's VM folder, resource pool path) of the VM called ``name``."""
    vm = vm_named(vcenter_si, name)

    def path(entity, stop):
        parts = []
        while entity is not None and entity.name != stop:
            parts.insert(0, entity.name)
            entity = entity.parent
        return "/".join(parts)
    return path(vm.parent, "vm"), path(vm.resourcePool, "Resources")


def _guest(admin_client, namespace, cluster):
    secret = client.CoreV1Api(admin_client).read_namespaced_secret(f"{cluster}-kubeconfig", namespace)
    return config.new_client_from_config_dict(yaml.safe_load(base64.b64decode(secret.data["value"])))


def _vip(testbed, endpoint: dict) -> str:
    """The host of a guest cluster's endpoint, checked to be a VIP of this testbed's guest range on 6443."""
    host = endpoint["host"]
    supervisor = testbed.layout.supervisor_host
    assert endpoint["port"] == 6443 and host.rsplit(".", 1)[0] == supervisor.rsplit(".", 1)[0], endpoint
    assert 10 <= int(host.rsplit(".", 1)[1]) <= 254 and host != supervisor
    return host


def test_tkc_becomes_ready_and_its_kubeconfig_reaches_a_real_guest_apiserver(testbed, namespace, admin_client,
                                                                            vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(*TKC[:2], namespace, TKC[2], tkc("tkc-a", workers=2))
    started = time.monotonic()
    ready = _ready(objects, namespace, TKC, "tkc-a")
    print(f"tkc-a Ready in {time.monotonic() - started:.1f}s")
    status = ready["status"]
    assert status["phase"] == "running" and status["version"] == "v1.34.4"
    assert status["totalWorkerReplicas"] == 2
    machines = _machines(objects, namespace, "tkc-a")
    assert len(machines) == 3 and sum("control-plane" in m for m in machines) == 1
    assert set(machines) <= _vcsim_vms(vcenter_si, "tkc-a")
    assert _placement(vcenter_si, machines[0]) == (f"Namespaces/{namespace}/tkc-a", f"{namespace}/tkc-a")

    guest = _guest(admin_client, namespace, "tkc-a")
    version = client.VersionApi(guest).get_code()
    assert (version.major, version.minor) == ("1", "34")
    # reached at its control-plane VIP on 6443, as on vSphere, which the Cluster and the Secret both name
    vip = _vip(testbed, status["apiEndpoints"][0])
    assert f"https://{vip}:6443" == guest.configuration.host
    assert _read(objects, namespace, CAPI_CLUSTER, "tkc-a")["spec"]["controlPlaneEndpoint"] == {"host": vip, "port": 6443}
    client.CoreV1Api(guest).create_namespace({"metadata": {"name": "inside-the-guest"}})
    assert "inside-the-guest" not in {n.metadata.name for n in client.CoreV1Api(admin_client).list_namespace().items}
    ssh = client.CoreV1Api(admin_client).read_namespaced_secret("tkc-a-ssh", namespace)
    assert {"ssh-privatekey", "ssh-publickey"} <= set(ssh.data)


def test_the_tkc_is_realised_as_a_cluster_api_cluster_of_its_cluster_class(namespace, admin_client):
    """As on vSphere 8: TKC -> Cluster (class tanzukubernetescluster) -> KubeadmControlPlane and a
    MachineDeployment per node pool -> Machines -> VSphereMachines -> VirtualMachines."""
    objects = client.CustomObjectsApi(admin_client)
    cluster = _read(objects, namespace, CAPI_CLUSTER, "tkc-a")
    assert cluster["spec"]["topology"]["class"] == "tanzukubernetescluster"
    assert [(o["kind"], o["name"]) for o in cluster["metadata"]["ownerReferences"]] == [("TanzuKubernetesCluster", "tkc-a")]
    assert {c["type"]: c["status"] for c in cluster["status"]["conditions"]
            if c["type"] in ("Ready", "ControlPlaneReady", "InfrastructureReady")} == {
        "Ready": "True", "ControlPlaneReady": "True", "InfrastructureReady": "True"}
    plane_ref, infra_ref = cluster["spec"]["controlPlaneRef"], cluster["spec"]["infrastructureRef"]
    assert (plane_ref["kind"], infra_ref["kind"]) == ("KubeadmControlPlane", "VSphereCluster")
    plane = _read(objects, namespace, ("controlplane.cluster.x-k8s.io", "v1beta1", "kubeadmcontrolplanes"),
                  plane_ref["name"])
    assert plane["status"]["readyReplicas"] == 1 and plane["status"]["initialized"] is True
    assert _read(objects, namespace, VSPHERE_CLUSTERS, infra_ref["name"])["status"]["ready"] is True
    deployments = objects.list_namespaced_custom_object(
        "cluster.x-k8s.io", "v1beta1", namespace, "machinedeployments",
        label_selector="cluster.x-k8s.io/cluster-name=tkc-a")["items"]
    assert [(d["metadata"]["labels"]["topology.cluster.x-k8s.io/deployment-name"], d["status"]["readyReplicas"],
             d["status"]["phase"]) for d in deployments] == [("workers", 2, "Running")]
    for name in _machines(objects, namespace, "tkc-a"):
        machine = _read(objects, namespace, MACHINES, name)
        owner = machine["metadata"]["ownerReferences"][0]["kind"]
        assert owner == ("KubeadmControlPlane" if "control-plane" in name else "MachineSet")
        infra = _read(objects, namespace, VSPHERE_MACHINES, machine["spec"]["infrastructureRef"]["name"])
        assert infra["status"]["ready"] is True and infra["spec"]["providerID"] == machine["spec"]["providerID"]
        vm = _read(objects, namespace, ("vmoperator.vmware.com", "v1alpha3", "virtualmachines"), name)
        assert vm["metadata"]["ownerReferences"][0]["uid"] == infra["metadata"]["uid"]
        assert vm["spec"]["reserved"]["resourcePolicyName"] == "tkc-a"


def _listed(objects, namespace, kind, cluster):
    return sorted(o["metadata"]["name"] for o in objects.list_namespaced_custom_object(
        *kind[:2], namespace, kind[2], label_selector=f"cluster.x-k8s.io/cluster-name={cluster}")["items"])


def _bootstrap_secrets(admin_client, namespace, cluster):
    secrets = client.CoreV1Api(admin_client).list_namespaced_secret(
        namespace, label_selector=f"cluster.x-k8s.io/cluster-name={cluster}").items
    return sorted(s.metadata.name for s in secrets if s.type == "cluster.x-k8s.io/secret")


def _v1beta2(obj) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj["status"]["v1beta2"]["conditions"]}


def test_every_machine_is_bootstrapped_by_a_kubeadm_config_and_its_data_secret(namespace, admin_client):
    """As Cluster API's kubeadm bootstrap provider: the control plane's kubeadmConfigSpec, a
    KubeadmConfigTemplate per MachineDeployment, and per Machine a KubeadmConfig of its name, owned
    by it, Ready, whose data Secret the Machine names."""
    objects = client.CustomObjectsApi(admin_client)
    plane = _read(objects, namespace, ("controlplane.cluster.x-k8s.io", "v1beta1", "kubeadmcontrolplanes"),
                  "tkc-a-control-plane")
    assert {"clusterConfiguration", "initConfiguration", "joinConfiguration"} <= set(plane["spec"]["kubeadmConfigSpec"])
    deployment = _read(objects, namespace, ("cluster.x-k8s.io", "v1beta1", "machinedeployments"), "tkc-a-workers")
    template_ref = deployment["spec"]["template"]["spec"]["bootstrap"]["configRef"]
    assert (template_ref["kind"], template_ref["name"]) == ("KubeadmConfigTemplate", "tkc-a-workers")
    template = _read(objects, namespace, KUBEADM_CONFIG_TEMPLATES, "tkc-a-workers")
    assert "joinConfiguration" in template["spec"]["template"]["spec"]
    machines = _machines(objects, namespace, "tkc-a")
    assert _listed(objects, namespace, KUBEADM_CONFIGS, "tkc-a") == machines
    assert _bootstrap_secrets(admin_client, namespace, "tkc-a") == machines
    for name in machines:
        machine = _read(objects, namespace, MACHINES, name)
        bootstrap = machine["spec"]["bootstrap"]
        assert (bootstrap["configRef"]["kind"], bootstrap["configRef"]["name"], bootstrap["dataSecretName"]) == (
            "KubeadmConfig", name, name)
        config = _read(objects, namespace, KUBEADM_CONFIGS, name)
        assert [(o["kind"], o["uid"], o.get("controller")) for o in config["metadata"]["ownerReferences"]] == [
            ("Machine", machine["metadata"]["uid"], True)]
        assert config["status"]["ready"] is True and config["status"]["dataSecretName"] == name
        assert {c["type"]: c["status"] for c in config["status"]["conditions"]} == {
            "Ready": "True", "DataSecretAvailable": "True", "CertificatesAvailable": "True"}
        assert _v1beta2(config) == {"Ready": "True", "DataSecretAvailable": "True", "CertificatesAvailable": "True",
                                    "Paused": "False"}
        secret = client.CoreV1Api(admin_client).read_namespaced_secret(name, namespace)
        assert secret.type == "cluster.x-k8s.io/secret"
        assert [(o.kind, o.uid) for o in secret.metadata.owner_references] == [("KubeadmConfig",
                                                                                config["metadata"]["uid"])]
        data = base64.b64decode(secret.data["value"]).decode()
        assert base64.b64decode(secret.data["format"]).decode() == "cloud-config"
        assert data.startswith("## template: jinja\n#cloud-config") and "kubeadm " in data
        assert machine["status"]["bootstrapReady"] is True


def test_cluster_api_v1beta2_conditions_and_counters(namespace, admin_client):
    """Cluster API v1.10 writes metav1 conditions under status.v1beta2 next to the v1beta1 ones."""
    objects = client.CustomObjectsApi(admin_client)
    cluster = _read(objects, namespace, CAPI_CLUSTER, "tkc-a")
    conditions = _v1beta2(cluster)
    for kind in ("Available", "InfrastructureReady", "ControlPlaneInitialized", "ControlPlaneAvailable",
                 "WorkersAvailable", "ControlPlaneMachinesReady", "WorkerMachinesReady", "ControlPlaneMachinesUpToDate",
                 "WorkerMachinesUpToDate", "RemoteConnectionProbe", "TopologyReconciled"):
        assert conditions[kind] == "True", kind
    assert conditions["RollingOut"] == conditions["ScalingUp"] == conditions["Deleting"] == "False"
    assert cluster["status"]["v1beta2"]["controlPlane"] == {"desiredReplicas": 1, "replicas": 1, "readyReplicas": 1,
                                                            "availableReplicas": 1, "upToDateReplicas": 1}
    assert cluster["status"]["v1beta2"]["workers"]["readyReplicas"] == 2
    assert all(c["observedGeneration"] == cluster["metadata"]["generation"]
               for c in cluster["status"]["v1beta2"]["conditions"])
    plane = _read(objects, namespace, ("controlplane.cluster.x-k8s.io", "v1beta1", "kubeadmcontrolplanes"),
                  "tkc-a-control-plane")
    assert {k: v for k, v in _v1beta2(plane).items() if k in ("Available", "Initialized", "MachinesReady")} == {
        "Available": "True", "Initialized": "True", "MachinesReady": "True"}
    assert (plane["status"]["v1beta2"]["readyReplicas"], plane["status"]["v1beta2"]["upToDateReplicas"]) == (1, 1)
    deployment = _read(objects, namespace, ("cluster.x-k8s.io", "v1beta1", "machinedeployments"), "tkc-a-workers")
    assert _v1beta2(deployment)["Available"] == "True" and deployment["status"]["v1beta2"]["availableReplicas"] == 2
    machine_set = objects.list_namespaced_custom_object("cluster.x-k8s.io", "v1beta1", namespace, "machinesets",
                                                        label_selector="cluster.x-k8s.io/deployment-name=tkc-a-workers")
    assert [(_v1beta2(ms)["MachinesReady"], ms["status"]["v1beta2"]["upToDateReplicas"])
            for ms in machine_set["items"]] == [("True", 2)]
    for name in _machines(objects, namespace, "tkc-a"):
        machine = _v1beta2(_read(objects, namespace, MACHINES, name))
        assert {k: machine[k] for k in ("Available", "Ready", "UpToDate", "BootstrapConfigReady", "InfrastructureReady",
                                        "NodeReady", "NodeHealthy")} == dict.fromkeys(
            ("Available", "Ready", "UpToDate", "BootstrapConfigReady", "InfrastructureReady", "NodeReady",
             "NodeHealthy"), "True")
        assert ("EtcdMemberHealthy" in machine) == ("control-plane" in name)
        # CAPV's, on the VSphereMachine
        assert _v1beta2(_read(objects, namespace, VSPHERE_MACHINES, name)) == {
            "Ready": "True", "VirtualMachineProvisioned": "True", "Paused": "False"}


def test_scale_workers_2_3_1_is_reflected_in_machines_and_vcsim(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    for workers in (3, 1):
        objects.patch_namespaced_custom_object(*TKC[:2], namespace, TKC[2], "tkc-a", {"spec": {"topology": {
            "nodePools": [{"name": "workers", "replicas": workers, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy"}]}}})
        _ready(objects, namespace, TKC, "tkc-a")
        machines = _machines(objects, namespace, "tkc-a")
        workers_now = [m for m in machines if "-workers-" in m]
        assert len(workers_now) == workers
        assert workers_now[-1].endswith(f"-{workers - 1}")  # the highest ordinals went first
        labels = objects.get_namespaced_custom_object(*MACHINES[:2], namespace, MACHINES[2], workers_now[0])[
            "metadata"]["labels"]
        assert labels["topology.cluster.x-k8s.io/deployment-name"] == "workers"
        _until(lambda: set(machines) == _vcsim_vms(vcenter_si, "tkc-a"),
               30, f"vcsim VMs of tkc-a matching {workers} workers")
        _until(lambda: _listed(objects, namespace, KUBEADM_CONFIGS, "tkc-a") == machines, 30,
               f"a KubeadmConfig per Machine of {workers} workers")


def test_upgrade_rolls_every_machine(namespace, admin_client):
    objects = client.CustomObjectsApi(admin_client)
    before = _machines(objects, namespace, "tkc-a")
    objects.patch_namespaced_custom_object(*TKC[:2], namespace, TKC[2], "tkc-a", {"spec": {"topology": {
        "controlPlane": {"tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}}}}})
    ready = _ready(objects, namespace, TKC, "tkc-a")
    _until(lambda: not set(before) & set(_machines(objects, namespace, "tkc-a")), 30, "old Machines removed")
    assert ready["status"]["version"] == "v1.35.4"
    # the new control plane Machine joins the initialized cluster; no Machine of the old version is left bootstrapped
    plane = next(m for m in _machines(objects, namespace, "tkc-a") if "control-plane" in m)
    assert _read(objects, namespace, KUBEADM_CONFIGS, plane)["spec"]["joinConfiguration"]["controlPlane"] == {}
    _until(lambda: _listed(objects, namespace, KUBEADM_CONFIGS, "tkc-a") == _machines(objects, namespace, "tkc-a"), 30,
           "the old Machines' KubeadmConfigs removed")
    assert client.VersionApi(_guest(admin_client, namespace, "tkc-a")).get_code().minor == "35"


def test_the_offered_releases_are_listed_as_ready_tanzu_kubernetes_releases(admin_client):
    releases = client.CustomObjectsApi(admin_client).list_cluster_custom_object(
        "run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesreleases")["items"]
    offered = {r["metadata"]["name"]: r for r in releases}
    assert set(offered) == {"v1.34.4---vmware.1-fips-vkr.2", "v1.35.4---vmware.1-fips-vkr.1"}
    for name, release in offered.items():
        assert release["spec"]["version"] == name.replace("---", "+")
        assert {c["type"]: c["status"] for c in release["status"]["conditions"]} == {"Ready": "True",
                                                                                   "Compatible": "True"}


def test_unsupported_release_fails_clearly(namespace, admin_client):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(*TKC[:2], namespace, TKC[2], tkc("tkc-old", 1, "v1.19.7---vmware.1"))
    failed = _until(lambda: (lambda o: o if o.get("status", {}).get("phase") == "failed" else None)(
        _read(objects, namespace, TKC, "tkc-old")), 30, "tkc-old failed")
    ready = next(c for c in failed["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and "not offered" in ready["message"]
    assert _machines(objects, namespace, "tkc-old") == []
    objects.delete_namespaced_custom_object(*TKC[:2], namespace, TKC[2], "tkc-old")


def test_capi_topology_cluster_becomes_ready(testbed, namespace, admin_client):
    objects = client.CustomObjectsApi(admin_client)
    cluster = {"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "capi-a"},
               "spec": {"topology": {"class": "tanzukubernetescluster", "version": "v1.35.4---vmware.1-fips-vkr.1",
                                     "controlPlane": {"replicas": 1},
                                     "workers": {"machineDeployments": [{"class": "node-pool", "name": "md-0",
                                                                         "replicas": 1}]},
                                     "variables": [{"name": "vmClass", "value": VM_CLASS},
                                                   {"name": "storageClass", "value": "vsan-default-storage-policy"}]}}}
    objects.create_namespaced_custom_object(*CAPI_CLUSTER[:2], namespace, CAPI_CLUSTER[2], cluster)
    ready = _ready(objects, namespace, CAPI_CLUSTER, "capi-a")
    assert ready["status"]["phase"] == "Provisioned" and ready["status"]["controlPlaneReady"] is True
    _vip(testbed, ready["spec"]["controlPlaneEndpoint"])
    assert client.VersionApi(_guest(admin_client, namespace, "capi-a")).get_code().minor == "35"


@pytest.mark.parametrize(("kind", "name"), [(TKC, "tkc-a"), (CAPI_CLUSTER, "capi-a")])
def test_deleting_the_cluster_removes_machines_vms_and_apiserver(testbed, namespace, admin_client, vcenter_si,
                                                                kind, name):
    objects = client.CustomObjectsApi(admin_client)
    vip = _read(objects, namespace, kind, name)["status"].get("apiEndpoints", [{}])[0].get("host") \
        if kind is TKC else _read(objects, namespace, kind, name)["spec"]["controlPlaneEndpoint"]["host"]
    port = json.loads((testbed.layout.state / "guest-apiservers.json").read_text())[f"{namespace}/{name}"]
    objects.delete_namespaced_custom_object(*kind[:2], namespace, kind[2], name)
    _until(lambda: _absent(_read, objects, namespace, kind, name), 20, f"{name} deleted")
    _until(lambda: _machines(objects, namespace, name) == [], 30, "Machines removed")
    # the bootstrap objects go with them: KubeadmConfigs with their Machines, data Secrets with their configs
    _until(lambda: _listed(objects, namespace, KUBEADM_CONFIGS, name) == [], 30, "KubeadmConfigs removed")
    _until(lambda: _bootstrap_secrets(admin_client, namespace, name) == [], 30, "bootstrap data Secrets removed")
    _until(lambda: _listed(objects, namespace, KUBEADM_CONFIG_TEMPLATES, name) == [], 30,
           "KubeadmConfigTemplates removed")
    _until(lambda: not _vcsim_vms(vcenter_si, name), 30,
           "vcsim VMs removed")
    # as the VM Operator tidies after a resource policy: the cluster's own pool and folder go with its VMs
    _until(lambda: not _own_placement(vcenter_si, namespace, name), 30, f"{name}'s resource pool and folder removed")
    from testbed import processes

    _until(lambda: processes.port_is_free(port), 30, "guest apiserver stopped")
    _until(lambda: processes.port_is_free(6443, vip), 30, f"its VIP {vip}:6443 released")
    assert f"{namespace}/{name}" not in json.loads((testbed.layout.state / "guest-apiservers.json").read_text())


def test_guest_cluster_unhealthy_fault_and_machine_replacement(testbed, namespace, admin_client):
    from tests.testbed.test_faults import fault

    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(*TKC[:2], namespace, TKC[2], tkc("tkc-sick", workers=1))
    _ready(objects, namespace, TKC, "tkc-sick")
    assert "failed" in fault(testbed, "guest-cluster-unhealthy", "--namespace", namespace, "--name", "tkc-sick")
    machine = _until(lambda: next((m for m in objects.list_namespaced_custom_object(
        *MACHINES[:2], namespace, MACHINES[2], label_selector="cluster.x-k8s.io/cluster-name=tkc-sick")["items"]
        if m.get("status", {}).get("phase") == "Failed"), None), 30, "a Failed Machine")
    _until(lambda: [c["status"] for c in _read(objects, namespace, TKC, "tkc-sick")["status"]["conditions"]
                    if c["type"] == "Ready"] == ["False"], 30, "tkc-sick not Ready")
    # the remediation a rulebook would run: delete the failed Machine, a new one replaces it
    objects.delete_namespaced_custom_object(*MACHINES[:2], namespace, MACHINES[2], machine["metadata"]["name"])
    _ready(objects, namespace, TKC, "tkc-sick")
    replaced = _read(objects, namespace, MACHINES, machine["metadata"]["name"])
    assert replaced["metadata"]["uid"] != machine["metadata"]["uid"] and replaced["status"]["phase"] == "Running"
    objects.delete_namespaced_custom_object(*TKC[:2], namespace, TKC[2], "tkc-sick")
    _until(lambda: _absent(_read, objects, namespace, TKC, "tkc-sick"), 20, "tkc-sick deleted")


def _guest_bindings(admin, guest_url, bearer) -> dict[str, list[tuple[str, str]]]:
    """The guest's auth-sync ClusterRoleBindings (name -> subjects), read with a cluster admin's token."""
    answer = admin.http.get(f"{guest_url}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", headers=bearer)
    answer.raise_for_status()
    return {b["metadata"]["name"]: [(s["kind"], s["name"]) for s in b["subjects"]] for b in answer.json()["items"]
            if b["metadata"]["name"].startswith("vmware-system-auth-sync-wcp:") and b["roleRef"]["name"] == "cluster-admin"}


def test_wcp_login_to_a_guest_cluster(testbed, namespace, admin_client):
    """As vSphere does (VMware's "Configure vSphere Namespace permissions for TKG", Broadcom KB 424897):
    any role in the namespace logs in to its guest clusters; OWNER and EDIT subjects are cluster-admin
    there through one ``vmware-system-auth-sync-wcp:...`` ClusterRoleBinding each, VIEW gets 403."""
    from tests.testbed.conftest import Vcenter

    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(*TKC[:2], namespace, TKC[2], tkc("tkc-login", workers=0))
    _ready(objects, namespace, TKC, "tkc-login")
    creds = testbed.credentials
    admin = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    login = testbed.layout.supervisor_login_url  # on the Supervisor's address; vCenter has no /wcp/login
    assert admin.http.post(testbed.layout.vcenter_url + "/wcp/login", auth=(creds.developer_user,
                                                                            creds.developer_password)).status_code == 404
    body = {"guest_cluster_name": "tkc-login", "guest_cluster_namespace": namespace}
    developer, viewer = (creds.developer_user, creds.developer_password), (creds.viewer_user, creds.viewer_password)

    for refused in (admin.http.post(login, auth=developer, json=body),
                    admin.http.post(login, auth=(creds.outsider_user, creds.outsider_password), json=body)):
        assert refused.status_code == 403 and "no access" in refused.text
    access = [{"role": "EDIT", "subject_type": "USER", "subject": "devops", "domain": "vsphere.local"},
              {"role": "VIEW", "subject_type": "USER", "subject": "viewer", "domain": "vsphere.local"}]
    path = f"/api/vcenter/namespaces/instances/{namespace}"
    assert admin.call("PATCH", path, json={"access_list": access}).status_code == 204
    try:
        answer = admin.http.post(login, auth=developer, json=body)
        assert answer.status_code == 200, answer.text
        granted = answer.json()
        guest_url = f"https://{granted['guest_cluster_server']}"
        endpoint = _read(objects, namespace, CAPI_CLUSTER, "tkc-login")["spec"]["controlPlaneEndpoint"]
        assert granted["guest_cluster_server"] == f"{_vip(testbed, endpoint)}:6443"  # its VIP, as the Cluster says
        assert base64.b64decode(granted["guest_cluster_ca"]).decode() == testbed.pki.ca_cert.read_text()
        bearer = {"Authorization": f"Bearer {granted['session_id']}"}
        # the EDIT user's token opens this guest cluster as a cluster admin, and nothing else
        _until(lambda: admin.http.get(f"{guest_url}/api/v1/namespaces", headers=bearer).status_code == 200, 30,
               "guest access with the WCP token")
        made = admin.http.post(f"{guest_url}/api/v1/namespaces/default/configmaps", headers=bearer,
                               json={"metadata": {"name": "by-devops"}})
        assert made.status_code == 201, made.text
        assert admin.http.get(f"{testbed.layout.apiserver_url}/api/v1/namespaces", headers=bearer).status_code == 401
        sync = f"vmware-system-auth-sync-wcp:{namespace}"
        assert _guest_bindings(admin, guest_url, bearer) == {
            f"{sync}:group:vsphere.local:administrators": [("Group", "sso:Administrators@vsphere.local")],
            f"{sync}:user:vsphere.local:devops": [("User", f"sso:{creds.developer_user}")]}
        missing = admin.http.post(login, auth=developer, json={**body, "guest_cluster_name": "no-such-cluster"})
        assert missing.status_code == 404

        # the VIEW user logs in, is authenticated by the guest, and may neither read nor write there
        seen = admin.http.post(login, auth=viewer, json=body)
        assert seen.status_code == 200, seen.text
        viewing = {"Authorization": f"Bearer {seen.json()['session_id']}"}
        for method, url, extra in (("GET", "/api/v1/namespaces/default/pods", {}),
                                   ("GET", "/api/v1/namespaces", {}),
                                   ("POST", "/api/v1/namespaces/default/configmaps",
                                    {"json": {"metadata": {"name": "by-viewer"}}})):
            answer = admin.http.request(method, guest_url + url, headers=viewing, **extra)
            assert answer.status_code == 403, (method, url, answer.text)
            assert f'User "sso:{creds.viewer_user}" cannot' in answer.json()["message"]

        # vCenter's administrator is cluster-admin through the administrators group
        root = admin.http.post(login, auth=(creds.vcenter_user, creds.vcenter_password), json=body)
        assert root.status_code == 200, root.text
        rooted = {"Authorization": f"Bearer {root.json()['session_id']}"}
        assert admin.http.get(f"{guest_url}/api/v1/namespaces", headers=rooted).status_code == 200

        # the EDIT entry removed: its binding goes, and with it the developer's access, within seconds
        assert admin.call("PATCH", path, json={"access_list": access[1:]}).status_code == 204
        _until(lambda: admin.http.get(f"{guest_url}/api/v1/namespaces", headers=bearer).status_code == 403, 15,
               "the developer's guest access revoked")
        assert list(_guest_bindings(admin, guest_url, rooted)) == [f"{sync}:group:vsphere.local:administrators"]
        assert admin.http.post(login, auth=developer, json=body).status_code == 403
        # the viewer's entry made EDIT: cluster-admin there too
        assert admin.call("PATCH", path, json={"access_list": [dict(access[1], role="EDIT")]}).status_code == 204
        _until(lambda: admin.http.get(f"{guest_url}/api/v1/namespaces", headers=viewing).status_code == 200, 15,
               "the viewer made an editor in the guest")
    finally:
        admin.call("PATCH", path, json={"access_list": []})
        objects.delete_namespaced_custom_object(*TKC[:2], namespace, TKC[2], "tkc-login")
    _until(lambda: _absent(_read, objects, namespace, TKC, "tkc-login"), 20, "tkc-login deleted")
