"""The real ansible-rulebook runs pacific.supervisor.remediate (loaded from the collection by its
name) against the testbed; testbed faults break VMs and the rulebook's playbooks repair them:

- a VM whose creation fails or is stuck is recreated from its own spec (the attempt counted in an
  annotation) and runs once the fault is gone; with the fault standing, the retry budget is spent
  and the failure escalated, the VM left as it is;
- a VM powered off in vCenter while its spec says PoweredOn is powered on again, and the record
  names the vCenter user who powered it off.

Each outcome is read back from the Supervisor's API and from the remediation record file."""
from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.faults import FaultBook
from testbed.remediation import Rulebook, fault
from testbed.vcenter import wait_developer_access
from tests.collection_path import collection_tree
from tests.testbed.conftest import Vcenter, _until

pytestmark = pytest.mark.testbed

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
VM_CLASS = "rem-vm-small"
ATTEMPTS = "remediation.pacific.supervisor/attempts"
BUDGET = 2


@pytest.fixture(scope="module")
def namespace(testbed, admin_client):
    """A vSphere Namespace of this module's own, with a VM class, made through vCenter."""
    name = f"rem-vm-{uuid.uuid4().hex[:6]}"
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    vcenter.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                 json={"id": VM_CLASS, "cpu_count": 1, "memory_MB": 1024})
    developer = testbed.credentials.developer_user  # the rulebook's developer face runs as the developer
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": name, "vm_service_spec": {"vm_classes": [VM_CLASS]},
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": developer.split("@")[0],
                         "domain": developer.split("@")[1]}]})
    assert answer.status_code == 204, answer.text
    wait_developer_access(testbed, name)
    objects = client.CustomObjectsApi(admin_client)
    _until(lambda: objects.get_namespaced_custom_object(GROUP, VERSION, name, "virtualmachineclasses", VM_CLASS),
           30, "VM class bound")
    yield name
    for vm in objects.list_namespaced_custom_object(GROUP, VERSION, name, "virtualmachines")["items"]:
        _delete_vm(objects, name, vm["metadata"]["name"])
    _until(lambda: not objects.list_namespaced_custom_object(GROUP, VERSION, name, "virtualmachines")["items"],
           60, "VMs deleted")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{name}")


@pytest.fixture(scope="module")
def rulebook(testbed, namespace, tmp_path_factory):
    work = tmp_path_factory.mktemp("remediate")
    running = Rulebook.start(
        testbed, work, collection_tree(), vcenter_checkpoint_file=str(work / "vcenter.checkpoint"),
        remediation_namespaces=[namespace],
        # short enough for a test, long enough for the testbed's VM Operator under load
        remediation_vm_retry_budget=BUDGET, remediation_vm_stuck_grace=3, remediation_vm_ready_timeout=20)
    try:
        running.wait_started()
        yield running
    finally:
        running.stop()


def _vm(objects, namespace, name):
    try:
        return objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", name)
    except ApiException as err:
        if err.status != 404:
            raise
        return None


def _delete_vm(objects, namespace, name):
    try:
        objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", name)
    except ApiException as err:
        if err.status != 404:
            raise


def _create_vm(objects, namespace, name):
    # made with the plain Kubernetes client (another field manager than the collection's), with a
    # label and an annotation of the user's that a recreation must keep
    return objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine",
        "metadata": {"name": name, "labels": {"app": "remediation-e2e"}, "annotations": {"owner": "team-a"}},
        "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                 "powerState": "PoweredOn"}})


def _created(vm) -> dict:
    return next((c for c in (vm or {}).get("status", {}).get("conditions", []) if c["type"] == "VirtualMachineCreated"),
                {})


def _running(vm) -> bool:
    status = (vm or {}).get("status", {})
    return _created(vm).get("status") == "True" and status.get("powerState") == "PoweredOn" \
        and bool(status.get("network", {}).get("primaryIP4"))


def _of(name, scenario):
    return lambda line: line["scenario"] == scenario and line["object"]["name"] == name


