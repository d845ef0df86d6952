"""Spherelet: ESXi hosts as Nodes, and native (vSphere) pods scheduled, run and shown as pod VMs.

- One Node per host of the Supervisor cluster, with the host's capacity, kept alive by Leases.
- Unbound pods are bound to the host with the most free CPU that fits their requests; a pod
  that fits nowhere stays Pending with PodScheduled False (Unschedulable) and an Event.
- A bound pod gets a pod VM in its namespace's folder and an IP: a /32 in the testbed's pod
  network (``testbed.podnet``), or on loopback (127.1.x.y) where that cannot be made; then it runs: images of the testbed catalogue (``testbed.workloads``) as real local processes bound to
  that IP, every other image as a simulated container.
- A container with an HTTP readiness probe (a catalogue image) is Running but not Ready until its
  probe answers; under the fault ``function-unready`` a function's pods never start their process,
  so they stay unready.
- A pod of a vSphere Namespace whose Supervisor uses VDS networking (``testbed.admission``) is never
  bound or run: such a Supervisor runs only Supervisor Services' pods. Admission refuses those pods
  already; one that got in before the policy took effect stays Pending, Unschedulable, saying why.
- Deleting a pod stops its process and removes its pod VM before the pod object goes.
- A pod is known by its UID, as the kubelet knows it: a pod made again under the same name is
  another pod. What the old one held (processes, IP, pod VM) goes before the new one runs, and
  every write names the UID it is meant for, so the apiserver refuses it if the pod it reaches
  is another (deleting or crashing a namesake made meanwhile).
"""
from __future__ import annotations

import datetime
import logging
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed import admission, workloads
from testbed.controllers import kube
from testbed.controllers.conditions import now, record_event
from testbed.controllers.vsphere import Vsphere
from testbed.faults import FaultBook
from testbed.layout import REPO_ROOT
from testbed.podnet import PodNetwork

log = logging.getLogger("testbed.controllers.spherelet")

POD_VM = "vSphere Pod "  # how a pod VM says so in vCenter
KUBELET_VERSION = "v1.35.4-sph-testbed"
LEASE_SECONDS = 40
FUNCTION_LABEL = "pacific.supervisor/function"  # the fault function-unready finds a function's pods by it
PROBE_INTERVAL = 0.05
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
CPU_UNITS = {"m": 0.001}
MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 1e3, "M": 1e6, "G": 1e9}


def cpu(quantity: str | None) -> float:
    if not quantity:
        return 0.0
    quantity = str(quantity)
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def memory(quantity: str | None) -> int:
    if not quantity:
        return 0
    quantity = str(quantity)
    for suffix, factor in MEMORY_UNITS.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(float(quantity))


def requests_of(pod: client.V1Pod) -> tuple[float, int]:
    total_cpu, total_memory = 0.0, 0
    for container in pod.spec.containers:
        asked = (container.resources.requests if container.resources else None) or {}
        total_cpu += cpu(asked.get("cpu"))
        total_memory += memory(asked.get("memory"))
    return total_cpu, total_memory


def node_name(host_name: str) -> str:
    return host_name.lower().replace("_", "-")


