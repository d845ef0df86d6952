"""TKG and Cluster API: a TanzuKubernetesCluster -> a topology Cluster -> its nodes -> a real guest apiserver.

As on vSphere 8, a TanzuKubernetesCluster (run.tanzu.vmware.com/v1alpha3) is realised as a Cluster
API Cluster of the ``tanzukubernetescluster`` ClusterClass, owned by the TKC, whose status the
TKC reports. A topology Cluster (made so, or directly by a user) is realised as Cluster API's
topology controller, the kubeadm control plane provider and CAPV in supervisor mode would:
a VSphereCluster with a VirtualMachineSetResourcePolicy (the cluster's own resource pool and
folder in vCenter), a KubeadmControlPlane, a MachineDeployment -> MachineSet per node pool,
Machines, and for each Machine a KubeadmConfig with its bootstrap data Secret (the kubeadm
bootstrap provider, ``kubeadm_bootstrap``), a VSphereMachine and, once the bootstrap data is there,
a VM Operator VirtualMachine, which the VM Operator realises in vcsim (see ``capi_objects`` for
names and labels). Each object reports Cluster API v1.10's v1beta1 conditions and, under
``status.v1beta2``, its v1beta2 conditions and replica counters (``capi_conditions``).

Machine names carry a digest of the version, so an upgrade makes new Machines (a new MachineSet)
and removes the old ones once the new are running (a roll); scaling down removes the highest
ordinals. When the control plane runs, the cluster gets a real kube-apiserver and the Secrets
``<cluster>-kubeconfig`` (key ``value``) and ``<cluster>-ssh``.
"""
from __future__ import annotations

import base64
import logging
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed import build
from testbed.controllers import capi_conditions as capi_v1beta2
from testbed.controllers import capi_objects as objects
from testbed.controllers import kube
from testbed.controllers.capi_conditions import Replicas
from testbed.controllers.capi_objects import BOOTSTRAP, CAPI, CAPV, CLUSTER_LABEL, KCP, TKC, VMOP, Pool
from testbed.controllers.conditions import record_event, set_condition
from testbed.controllers.guest_apiservers import GuestApiservers, release_minor
from testbed.controllers.kubeadm_bootstrap import Bootstrap, KubeadmBootstrap

log = logging.getLogger("testbed.controllers.guest_clusters")

FINALIZER = "testbed.pacific.supervisor/guest-cluster"
CLUSTER_FINALIZER = "cluster.cluster.x-k8s.io"
TKR = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesreleases")
# the TanzuKubernetesReleases this Supervisor offers, one per guest apiserver binary:
# (Kubernetes patch version, TKR suffix); the TKR's name is its version with "+" written "---"
RELEASES = {"1.34": ("v1.34.4", "vmware.1-fips-vkr.2"), "1.35": ("v1.35.4", "vmware.1-fips-vkr.1")}
COMPONENT = "capi-controller"


def capi_conditions(conditions: list[dict]) -> list[dict]:
    """Cluster API conditions refuse empty strings where metav1 conditions require them."""
    return [{key: value for key, value in c.items() if value != ""} for c in conditions]


def with_severity(conditions: list[dict], error: bool = False) -> list[dict]:
    """Cluster API's v1beta1 conditions: a False one says how bad it is, a True one does not."""
    result = []
    for condition in conditions:
        condition = dict(condition)
        if condition["status"] == "False":
            condition["severity"] = "Error" if error else "Info"
        else:
            condition.pop("severity", None)
        result.append(condition)
    return capi_conditions(result)


def conditions_of(obj: dict, wanted: dict[str, tuple[bool, str, str]], error: bool = False) -> list[dict]:
    """``obj``'s conditions with each of ``wanted`` (type -> (status, reason, message)) set."""
    conditions = (obj.get("status") or {}).get("conditions", [])
    for kind, (status, reason, message) in wanted.items():
        conditions = set_condition(conditions, kind, status, reason, message)
    return with_severity(conditions, error)


def ordinal(name: str) -> int:
    return objects.ordinal(name)


