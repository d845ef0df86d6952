"""pacific.supervisor.remediate under the real ansible-rulebook CLI, for guest clusters, native
pods and namespace quotas: each test injects a testbed fault, then reads the API until the system
is back in its desired state, and finds the remediation playbook's record. One ansible-rulebook
process (one JVM) serves the whole module; each scenario has a namespace of its own."""
from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.faults import FaultBook
from testbed.credentials import DEVELOPER_USER
from testbed.remediation import Rulebook, fault
from testbed.vcenter import wait_developer_access
from tests.collection_path import collection_tree
from tests.testbed.conftest import Vcenter

pytestmark = pytest.mark.testbed

RUN = uuid.uuid4().hex[:5]
NAMESPACES = {"guest": f"rem-gc-{RUN}", "pod": f"rem-pod-{RUN}", "crash": f"rem-crash-{RUN}",
              "quota": f"rem-quota-{RUN}", "quota_max": f"rem-qmax-{RUN}"}
VM_CLASS = f"rem-small-{RUN}"
QUOTA_STEP, QUOTA_MAX = 2, 2
POD_RESTART_BUDGET = 2
TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")
CAPI = ("cluster.x-k8s.io", "v1beta1")


def until(probe, timeout, what, interval=0.5):
    """The first truthy result of ``probe()`` within ``timeout`` seconds, else a failure naming ``what``."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except ApiException as err:
            last = err
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout}s (last: {last!r})")


class Remediation(Rulebook):
    """The running ansible-rulebook, asked for records by scenario and namespace."""

    def record(self, scenario, namespace, timeout=240, outcome=None):
        return self.wait_for_record(
            lambda r: r["scenario"] == scenario and r["object"]["namespace"] == namespace
            and (outcome is None or r["outcome"] == outcome), timeout, f"a {scenario} record for {namespace}")

    def escalated(self, line):
        return line in self.output(None)


def vsphere_namespace(vcenter, cluster, name, classes=()):
    """A namespace the developer (whom the rulebook's developer face runs as) may edit."""
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": name, "vm_service_spec": {"vm_classes": list(classes)},
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": DEVELOPER_USER.split("@")[0],
                         "domain": DEVELOPER_USER.split("@")[1]}]})
    assert answer.status_code == 204, answer.text


@pytest.fixture(scope="module")
def apis(admin_client):
    return client.CoreV1Api(admin_client), client.CustomObjectsApi(admin_client)


@pytest.fixture(scope="module")
def namespaces(testbed, apis):
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    core, objects = apis
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    vcenter.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                 json={"id": VM_CLASS, "cpu_count": 1, "memory_MB": 1024})
    for role, name in NAMESPACES.items():
        vsphere_namespace(vcenter, cluster, name, [VM_CLASS] if role == "guest" else [])
    for name in NAMESPACES.values():
        until(lambda: core.read_namespaced_service_account("default", name), 60, f"namespace {name} ready")
        wait_developer_access(testbed, name)
    until(lambda: objects.get_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", NAMESPACES["guest"],
                                                       "virtualmachineclasses", VM_CLASS), 30, "VM class bound")
    yield NAMESPACES
    guest = NAMESPACES["guest"]
    for item in objects.list_namespaced_custom_object(*TKC[:2], guest, TKC[2])["items"]:
        objects.delete_namespaced_custom_object(*TKC[:2], guest, TKC[2], item["metadata"]["name"])
    until(lambda: not objects.list_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", guest,
                                                            "virtualmachines")["items"], 120, "guest cluster VMs gone")
    for name in NAMESPACES.values():
        vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{name}")
    vcenter.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


@pytest.fixture(scope="module")
def rulebook(testbed, namespaces, tmp_path_factory):
    work = tmp_path_factory.mktemp("remediate")
    running = Remediation.start(
        testbed, work, collection_tree(), remediation_namespaces=list(namespaces.values()),
        remediation_quota_step={"pod_limit": QUOTA_STEP}, remediation_quota_max={"pod_limit": QUOTA_MAX},
        remediation_guest_ready_timeout=240, remediation_pod_restart_budget=POD_RESTART_BUDGET)
    try:
        running.wait_started()
        yield running
    finally:
        running.stop(timeout=30)


# --- namespace quotas -------------------------------------------------------------------------
def pod_count_limit(testbed, namespace):
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    return (vcenter.call("GET", f"/api/vcenter/namespaces/instances/{namespace}").json().get("resource_spec")
            or {}).get("pod_count")


