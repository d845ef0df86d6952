"""Cluster API v1.10's v1beta2 conditions and replica counters (``status.v1beta2``), pure builders.

Cluster API v1.10 writes, next to the v1beta1 conditions of ``status.conditions``, metav1
Conditions under ``status.v1beta2.conditions`` (and, where the type has them, the replica counters
``readyReplicas`` / ``availableReplicas`` / ``upToDateReplicas`` under ``status.v1beta2``);
``clusterctl describe cluster --v1beta2`` reads those. The condition types and reasons are those of
Cluster API's v1beta2 condition constants (``api/v1beta1/*_types.go``,
``controlplane/kubeadm/api/v1beta1/v1beta2_condition_consts.go``,
``bootstrap/kubeadm/api/v1beta1/v1beta2_condition_consts.go``); each object gets the types its
controller sets in v1.10, and a VSphereMachine those CAPV v1.14 sets in supervisor mode. A value
here is ``(status, reason, message)``, status True/False/Unknown (or a bool).
"""
from __future__ import annotations

from dataclasses import dataclass

from testbed.controllers.conditions import now

Wanted = dict[str, tuple]

# the order Cluster API keeps them in (Available and Ready first, Paused and Deleting last; a type
# not named here sorts, by name, just before Paused)
ORDER = ("Available", "Ready", "UpToDate", "RemoteConnectionProbe", "BootstrapConfigReady", "InfrastructureReady",
         "ControlPlaneInitialized", "ControlPlaneAvailable", "WorkersAvailable", "CertificatesAvailable",
         "Initialized", "EtcdClusterHealthy", "ControlPlaneComponentsHealthy", "NodeHealthy", "NodeReady",
         "EtcdPodHealthy", "EtcdMemberHealthy", "APIServerPodHealthy", "ControllerManagerPodHealthy",
         "SchedulerPodHealthy", "HealthCheckSucceeded", "OwnerRemediated", "TopologyReconciled", "RollingOut",
         "Remediating", "ScalingDown", "ScalingUp", "MachinesReady", "ControlPlaneMachinesReady",
         "WorkerMachinesReady", "MachinesUpToDate", "ControlPlaneMachinesUpToDate", "WorkerMachinesUpToDate",
         "", "Paused", "Deleting")
_RANK = {kind: index for index, kind in enumerate(ORDER)}
# what every object reports while it is neither paused nor being deleted
CALM = {"Deleting": (False, "NotDeleting", ""), "Paused": (False, "NotPaused", "")}
NOT_REMEDIATING = {"Remediating": (False, "NotRemediating", "")}