class GuestClusters:
    def __init__(self, api_client: client.ApiClient, apiservers: GuestApiservers):
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.apiservers = apiservers
        self.bootstrap = KubeadmBootstrap(self.custom, self.core)
        self.queue = kube.WorkQueue()

    def start(self, stop: threading.Event) -> None:
        self.seed_releases()
        kube.run_workers(self.queue, self.reconcile, count=2, name="guest-clusters")
        watches = {
            "tanzukubernetesclusters": (TKC[:2], {}, lambda obj: self._enqueue("TanzuKubernetesCluster", obj)),
            "clusters": (CAPI, {}, self._cluster_changed),
            # a node's progress moves its cluster along
            "machines": (CAPI, {"label_selector": CLUSTER_LABEL}, self._node_changed),
            "virtualmachines": (VMOP, {"label_selector": CLUSTER_LABEL}, self._node_changed),
        }
        for plural, ((group, version), selector, handler) in watches.items():
            threading.Thread(target=kube.watch_forever, daemon=True, name=f"watch-{plural}", args=(
                self.custom.list_cluster_custom_object, handler, stop),
                kwargs={"group": group, "version": version, "plural": plural, **selector}).start()

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
        self.queue.add((obj["metadata"]["namespace"], f"{kind}:{obj['metadata']['name']}"))

    def _cluster_changed(self, cluster: dict) -> None:
        if cluster.get("spec", {}).get("topology"):  # only topology Clusters are ours to realise
            self._enqueue("Cluster", cluster)
        for ref in cluster["metadata"].get("ownerReferences", []):
            if ref.get("kind") == "TanzuKubernetesCluster":
                self.queue.add((cluster["metadata"]["namespace"], f"TanzuKubernetesCluster:{ref['name']}"))

    def _node_changed(self, obj: dict) -> None:
        self.queue.add((obj["metadata"]["namespace"], f"Cluster:{obj['metadata']['labels'][CLUSTER_LABEL]}"))

    def _later(self, key: kube.Key, seconds: float = 1.0) -> None:
        threading.Timer(seconds, self.queue.add, args=(key,)).start()

    # --- small API helpers -------------------------------------------------------------------
    def _get(self, api: tuple, plural: str, namespace: str, name: str) -> dict | None:
        return kube.unless_absent(self.custom.get_namespaced_custom_object, api[0], api[1], namespace, plural, name)

    def _list(self, api: tuple, plural: str, namespace: str, cluster: str) -> dict[str, dict]:
        items = self.custom.list_namespaced_custom_object(api[0], api[1], namespace, plural,
                                                          label_selector=f"{CLUSTER_LABEL}={cluster}")["items"]
        return {item["metadata"]["name"]: item for item in items}

    def _create(self, api: tuple, plural: str, body: dict) -> dict:
        try:
            return self.custom.create_namespaced_custom_object(api[0], api[1], body["metadata"]["namespace"], plural,
                                                               body)
        except ApiException as err:
            if err.status != 409:
                raise
            return self.custom.get_namespaced_custom_object(api[0], api[1], body["metadata"]["namespace"], plural,
                                                            body["metadata"]["name"])

    def _ensure(self, api: tuple, plural: str, body: dict, current: dict | None = None) -> dict:
        """Create ``body``, or bring the spec of the one there up to it (a merge patch of what differs)."""
        if current is None:
            current = self._get(api, plural, body["metadata"]["namespace"], body["metadata"]["name"])
        if current is None:
            return self._create(api, plural, body)
        changed = {key: value for key, value in body.get("spec", {}).items()
                   if not _contains(current.get("spec", {}).get(key), value)}
        if not changed:
            return current
        return self.custom.patch_namespaced_custom_object(api[0], api[1], body["metadata"]["namespace"], plural,
                                                          body["metadata"]["name"], {"spec": changed})

    def _status(self, api: tuple, plural: str, obj: dict, status: dict) -> None:
        """Write ``status`` (keys merged over the current status) unless nothing changes."""
        merged = {key: value for key, value in {**(obj.get("status") or {}), **status}.items() if value is not None}
        if merged != (obj.get("status") or {}):  # (gone meanwhile: nothing to report on)
            kube.unless_absent(self.custom.patch_namespaced_custom_object_status, api[0], api[1],
                               obj["metadata"]["namespace"], plural, obj["metadata"]["name"], {"status": status})

    def _finalized(self, api: tuple, plural: str, obj: dict, finalizer: str) -> bool:
        """True when ``obj`` carries ``finalizer``; else add it (the change brings it back)."""
        meta = obj["metadata"]
        if finalizer in meta.get("finalizers", []):
            return True
        self.custom.patch_namespaced_custom_object(api[0], api[1], meta["namespace"], plural, meta["name"], {
            "metadata": {"finalizers": [*meta.get("finalizers", []), finalizer],
                         "resourceVersion": meta["resourceVersion"]}})
        return False

    def _release_finalizer(self, api: tuple, plural: str, obj: dict, finalizer: str) -> None:
        meta = obj["metadata"]
        finalizers = [f for f in meta.get("finalizers", []) if f != finalizer]
        self.custom.patch_namespaced_custom_object(api[0], api[1], meta["namespace"], plural, meta["name"],
                                                   {"metadata": {"finalizers": finalizers or None}})

    # --- reconcile -------------------------------------------------------------------------
    def reconcile(self, key: kube.Key) -> None:
        namespace, qualified = key
        kind, name = qualified.split(":", 1)
        if kind == "TanzuKubernetesCluster":
            self._reconcile_tkc(namespace, name)
        else:
            self._reconcile_cluster(key, namespace, name)

    # a TanzuKubernetesCluster: its Cluster, and the Cluster's state as its own
    def _reconcile_tkc(self, namespace: str, name: str) -> None:
        tkc = self._get(TKC[:2], TKC[2], namespace, name)
        if tkc is None:
            return
        if tkc["metadata"].get("deletionTimestamp"):
            kube.unless_absent(self.custom.delete_namespaced_custom_object, *CAPI, namespace, "clusters", name)
            self._release_finalizer(TKC[:2], TKC[2], tkc, FINALIZER)
            return
        if not self._finalized(TKC[:2], TKC[2], tkc, FINALIZER):
            return
        release, pools = objects.tkc_pools(tkc)
        tkr = kube.unless_absent(self.custom.get_cluster_custom_object, TKR[0], TKR[1], TKR[2], release)
        if tkr is None or release_minor(release) not in build.GUEST_APISERVERS:
            offered = ", ".join(f"v{minor}" for minor in build.GUEST_APISERVERS)
            self._tkc_status(tkc, pools, None, failure=f"Kubernetes release {release!r} is not offered by this "
                                                       f"Supervisor (offered: {offered})")
            return
        wanted = objects.cluster_of_tkc(tkc, objects.kubernetes_version(tkr), release)
        current = self._get(CAPI, "clusters", namespace, name)
        if current is None:
            current = self._create(CAPI, "clusters", wanted)
            record_event(self.core, tkc, "ClusterCreated", f"created Cluster {name} of class "
                         f"{objects.CLUSTER_CLASS}", component="vmware-system-tkg")
        elif not _contains(current["spec"].get("topology"), wanted["spec"]["topology"]) \
                or current["metadata"].get("labels", {}).get(objects.TKR_LABEL) != release:
            current = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "clusters", name, {
                "metadata": {"labels": wanted["metadata"]["labels"]}, "spec": {"topology": wanted["spec"]["topology"]}})
        self._tkc_status(tkc, pools, current, failure=None, release=release)

    def _tkc_status(self, tkc: dict, pools: list[Pool], cluster: dict | None, failure: str | None,
                    release: str = "") -> None:
        status = dict(tkc.get("status", {}))
        if failure:
            conditions = conditions_of(tkc, {"Ready": (False, "TKRNotFound", failure)}, error=True)
            ready = plane_ready = False
        else:
            current = (cluster or {}).get("status", {})
            observed = current.get("observedGeneration") == (cluster or {}).get("metadata", {}).get("generation")
            by_type = {c["type"]: c for c in current.get("conditions", [])}
            ready = observed and by_type.get("Ready", {}).get("status") == "True"
            plane_ready = observed and by_type.get("ControlPlaneReady", {}).get("status") == "True"
            wanted = {}
            for kind in ("ControlPlaneReady", "InfrastructureReady", "Ready"):
                found = by_type.get(kind)
                if found and (observed or kind == "InfrastructureReady"):
                    wanted[kind] = (found["status"] == "True", found.get("reason") or kind, found.get("message", ""))
                else:
                    wanted[kind] = (False, "WaitingForCluster",
                                    f"Cluster {tkc['metadata']['name']} has not yet reported {kind} for this spec")
            conditions = conditions_of(tkc, wanted, error=any(c.get("severity") == "Error"
                                                              for c in current.get("conditions", [])))
        endpoint = ((cluster or {}).get("spec") or {}).get("controlPlaneEndpoint") or {}
        status.update({
            "conditions": conditions, "observedGeneration": tkc["metadata"]["generation"],
            "phase": "failed" if failure else ("running" if ready else ("updating" if plane_ready else "creating")),
            "totalWorkerReplicas": sum(p.replicas for p in pools if not p.control_plane),
            "apiEndpoints": [{"host": endpoint["host"], "port": endpoint["port"]}] if endpoint.get("host") else [],
        })
        if release and ready:
            status["version"] = release.split("---")[0]
        if status != tkc.get("status"):
            self.custom.patch_namespaced_custom_object_status(*TKC[:2], tkc["metadata"]["namespace"], TKC[2],
                                                              tkc["metadata"]["name"], {"status": status})

    # a topology Cluster: what the topology controller, KCP and CAPV make of it
    def _reconcile_cluster(self, key: kube.Key, namespace: str, name: str) -> None:
        cluster = self._get(CAPI, "clusters", namespace, name)
        if cluster is None:
            self.apiservers.forget(f"{namespace}/{name}")
            return
        if not cluster.get("spec", {}).get("topology"):
            return
        if cluster["metadata"].get("deletionTimestamp"):
            self._delete_cluster(cluster)
            return
        if not self._finalized(CAPI, "clusters", cluster, CLUSTER_FINALIZER):
            return

        version, pools = objects.cluster_pools(cluster)
        if release_minor(version) not in build.GUEST_APISERVERS:
            offered = ", ".join(f"v{minor}" for minor in build.GUEST_APISERVERS)
            self._cluster_status(cluster, failure=f"Kubernetes release {version!r} is not offered by this "
                                                  f"Supervisor (offered: {offered})")
            return

        infra = self._infrastructure(cluster, pools)
        plane_pool = pools[0]
        cp_name = objects.control_plane_name(name)
        self._ensure(CAPV, "vspheremachinetemplates", objects.machine_template(cluster, cp_name, plane_pool))
        plane = self._ensure(KCP[:2], KCP[2], objects.control_plane(cluster, version, plane_pool))
        refs = {"infrastructureRef": objects.ref(CAPV, "VSphereCluster", name, namespace),
                "controlPlaneRef": objects.ref(KCP, "KubeadmControlPlane", cp_name, namespace)}
        if any(cluster["spec"].get(field) != value for field, value in refs.items()):
            cluster = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "clusters", name, {"spec": refs})

        deployments, sets, bootstrap_templates = {}, self._list(CAPI, "machinesets", namespace, name), {}
        for pool in pools[1:]:
            md_name = objects.deployment_name(name, pool.name)
            self._ensure(CAPV, "vspheremachinetemplates", objects.machine_template(cluster, md_name, pool))
            bootstrap_templates[pool.name] = self._ensure(BOOTSTRAP, "kubeadmconfigtemplates",
                                                          objects.kubeadm_config_template(cluster, md_name))
            deployments[pool.name] = self._ensure(CAPI, "machinedeployments",
                                                  objects.machine_deployment(cluster, version, pool))
            ms_body = objects.machine_set(cluster, deployments[pool.name], version, pool)
            sets[ms_body["metadata"]["name"]] = self._ensure(CAPI, "machinesets", ms_body,
                                                             sets.get(ms_body["metadata"]["name"]))

        wanted = objects.machine_names(name, version, pools)
        machines = self._list(CAPI, "machines", namespace, name)
        vsphere_machines = self._list(CAPV, "vspheremachines", namespace, name)
        vms = self._list(VMOP, "virtualmachines", namespace, name)
        waiting = False
        initialized = _is_true(cluster, "ControlPlaneInitialized")
        bootstrap: dict[str, Bootstrap] = {}
        for machine_name, pool in wanted.items():
            if machine_name not in machines:
                parent = plane if pool.control_plane else sets[objects.set_name(name, pool.name, version)]
                machines[machine_name] = self._create(CAPI, "machines",
                                                      objects.machine(cluster, parent, machine_name, pool, version))
                record_event(self.core, cluster, "MachineCreated", f"created Machine {machine_name}",
                             component=COMPONENT)
            template = bootstrap_templates.get(pool.name, {}).get("spec", {}).get("template", {}).get("spec")
            machines[machine_name], bootstrap[machine_name] = self.bootstrap.ensure(
                cluster, machines[machine_name], plane["spec"].get("kubeadmConfigSpec") if pool.control_plane else None,
                template, initialized)
            waiting |= not self._ensure_node(machines[machine_name], pool, name, vsphere_machines, vms,
                                             bootstrap[machine_name].ready)
        running = {n for n, m in machines.items()
                   if self._machine_progress(m, vsphere_machines.get(n), vms.get(n), bootstrap.get(n), n in wanted)}
        if set(wanted) <= running:
            for extra in sorted(set(machines) - set(wanted), key=ordinal, reverse=True):
                kube.unless_absent(self.custom.delete_namespaced_custom_object, *CAPI, namespace, "machines", extra)
                record_event(self.core, cluster, "MachineDeleted", f"removed Machine {extra}", component=COMPONENT)
                machines.pop(extra)
        self._retire_sets(name, namespace, sets, machines, version, pools)

        endpoint = None
        if any(n in running and wanted[n].control_plane for n in wanted):
            port = self.apiservers.ensure(f"{namespace}/{name}", version)
            endpoint = self.apiservers.endpoint(port)  # its control-plane VIP, port 6443
            self._secrets(cluster, port)
            if cluster["spec"].get("controlPlaneEndpoint") != endpoint:
                cluster = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "clusters", name,
                                                                     {"spec": {"controlPlaneEndpoint": endpoint}})
            if infra["spec"].get("controlPlaneEndpoint") != endpoint:
                infra = self.custom.patch_namespaced_custom_object(*CAPV, namespace, "vsphereclusters", name,
                                                                   {"spec": {"controlPlaneEndpoint": endpoint}})
        self._plane_status(plane, version, wanted, machines, running)
        for pool in pools[1:]:
            self._deployment_status(deployments[pool.name], pool, version, machines, running, sets)
        self._cluster_status(cluster, wanted=wanted, machines=machines, running=running & set(wanted),
                             endpoint=endpoint, all_running=running)
        if waiting:
            self._later(key)

    def _infrastructure(self, cluster: dict, pools: list[Pool]) -> dict:
        """The VSphereCluster and its resource policy (CAPV), Ready once the policy is there."""
        infra = self._ensure(CAPV, "vsphereclusters", objects.vsphere_cluster(cluster))
        name = cluster["metadata"]["name"]
        self._ensure(VMOP, "virtualmachinesetresourcepolicies", objects.resource_policy(cluster, infra, pools))
        conditions = conditions_of(infra, {"ResourcePolicyReady": (True, "Ready", ""), "Ready": (True, "Ready", "")})
        self._status(CAPV, "vsphereclusters", infra, {"ready": True, "resourcePolicyName": name,
                                                       "conditions": conditions})
        return infra

    def _ensure_node(self, machine: dict, pool: Pool, cluster: str, vsphere_machines: dict, vms: dict,
                     bootstrapped: bool = True) -> bool:
        """The Machine's VSphereMachine and VirtualMachine; False while a replaced Machine's are still
        going (they belong to its predecessor of the same name), or while the Machine waits for its
        bootstrap data (CAPV makes no VM before it)."""
        name = machine["metadata"]["name"]
        current = vsphere_machines.get(name)
        if current is None:
            current = vsphere_machines[name] = self._create(CAPV, "vspheremachines",
                                                            objects.vsphere_machine(machine, pool))
        if not objects.owned_by(current, machine):
            return False
        vm = vms.get(name)
        if vm is None:
            if not bootstrapped:
                return False
            vms[name] = self._create(VMOP, "virtualmachines", objects.virtual_machine(current, cluster, pool))
            return True
        return objects.owned_by(vm, current)

    def _machine_progress(self, machine: dict, vsphere_machine: dict | None, vm: dict | None,
                          bootstrap: Bootstrap | None = None, up_to_date: bool = True) -> bool:
        """Bring a Machine's and its VSphereMachine's status up to their VM's and its bootstrap's;
        True when it runs (powered on, with an IP)."""
        namespace, name = machine["metadata"]["namespace"], machine["metadata"]["name"]
        if vsphere_machine is not None and not objects.owned_by(vsphere_machine, machine):
            vsphere_machine = None
        if vm is not None and (vsphere_machine is None or not objects.owned_by(vm, vsphere_machine)):
            vm = None
        vm_status = (vm or {}).get("status", {})
        address = (vm_status.get("network") or {}).get("primaryIP4")
        running = vm_status.get("powerState") == "PoweredOn" and bool(address)
        failed = any(c["type"] in ("VirtualMachineClassReady", "VirtualMachineImageReady") and c["status"] == "False"
                     for c in vm_status.get("conditions", []))
        # a node whose VM stopped is a failed Machine: Cluster API leaves it for remediation
        # (delete the Machine and a new one replaces it), it does not power it back on
        lost = bool(vm_status.get("uniqueID")) and vm_status.get("powerState") != "PoweredOn"
        reason = "Running" if running else ("VirtualMachineNotRunning" if lost else "WaitingForVirtualMachine")
        message = f"VM {vm_status.get('uniqueID')} is {vm_status.get('powerState')}" if lost else ""
        provider_id = f"vsphere://{vm_status['biosUUID']}" if vm_status.get("biosUUID") else None
        if bootstrap is None:  # (a Machine no longer wanted: its bootstrap was done before)
            bootstrap = Bootstrap(bool(machine["spec"].get("bootstrap", {}).get("dataSecretName")))
        if vsphere_machine is not None:
            self._vsphere_machine_progress(vsphere_machine, vm_status, running, failed or lost, address, provider_id,
                                           bootstrap.ready)
        if provider_id and machine["spec"].get("providerID") != provider_id:
            machine = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "machines", name,
                                                                 {"spec": {"providerID": provider_id}})
        status = dict(machine.get("status", {}))
        bootstrap_reason = "Ready" if bootstrap.ready else "WaitingForDataSecret"
        if not bootstrap.ready and not (failed or lost):
            reason = "WaitingForBootstrapData"
        conditions = conditions_of(machine, {"BootstrapReady": (bootstrap.ready, bootstrap_reason, bootstrap.message),
                                             "InfrastructureReady": (running, reason, message),
                                             "Ready": (running, reason, message)}, error=failed or lost)
        control_plane = objects.CONTROL_PLANE_LABEL in machine["metadata"].get("labels", {})
        v1beta2 = capi_v1beta2.machine(
            control_plane=control_plane, bootstrap_ready=bootstrap.ready,
            bootstrap_message=f"* DataSecretAvailable: {bootstrap.message}" if bootstrap.message else "",
            running=running, lost=lost or failed, up_to_date=up_to_date, provider_id=provider_id)
        status.update({
            "phase": "Running" if running else ("Failed" if failed or lost else
                                                ("Provisioning" if bootstrap.ready else "Pending")),
            "bootstrapReady": bootstrap.ready, "infrastructureReady": running, "conditions": conditions,
            "v1beta2": {"conditions": capi_v1beta2.v1beta2_conditions(machine, v1beta2)},
            "addresses": [{"type": "InternalIP", "address": address}] if address else [],
            "observedGeneration": machine["metadata"].get("generation", 1),
        })
        if running:
            status["nodeRef"] = {"apiVersion": "v1", "kind": "Node", "name": name}
        if status != machine.get("status"):
            self.custom.patch_namespaced_custom_object_status(*CAPI, namespace, "machines", name, {"status": status})
        return running

    def _vsphere_machine_progress(self, vsphere_machine: dict, vm_status: dict, running: bool, failed: bool,
                                  address: str | None, provider_id: str | None, bootstrapped: bool = True) -> None:
        """CAPV's view of the VM: its state (pending, ready, error), address and VMProvisioned."""
        if provider_id and vsphere_machine["spec"].get("providerID") != provider_id:
            meta = vsphere_machine["metadata"]
            vsphere_machine = self.custom.patch_namespaced_custom_object(
                *CAPV, meta["namespace"], "vspheremachines", meta["name"], {"spec": {"providerID": provider_id}})
        created = bool(vm_status.get("uniqueID"))
        reason = "" if running else ("VMCreationFailed" if failed else
                                     ("WaitingForNetworkAddress" if created else
                                      ("VMProvisionStarted" if bootstrapped else "WaitingForBootstrapData")))
        conditions = conditions_of(vsphere_machine, {"VMProvisioned": (running, reason or "Ready", ""),
                                                     "Ready": (running, reason or "Ready", "")}, error=failed)
        v1beta2 = capi_v1beta2.vsphere_machine(running=running, failed=failed, bootstrapped=bootstrapped,
                                               vm_status=vm_status, address=address)
        self._status(CAPV, "vspheremachines", vsphere_machine, {
            "ready": running, "vmstatus": "ready" if running else ("error" if failed else "pending"),
            "vmIp": address or None, "vmID": vm_status.get("biosUUID"),
            "addresses": [{"type": "InternalIP", "address": address}] if address else None,
            "conditions": conditions,
            "v1beta2": {"conditions": capi_v1beta2.v1beta2_conditions(vsphere_machine, v1beta2)}})

    def _retire_sets(self, cluster: str, namespace: str, sets: dict, machines: dict, version: str,
                     pools: list[Pool]) -> None:
        """MachineSets of an earlier version (or a removed pool) go once their Machines have."""
        current = {objects.set_name(cluster, p.name, version) for p in pools[1:]}
        gone = []
        for name, machine_set in sets.items():
            if name in current:
                continue
            left = [m for m in machines.values()
                    if m["metadata"].get("labels", {}).get(objects.SET_NAME_LABEL) == name]
            if not left:
                kube.unless_absent(self.custom.delete_namespaced_custom_object, *CAPI, namespace, "machinesets", name)
                gone.append(name)
                pool_names = {objects.deployment_name(cluster, p.name) for p in pools[1:]}
                deployment = machine_set["metadata"]["labels"].get(objects.DEPLOYMENT_NAME_LABEL)
                if deployment not in pool_names:  # its pool was removed from the topology
                    kube.unless_absent(self.custom.delete_namespaced_custom_object, *CAPI, namespace,
                                       "machinedeployments", deployment)
            elif machine_set["spec"].get("replicas") != len(left):
                self.custom.patch_namespaced_custom_object(*CAPI, namespace, "machinesets", name,
                                                           {"spec": {"replicas": len(left)}})
        for name in gone:
            sets.pop(name)

    # --- status of what was made -----------------------------------------------------------
    def _plane_status(self, plane: dict, version: str, wanted: dict, machines: dict, running: set[str]) -> None:
        mine = [n for n, m in machines.items() if objects.CONTROL_PLANE_LABEL in m["metadata"].get("labels", {})]
        wanted_plane = [n for n, p in wanted.items() if p.control_plane]
        ready = [n for n in mine if n in running]
        updated = [n for n in mine if n in wanted_plane]
        available = bool(ready)
        all_ready = bool(wanted_plane) and set(wanted_plane) <= running and len(mine) == len(wanted_plane)
        message = "" if all_ready else f"{len(ready)} of {len(wanted_plane)} control plane machines ready"
        conditions = conditions_of(plane, {
            "Available": (available, "Ready" if available else "WaitingForKubeadmInit", ""),
            "MachinesReady": (all_ready, "Ready" if all_ready else "WaitingForMachines", message),
            "Ready": (all_ready, "Ready" if all_ready else "ScalingUp", message)})
        name = plane["metadata"]["name"]
        cluster = plane["metadata"]["labels"][CLUSTER_LABEL]
        replicas = Replicas.of(mine, running, wanted_plane, len(wanted_plane))
        v1beta2 = {"conditions": capi_v1beta2.v1beta2_conditions(
            plane, capi_v1beta2.control_plane(replicas, initialized=available)), **replicas.counters()}
        self._status(KCP[:2], KCP[2], plane, {"v1beta2": v1beta2,
            "selector": f"{CLUSTER_LABEL}={cluster},{objects.CONTROL_PLANE_NAME_LABEL}={name}",
            "replicas": len(mine), "updatedReplicas": len(updated), "readyReplicas": len(ready),
            "unavailableReplicas": len(mine) - len(ready), "initialized": available, "ready": available,
            "version": version if all_ready else (plane.get("status") or {}).get("version"),
            "observedGeneration": plane["metadata"]["generation"], "conditions": conditions})

    def _deployment_status(self, deployment: dict, pool: Pool, version: str, machines: dict, running: set[str],
                           sets: dict) -> None:
        md_name = deployment["metadata"]["name"]
        current_set = objects.set_name(deployment["metadata"]["labels"][CLUSTER_LABEL], pool.name, version)
        mine = {n: m for n, m in machines.items()
                if m["metadata"].get("labels", {}).get(objects.DEPLOYMENT_NAME_LABEL) == md_name}
        for set_name, machine_set in sets.items():
            if machine_set["metadata"].get("labels", {}).get(objects.DEPLOYMENT_NAME_LABEL) != md_name:
                continue
            members = [n for n, m in mine.items() if m["metadata"]["labels"].get(objects.SET_NAME_LABEL) == set_name]
            ready = [n for n in members if n in running]
            done = len(ready) == len(members) == (machine_set["spec"].get("replicas") or 0)
            replicas = Replicas.of(members, running, members if set_name == current_set else (),
                                   machine_set["spec"].get("replicas") or 0)
            self._status(CAPI, "machinesets", machine_set, {
                "v1beta2": {"conditions": capi_v1beta2.v1beta2_conditions(
                    machine_set, capi_v1beta2.machine_set(replicas)), **replicas.counters()},
                "selector": ",".join(f"{k}={v}" for k, v in machine_set["spec"]["selector"]["matchLabels"].items()),
                "replicas": len(members), "fullyLabeledReplicas": len(members), "readyReplicas": len(ready),
                "availableReplicas": len(ready), "observedGeneration": machine_set["metadata"]["generation"],
                "conditions": conditions_of(machine_set, {
                    "MachinesCreated": (True, "Ready", ""),
                    "MachinesReady": (done, "Ready" if done else "WaitingForMachines", ""),
                    "Resized": (len(members) == machine_set["spec"].get("replicas"), "Ready", ""),
                    "Ready": (done, "Ready" if done else "ScalingUp", "")})})
        ready = [n for n in mine if n in running]
        updated = [n for n, m in mine.items() if m["metadata"]["labels"].get(objects.SET_NAME_LABEL) == current_set]
        done = len(ready) == len(mine) == pool.replicas and len(updated) == pool.replicas
        phase = "Running" if done else ("ScalingDown" if len(mine) > pool.replicas else "ScalingUp")
        message = "" if done else f"{len(ready)} of {pool.replicas} machines ready"
        replicas = Replicas.of(mine, running, updated, pool.replicas)
        self._status(CAPI, "machinedeployments", deployment, {
            "v1beta2": {"conditions": capi_v1beta2.v1beta2_conditions(
                deployment, capi_v1beta2.machine_deployment(replicas)), **replicas.counters()},
            "selector": ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()),
            "replicas": len(mine), "updatedReplicas": len(updated), "readyReplicas": len(ready),
            "availableReplicas": len(ready), "unavailableReplicas": max(pool.replicas - len(ready), 0),
            "phase": phase, "observedGeneration": deployment["metadata"]["generation"],
            "conditions": conditions_of(deployment, {
                "Available": (len(ready) >= pool.replicas, "Ready" if len(ready) >= pool.replicas
                              else "WaitingForAvailableMachines", message),
                "Ready": (done, "Ready" if done else phase, message)})})

    def _cluster_status(self, cluster: dict, failure: str | None = None, wanted: dict | None = None,
                        machines: dict | None = None, running: set[str] = frozenset(),
                        endpoint: dict | None = None, all_running: set[str] = frozenset()) -> None:
        wanted, machines = wanted or {}, machines or {}
        plane = [n for n, p in wanted.items() if p.control_plane]
        workers = [n for n, p in wanted.items() if not p.control_plane]
        plane_ready = bool(plane) and set(plane) <= running
        ready = failure is None and plane_ready and set(workers) <= running and set(machines) == set(wanted)
        if failure:
            conditions = conditions_of(cluster, {"Ready": (False, "TKRNotFound", failure)}, error=True)
        else:
            lost = [n for n, m in machines.items() if (m.get("status") or {}).get("phase") == "Failed"]
            conditions = conditions_of(cluster, {
                "InfrastructureReady": (True, "Ready", ""),
                "ControlPlaneInitialized": (bool(endpoint), "Ready" if endpoint else "WaitingForControlPlane", ""),
                "ControlPlaneReady": (plane_ready, "Ready" if plane_ready else "WaitingForControlPlane",
                                      "" if plane_ready else f"{len(set(plane) & running)}/{len(plane)} running"),
                "TopologyReconciled": (True, "Ready", ""),
                "Ready": (ready, "Ready" if ready else ("MachinesNotReady" if lost else "Provisioning"),
                          "" if ready else f"{len(running)}/{len(wanted)} machines running")})
        status = {
            "conditions": conditions, "observedGeneration": cluster["metadata"]["generation"],
            "phase": "Failed" if failure else ("Provisioned" if plane_ready else "Provisioning"),
            "controlPlaneReady": plane_ready, "infrastructureReady": failure is None,
            "v1beta2": _cluster_v1beta2(cluster, failure, wanted, machines, all_running, endpoint),
        }
        self._status(CAPI, "clusters", cluster, status)

    # --- the guest's own secrets -----------------------------------------------------------
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

    def _delete_cluster(self, cluster: dict) -> None:
        """What the cluster made goes with it: Machines (and through their owner references their
        VSphereMachines and VMs), sets, deployments, the control plane, the infrastructure."""
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        for api, plural in ((CAPI, "machinedeployments"), (CAPI, "machinesets"), (CAPI, "machines"),
                            (KCP[:2], KCP[2]), (CAPV, "vspheremachinetemplates"), (BOOTSTRAP, "kubeadmconfigtemplates"),
                            (CAPV, "vsphereclusters")):
            for item in self._list(api, plural, namespace, name):
                kube.unless_absent(self.custom.delete_namespaced_custom_object, *api, namespace, plural, item)
        self.apiservers.forget(f"{namespace}/{name}")
        self._release_finalizer(CAPI, "clusters", cluster, CLUSTER_FINALIZER)


