"""Readiness predicates of kinds.py, on status shapes the testbed's controllers write."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.kinds import FAILED, PENDING, READY


def cond(kind, status, reason="", message="", **extra):
    return {"type": kind, "status": status, "reason": reason, "message": message, **extra}


def vm(power="PoweredOn", status=None, **spec):
    return {"metadata": {"name": "web-1", "generation": 1},
            "spec": {"className": "small", "powerState": power, **spec}, "status": status or {}}


CREATED = [cond("VirtualMachineClassReady", "True"), cond("VirtualMachineImageReady", "True"),
           cond("VirtualMachineCreated", "True")]


def test_vm_without_status_is_pending():
    assert kinds.virtual_machine(vm()).state == PENDING


def test_vm_powered_on_with_ip_is_ready():
    status = {"powerState": "PoweredOn", "network": {"primaryIP4": "10.244.0.2"}, "conditions": CREATED,
              "class": {"name": "small"}}
    assert kinds.virtual_machine(vm(status=status)) == kinds.Verdict(READY)


def test_vm_powered_on_without_ip_is_pending():
    verdict = kinds.virtual_machine(vm(status={"powerState": "PoweredOn", "conditions": CREATED}))
    assert verdict.state == PENDING and "IPv4" in verdict.message


def test_vm_powered_off_needs_no_ip():
    assert kinds.virtual_machine(vm("PoweredOff", {"powerState": "PoweredOff", "conditions": CREATED})).state == READY


def test_vm_in_the_wrong_power_state_is_pending():
    verdict = kinds.virtual_machine(vm("PoweredOff", {"powerState": "PoweredOn", "conditions": CREATED}))
    assert verdict == kinds.Verdict(PENDING, "power state is PoweredOn, want PoweredOff")


@pytest.mark.parametrize("kind", ["VirtualMachineClassReady", "VirtualMachineImageReady"])
def test_vm_missing_class_or_image_is_terminal_with_the_controllers_message(kind):
    conditions = [cond(kind, "False", "NotFound", "VirtualMachineClass 'huge' not found in namespace a"),
                  cond("VirtualMachineCreated", "False", "NotCreated", "waiting for the VM class")]
    verdict = kinds.virtual_machine(vm(status={"conditions": conditions}))
    assert verdict == kinds.Verdict(FAILED, "VirtualMachineClass 'huge' not found in namespace a")


def test_vm_create_failure_is_terminal():
    conditions = [cond("VirtualMachineClassReady", "True"), cond("VirtualMachineImageReady", "True"),
                  cond("VirtualMachineCreated", "False", "CreateFailed", "CreateVM_Task failed: InsufficientResources")]
    assert kinds.virtual_machine(vm(status={"conditions": conditions})) == \
        kinds.Verdict(FAILED, "CreateVM_Task failed: InsufficientResources")


def test_vm_stuck_creating_is_pending_with_reason():
    conditions = [cond("VirtualMachineCreated", "False", "Creating", "waiting for the VM to be created in vCenter")]
    verdict = kinds.virtual_machine(vm(status={"conditions": conditions}))
    assert verdict.state == PENDING and "waiting for the VM to be created" in verdict.message


def test_vm_whose_status_names_another_class_is_pending_not_ready():
    """After a resize by class, the old status is stale until the controller catches up."""
    status = {"powerState": "PoweredOn", "network": {"primaryIP4": "10.244.0.2"}, "conditions": CREATED,
              "class": {"name": "small"}}
    assert kinds.virtual_machine(vm(status=status, className="large")).state == PENDING


def test_stale_observed_generation_is_pending_even_if_it_looked_failed():
    obj = {"metadata": {"generation": 2}, "status": {"observedGeneration": 1, "conditions": [
        cond("Ready", "False", "TKRNotFound", "no such release", severity="Error")]}}
    assert kinds.tanzu_kubernetes_cluster(obj).state == PENDING
    obj["status"]["observedGeneration"] = 2
    assert kinds.tanzu_kubernetes_cluster(obj).state == FAILED


def pod(phase, ready=None, statuses=None, conditions=None):
    conds = list(conditions or [])
    if ready is not None:
        conds.append(cond("Ready", "True" if ready else "False"))
    return {"status": {"phase": phase, "conditions": conds, "containerStatuses": statuses or []}}


def test_pod_running_and_ready_or_succeeded_is_ready():
    assert kinds.pod(pod("Running", True)).state == READY
    assert kinds.pod(pod("Succeeded")).state == READY
    assert kinds.pod(pod("Running", False)).state == PENDING
    assert kinds.pod(pod("Pending")).state == PENDING


def test_pod_crash_loop_is_terminal_with_the_container_named():
    statuses = [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}}]
    verdict = kinds.pod(pod("Running", False, statuses))
    assert verdict == kinds.Verdict(FAILED, "container app: CrashLoopBackOff: back-off 10s")


def test_pod_failed_says_how_its_containers_ended():
    statuses = [{"name": "app", "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]
    verdict = kinds.pod(pod("Failed", False, statuses))
    assert verdict.state == FAILED and "container app Error (exit code 1)" in verdict.message


def test_unschedulable_pod_is_pending_with_the_reason():
    verdict = kinds.pod(pod("Pending", conditions=[cond("PodScheduled", "False", "Unschedulable", "0/3 nodes")]))
    assert verdict.state == PENDING and "0/3 nodes" in verdict.message


def test_cluster_needs_control_plane_and_infrastructure():
    obj = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
        cond("ControlPlaneReady", "False", "WaitingForControlPlane", "0/1 running", severity="Info"),
        cond("InfrastructureReady", "True", "Ready")]}}
    assert kinds.cluster(obj) == kinds.Verdict(PENDING, "ControlPlaneReady=False (0/1 running)")
    obj["status"]["conditions"][0] = cond("ControlPlaneReady", "True", "Ready")
    assert kinds.cluster(obj).state == READY
    obj["status"]["conditions"].append(cond("Ready", "False", "TKRNotFound", "release 1.20 unknown", severity="Error"))
    assert kinds.cluster(obj) == kinds.Verdict(FAILED, "Ready=False (release 1.20 unknown)")


def test_tkc_ready():
    obj = {"metadata": {}, "status": {"conditions": [cond("Ready", "True", "Ready")]}}
    assert kinds.tanzu_kubernetes_cluster(obj).state == READY
    obj["status"]["conditions"] = [cond("Ready", "False", "Provisioning", "1/3 machines running", severity="Info")]
    assert kinds.tanzu_kubernetes_cluster(obj).state == PENDING


def test_namespace_and_service():
    assert kinds.namespace({"status": {"phase": "Active"}}).state == READY
    assert kinds.namespace({"status": {"phase": "Terminating"}}).state == PENDING
    service = {"spec": {"type": "LoadBalancer"}, "status": {}}
    assert kinds.virtual_machine_service(service).state == PENDING
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "10.245.0.1"}]}}
    assert kinds.virtual_machine_service(service).state == READY
    assert kinds.virtual_machine_service({"spec": {"type": "ClusterIP"}}).state == READY


def test_resource_paths():
    assert kinds.VIRTUAL_MACHINE.path("a", "web-1") == "/apis/vmoperator.vmware.com/v1alpha3/namespaces/a/virtualmachines/web-1"
    assert kinds.POD.path("a") == "/api/v1/namespaces/a/pods"
    assert kinds.NAMESPACE.path(None, "a") == "/api/v1/namespaces/a"
    assert kinds.VIRTUAL_MACHINE.path() == "/apis/vmoperator.vmware.com/v1alpha3/virtualmachines"
    assert kinds.VIRTUAL_MACHINE.describe("web-1", "a") == "VirtualMachine web-1 in namespace a"