class Spherelet:
    def __init__(self, api_client: client.ApiClient, vsphere: Vsphere, faults: FaultBook,
                 cluster_moref: str | None = None, network: PodNetwork | None = None):
        self.faults = faults
        self.network = network
        self.core = client.CoreV1Api(api_client)
        self.coordination = client.CoordinationV1Api(api_client)
        self.vsphere = vsphere
        self.cluster_moref = cluster_moref
        self.queue = kube.WorkQueue()
        self.nodes: dict[str, dict] = {}
        self.processes: dict[kube.Key, list[subprocess.Popen]] = {}
        self.ips: dict[kube.Key, str] = {}
        self.uids: dict[kube.Key, str] = {}  # the pod whose processes, IP and VM a key holds
        self.lock = threading.Lock()

    # --- nodes -----------------------------------------------------------------------------
    def register_nodes(self) -> None:
        for index, host in enumerate(self.vsphere.esxi_hosts(self.cluster_moref)):
            name = node_name(host["name"])
            self.nodes[name] = {**host, "address": f"127.0.2.{index + 1}"}
            body = {"metadata": {"name": name, "labels": {
                        "kubernetes.io/hostname": name, "kubernetes.io/os": "CRX", "kubernetes.io/arch": "amd64",
                        "node-role.kubernetes.io/agent": ""},
                    "annotations": {"vmware-system-esxi-node-moid": host["moid"]}},
                    "spec": {}}
            try:
                self.core.create_node(body)
            except ApiException as err:
                if err.status != 409:
                    raise
            self._node_status(name)
            self._renew_lease(name)

    def _node_status(self, name: str) -> None:
        node = self.nodes[name]
        capacity = {"cpu": str(node["cpus"]), "memory": f"{node['memory_bytes'] // 2**10}Ki", "pods": "110"}
        stamp = now()
        self.core.patch_node_status(name, {"status": {
            "capacity": capacity, "allocatable": capacity,
            "addresses": [{"type": "InternalIP", "address": node["address"]}, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "SpheReletReady",
                            "message": "spherelet is posting ready status", "lastHeartbeatTime": stamp,
                            "lastTransitionTime": stamp}],
            "nodeInfo": {"machineID": node["uuid"], "systemUUID": node["uuid"], "bootID": node["moid"],
                         "kernelVersion": "8.0.3", "osImage": "VMware ESXi 8.0.3", "containerRuntimeVersion": "crx://1.0",
                         "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": "", "operatingSystem": "CRX",
                         "architecture": "amd64"},
        }})

    def _renew_lease(self, name: str) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = {"metadata": {"name": name, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": stamp}}
        try:
            self.coordination.patch_namespaced_lease(name, "kube-node-lease", body)
        except ApiException as err:
            if err.status != 404:
                raise
            self.coordination.create_namespaced_lease("kube-node-lease", body)

    def keep_alive(self, stop: threading.Event) -> None:
        rounds = 0
        while not stop.wait(10):
            rounds += 1
            for name in self.nodes:
                try:
                    self._renew_lease(name)
                    if rounds % 4 == 0:
                        self._node_status(name)
                except Exception as err:  # apiserver restarting
                    log.warning("node %s heartbeat failed: %s", name, err)

    # --- wiring ----------------------------------------------------------------------------
    def start(self, stop: threading.Event) -> None:
        self.register_nodes()
        for pod in self.core.list_pod_for_all_namespaces().items:
            if pod.status.pod_ip and pod.spec.node_name in self.nodes:
                key = (pod.metadata.namespace, pod.metadata.name)
                self.ips[key] = pod.status.pod_ip
                self.uids[key] = pod.metadata.uid
        kube.run_workers(self.queue, self.reconcile, count=4, name="spherelet")
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-pods", args=(
            self.core.list_pod_for_all_namespaces, self._enqueue, stop, self._forget_missing)).start()
        threading.Thread(target=self.keep_alive, args=(stop,), daemon=True, name="node-leases").start()
        threading.Thread(target=self.crash_loop, args=(stop,), daemon=True, name="pod-faults").start()

    def _enqueue(self, pod: client.V1Pod) -> None:
        self.queue.add((pod.metadata.namespace, pod.metadata.name))

    def _forget_missing(self, pods: list[client.V1Pod]) -> None:
        """A pod this host runs that a (re)list no longer holds was deleted while no watch ran
        (a force delete is gone at once): tear it down all the same."""
        listed = {(pod.metadata.namespace, pod.metadata.name) for pod in pods}
        with self.lock:
            missing = [key for key in self.ips if key not in listed]
        for key in missing:
            self.queue.add(key)

    # --- reconcile -------------------------------------------------------------------------
    def reconcile(self, key: kube.Key) -> None:
        namespace, name = key
        pod = kube.unless_absent(self.core.read_namespaced_pod, name, namespace)
        held = self.uids.get(key)
        if pod is None or held not in (None, pod.metadata.uid) or pod.metadata.deletion_timestamp:
            # gone, made again under the same name (what the old pod held goes first), or deleting
            self._tear_down(key)
        if pod is None:
            return
        if pod.metadata.deletion_timestamp:
            self._delete(pod)
            return
        if pod.status.phase == "Pending" and self._refused(pod):
            return
        if not pod.spec.node_name:
            self._schedule(pod)
            return
        if pod.spec.node_name in self.nodes and pod.status.phase == "Pending":
            self._run(pod)

    def _refused(self, pod: client.V1Pod) -> bool:
        """Whether ``pod``'s namespace is on a VDS Supervisor: then it stays Pending, saying why, once."""
        namespace = kube.unless_absent(self.core.read_namespace, pod.metadata.namespace)
        if namespace is None or not admission.refuses_pods(namespace.metadata.labels):
            return False
        said = any(c.type == "PodScheduled" and c.reason == "Unschedulable" and c.message == admission.REFUSAL
                   for c in pod.status.conditions or [])
        if not said:
            self._patch_status(pod, {"conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": admission.REFUSAL, "lastTransitionTime": now()}]})
            record_event(self.core, _ref(pod), "FailedScheduling", admission.REFUSAL, warning=True,
                         component="vsphere-scheduler")
        return True

    def _delete(self, pod: client.V1Pod) -> None:
        """End a deleting pod's grace period: this pod only, never a namesake made since."""
        options = client.V1DeleteOptions(grace_period_seconds=0,
                                         preconditions=client.V1Preconditions(uid=pod.metadata.uid))
        try:
            kube.unless_absent(self.core.delete_namespaced_pod, pod.metadata.name, pod.metadata.namespace,
                               body=options)
        except ApiException as err:
            if err.status != 409:  # 409: the pod of that name is another one; ours is gone
                raise

    def _patch_status(self, pod: client.V1Pod, status: dict) -> None:
        """Patch ``pod``'s status; the UID in the patch makes the apiserver refuse it if the pod of
        that name is another one by now."""
        self.core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace, {
            "metadata": {"uid": pod.metadata.uid}, "status": status})

    def _free(self) -> dict[str, tuple[float, int]]:
        free = {name: (float(node["cpus"]), int(node["memory_bytes"])) for name, node in self.nodes.items()}
        for pod in self.core.list_pod_for_all_namespaces(field_selector="status.phase!=Succeeded,status.phase!=Failed").items:
            if pod.spec.node_name in free:
                used_cpu, used_memory = requests_of(pod)
                left_cpu, left_memory = free[pod.spec.node_name]
                free[pod.spec.node_name] = (left_cpu - used_cpu, left_memory - used_memory)
        return free

    def _schedule(self, pod: client.V1Pod) -> None:
        want_cpu, want_memory = requests_of(pod)
        with self.lock:  # one binding decision at a time, so two pods never take the same room
            fits = [(left_cpu, name) for name, (left_cpu, left_memory) in self._free().items()
                    if left_cpu >= want_cpu and left_memory >= want_memory]
            if not fits:
                message = (f"0/{len(self.nodes)} nodes are available: insufficient cpu or memory for "
                           f"{want_cpu:g} CPU and {want_memory // 2**20} MiB")
                self._patch_status(pod, {
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                    "message": message, "lastTransitionTime": now()}]})
                record_event(self.core, _ref(pod), "FailedScheduling", message, warning=True,
                             component="vsphere-scheduler")
                return
            target = max(fits)[1]
            self.core.create_namespaced_pod_binding(
                pod.metadata.name, pod.metadata.namespace,
                {"metadata": {"name": pod.metadata.name, "uid": pod.metadata.uid},
                 "target": {"apiVersion": "v1", "kind": "Node", "name": target}},
                _preload_content=False)
        record_event(self.core, _ref(pod), "Scheduled",
                     f"Successfully assigned {pod.metadata.namespace}/{pod.metadata.name} to {target}",
                     component="vsphere-scheduler")

    def _ip(self, key: kube.Key) -> str:
        with self.lock:
            if key not in self.ips:
                used = set(self.ips.values())
                self.ips[key] = next(address for address in map(self._address, range(62500)) if address not in used)
            return self.ips[key]

    def _address(self, index: int) -> str:
        if self.network is not None:
            return self.network.pod_address(index)
        return f"127.1.{index // 250}.{index % 250 + 1}"

    def _run(self, pod: client.V1Pod) -> None:
        namespace, name = pod.metadata.namespace, pod.metadata.name
        key = (namespace, name)
        ref = _ref(pod)
        with self.lock:
            self.uids[key] = pod.metadata.uid
        ip = self._ip(key)
        if self.network is not None:
            self.network.add(ip)
        pool, folder = self.vsphere.placement(namespace, self.cluster_moref)
        if self.vsphere.find_vm(folder, name, POD_VM) is None:
            want_cpu, want_memory = requests_of(pod)
            # on the ESXi host of the pod's Node, as a Spherelet runs its pods' VMs on its own host
            vm = self.vsphere.create_vm(folder, pool, name, max(1, int(want_cpu + 0.999)),
                                        max(512, want_memory // 2**20), "crxPod1Guest",
                                        f"{POD_VM}{namespace}/{name} ({pod.metadata.uid})",
                                        host_moid=self.nodes[pod.spec.node_name]["moid"])
            self.vsphere.set_power(vm, "PoweredOn")
        statuses, probes = [], {}
        started = now()
        # a function's pods under the fault never come up: their processes are not started
        unready = self._unready_fault(pod)
        for container in pod.spec.containers:
            record_event(self.core, ref, "Pulled", f'Container image "{container.image}" already present',
                         component="spherelet")
            if not unready:
                self._start_container(key, pod, container, ip)
            record_event(self.core, ref, "Started", f"Started container {container.name}", component="spherelet")
            probe = _http_probe(container)
            if probe is not None and workloads.runnable(container.image) is not None and not unready:
                probes[container.name] = probe
            statuses.append({"name": container.name, "image": container.image, "imageID": container.image,
                             "containerID": f"crx://{pod.metadata.uid}-{container.name}",
                             "ready": not unready and container.name not in probes, "started": True,
                             "restartCount": 0, "state": {"running": {"startedAt": started}}})
        ready = all(status["ready"] for status in statuses)
        node = self.nodes[pod.spec.node_name]
        self._patch_status(pod, {
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": node["address"],
            "hostIPs": [{"ip": node["address"]}], "startTime": started,
            "conditions": [{"type": kind, "status": "True", "lastTransitionTime": started}
                           for kind in ("PodScheduled", "Initialized")] + _readiness_conditions(ready, started),
            "containerStatuses": statuses,
        })
        if unready:
            record_event(self.core, ref, "Unhealthy", "Readiness probe failed: connection refused (injected fault "
                         "function-unready)", warning=True, component="spherelet")
        elif probes:
            threading.Thread(target=self._await_ready, args=(pod, ip, probes, statuses), daemon=True,
                             name=f"probe-{namespace}-{name}").start()

    def _unready_fault(self, pod: client.V1Pod) -> bool:
        function = (pod.metadata.labels or {}).get(FUNCTION_LABEL)
        return function is not None and self.faults.active("function-unready", pod.metadata.namespace, function)

    def _await_ready(self, pod: client.V1Pod, ip: str, probes: dict[str, tuple[int, str]],
                     statuses: list[dict]) -> None:
        """Ask each container's HTTP readiness probe until it answers, then mark the pod Ready. The
        kubelet asks every periodSeconds (at least 1 s); this asks every PROBE_INTERVAL, so a
        pod is Ready as soon as it answers (what a cold start measures). Stops when the pod goes."""
        key = (pod.metadata.namespace, pod.metadata.name)
        waiting = dict(probes)
        while waiting:
            if self.uids.get(key) != pod.metadata.uid:
                return  # deleted, or made again: not this pod any more
            for container, (port, path) in list(waiting.items()):
                if _answers(f"http://{ip}:{port}{path}"):
                    del waiting[container]
            if waiting:
                time.sleep(PROBE_INTERVAL)
        ready_at = now()
        try:
            self._patch_status(pod, {
                "conditions": _readiness_conditions(True, ready_at),
                "containerStatuses": [dict(status, ready=True) for status in statuses]})
        except ApiException as err:
            if err.status not in (404, 409, 422):  # gone or made again meanwhile
                raise

    def _start_container(self, key: kube.Key, pod: client.V1Pod, container, ip: str) -> None:
        module = workloads.runnable(container.image)
        if module is None:
            return  # simulated: it "runs" as long as the pod does
        port = next((p.container_port for p in container.ports or []), 8080)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "HOSTNAME": pod.metadata.name,
               "TESTBED_IMAGE": container.image}
        env.update({e.name: e.value or "" for e in container.env or []})
        argv = [sys.executable, "-m", module, "--listen", f"{ip}:{port}", *(container.args or [])]
        if self.network is not None:
            argv = self.network.command(argv)
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.processes.setdefault(key, []).append(process)

    def _tear_down(self, key: kube.Key) -> None:
        for process in self.processes.pop(key, []):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        namespace, name = key
        with self.lock:
            address = self.ips.pop(key, None)
            self.uids.pop(key, None)
        if address and self.network is not None:
            self.network.release(address)
        try:
            _, folder = self.vsphere.placement(namespace, self.cluster_moref)
        except Exception:
            return
        vm = self.vsphere.find_vm(folder, name, POD_VM)
        if vm is not None:
            self.vsphere.destroy(vm)


    # --- injected container crashes ---------------------------------------------------------
    def crash_loop(self, stop: threading.Event) -> None:
        """Every 2 s: crash the containers of pods under ``pod-crashloop``, heal the others."""
        while not stop.wait(2.0):
            try:
                for pod in self.core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items:
                    key = (pod.metadata.namespace, pod.metadata.name)
                    if pod.spec.node_name not in self.nodes or self.uids.get(key) != pod.metadata.uid:
                        continue  # not ours, or listed before it was made again
                    faulted = self.faults.active("pod-crashloop", pod.metadata.namespace, pod.metadata.name)
                    crashed = any(s.state.waiting for s in pod.status.container_statuses or [])
                    try:
                        if faulted:
                            self._crash(pod)
                        elif crashed:
                            self._heal(pod)
                    except ApiException as err:
                        if err.status not in (404, 409, 422):  # gone or made again meanwhile
                            raise
            except Exception as err:  # apiserver restarting
                log.warning("crash loop pass failed: %s", err)

    def _crash(self, pod: client.V1Pod) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        for process in self.processes.pop(key, []):
            process.kill()
        never = pod.spec.restart_policy == "Never"
        finished = now()
        statuses = []
        for status in pod.status.container_statuses or []:
            terminated = {"exitCode": 1, "reason": "Error", "startedAt": finished, "finishedAt": finished,
                          "containerID": status.container_id}
            statuses.append({
                "name": status.name, "image": status.image, "imageID": status.image_id,
                "containerID": status.container_id, "ready": False, "started": False,
                "restartCount": status.restart_count + (0 if never else 1),
                "lastState": {"terminated": terminated},
                # a strategic merge patch merges state maps: None clears the state left behind
                "state": {"running": None, "waiting": None, "terminated": terminated} if never else {
                    "running": None, "terminated": None, "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 10s restarting failed container={status.name} pod={pod.metadata.name}"}},
            })
        patch = {"containerStatuses": statuses,
                 "conditions": [{"type": kind, "status": "False", "reason": "ContainersNotReady",
                                 "lastTransitionTime": finished} for kind in ("ContainersReady", "Ready")]}
        if never:
            patch["phase"] = "Failed"
        self._patch_status(pod, patch)
        record_event(self.core, _ref(pod), "BackOff" if not never else "Failed",
                     "Back-off restarting failed container" if not never else "Container exited with code 1",
                     warning=True, component="spherelet")

    def _heal(self, pod: client.V1Pod) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        started = now()
        statuses = []
        for container, status in zip(pod.spec.containers, pod.status.container_statuses or []):
            self._start_container(key, pod, container, pod.status.pod_ip)
            statuses.append({"name": status.name, "image": status.image, "imageID": status.image_id,
                             "containerID": status.container_id, "ready": True, "started": True,
                             "restartCount": status.restart_count,
                             "state": {"running": {"startedAt": started}, "waiting": None, "terminated": None}})
        self._patch_status(pod, {
            "containerStatuses": statuses,
            "conditions": [{"type": kind, "status": "True", "lastTransitionTime": started}
                           for kind in ("ContainersReady", "Ready")]})


