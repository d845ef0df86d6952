"""The event sources' ``main(queue, args)``, loaded as ansible-rulebook loads them (runpy, from the
collection tree), against the testbed's real kube-apiserver and vcsim.

Exact transitions for changes the tests make; and the counting tests: kube-apiserver restarted
mid-watch (with every WCP token voided before, so the login source must log in again) - every
object's chain of transitions must be unbroken (each ``from`` is the previous ``to``), start
where the object started and end in the state the API reports: a lost transition breaks the
chain, a repeated one too.
"""
from __future__ import annotations

import asyncio
import logging
import os
import runpy
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.layout import REPO_ROOT
from tests.collection_path import collection_tree
from testbed.vcenter import wcp_token
from tests.testbed.conftest import Vcenter, _until

pytestmark = pytest.mark.testbed

SOURCES = collection_tree() / "ansible_collections" / "pacific" / "supervisor" / "extensions" / "eda" / "plugins" / "event_source"
NAMESPACE = "eda-events"
VM_CLASS = "eda-small"
GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"


def gone_or_going(delete, *args, **kwargs):
    try:
        delete(*args, **kwargs)
    except ApiException as err:
        if err.status != 404:
            raise


def load_source(name: str):
    return runpy.run_path(str(SOURCES / f"{name}.py"))["main"]


def fault(testbed, *args) -> str:
    env = {**os.environ, **testbed.layout.environment()}
    done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Running:
    """A source's ``main(queue, args)`` running as a task, and everything it put on its queue."""

    def __init__(self, main, args):
        self.main, self.args = main, args
        self.events: list[dict] = []

    async def __aenter__(self):
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self.main(self.queue, self.args))
        self.pump = asyncio.create_task(self._pump())
        return self

    async def _pump(self):
        while True:
            self.events.append(await self.queue.get())

    async def wait_for(self, predicate, timeout=20.0, what="events"):
        deadline = time.monotonic() + timeout
        while True:
            found = predicate(self.events)
            if found:
                return found
            if self.task.done():
                self.task.result()  # its error, if it failed
                pytest.fail(f"the source ended before {what}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {timeout}s; got {summary(self.events)}")
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc):
        self.task.cancel()
        started = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        assert time.monotonic() - started < 5, "the source took long to stop"
        self.pump.cancel()


def summary(events):
    return [(e["change"], e["kind"], e["name"], e.get("condition") or e.get("container") or e.get("reason"),
             e["from"] if not isinstance(e["from"], dict) else e["from"].get("status"),
             e["to"] if not isinstance(e["to"], dict) else e["to"].get("status")) for e in events]


def snapshot_of(kind, name):
    return lambda events: any(e["change"] == "snapshot" and e["kind"] == kind and e["name"] == name for e in events)


def of(events, name, change=None):
    return [e for e in events if e["name"] == name and e["change"] != "snapshot" and (change is None or e["change"] == change)]


@pytest.fixture(scope="module")
def namespace(testbed, admin_client):
    """A vSphere Namespace with a VM class and the developer as an editor, made through vCenter."""
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    core = client.CoreV1Api(admin_client)
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    # after an apiserver restart, kube-controller-manager may take a while to finish a deletion
    _until(lambda: NAMESPACE not in [n.metadata.name for n in core.list_namespace().items], 180, "old namespace gone")
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    vcenter.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                 json={"id": VM_CLASS, "cpu_count": 1, "memory_MB": 1024})
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": NAMESPACE, "vm_service_spec": {"vm_classes": [VM_CLASS]},
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": creds.developer_user.split("@")[0],
                         "domain": creds.developer_user.split("@")[1]}]})
    assert answer.status_code == 204, answer.text
    objects = client.CustomObjectsApi(admin_client)
    _until(lambda: objects.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachineclasses", VM_CLASS),
           10, "VM class bound")
    _until(lambda: core.read_namespaced_service_account("default", NAMESPACE), 30, "the default ServiceAccount")
    yield NAMESPACE
    for vm in objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"]:
        gone_or_going(objects.delete_namespaced_custom_object, GROUP, VERSION, NAMESPACE, "virtualmachines",
                      vm["metadata"]["name"])
    _until(lambda: not objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "virtualmachines")["items"],
           30, "VMs deleted")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    vcenter.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