@pytest.mark.parametrize("injected, reason", [("vm-create-failure", "CreateFailed"), ("vm-stuck-creating", "Creating")])
def test_a_vm_that_failed_to_be_created_is_recreated(testbed, admin_client, namespace, rulebook, injected, reason):
    objects = client.CustomObjectsApi(admin_client)
    faults = FaultBook(testbed.layout.faults_file)  # at once, not after a CLI's start-up
    name = f"rem-{reason.lower()}-{uuid.uuid4().hex[:5]}"
    fault(testbed, injected, "--namespace", namespace, "--name", name)
    try:
        first = _create_vm(objects, namespace, name)["metadata"]["uid"]
        _until(lambda: _created(_vm(objects, namespace, name)).get("reason") == reason, 30, f"the VM {reason}")
        # the playbook deletes the failed VM to make it again: then the fault goes, as a
        # transient failure would, and the new VM must come up
        _until(lambda: (_vm(objects, namespace, name) or {"metadata": {"uid": None}})["metadata"]["uid"] != first,
               240, "the failed VM deleted")
        faults.undo(injected, namespace, name)
        record = rulebook.wait_for_record(lambda line: _of(name, "vm_failed")(line) and line["outcome"] == "remediated",
                                          120, "the remediated record")
        vm = _until(lambda: (lambda vm: vm if _running(vm) else None)(_vm(objects, namespace, name)), 60,
                    "the recreated VM running")
        assert vm["metadata"]["uid"] != first and record["object"]["uid"] == vm["metadata"]["uid"]
        assert vm["metadata"]["annotations"][ATTEMPTS] == "1"
        assert vm["metadata"]["annotations"]["owner"] == "team-a" and vm["metadata"]["labels"]["app"] == "remediation-e2e"
        assert vm["spec"]["className"] == VM_CLASS and vm["spec"]["imageName"] == "ubuntu-22.04"
        detail = record["detail"]
        assert detail["action"] == "recreated" and int(detail["attempt"]) == 1 and int(detail["budget"]) == BUDGET
        assert detail["failed_uid"] == first and detail["condition"]["reason"] == reason
        assert not [line for line in rulebook.records() if _of(name, "vm_failed")(line) and line["outcome"] == "escalated"]
    finally:
        fault(testbed, injected, "--namespace", namespace, "--name", name, "--undo")
        _delete_vm(objects, namespace, name)


def test_a_vm_that_keeps_failing_is_escalated_when_the_budget_is_spent(testbed, admin_client, namespace, rulebook):
    objects = client.CustomObjectsApi(admin_client)
    name = f"rem-escalate-{uuid.uuid4().hex[:5]}"
    fault(testbed, "vm-create-failure", "--namespace", namespace, "--name", name)
    try:
        first = _create_vm(objects, namespace, name)["metadata"]["uid"]
        record = rulebook.wait_for_record(lambda line: _of(name, "vm_failed")(line) and line["outcome"] == "escalated",
                                          600, "the escalation record")
        vm = _vm(objects, namespace, name)
        # the budget was spent on recreations, then the VM was left as it is, still failing
        assert vm["metadata"]["uid"] != first and vm["metadata"]["annotations"][ATTEMPTS] == str(BUDGET)
        assert record["object"]["uid"] == vm["metadata"]["uid"]
        assert int(record["detail"]["attempts"]) == BUDGET and int(record["detail"]["budget"]) == BUDGET
        assert "CreateFailed" in record["detail"]["reason"] and "InsufficientResourcesFault" in record["detail"]["reason"]
        assert _created(vm)["reason"] == "CreateFailed"
        assert not [line for line in rulebook.records() if _of(name, "vm_failed")(line) and line["outcome"] == "remediated"]
        # the escalation shows in ansible-rulebook's output as a failed play with its message
        rulebook.wait_for_output(f"ESCALATION vm_failed {namespace}/{name}: VirtualMachine", 120)
        time.sleep(5)  # nothing more happens to it: no further recreation after the escalation
        assert _vm(objects, namespace, name)["metadata"]["uid"] == vm["metadata"]["uid"]
        assert len([line for line in rulebook.records() if _of(name, "vm_failed")(line)]) == 1
        assert rulebook.process.poll() is None, "an escalation does not stop the rulebook"
    finally:
        fault(testbed, "vm-create-failure", "--namespace", namespace, "--name", name, "--undo")
        _delete_vm(objects, namespace, name)


def test_a_vm_powered_off_in_vcenter_is_powered_on_again(testbed, admin_client, namespace, rulebook):
    objects = client.CustomObjectsApi(admin_client)
    name = f"rem-power-{uuid.uuid4().hex[:5]}"
    try:
        _create_vm(objects, namespace, name)
        vm = _until(lambda: (lambda vm: vm if _running(vm) else None)(_vm(objects, namespace, name)), 60, "the VM running")
        moref = vm["status"]["uniqueID"]
        fault(testbed, "power-off", "--namespace", namespace, "--name", name)
        record = rulebook.wait_for_record(_of(name, "vm_powered_off"), 120, "the power-on record")
        assert record["outcome"] == "remediated", record
        assert record["detail"]["powered_off_by"] == testbed.credentials.vcenter_user
        assert record["detail"]["moref"] == moref and record["detail"]["power_state"] == "PoweredOn"
        assert record["object"] == {"kind": "VirtualMachine", "namespace": namespace, "name": name,
                                    "uid": vm["metadata"]["uid"]}
        after = _vm(objects, namespace, name)
        assert _running(after) and after["spec"]["powerState"] == "PoweredOn"
        assert after["metadata"]["uid"] == vm["metadata"]["uid"], "powered on, not recreated"
        assert after["spec"]["className"] == VM_CLASS and after["metadata"]["labels"]["app"] == "remediation-e2e"
    finally:
        fault(testbed, "power-off", "--namespace", namespace, "--name", name, "--undo", check=False)
        _delete_vm(objects, namespace, name)
