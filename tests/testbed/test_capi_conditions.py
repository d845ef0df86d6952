"""Cluster API v1.10's v1beta2 conditions of a guest cluster's objects (testbed.controllers.capi_conditions)."""
from __future__ import annotations

from testbed.controllers import capi_conditions as v1beta2
from testbed.controllers.capi_conditions import Replicas


def _by_type(conditions: list[dict]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in conditions}


def test_conditions_are_metav1_conditions_in_cluster_apis_order_and_keep_their_transition_time():
    obj = {"metadata": {"generation": 3}}
    wanted = v1beta2.machine_set(Replicas.of(["ms-0", "ms-1"], {"ms-0"}, {"ms-0", "ms-1"}, 2))
    conditions = v1beta2.v1beta2_conditions(obj, wanted)
    assert [c["type"] for c in conditions] == ["Remediating", "ScalingDown", "ScalingUp", "MachinesReady",
                                               "MachinesUpToDate", "Paused", "Deleting"]
    assert all(set(c) == {"type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"}
               and c["observedGeneration"] == 3 for c in conditions)
    assert _by_type(conditions)["MachinesReady"] == ("False", "NotReady")
    later = v1beta2.v1beta2_conditions({**obj, "status": {"v1beta2": {"conditions": [
        {**c, "lastTransitionTime": "2020-01-01T00:00:00Z"} for c in conditions]}}}, wanted)
    assert {c["lastTransitionTime"] for c in later} == {"2020-01-01T00:00:00Z"}


def test_a_running_machine_is_ready_available_and_up_to_date():
    running = v1beta2.machine(control_plane=True, bootstrap_ready=True, bootstrap_message="", running=True,
                              lost=False, up_to_date=True, provider_id="vsphere://x")
    assert {kind: status for kind, (status, _reason, _message) in running.items()
            if kind not in ("Deleting", "Paused")} == dict.fromkeys(
        ["BootstrapConfigReady", "InfrastructureReady", "NodeReady", "NodeHealthy", "APIServerPodHealthy",
         "ControllerManagerPodHealthy", "SchedulerPodHealthy", "EtcdPodHealthy", "EtcdMemberHealthy", "UpToDate",
         "Ready", "Available"], True)
    waiting = v1beta2.machine(control_plane=False, bootstrap_ready=False, bootstrap_message="* DataSecretAvailable: x",
                              running=False, lost=False, up_to_date=False, provider_id=None)
    assert waiting["BootstrapConfigReady"] == (False, "NotReady", "* DataSecretAvailable: x")
    assert waiting["NodeReady"][:2] == ("Unknown", "InspectionFailed")
    assert waiting["Ready"][:2] == (False, "NotReady") and "BootstrapConfigReady" in waiting["Ready"][2]
    assert waiting["UpToDate"][:2] == (False, "NotUpToDate")


def test_a_cluster_is_available_when_its_infrastructure_control_plane_and_workers_are():
    plane = Replicas.of(["cp-0"], {"cp-0"}, {"cp-0"}, 1)
    workers = Replicas.of(["w-0", "w-1"], {"w-0"}, {"w-0", "w-1"}, 2)
    waiting = v1beta2.cluster(plane=plane, workers=workers, deployments=1, initialized=True, plane_available=True,
                              workers_available=False, probe=True)
    assert waiting["Available"][:2] == (False, "NotAvailable") and "WorkersAvailable" in waiting["Available"][2]
    done = v1beta2.cluster(plane=plane, workers=Replicas.of(["w-0"], {"w-0"}, {"w-0"}, 1), deployments=1,
                           initialized=True, plane_available=True, workers_available=True, probe=True)
    assert done["Available"] == (True, "Available", "") and done["ControlPlaneInitialized"][:2] == (True, "Initialized")
    no_workers = v1beta2.cluster(plane=plane, workers=Replicas.of((), (), (), 0), deployments=0, initialized=True,
                                 plane_available=True, workers_available=True, probe=True)
    assert no_workers["WorkersAvailable"][:2] == (True, "NoWorkers")
    assert v1beta2.cluster_counters(plane, workers) == {
        "controlPlane": {"desiredReplicas": 1, "replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                         "upToDateReplicas": 1},
        "workers": {"desiredReplicas": 2, "replicas": 2, "readyReplicas": 1, "availableReplicas": 1,
                    "upToDateReplicas": 2}}
    failed = v1beta2.cluster(plane=plane, workers=workers, deployments=1, initialized=False, plane_available=False,
                             workers_available=False, probe=False, failure="not offered")
    assert failed["TopologyReconciled"] == (False, "ReconcileFailed", "not offered")


def test_deployment_and_control_plane_report_rollouts_and_scaling():
    rolling = Replicas.of(["old-0", "new-0"], {"old-0", "new-0"}, {"new-0"}, 1)
    deployment = v1beta2.machine_deployment(rolling)
    assert deployment["RollingOut"][:2] == (True, "RollingOut")
    assert deployment["ScalingDown"][:2] == (True, "ScalingDown") and deployment["Available"][0] is True
    plane = v1beta2.control_plane(Replicas.of((), (), (), 1), initialized=False)
    assert plane["Initialized"][:2] == (False, "NotInitialized") and plane["Available"][0] is False
    assert plane["ScalingUp"] == (True, "ScalingUp", "Scaling up from 0 to 1 replicas")
    assert v1beta2.kubeadm_config(False, "Waiting for Cluster control plane to be initialized")[
        "DataSecretAvailable"] == (False, "NotAvailable", "Waiting for Cluster control plane to be initialized")


def test_a_vsphere_machine_reports_its_virtual_machines_progress():
    def provisioned(**kwargs):
        args = {"running": False, "failed": False, "bootstrapped": True, "vm_status": {}, "address": None, **kwargs}
        return v1beta2.vsphere_machine(**args)["VirtualMachineProvisioned"][:2]
    assert provisioned(bootstrapped=False) == (False, "WaitingForBootstrapData")
    assert provisioned() == (False, "Provisioning")
    assert provisioned(vm_status={"uniqueID": "vm-1", "powerState": "PoweredOff"}) == (False, "PoweringOn")
    assert provisioned(vm_status={"uniqueID": "vm-1", "powerState": "PoweredOn"}) == (False, "WaitingForNetworkAddress")
    assert provisioned(running=True) == (True, "Provisioned")
    assert v1beta2.vsphere_machine(running=True, failed=False, bootstrapped=True, vm_status={}, address="10.0.0.2")[
        "Ready"] == (True, "Ready", "")