@pytest.fixture
def token_args(testbed):
    """The developer face as the namespace developer: a token of a real /wcp/login as devops."""
    creds = testbed.credentials
    return {"server": testbed.layout.supervisor_url, "token": wcp_token(testbed, creds.developer_user,
                                                                        creds.developer_password),
            "ca_cert": str(testbed.pki.ca_cert)}


@pytest.fixture
def admin_token_args(testbed):
    """The Supervisor admin, for a source that watches Namespaces."""
    return {"server": testbed.layout.apiserver_url, "token": testbed.credentials.admin_token,
            "ca_cert": str(testbed.pki.ca_cert)}


@pytest.fixture
def login_args(testbed):
    creds = testbed.credentials
    return {"server": testbed.layout.supervisor_url, "username": creds.developer_user,
            "password": creds.developer_password, "ca_cert": str(testbed.pki.ca_cert)}


def vm_body(name, power="PoweredOn"):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine", "metadata": {"name": name},
            "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                     "powerState": power}}


def pod_body(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "eda"}},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "main", "image": "busybox:1.36",
                                                                "resources": {"requests": {"cpu": "10m"}}}]}}


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 240))


# --- exact transitions ------------------------------------------------------------------------
def test_vm_lifecycle_transitions_and_events(namespace, admin_client, admin_token_args):
    # as the admin: the source watches the Namespace object too, which a developer may get but
    # not list or watch on a Supervisor (its RoleBinding does not reach the cluster scope)
    objects = client.CustomObjectsApi(admin_client)
    main = load_source("supervisor_events")
    args = {**admin_token_args, "kinds": ["Namespace", "VirtualMachine", "Event"], "namespaces": [namespace],
            "initial_snapshot": True}

    async def scenario():
        async with Running(main, args) as source:
            await source.wait_for(snapshot_of("Namespace", namespace), what="the first list")
            await asyncio.to_thread(objects.create_namespaced_custom_object, GROUP, VERSION, namespace,
                                    "virtualmachines", vm_body("eda-vm-1"))
            await source.wait_for(lambda ev: of(ev, "eda-vm-1", "event"), what="CreateSuccess")
            await source.wait_for(lambda ev: of(ev, "eda-vm-1", "power_state"), what="powered on")
            await asyncio.to_thread(objects.patch_namespaced_custom_object, GROUP, VERSION, namespace,
                                    "virtualmachines", "eda-vm-1", {"spec": {"powerState": "PoweredOff"}})
            await source.wait_for(lambda ev: len(of(ev, "eda-vm-1", "power_state")) == 2, what="powered off")
            await asyncio.to_thread(objects.delete_namespaced_custom_object, GROUP, VERSION, namespace,
                                    "virtualmachines", "eda-vm-1")
            await source.wait_for(lambda ev: of(ev, "eda-vm-1", "deleted") and len(of(ev, "eda-vm-1", "event")) == 2,
                                  what="deleted")
            await asyncio.sleep(1.0)  # anything late would be a duplicate
            return source.events

    events = run(scenario())
    vm = of(events, "eda-vm-1")
    uid = vm[0]["uid"]
    assert [(e["change"], e.get("condition"), e["from"], e["to"]) for e in vm if e["change"] != "event"] == [
        ("added", None, None, None),
        ("power_state", None, None, "PoweredOn"),
        ("condition", "VirtualMachineClassReady", None, {"status": "True", "reason": "True", "message": ""}),
        ("condition", "VirtualMachineCreated", None, {"status": "True", "reason": "True", "message": ""}),
        ("condition", "VirtualMachineImageReady", None, {"status": "True", "reason": "True", "message": ""}),
        ("condition", "VirtualMachinePowerStateSynced", None, {"status": "True", "reason": "Synced",
                                                                "message": "PoweredOn"}),
        ("power_state", None, "PoweredOn", "PoweredOff"),
        ("deleted", None, None, None),
    ]
    assert all(e["uid"] == uid and e["kind"] == "VirtualMachine" and e["namespace"] == namespace for e in vm)
    assert [(e["reason"], e["event_type"], e["count"], e["kind"]) for e in of(events, "eda-vm-1", "event")] == [
        ("CreateSuccess", "Normal", 1, "VirtualMachine"), ("DeleteSuccess", "Normal", 1, "VirtualMachine")]
    assert vm[-1]["state"]["power_state"] == "PoweredOff"