def _http_probe(container) -> tuple[int, str] | None:
    """(port, path) of a container's HTTP readiness probe, or None (no probe, or not over HTTP)."""
    http = container.readiness_probe.http_get if container.readiness_probe else None
    if http is None:
        return None
    port = http.port
    if isinstance(port, str) and not port.isdigit():
        port = next((p.container_port for p in container.ports or [] if p.name == port), None)
        if port is None:
            return None
    return int(port), http.path or "/"


def _answers(url: str) -> bool:
    """Whether ``url`` answers below 400, as a kubelet's HTTP probe counts success."""
    try:
        with _NO_PROXY.open(url, timeout=1) as answer:
            return answer.status < 400
    except urllib.error.HTTPError as err:
        return err.code < 400
    except (OSError, ValueError):
        return False


def _readiness_conditions(ready: bool, stamp: str) -> list[dict]:
    status = {"status": "True"} if ready else {"status": "False", "reason": "ContainersNotReady"}
    return [{"type": kind, "lastTransitionTime": stamp, **status} for kind in ("ContainersReady", "Ready")]


def _ref(pod: client.V1Pod) -> dict:
    """The dict shape record_event expects, from a typed pod."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod.metadata.name,
                                                            "namespace": pod.metadata.namespace,
                                                            "uid": pod.metadata.uid}}