def _status(value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return value


def v1beta2_conditions(obj: dict, wanted: Wanted) -> list[dict]:
    """``wanted`` as metav1 Conditions of ``obj``'s generation, in Cluster API's order; a
    condition's transition time moves only when its status changes."""
    previous = {c["type"]: c for c in ((obj.get("status") or {}).get("v1beta2") or {}).get("conditions") or []}
    generation = (obj.get("metadata") or {}).get("generation", 1)
    result = []
    for kind, (status, reason, message) in wanted.items():
        status = _status(status)
        before = previous.get(kind)
        result.append({"type": kind, "status": status, "reason": reason, "message": message or "",
                       "lastTransitionTime": before["lastTransitionTime"] if before and before["status"] == status
                       else now(), "observedGeneration": generation})
    return sorted(result, key=lambda c: (_RANK.get(c["type"], _RANK[""]), c["type"]))


@dataclass(frozen=True)
class Replicas:
    """Machines of a control plane, MachineSet or MachineDeployment: names, and which are ready
    (running), up to date (of the wanted version) and wanted (``desired`` of them)."""
    names: tuple[str, ...]
    ready: frozenset[str]
    up_to_date: frozenset[str]
    desired: int

    @classmethod
    def of(cls, names, running, wanted, desired: int) -> Replicas:
        names = tuple(sorted(names))
        return cls(names, frozenset(n for n in names if n in running), frozenset(n for n in names if n in wanted),
                   desired)

    def counters(self) -> dict:
        # (a Machine is Available as soon as it is Ready: the testbed's minReadySeconds is 0)
        return {"readyReplicas": len(self.ready), "availableReplicas": len(self.ready),
                "upToDateReplicas": len(self.up_to_date)}


def _listed(names) -> str:
    names = sorted(names)
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"Machine{'s' if len(names) > 1 else ''} {shown}"


def machines_ready(replicas: Replicas) -> tuple:
    if not replicas.names:
        return True, "NoReplicas", ""
    waiting = [n for n in replicas.names if n not in replicas.ready]
    return (False, "NotReady", f"* {_listed(waiting)}: not ready") if waiting else (True, "Ready", "")


def machines_up_to_date(replicas: Replicas) -> tuple:
    if not replicas.names:
        return True, "NoReplicas", ""
    old = [n for n in replicas.names if n not in replicas.up_to_date]
    return (False, "NotUpToDate", f"* {_listed(old)}: Version not up to date") if old else (True, "UpToDate", "")


def scaling(replicas: Replicas) -> Wanted:
    current, desired = len(replicas.names), replicas.desired
    up = (True, "ScalingUp", f"Scaling up from {current} to {desired} replicas") if current < desired \
        else (False, "NotScalingUp", "")
    down = (True, "ScalingDown", f"Scaling down from {current} to {desired} replicas") if current > desired \
        else (False, "NotScalingDown", "")
    return {"ScalingUp": up, "ScalingDown": down}


def rolling_out(replicas: Replicas) -> tuple:
    old = [n for n in replicas.names if n not in replicas.up_to_date]
    return (True, "RollingOut", f"Rolling out {len(old)} not up-to-date replicas") if old \
        else (False, "NotRollingOut", "")


# --- per kind ----------------------------------------------------------------------------------
def machine(*, control_plane: bool, bootstrap_ready: bool, bootstrap_message: str, running: bool, lost: bool,
            up_to_date: bool, provider_id: str | None, infrastructure_kind: str = "VSphereMachine") -> Wanted:
    """A Machine's: the Machine controller's (BootstrapConfigReady, InfrastructureReady, NodeReady,
    NodeHealthy, Ready, Available), its owner's UpToDate and, on a control plane Machine, KCP's
    pod and etcd member conditions."""
    wanted: Wanted = {
        "BootstrapConfigReady": (True, "Ready", "") if bootstrap_ready else (False, "NotReady", bootstrap_message),
        "InfrastructureReady": (True, "Ready", "") if running else
        (False, "NotReady", f"{infrastructure_kind} status.ready is false"),
    }
    if running:
        node = {"NodeReady": (True, "NodeReady", ""), "NodeHealthy": (True, "NodeHealthy", "")}
    elif lost:
        node = {"NodeReady": (False, "NodeNotReady", "Node.Ready: the node's VM is not running"),
                "NodeHealthy": (False, "NodeNotHealthy", "Node.Ready: the node's VM is not running")}
    else:
        waiting = f"Waiting for a Node with spec.providerID {provider_id} to exist" if provider_id \
            else f"Waiting for {infrastructure_kind} to report spec.providerID"
        node = {"NodeReady": ("Unknown", "InspectionFailed", waiting),
                "NodeHealthy": ("Unknown", "InspectionFailed", waiting)}
    wanted.update(node)
    if control_plane:
        for kind in ("APIServerPodHealthy", "ControllerManagerPodHealthy", "SchedulerPodHealthy", "EtcdPodHealthy"):
            wanted[kind] = (True, "Running", "") if running else ("Unknown", "InspectionFailed", "Waiting for the Node")
        wanted["EtcdMemberHealthy"] = (True, "Healthy", "") if running else \
            ("Unknown", "InspectionFailed", "Waiting for the Node")
    wanted["UpToDate"] = (True, "UpToDate", "") if up_to_date else (False, "NotUpToDate", "* Version not up to date")
    failing = [kind for kind, (status, _reason, _message) in wanted.items()
               if kind != "UpToDate" and _status(status) != "True"]
    wanted["Ready"] = (True, "Ready", "") if not failing else \
        (False, "NotReady", "\n".join(f"* {kind}: {wanted[kind][2] or wanted[kind][1]}" for kind in failing))
    wanted["Available"] = (True, "Available", "") if not failing else (False, "NotReady", "")
    wanted.update(CALM)
    return wanted


def machine_set(replicas: Replicas) -> Wanted:
    return {"MachinesReady": machines_ready(replicas), "MachinesUpToDate": machines_up_to_date(replicas),
            **scaling(replicas), **NOT_REMEDIATING, **CALM}


def machine_deployment(replicas: Replicas) -> Wanted:
    available, desired = len(replicas.ready), replicas.desired
    # the default rollout (maxUnavailable 0): every wanted replica available
    state = (True, "Available", "") if available >= desired else \
        (False, "NotAvailable", f"{available} available replicas, at least {desired} required "
                                f"(spec.strategy.rollout.maxUnavailable is 0, spec.replicas is {desired})")
    return {"Available": state, "MachinesReady": machines_ready(replicas),
            "MachinesUpToDate": machines_up_to_date(replicas), "RollingOut": rolling_out(replicas),
            **scaling(replicas), **NOT_REMEDIATING, **CALM}


def control_plane(replicas: Replicas, initialized: bool) -> Wanted:
    healthy = bool(replicas.ready)
    return {
        "Available": (True, "Available", "") if initialized and healthy else
        (False, "NotAvailable", "Control plane not yet initialized" if not initialized
         else "There are no healthy control plane Machines"),
        "CertificatesAvailable": (True, "Available", ""),
        "Initialized": (True, "Initialized", "") if initialized else
        (False, "NotInitialized", "Control plane not yet initialized"),
        "EtcdClusterHealthy": (True, "Healthy", "") if healthy else ("Unknown", "HealthUnknown",
                                                                     "Waiting for the first control plane Machine"),
        "ControlPlaneComponentsHealthy": (True, "Healthy", "") if healthy else
        ("Unknown", "HealthUnknown", "Waiting for the first control plane Machine"),
        "MachinesReady": machines_ready(replicas), "MachinesUpToDate": machines_up_to_date(replicas),
        "RollingOut": rolling_out(replicas), **scaling(replicas), **NOT_REMEDIATING, **CALM}


def cluster(*, plane: Replicas, workers: Replicas, deployments: int, initialized: bool, plane_available: bool,
            workers_available: bool, probe: bool, failure: str | None = None) -> Wanted:
    """A Cluster's: its infrastructure, control plane and workers summed up; ``Available`` when all
    of InfrastructureReady, ControlPlaneAvailable, WorkersAvailable, RemoteConnectionProbe and
    TopologyReconciled are."""
    if failure:
        wanted: Wanted = {"TopologyReconciled": (False, "ReconcileFailed", failure),
                          "InfrastructureReady": (False, "ObjectDoesNotExist",
                                                  "Waiting for cluster topology to be reconciled"),
                          "ControlPlaneInitialized": (False, "NotInitialized", "Control plane not yet initialized")}
        wanted["Available"] = (False, "NotAvailable", f"* TopologyReconciled: {failure}")
        return {**wanted, **CALM}
    wanted = {
        "InfrastructureReady": (True, "Ready", ""),
        "ControlPlaneInitialized": (True, "Initialized", "") if initialized else
        (False, "NotInitialized", "Control plane not yet initialized"),
        "ControlPlaneAvailable": (True, "Available", "") if plane_available else
        (False, "NotAvailable", "* KubeadmControlPlane: not available"),
        "WorkersAvailable": (True, "NoWorkers", "") if not deployments else
        ((True, "Available", "") if workers_available else
         (False, "NotAvailable", "* MachineDeployments: not available")),
        "RemoteConnectionProbe": (True, "ProbeSucceeded", "") if probe else
        (False, "ProbeFailed", "Remote connection probe failed, the control plane is not reachable"),
        "ControlPlaneMachinesReady": machines_ready(plane), "WorkerMachinesReady": machines_ready(workers),
        "ControlPlaneMachinesUpToDate": machines_up_to_date(plane),
        "WorkerMachinesUpToDate": machines_up_to_date(workers),
        "TopologyReconciled": (True, "ReconcileSucceeded", ""),
    }
    both = Replicas(plane.names + workers.names, plane.ready | workers.ready, plane.up_to_date | workers.up_to_date,
                    plane.desired + workers.desired)
    wanted["RollingOut"] = rolling_out(both)
    wanted.update(scaling(both))
    summary = [kind for kind in ("InfrastructureReady", "ControlPlaneAvailable", "WorkersAvailable",
                                 "RemoteConnectionProbe", "TopologyReconciled") if wanted[kind][0] is not True]
    wanted["Available"] = (True, "Available", "") if not summary else \
        (False, "NotAvailable", "\n".join(f"* {kind}: {wanted[kind][2]}" for kind in summary))
    return {**wanted, **NOT_REMEDIATING, **CALM}


def cluster_counters(plane: Replicas, workers: Replicas) -> dict:
    def part(replicas: Replicas) -> dict:
        return {"desiredReplicas": replicas.desired, "replicas": len(replicas.names), **replicas.counters()}
    return {"controlPlane": part(plane), "workers": part(workers)}


def vsphere_machine(*, running: bool, failed: bool, bootstrapped: bool, vm_status: dict, address: str | None) -> Wanted:
    """CAPV's (v1.14, supervisor mode) of a VSphereMachine: VirtualMachineProvisioned through the
    VM Operator VirtualMachine's progress, and the Ready summary of it."""
    if running:
        provisioned = (True, "Provisioned", "")
    elif failed:
        provisioned = (False, "NotProvisioned", "the VirtualMachine's class or image is not available")
    elif not bootstrapped:
        provisioned = (False, "WaitingForBootstrapData", "Waiting for bootstrap data to be available")
    elif not vm_status.get("uniqueID"):
        provisioned = (False, "Provisioning", "")
    elif vm_status.get("powerState") != "PoweredOn":
        provisioned = (False, "PoweringOn", "")
    elif not address:
        provisioned = (False, "WaitingForNetworkAddress", "")
    else:
        provisioned = (False, "WaitingForBIOSUUID", "")
    ready = (True, "Ready", "") if provisioned[0] is True else \
        (False, "NotReady", f"* VirtualMachineProvisioned: {provisioned[2] or provisioned[1]}")
    return {"Ready": ready, "VirtualMachineProvisioned": provisioned, "Paused": CALM["Paused"]}


def kubeadm_config(ready: bool, waiting: str) -> Wanted:
    return {"Ready": (True, "Ready", "") if ready else (False, "NotReady", f"* DataSecretAvailable: {waiting}"),
            "CertificatesAvailable": (True, "Available", ""),
            "DataSecretAvailable": (True, "Available", "") if ready else (False, "NotAvailable", waiting),
            "Paused": CALM["Paused"]}