def test_label_selector_and_initial_snapshot(namespace, admin_client, token_args):
    core = client.CoreV1Api(admin_client)
    core.create_namespaced_pod(namespace, pod_body("eda-snap"))
    try:
        _until(lambda: core.read_namespaced_pod("eda-snap", namespace).status.phase == "Running", 20, "pod running")
        main = load_source("supervisor_events")

        async def scenario(selector):
            async with Running(main, {**token_args, "kinds": ["Pod"], "namespaces": [namespace],
                                      "label_selector": selector, "initial_snapshot": True}) as source:
                if selector == "app=eda":
                    await source.wait_for(snapshot_of("Pod", "eda-snap"), what="the first list")
                await asyncio.sleep(2.0)
                assert not source.task.done()
                return source.events

        matching = [e for e in run(scenario("app=eda")) if e["kind"] == "Pod"]
        assert [(e["change"], e["name"], e["state"]["phase"], e["state"]["containers"]["main"]["state"])
                for e in matching] == [("snapshot", "eda-snap", "Running", "Running")]
        assert [e for e in run(scenario("app=other")) if e["kind"] == "Pod"] == []
    finally:
        core.delete_namespaced_pod("eda-snap", namespace, grace_period_seconds=0)


@pytest.mark.parametrize("args, error, message", [
    ({"kinds": ["VirtualMachine", "Deployment"]}, "InvalidArgument",
     "unknown kind 'Deployment'; the supervisor event source watches VirtualMachine, TanzuKubernetesCluster"),
    ({"kinds": ["Pod"], "label_selector": "app in (web"}, "InvalidArgument",
     "Pod (v1) in namespace eda-events: unable to parse requirement"),
    ({"kinds": ["Pod"], "token": "not-a-token"}, "AuthenticationFailed",
     "Pod (v1) in namespace eda-events: the Supervisor refused the credentials (401 Unauthorized)"),
    ({"kinds": ["Pod"], "username": "devops@vsphere.local", "password": "wrong", "token": None},
     "AuthenticationFailed", "refused the user name or password of devops@vsphere.local"),
    ({"kinds": [{"kind": "Machine", "api_version": "cluster.x-k8s.io/v1alpha1"}]}, "NotFound",
     "Machine (cluster.x-k8s.io/v1alpha1) in namespace eda-events is not served by this Supervisor"),
    ({"kinds": ["Pod"], "kind": "Pod"}, "InvalidArgument", "unknown option(s) kind;"),
])
def test_bad_source_args_fail_at_once_with_one_message(namespace, testbed, token_args, args, error, message):
    main = load_source("supervisor_events")
    args = {**token_args, "namespaces": [namespace], **args}

    async def start():
        await asyncio.wait_for(main(asyncio.Queue(), args), 15)

    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        asyncio.run(start())
    assert type(raised.value).__name__ == error
    assert message in str(raised.value), str(raised.value)
    assert "\n" not in str(raised.value)
    assert time.monotonic() - started < 10


def test_a_developer_without_rights_in_a_namespace_is_refused(namespace, login_args):
    # the developer edits VMs in their vSphere Namespace (edit aggregates vmoperator.vmware.com), not elsewhere
    main = load_source("supervisor_events")
    with pytest.raises(Exception, match=r"VirtualMachine \(vmoperator.vmware.com/v1alpha3\) in namespace default: "
                                        r".*cannot list resource \"virtualmachines\"") as raised:
        args = {**login_args, "kinds": ["VirtualMachine"], "namespaces": [namespace, "default"]}
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), args), 15))
    assert type(raised.value).__name__ == "Forbidden"


# --- restart resilience: count them -----------------------------------------------------------------
FACETS = ("phase", "power_state", "condition", "container")


def chains(events):
    """uid -> facet -> the list of (from, to) of that facet, in emitted order."""
    found = defaultdict(lambda: defaultdict(list))
    for e in events:
        if e["change"] in FACETS:
            facet = (e["change"], e.get("condition") or e.get("container"))
            found[e["uid"]][facet].append((_key(e["from"]), _key(e["to"])))
    return found


def _key(value):
    return (value["status"], value.get("reason")) if isinstance(value, dict) else value


def assert_unbroken(events, uid, final: dict):
    """Each facet's transitions of ``uid`` chain from nothing to ``final`` (facet -> value)."""
    mine = chains(events)[uid]
    assert set(mine) == set(final), (sorted(mine), sorted(final))
    for facet, steps in mine.items():
        assert steps[0][0] is None, (facet, steps)
        for before, after in zip(steps, steps[1:]):
            assert after[0] == before[1], (facet, steps)
        assert steps[-1][1] == final[facet], (facet, steps, final[facet])
    added = [e for e in events if e["uid"] == uid and e["change"] == "added"]
    assert len(added) == 1