def hard_pods(core, namespace):
    return [q.status.hard.get("pods") for q in core.list_namespaced_resource_quota(namespace).items
            if q.status and q.status.hard and "pods" in q.status.hard]


def small_pod(name, restart="Always"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"test": "remediation"}},
            "spec": {"restartPolicy": restart, "containers": [
                {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"],
                 "resources": {"requests": {"cpu": "10m"}}}]}}


def test_exhausted_pod_quota_is_raised_by_a_step_within_the_policy(testbed, apis, namespaces, rulebook):
    core, _ = apis
    namespace = namespaces["quota"]
    try:
        assert "pod limit of" in fault(testbed, "quota-exhausted", "--namespace", namespace)
        assert pod_count_limit(testbed, namespace) == 0
        record = rulebook.record("quota_exhausted", namespace)
        assert record["outcome"] == "remediated", record
        assert record["object"]["kind"] == "ResourceQuota"
        assert record["detail"]["exhausted"] == ["pods"]
        assert record["detail"]["limits"] == [
            {"resource": "pods", "option": "pod_limit", "from": 0, "to": QUOTA_STEP, "why": None}]
        # desired state: vCenter's limit raised, mirrored into the quota, and a pod fits again
        assert pod_count_limit(testbed, namespace) == QUOTA_STEP
        until(lambda: hard_pods(core, namespace) == [str(QUOTA_STEP)], 30, "the raised limit in the ResourceQuota")
        until(lambda: core.create_namespaced_pod(namespace, small_pod("fits-again")), 30, "a pod admitted again")
    finally:
        fault(testbed, "quota-exhausted", "--namespace", namespace, "--undo")


def test_a_limit_at_its_policy_maximum_is_escalated_and_left_alone(testbed, apis, namespaces, rulebook):
    core, _ = apis
    namespace = namespaces["quota_max"]
    for index in range(QUOTA_MAX):
        core.create_namespaced_pod(namespace, small_pod(f"filler-{index}"))
    try:
        fault(testbed, "quota-exhausted", "--namespace", namespace)
        assert pod_count_limit(testbed, namespace) == QUOTA_MAX
        record = rulebook.record("quota_exhausted", namespace)
        assert record["outcome"] == "escalated", record
        assert record["detail"]["limits"] == [
            {"resource": "pods", "option": "pod_limit", "from": QUOTA_MAX, "to": QUOTA_MAX,
             "why": f"pod_limit is at its policy maximum {QUOTA_MAX}"}]
        assert "is at its policy maximum" in record["detail"]["reason"]
        time.sleep(2)  # were anything to raise it after all, it would be now
        assert pod_count_limit(testbed, namespace) == QUOTA_MAX
        assert rulebook.escalated(f"ESCALATION quota_exhausted {namespace}/")
    finally:
        fault(testbed, "quota-exhausted", "--namespace", namespace, "--undo")


# --- native pods ------------------------------------------------------------------------------
def test_a_failed_pod_is_recreated_from_its_spec_with_the_reason_recorded(testbed, apis, namespaces, rulebook):
    core, _ = apis
    namespace, name = namespaces["pod"], "worker"
    core.create_namespaced_pod(namespace, small_pod(name, restart="Never"))
    first = until(lambda: (lambda pod: pod if pod.status.phase == "Running" else None)(
        core.read_namespaced_pod(name, namespace)), 60, "the pod running")
    try:
        fault(testbed, "pod-crashloop", "--namespace", namespace, "--name", name)
        until(lambda: core.read_namespaced_pod(name, namespace).status.phase == "Failed", 30, "the pod failed",
              interval=0.05)
    finally:
        # the fault holds for the pod's name: lifted at once (in this process: a CLI's start-up
        # could be slower than the playbook's new pod), so the pod made again runs
        FaultBook(testbed.layout.faults_file).undo("pod-crashloop", namespace, name)
    record = rulebook.record("pod_failed", namespace)
    assert record["outcome"] == "remediated", record
    assert record["detail"]["phase"] == "Failed" and record["detail"]["old_uid"] == first.metadata.uid
    container = record["detail"]["containers"][0]
    assert (container["name"], container["state"], container["reason"], container["exit_code"]) == (
        "main", "terminated", "Error", 1)
    # desired state: a new pod of the same spec runs (a Failed pod with restartPolicy Never stays
    # Failed unless made again)
    now = core.read_namespaced_pod(name, namespace)
    assert now.metadata.uid == record["detail"]["new_uid"] != first.metadata.uid
    assert now.status.phase == "Running"
    assert now.spec.restart_policy == "Never" and now.spec.containers[0].command == ["sleep", "3600"]