def _is_true(obj: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def _cluster_v1beta2(cluster: dict, failure: str | None, wanted: dict, machines: dict, running: set[str],
                     endpoint: dict | None) -> dict:
    """A Cluster's ``status.v1beta2``: its conditions, and its control plane's and workers' counters."""
    if failure:
        return {"conditions": capi_v1beta2.v1beta2_conditions(cluster, capi_v1beta2.cluster(
            plane=Replicas.of((), (), (), 0), workers=Replicas.of((), (), (), 0), deployments=0, initialized=False,
            plane_available=False, workers_available=False, probe=False, failure=failure))}
    plane_names = [n for n, m in machines.items() if objects.CONTROL_PLANE_LABEL in m["metadata"].get("labels", {})]
    worker_names = [n for n in machines if n not in plane_names]
    plane = Replicas.of(plane_names, running, wanted, sum(p.control_plane for p in wanted.values()))
    workers = Replicas.of(worker_names, running, wanted, sum(not p.control_plane for p in wanted.values()))
    deployments = objects.cluster_pools(cluster)[1][1:]
    ready_by_pool = {}
    for name in worker_names:
        if name in running:
            pool = machines[name]["metadata"].get("labels", {}).get(objects.DEPLOYMENT_LABEL)
            ready_by_pool[pool] = ready_by_pool.get(pool, 0) + 1
    workers_available = all(ready_by_pool.get(pool.name, 0) >= pool.replicas for pool in deployments)
    initialized = bool(endpoint)
    conditions = capi_v1beta2.cluster(
        plane=plane, workers=workers, deployments=len(deployments), initialized=initialized,
        plane_available=initialized and bool(plane.ready), workers_available=workers_available, probe=bool(endpoint))
    return {"conditions": capi_v1beta2.v1beta2_conditions(cluster, conditions),
            **capi_v1beta2.cluster_counters(plane, workers)}


def _contains(current, wanted) -> bool:
    """Whether ``current`` already says all ``wanted`` says (keys the server defaulted may be extra)."""
    if wanted == {} and current is None:
        return True
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_contains(current.get(key), value) for key, value in wanted.items())
    if isinstance(wanted, list) and isinstance(current, list):
        return len(wanted) == len(current) and all(_contains(c, w) for c, w in zip(current, wanted))
    return current == wanted
