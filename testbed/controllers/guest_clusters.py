"""Cluster API / TKG: a guest cluster -> Machines -> VirtualMachines, then a real guest apiserver.

Both a TanzuKubernetesCluster (run.tanzu.vmware.com/v1alpha3) and a Cluster API Cluster with a
``topology`` are read into one shape: a version and pools of machines (the control plane and
each node pool / machine deployment). Every Machine owns one VirtualMachine, which the VM
Operator realises in vcsim. Machine names carry a digest of the version, so an upgrade makes new
Machines and removes the old ones once the new are running (a roll); scaling down removes the
highest ordinals. When the control plane runs, the cluster gets a real kube-apiserver and the
Secrets ``<cluster>-kubeconfig`` (key ``value``) and ``<cluster>-ssh``.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.controllers import kube
from testbed.controllers.conditions import record_event, set_condition
from testbed import build
from testbed.controllers.guest_apiservers import GuestApiservers, release_minor

log = logging.getLogger("testbed.controllers.guest_clusters")

KINDS = {
    "TanzuKubernetesCluster": ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters"),
    "Cluster": ("cluster.x-k8s.io", "v1beta1", "clusters"),
}
CAPI, CAPI_VERSION = "cluster.x-k8s.io", "v1beta1"
VMOP, VMOP_VERSION = "vmoperator.vmware.com", "v1alpha3"
FINALIZER = "testbed.pacific.supervisor/guest-cluster"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
POOL_LABEL = "testbed.pacific.supervisor/pool"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
NODE_IMAGE = "photon-5"
# the label Cluster API's topology controller puts on a MachineDeployment's Machines
DEPLOYMENT_LABEL = "topology.cluster.x-k8s.io/deployment-name"
TKR = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesreleases")
# the TanzuKubernetesReleases this Supervisor offers, one per guest apiserver binary:
# (Kubernetes patch version, TKR suffix); the TKR's name is its version with "+" written "---"
RELEASES = {"1.34": ("v1.34.4", "vmware.1-fips-vkr.2"), "1.35": ("v1.35.4", "vmware.1-fips-vkr.1")}


@dataclass(frozen=True)
class Pool:
    name: str
    control_plane: bool
    replicas: int
    vm_class: str
    storage_class: str


def shape(kind: str, obj: dict) -> tuple[str, list[Pool]]:
    """(version, pools) of a TanzuKubernetesCluster or a topology Cluster."""
    spec = obj.get("spec", {})
    if kind == "TanzuKubernetesCluster":
        topology = spec["topology"]
        plane = topology["controlPlane"]
        version = ((plane.get("tkr") or {}).get("reference") or {}).get("name") or "v1.35.4"
        pools = [Pool("control-plane", True, plane.get("replicas", 1), plane["vmClass"], plane["storageClass"])]
        pools += [Pool(p["name"], False, p.get("replicas", 0), p["vmClass"], p["storageClass"])
                  for p in topology.get("nodePools", [])]
        return version, pools
    topology = spec.get("topology") or {}
    variables = {v["name"]: v.get("value") for v in topology.get("variables", [])}
    vm_class = variables.get("vmClass") or "best-effort-small"
    storage = variables.get("storageClass") or "vsan-default-storage-policy"
    pools = [Pool("control-plane", True, (topology.get("controlPlane") or {}).get("replicas", 1), vm_class, storage)]
    pools += [Pool(md["name"], False, md.get("replicas", 0), vm_class, storage)
              for md in (topology.get("workers") or {}).get("machineDeployments", [])]
    return topology.get("version", ""), pools


def machine_names(cluster: str, version: str, pools: list[Pool]) -> dict[str, Pool]:
    digest = hashlib.sha256(version.encode()).hexdigest()[:5]
    return {f"{cluster}-{pool.name}-{digest}-{index}": pool for pool in pools for index in range(pool.replicas)}


def capi_conditions(conditions: list[dict]) -> list[dict]:
    """Cluster API conditions refuse empty strings where metav1 conditions require them."""
    return [{key: value for key, value in c.items() if value != ""} for c in conditions]


def ordinal(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


class GuestClusters:
    def __init__(self, api_client: client.ApiClient, apiservers: GuestApiservers):
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.apiservers = apiservers
        self.queue = kube.WorkQueue()

    def start(self, stop: threading.Event) -> None:
        self.seed_releases()
        kube.run_workers(self.queue, self.reconcile, count=2, name="guest-clusters")
        for kind, (group, version, plural) in KINDS.items():
            threading.Thread(target=kube.watch_forever, daemon=True, name=f"watch-{plural}", args=(
                self.custom.list_cluster_custom_object, lambda obj, kind=kind: self._enqueue(kind, obj), stop),
                kwargs={"group": group, "version": version, "plural": plural}).start()
        # a VM's progress moves its cluster along
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-node-vms", args=(
            self.custom.list_cluster_custom_object, self._vm_changed, stop),
            kwargs={"group": VMOP, "version": VMOP_VERSION, "plural": "virtualmachines",
                    "label_selector": CLUSTER_LABEL}).start()

    def seed_releases(self) -> None:
        """One Ready TanzuKubernetesRelease per release a guest apiserver binary exists for."""
        for minor in build.GUEST_APISERVERS:
            kubernetes, suffix = RELEASES[minor]
            version = f"{kubernetes}+{suffix}"
            name = version.replace("+", "---")
            body = {"apiVersion": f"{TKR[0]}/{TKR[1]}", "kind": "TanzuKubernetesRelease",
                    "metadata": {"name": name, "labels": {"os-name": "photon", "os-type": "linux"}},
                    "spec": {"version": version, "kubernetes": {"version": f"{kubernetes}+{suffix.split('-vkr')[0]}"},
                             "osImages": [{"name": f"ob-{minor}-photon-5"}]}}
            try:
                self.custom.create_cluster_custom_object(TKR[0], TKR[1], TKR[2], body)
            except ApiException as err:
                if err.status != 409:
                    raise
            conditions = set_condition(set_condition([], "Ready", True, "Ready"), "Compatible", True, "Compatible")
            self.custom.patch_cluster_custom_object_status(TKR[0], TKR[1], TKR[2], name,
                                                           {"status": {"conditions": capi_conditions(conditions)}})

    def _enqueue(self, kind: str, obj: dict) -> None:
        if kind == "Cluster" and not obj.get("spec", {}).get("topology"):
            return  # only topology Clusters are ours to realise
        self.queue.add((obj["metadata"]["namespace"], f"{kind}:{obj['metadata']['name']}"))

    def _vm_changed(self, vm: dict) -> None:
        labels = vm["metadata"].get("labels", {})
        self.queue.add((vm["metadata"]["namespace"], f"{labels['testbed.pacific.supervisor/cluster-kind']}:"
                        f"{labels[CLUSTER_LABEL]}"))

    # --- reconcile -------------------------------------------------------------------------
    def reconcile(self, key: kube.Key) -> None:
        namespace, qualified = key
        kind, name = qualified.split(":", 1)
        group, version, plural = KINDS[kind]
        obj = kube.unless_absent(self.custom.get_namespaced_custom_object, group, version, namespace, plural, name)
        if obj is None:
            self.apiservers.forget(f"{namespace}/{name}")
            return
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            self._delete(kind, obj)
            return
        if FINALIZER not in meta.get("finalizers", []):
            self.custom.patch_namespaced_custom_object(group, version, namespace, plural, name, {"metadata": {
                "finalizers": [*meta.get("finalizers", []), FINALIZER], "resourceVersion": meta["resourceVersion"]}})
            return

        release, pools = shape(kind, obj)
        wanted = machine_names(name, release, pools)
        machines = {m["metadata"]["name"]: m for m in self.custom.list_namespaced_custom_object(
            CAPI, CAPI_VERSION, namespace, "machines", label_selector=f"{CLUSTER_LABEL}={name}")["items"]}
        if release_minor(release) not in build.GUEST_APISERVERS:
            offered = ", ".join(f"v{minor}" for minor in build.GUEST_APISERVERS)
            self._write_status(kind, obj, pools, machines={}, running=set(), endpoint=None,
                               failure=f"Kubernetes release {release!r} is not offered by this Supervisor "
                                       f"(offered: {offered})")
            return

        for machine_name, pool in wanted.items():
            if machine_name not in machines:
                machines[machine_name] = self._create_machine(kind, obj, machine_name, pool, release)
            self._ensure_vm(machines[machine_name], pool)
        running = {n for n, m in machines.items() if self._machine_progress(m)}
        if set(wanted) <= running:
            for extra in sorted(set(machines) - set(wanted), key=ordinal, reverse=True):
                self.custom.delete_namespaced_custom_object(CAPI, CAPI_VERSION, namespace, "machines", extra)
                record_event(self.core, obj, "MachineDeleted", f"removed Machine {extra}", component="capi-controller")
                machines.pop(extra)
        plane_running = [n for n in running if n in wanted and wanted[n].control_plane]
        endpoint = None
        if plane_running:
            port = self.apiservers.ensure(f"{namespace}/{name}", release)
            endpoint = {"host": "127.0.0.1", "port": port}
            self._secrets(obj, port)
        self._write_status(kind, obj, pools, machines, running & set(wanted), endpoint, failure=None,
                           wanted=wanted, release=release)

    def _create_machine(self, kind: str, cluster: dict, name: str, pool: Pool, release: str) -> dict:
        namespace = cluster["metadata"]["namespace"]
        labels = {CLUSTER_LABEL: cluster["metadata"]["name"], POOL_LABEL: pool.name,
                  "testbed.pacific.supervisor/cluster-kind": kind}
        if pool.control_plane:
            labels[CONTROL_PLANE_LABEL] = ""
        else:
            labels[DEPLOYMENT_LABEL] = pool.name
        owner = {"apiVersion": cluster["apiVersion"], "kind": kind, "name": cluster["metadata"]["name"],
                 "uid": cluster["metadata"]["uid"], "controller": True, "blockOwnerDeletion": False}
        machine = self.custom.create_namespaced_custom_object(CAPI, CAPI_VERSION, namespace, "machines", {
            "apiVersion": f"{CAPI}/{CAPI_VERSION}", "kind": "Machine",
            "metadata": {"name": name, "labels": labels, "ownerReferences": [owner]},
            "spec": {"clusterName": cluster["metadata"]["name"], "version": release,
                     "bootstrap": {"dataSecretName": f"{name}-bootstrap"},
                     "infrastructureRef": {"apiVersion": f"{VMOP}/{VMOP_VERSION}", "kind": "VirtualMachine",
                                           "name": name, "namespace": namespace}},
        })
        record_event(self.core, cluster, "MachineCreated", f"created Machine {name}", component="capi-controller")
        return machine

    def _ensure_vm(self, machine: dict, pool: Pool) -> None:
        """Every Machine owns one VirtualMachine; a replaced Machine waits for its predecessor's VM to go."""
        namespace, name = machine["metadata"]["namespace"], machine["metadata"]["name"]
        if kube.unless_absent(self.custom.get_namespaced_custom_object, VMOP, VMOP_VERSION, namespace,
                              "virtualmachines", name) is not None:
            return
        self.custom.create_namespaced_custom_object(VMOP, VMOP_VERSION, namespace, "virtualmachines", {
            "apiVersion": f"{VMOP}/{VMOP_VERSION}", "kind": "VirtualMachine",
            "metadata": {"name": name, "labels": machine["metadata"]["labels"], "ownerReferences": [{
                "apiVersion": f"{CAPI}/{CAPI_VERSION}", "kind": "Machine", "name": name,
                "uid": machine["metadata"]["uid"], "controller": True, "blockOwnerDeletion": False}]},
            "spec": {"className": pool.vm_class, "imageName": NODE_IMAGE, "storageClass": pool.storage_class,
                     "powerState": "PoweredOn"},
        })

    def _machine_progress(self, machine: dict) -> bool:
        """Bring a Machine's status up to its VM's; True when it runs (powered on, with an IP)."""
        namespace, name = machine["metadata"]["namespace"], machine["metadata"]["name"]
        vm = kube.unless_absent(self.custom.get_namespaced_custom_object, VMOP, VMOP_VERSION, namespace,
                                "virtualmachines", name) or {}
        vm_status = vm.get("status", {})
        address = (vm_status.get("network") or {}).get("primaryIP4")
        running = vm_status.get("powerState") == "PoweredOn" and bool(address)
        failed = any(c["type"] in ("VirtualMachineClassReady", "VirtualMachineImageReady") and c["status"] == "False"
                     for c in vm_status.get("conditions", []))
        # a node whose VM stopped is a failed Machine: Cluster API leaves it for remediation
        # (delete the Machine and a new one replaces it), it does not power it back on
        lost = bool(vm_status.get("uniqueID")) and vm_status.get("powerState") != "PoweredOn"
        status = dict(machine.get("status", {}))
        reason = "Running" if running else ("VirtualMachineNotRunning" if lost else "WaitingForVirtualMachine")
        conditions = set_condition(status.get("conditions", []), "InfrastructureReady", running, reason,
                                   f"VM {vm_status.get('uniqueID')} is {vm_status.get('powerState')}" if lost else "")
        conditions = set_condition(conditions, "Ready", running, reason)
        status.update({
            "phase": "Running" if running else ("Failed" if failed or lost else "Provisioning"),
            "bootstrapReady": True, "infrastructureReady": running, "conditions": capi_conditions(conditions),
            "addresses": [{"type": "InternalIP", "address": address}] if address else [],
        })
        if running:
            status["nodeRef"] = {"apiVersion": "v1", "kind": "Node", "name": name}
        if status != machine.get("status"):
            self.custom.patch_namespaced_custom_object_status(CAPI, CAPI_VERSION, namespace, "machines", name,
                                                              {"status": status})
        return running

    def _secrets(self, cluster: dict, port: int) -> None:
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        owner = [{"apiVersion": cluster["apiVersion"], "kind": cluster["kind"], "name": name,
                  "uid": cluster["metadata"]["uid"]}]
        kubeconfig = self.apiservers.kubeconfig(name, port)
        wanted = {f"{name}-kubeconfig": {"value": kubeconfig}}
        if kube.unless_absent(self.core.read_namespaced_secret, f"{name}-ssh", namespace) is None:
            key = ed25519.Ed25519PrivateKey.generate()
            wanted[f"{name}-ssh"] = {
                "ssh-privatekey": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                    serialization.NoEncryption()).decode(),
                "ssh-publickey": key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                               serialization.PublicFormat.OpenSSH).decode(),
            }
        for secret_name, data in wanted.items():
            body = {"metadata": {"name": secret_name, "namespace": namespace, "ownerReferences": owner,
                                 "labels": {CLUSTER_LABEL: name}},
                    "type": "Opaque", "stringData": data}
            try:
                current = self.core.read_namespaced_secret(secret_name, namespace)
                if secret_name.endswith("-kubeconfig"):
                    if base64.b64decode((current.data or {}).get("value", "")).decode() != kubeconfig:
                        self.core.replace_namespaced_secret(secret_name, namespace, body)
            except ApiException as err:
                if err.status != 404:
                    raise
                self.core.create_namespaced_secret(namespace, body)

    def _write_status(self, kind: str, obj: dict, pools: list[Pool], machines: dict, running: set[str],
                      endpoint: dict | None, failure: str | None, wanted: dict | None = None,
                      release: str = "") -> None:
        group, version, plural = KINDS[kind]
        namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        wanted = wanted or {}
        plane = [n for n, p in wanted.items() if p.control_plane]
        workers = [n for n, p in wanted.items() if not p.control_plane]
        plane_ready = bool(plane) and set(plane) <= running
        workers_ready = set(workers) <= running
        ready = failure is None and plane_ready and workers_ready and set(machines) == set(wanted)
        status = dict(obj.get("status", {}))
        conditions = status.get("conditions", [])
        if failure:
            conditions = set_condition(conditions, "Ready", False, "TKRNotFound", failure)
        else:
            conditions = set_condition(conditions, "ControlPlaneReady", plane_ready,
                                       "Ready" if plane_ready else "WaitingForControlPlane",
                                       "" if plane_ready else f"{len(set(plane) & running)}/{len(plane)} running")
            conditions = set_condition(conditions, "InfrastructureReady", True, "Ready")
            conditions = set_condition(conditions, "Ready", ready, "Ready" if ready else "Provisioning",
                                       "" if ready else f"{len(running)}/{len(wanted)} machines running")
        for condition in conditions:
            if condition["status"] == "False":
                condition["severity"] = "Error" if failure else "Info"
            else:
                condition.pop("severity", None)
        status["conditions"] = capi_conditions(conditions)
        status["observedGeneration"] = obj["metadata"]["generation"]
        if kind == "TanzuKubernetesCluster":
            status.update({
                "phase": "failed" if failure else ("running" if ready else ("updating" if plane_ready else "creating")),
                "totalWorkerReplicas": sum(p.replicas for p in pools if not p.control_plane),
                "apiEndpoints": [endpoint] if endpoint else [],
            })
            if release and ready:
                status["version"] = release.split("---")[0]
        else:
            status.update({"phase": "Failed" if failure else ("Provisioned" if plane_ready else "Provisioning"),
                           "controlPlaneReady": plane_ready, "infrastructureReady": True})
            if endpoint and obj["spec"].get("controlPlaneEndpoint") != endpoint:
                self.custom.patch_namespaced_custom_object(group, version, namespace, plural, name,
                                                           {"spec": {"controlPlaneEndpoint": endpoint}})
        if status != obj.get("status"):
            self.custom.patch_namespaced_custom_object_status(group, version, namespace, plural, name,
                                                              {"status": status})

    def _delete(self, kind: str, obj: dict) -> None:
        group, version, plural = KINDS[kind]
        namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        machines = self.custom.list_namespaced_custom_object(
            CAPI, CAPI_VERSION, namespace, "machines", label_selector=f"{CLUSTER_LABEL}={name}")["items"]
        for machine in machines:
            kube.unless_absent(self.custom.delete_namespaced_custom_object, CAPI, CAPI_VERSION, namespace,
                               "machines", machine["metadata"]["name"])
        self.apiservers.forget(f"{namespace}/{name}")
        finalizers = [f for f in obj["metadata"].get("finalizers", []) if f != FINALIZER]
        self.custom.patch_namespaced_custom_object(group, version, namespace, plural, name,
                                                   {"metadata": {"finalizers": finalizers or None}})