def test_a_pod_that_keeps_crashing_is_recreated_within_its_budget_then_escalated(testbed, apis, namespaces,
                                                                                 rulebook):
    core, _ = apis
    namespace, name = namespaces["crash"], "looping"
    core.create_namespaced_pod(namespace, small_pod(name))
    until(lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running", 60, "the pod running")
    try:
        # the fault holds for the name, so every pod the playbook makes again crashes too
        fault(testbed, "pod-crashloop", "--namespace", namespace, "--name", name)
        escalation = rulebook.record("pod_failed", namespace, outcome="escalated", timeout=300)
    finally:
        fault(testbed, "pod-crashloop", "--namespace", namespace, "--name", name, "--undo")
    records = [r for r in rulebook.records() if r["scenario"] == "pod_failed" and r["object"]["namespace"] == namespace]
    recreations = sum(int(r["detail"].get("attempts", 0)) for r in records)
    assert recreations == POD_RESTART_BUDGET, records
    first = records.index(escalation)
    assert {r["outcome"] for r in records[:first]} <= {"remediated", "skipped"}, records
    assert {r["outcome"] for r in records[first:]} <= {"escalated", "skipped"}, records
    assert escalation["object"]["kind"] == "Pod" and escalation["object"]["name"] == name
    assert "failed again" in escalation["detail"]["reason"]
    container = escalation["detail"]["containers"][0]
    assert container["last_termination_reason"] == "Error" and container["last_exit_code"] == 1
    assert rulebook.escalated(f"ESCALATION pod_failed {namespace}/{name}")
    # escalated, not recreated again: the pod the last attempt made is the one there
    time.sleep(2)
    live = [p.metadata.uid for p in core.list_namespaced_pod(namespace).items if p.metadata.name == name]
    assert len(live) == 1


# --- guest clusters ---------------------------------------------------------------------------
def ready(cluster):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (cluster.get("status") or {}).get("conditions", []))


def test_a_lost_guest_cluster_node_is_replaced(testbed, apis, namespaces, rulebook):
    _, objects = apis
    namespace, name = namespaces["guest"], "gc"
    releases = objects.list_cluster_custom_object("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesreleases")
    release = sorted(r["metadata"]["name"] for r in releases["items"] if ready(r))[0]
    pool = {"vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy", "tkr": {"reference": {"name": release}}}
    objects.create_namespaced_custom_object(*TKC[:2], namespace, TKC[2], {
        "apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster", "metadata": {"name": name},
        "spec": {"topology": {"controlPlane": {"replicas": 1, **pool},
                              "nodePools": [{"name": "workers", "replicas": 1, **pool}]}}})
    until(lambda: ready(objects.get_namespaced_custom_object(*TKC[:2], namespace, TKC[2], name)), 240,
          "the guest cluster Ready")

    def machines():
        return {m["metadata"]["name"]: m for m in objects.list_namespaced_custom_object(
            *CAPI, namespace, "machines", label_selector=f"cluster.x-k8s.io/cluster-name={name}")["items"]}

    before = machines()
    try:
        said = fault(testbed, "guest-cluster-unhealthy", "--namespace", namespace, "--name", name)
        victim = said.split("Machine ")[1].split(" failed")[0].split("/")[1]
        record = rulebook.record("guest_cluster_unhealthy", namespace, timeout=300)
        assert record["outcome"] == "remediated", record
        assert record["object"] == {"kind": "TanzuKubernetesCluster", "namespace": namespace, "name": name,
                                    "uid": objects.get_namespaced_custom_object(*TKC[:2], namespace, TKC[2],
                                                                                name)["metadata"]["uid"]}
        assert record["detail"]["deleted"] == [victim]
        assert [(m["name"], m["phase"], m["reason"]) for m in record["detail"]["failed_machines"]] == [
            (victim, "Failed", "VirtualMachineNotRunning")]
        # desired state: Ready, every Machine running, the lost one replaced by a new Machine
        assert ready(objects.get_namespaced_custom_object(*TKC[:2], namespace, TKC[2], name))
        after = machines()
        assert set(after) == set(before)
        assert after[victim]["metadata"]["uid"] != before[victim]["metadata"]["uid"]
        assert all(m["status"]["phase"] == "Running" for m in after.values())
    finally:
        try:
            fault(testbed, "guest-cluster-unhealthy", "--namespace", namespace, "--name", name, "--undo")
        except AssertionError:
            pass  # a replaced Machine's VM may not be made yet: nothing of the fault is left to undo