def final_state(obj: dict, kind: str) -> dict:
    status = obj.get("status") or {}
    state = {("condition", c["type"]): (c["status"], c.get("reason")) for c in status.get("conditions") or []}
    if kind == "VirtualMachine":
        state[("power_state", None)] = status.get("powerState")
    else:
        state[("phase", None)] = status.get("phase")
        for c in status.get("containerStatuses") or []:
            running = c["state"].get("running") is not None
            state[("container", c["name"])] = "Running" if running else next(
                (c["state"][k].get("reason") for k in ("waiting", "terminated") if c["state"].get(k)), None)
    return state


def test_apiserver_restart_mid_watch_loses_and_repeats_nothing(testbed, namespace, admin_client, admin_token_args,
                                                               login_args, caplog):
    caplog.set_level(logging.INFO, logger="ansible_collections.pacific.supervisor")
    objects, core = client.CustomObjectsApi(admin_client), client.CoreV1Api(admin_client)
    main = load_source("supervisor_events")
    admin_args = {**admin_token_args, "kinds": ["Namespace", "VirtualMachine", "Pod"], "namespaces": [namespace],
                  "initial_snapshot": True, "reconnect_max_delay": 2}
    # the developer's first list is done once it passes the sentinel's snapshot on
    developer_args = {**login_args, "kinds": ["Pod", "Event"], "namespaces": [namespace], "reconnect_max_delay": 2,
                      "initial_snapshot": True}

    def create_vm(name, power="PoweredOn"):
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", vm_body(name, power))

    async def scenario():
        await asyncio.to_thread(core.create_namespaced_pod, namespace, pod_body("eda-sentinel"))
        async with Running(main, admin_args) as admin, Running(main, developer_args) as developer:
            await admin.wait_for(snapshot_of("Namespace", namespace), what="the first list")
            await developer.wait_for(snapshot_of("Pod", "eda-sentinel"), what="the developer's first list")
            await asyncio.to_thread(create_vm, "eda-before")
            await asyncio.to_thread(core.create_namespaced_pod, namespace, pod_body("eda-pod-before"))
            await admin.wait_for(lambda ev: of(ev, "eda-before", "power_state"), what="eda-before on")
            # every WCP token void, then the restart: the developer's source must log in again
            await asyncio.to_thread(fault, testbed, "wcp-token-expiry")
            await asyncio.to_thread(fault, testbed, "apiserver-restart")
            # changes at once, while the sources are still reconnecting
            await asyncio.to_thread(create_vm, "eda-after")
            await asyncio.to_thread(objects.patch_namespaced_custom_object, GROUP, VERSION, namespace,
                                    "virtualmachines", "eda-before", {"spec": {"powerState": "PoweredOff"}})
            await asyncio.to_thread(core.create_namespaced_pod, namespace, pod_body("eda-pod-after"))
            await admin.wait_for(lambda ev: len(of(ev, "eda-before", "power_state")) == 2, 30, "eda-before off")
            await admin.wait_for(lambda ev: of(ev, "eda-after", "power_state"), 30, "eda-after on")
            for source in (admin, developer):
                await source.wait_for(lambda ev: [e for e in of(ev, "eda-pod-after", "phase") if e["to"] == "Running"],
                                      30, "eda-pod-after running")
            await asyncio.sleep(2.0)  # late duplicates would show now
            return admin.events, developer.events

    try:
        admin_events, developer_events = run(scenario())
        vms = {vm["metadata"]["name"]: vm for vm in
               objects.list_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines")["items"]}
        pods = {pod["metadata"]["name"]: pod for pod in
                client.ApiClient().sanitize_for_serialization(core.list_namespaced_pod(namespace).items)}
        for name in ("eda-before", "eda-after"):
            assert_unbroken(admin_events, vms[name]["metadata"]["uid"], final_state(vms[name], "VirtualMachine"))
        for name in ("eda-pod-before", "eda-pod-after"):
            for events in (admin_events, developer_events):
                assert_unbroken(events, pods[name]["metadata"]["uid"], final_state(pods[name], "Pod"))
        # count them: no transition twice
        for events in (admin_events, developer_events):
            keys = Counter((e["uid"], e["change"], e.get("condition") or e.get("container"), str(e["from"]), str(e["to"]))
                           for e in events if e["change"] != "event")
            assert [k for k, n in keys.items() if n > 1] == []
            occurrences = Counter((e["event_uid"], e["count"]) for e in events if e["change"] == "event")
            assert [k for k, n in occurrences.items() if n > 1] == []
        # the exact power transitions of the VM changed across the restart
        assert [(e["from"], e["to"]) for e in of(admin_events, "eda-before", "power_state")] == [
            (None, "PoweredOn"), ("PoweredOn", "PoweredOff")]
        # the Events of the pods made after the restart came through the developer's new login
        assert {e["reason"] for e in developer_events if e["change"] == "event" and e["name"] == "eda-pod-after"}
        assert "logging in again" in caplog.text
    finally:
        for name in ("eda-before", "eda-after"):
            gone_or_going(objects.delete_namespaced_custom_object, GROUP, VERSION, namespace, "virtualmachines", name)
        pods = ("eda-sentinel", "eda-pod-before", "eda-pod-after")
        for name in pods:
            gone_or_going(core.delete_namespaced_pod, name, namespace, grace_period_seconds=0)
        # their VMs are powered off and destroyed in the background: vCenter events the next tests must not see
        gone_from_vcenter(testbed, {"eda-before", "eda-after", *pods})


def gone_from_vcenter(testbed, names: set[str], timeout: float = 60.0) -> None:
    from testbed.vcenter import session, vcsim_vms

    deadline = time.monotonic() + timeout
    with session(testbed.layout) as si:
        while left := names & set(vcsim_vms(si)):
            assert time.monotonic() < deadline, f"still in vCenter after {timeout:.0f} s: {sorted(left)}"
            time.sleep(0.2)


# --- vCenter -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vcsim(testbed):
    """A pyVmomi session straight to vcsim, for the test's own changes and events."""
    from testbed.vcenter import session

    with session(testbed.layout) as si:
        yield si


@pytest.fixture
def vcenter_args(testbed):
    """The user's vCenter endpoint: the WCP simulator, which proxies /sdk to vcsim."""
    creds = testbed.credentials
    return {"hostname": "127.0.0.1", "port": testbed.layout.ports.wcp, "username": creds.vcenter_user,
            "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert), "poll_interval": 0.2}


def post(si, type_id, **arguments):
    """An EventEx about the datacenter DC0 (vcsim panics on one about nothing, and hangs)."""
    import datetime

    from pyVmomi import vim

    content = si.RetrieveContent()
    datacenter = next(child for child in content.rootFolder.childEntity if child.name == "DC0")
    event = vim.event.EventEx(eventTypeId=type_id, createdTime=datetime.datetime.now(datetime.timezone.utc),
                              userName="eda-test", key=0, chainId=0, severity="info",
                              objectType=vim.Datacenter, objectId=datacenter._moId, objectName="DC0",
                              fullFormattedMessage=f"{type_id} {arguments}",
                              arguments=[vim.KeyAnyValue(key=k, value=str(v)) for k, v in arguments.items()])
    content.eventManager.PostEvent(eventToPost=event)


async def ready(source, si, marker="com.pacific.test.marker"):
    """Post markers until the source passes one on: from then on it reads everything new."""
    for attempt in range(100):
        await asyncio.to_thread(post, si, marker, attempt=attempt)
        await asyncio.sleep(0.3)
        if any(e["event_type_id"] == marker for e in source.events):
            return
        if source.task.done():
            source.task.result()
    pytest.fail("the vcenter source passed no marker on within 30s")


def after_marker(events, marker="com.pacific.test.marker"):
    return [e for e in events if e["event_type_id"] != marker]


def test_vcenter_events_by_type_and_entity(vcsim, vcenter_args, tmp_path):
    from testbed.vcenter import vm_named, wait_for_task

    main = load_source("vcenter_events")
    watched, other = vm_named(vcsim, "DC0_H0_VM0"), vm_named(vcsim, "DC0_H0_VM1")
    args = {**vcenter_args, "checkpoint_file": str(tmp_path / "checkpoint"),
            "event_types": ["VmPoweredOffEvent", "com.pacific.test.ping", "com.pacific.test.marker"],
            "entity": {"type": "Datacenter", "name": "DC0"}}

    async def scenario():
        async with Running(main, args) as source:
            await ready(source, vcsim)
            for vm in (other, watched):
                await asyncio.to_thread(wait_for_task, vm.PowerOffVM_Task())
                await asyncio.to_thread(wait_for_task, vm.PowerOnVM_Task())  # PoweredOn: not asked for
            await asyncio.to_thread(post, vcsim, "com.pacific.test.ping", n=1)
            await asyncio.to_thread(post, vcsim, "com.pacific.test.unasked")
            await source.wait_for(lambda ev: any(e["event_type_id"] == "com.pacific.test.ping" for e in ev), 10, "ping")
            await asyncio.sleep(1.0)
            return after_marker(source.events)

    passed = run(scenario())
    # only the types asked for: not the VMs' power-on, not com.pacific.test.unasked
    assert {e["event_type_id"] for e in passed} <= set(args["event_types"])
    # any VM in DC0 may be powered off meanwhile (another test's leftovers): these two are the test's
    events = [e for e in passed if e["event_type"] != "VmPoweredOffEvent" or
              (e["vm"] or {}).get("moref") in (watched._moId, other._moId)]
    assert [(e["event_type"], e["event_type_id"], (e["vm"] or {}).get("name")) for e in events] == [
        ("VmPoweredOffEvent", "VmPoweredOffEvent", "DC0_H0_VM1"),
        ("VmPoweredOffEvent", "VmPoweredOffEvent", "DC0_H0_VM0"),
        ("EventEx", "com.pacific.test.ping", None)]
    assert events[1]["vm"]["moref"] == watched._moId and events[1]["datacenter"]["name"] == "DC0"
    assert events[2]["arguments"] == {"n": "1"} and events[2]["severity"] == "info" and events[2]["user_name"]
    assert events[2]["entity"] == {"type": "Datacenter", "moref": events[1]["datacenter"]["moref"], "name": "DC0"}
    assert [e["key"] for e in events] == sorted(e["key"] for e in events)


def test_vcenter_source_restarted_loses_and_repeats_nothing(vcsim, vcenter_args, tmp_path):
    main = load_source("vcenter_events")
    checkpoint = tmp_path / "state" / "vcenter.checkpoint"
    checkpoint.parent.mkdir()
    args = {**vcenter_args, "checkpoint_file": str(checkpoint),
            "event_types": ["com.pacific.test.n", "com.pacific.test.marker"]}

    def numbers(events):
        return [int(e["arguments"]["n"]) for e in events if e["event_type_id"] == "com.pacific.test.n"]

    async def first_run():
        async with Running(main, args) as source:
            await ready(source, vcsim)
            for n in (1, 2, 3):
                await asyncio.to_thread(post, vcsim, "com.pacific.test.n", n=n)
            await source.wait_for(lambda ev: numbers(ev) == [1, 2, 3], 10, "1, 2, 3")
            return source.events

    async def second_run():
        async with Running(main, args) as source:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(post, vcsim, "com.pacific.test.n", n=7)
            await source.wait_for(lambda ev: 7 in numbers(ev), 10, "7")
            await asyncio.sleep(1.0)
            return source.events

    first = run(first_run())
    import json

    saved = json.loads(checkpoint.read_text())
    assert saved["key"] == first[-1]["key"]
    for n in (4, 5, 6):  # while no source runs
        post(vcsim, "com.pacific.test.n", n=n)
    second = run(second_run())
    assert numbers(first) == [1, 2, 3]
    assert numbers(second) == [4, 5, 6, 7]
    # nothing of the first run came again, markers included
    assert not {e["key"] for e in first} & {e["key"] for e in second}
    assert [p.name for p in checkpoint.parent.iterdir()] == ["vcenter.checkpoint"]  # no temporary left


@pytest.mark.parametrize("args, error, message", [
    ({"password": "wrong"}, "AuthenticationFailed", "refused the credentials of administrator@vsphere.local"),
    ({"entity": {"type": "VirtualMachine", "name": "no-such-vm"}}, "NotFound",
     "entity: no VirtualMachine named 'no-such-vm' in vCenter"),
    ({"entity": {"type": "Toaster", "name": "x"}}, "InvalidArgument", "entity must be {type, name or moref, recursion}"),
    ({"event_type": ["x"]}, "InvalidArgument", "unknown option(s) event_type;"),
])
def test_vcenter_bad_args_fail_at_once_with_one_message(vcenter_args, args, error, message):
    main = load_source("vcenter_events")
    with pytest.raises(Exception) as raised:
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), {**vcenter_args, **args}), 20))
    assert type(raised.value).__name__ == error
    assert message in str(raised.value), str(raised.value)
