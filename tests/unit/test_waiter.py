"""The waiter's logic over a scripted client (a fake is fine here: the real watch is exercised by
the integration targets): list then watch, relist on 410, fail fast, time out with the last status."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, waiter
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import SupervisorClient, Target

VM = kinds.VIRTUAL_MACHINE
CREATED = [{"type": "VirtualMachineCreated", "status": "True"}]


def vm(rv, **status):
    return {"metadata": {"name": "web-1", "resourceVersion": str(rv)}, "spec": {"powerState": "PoweredOn"},
            "status": status}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ScriptedClient:
    """Answers LISTs and watches from scripts; each watch event advances the clock a second."""

    server = "https://sv"

    def __init__(self, lists, watches, clock):
        self.lists, self.watches, self.clock = list(lists), list(watches), clock
        self.queries = []

    def request(self, method, path, target, query=None, **kwargs):
        self.queries.append(("list", dict(query or [])))
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer  # pylint: disable=raising-bad-type
        return answer

    def list_page(self, resource, namespace=None, query=None, target=None):
        return self.request("GET", resource.path(namespace), target, query=query)

    def stream(self, path, target, query, timeout):
        self.queries.append(("watch", dict(query)))
        events = self.watches.pop(0) if self.watches else []
        if isinstance(events, Exception):
            raise events  # pylint: disable=raising-bad-type
        for event in events:
            self.clock.now += 1
            yield event
        self.clock.now += 100  # the server ended the watch at its timeout


def listing(rv, *items):
    return {"metadata": {"resourceVersion": str(rv)}, "items": list(items)}


def test_ready_on_a_watch_event_after_a_pending_list():
    clock = Clock()
    ready = vm(3, powerState="PoweredOn", network={"primaryIP4": "10.0.0.2"}, conditions=CREATED)
    client = ScriptedClient([listing(1, vm(1))], [[{"type": "MODIFIED", "object": vm(2, conditions=CREATED)},
                                                   {"type": "MODIFIED", "object": ready}]], clock)
    assert waiter.wait_ready(client, VM, "web-1", "a", timeout=60, clock=clock) is ready
    watch = client.queries[1][1]
    assert watch["resourceVersion"] == "1" and watch["fieldSelector"] == "metadata.name=web-1"
    assert watch["watch"] == "true" and int(watch["timeoutSeconds"]) <= 60


def test_a_terminal_condition_fails_at_once_with_its_message():
    clock = Clock()
    failed = vm(2, conditions=[{"type": "VirtualMachineClassReady", "status": "False", "reason": "NotFound",
                                "message": "VirtualMachineClass 'huge' not found in namespace a"}])
    client = ScriptedClient([listing(1, vm(1))], [[{"type": "MODIFIED", "object": failed}]], clock)
    with pytest.raises(errors.WaitFailed) as caught:
        waiter.wait_ready(client, VM, "web-1", "a", timeout=60, clock=clock)
    assert caught.value.msg == ("VirtualMachine web-1 in namespace a failed: "
                                "VirtualMachineClass 'huge' not found in namespace a")
    assert caught.value.details["last_status"] == failed["status"]


def test_gone_410_relists_and_bookmarks_move_the_version():
    clock = Clock()
    ready = vm(9, powerState="PoweredOn", network={"primaryIP4": "10.0.0.2"}, conditions=CREATED)
    client = ScriptedClient(
        [listing(1, vm(1)), listing(8, ready)],
        [[{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "5"}}},
          {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}}]], clock)
    assert waiter.wait_ready(client, VM, "web-1", "a", timeout=600, clock=clock) is ready
    assert [kind for kind, _query in client.queries] == ["list", "watch", "list"]
    assert client.queries[1][1]["allowWatchBookmarks"] == "true"


def test_a_dropped_connection_resumes_from_the_last_resource_version():
    clock = Clock()
    ready = vm(9, powerState="PoweredOn", network={"primaryIP4": "10.0.0.2"}, conditions=CREATED)
    client = ScriptedClient([listing(1, vm(1))],
                            [errors.Unreachable("connection reset"), [{"type": "MODIFIED", "object": ready}]], clock)
    assert waiter.wait_ready(client, VM, "web-1", "a", timeout=600, clock=clock, sleep=_sleeping(clock, [])) is ready
    assert [kind for kind, _query in client.queries] == ["list", "watch", "watch"]
    assert client.queries[2][1]["resourceVersion"] == "1"


def _sleeping(clock, slept):
    def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds
    return sleep


def _refused():
    return errors.Unreachable("cannot reach the Supervisor API at https://sv: connection refused")


def _forbidden():
    return errors.Forbidden("forbidden: not allowed to list VirtualMachine objects in namespace a")


def test_a_restarted_apiserver_is_waited_for_beyond_one_requests_retries():
    """Down for longer than one request's retries, then 403 while its RBAC caches fill: the wait
    resumes (this failed with the Unreachable, then with the 403, before the waiter resumed)."""
    clock, slept = Clock(), []
    ready = vm(9, powerState="PoweredOn", network={"primaryIP4": "10.0.0.2"}, conditions=CREATED)
    outage = [_refused()] * 8 + [_forbidden()] * 2
    client = ScriptedClient([listing(1, vm(1))], [_refused()] + outage + [[{"type": "MODIFIED", "object": ready}]],
                            clock)
    assert waiter.wait_ready(client, VM, "web-1", "a", timeout=600, clock=clock, sleep=_sleeping(clock, slept)) is ready
    assert len(slept) == 11 and max(slept) <= 5.0


def test_a_403_on_the_first_list_is_the_users_at_once():
    clock, slept = Clock(), []
    client = ScriptedClient([_forbidden()], [], clock)
    with pytest.raises(errors.Forbidden):
        waiter.wait_ready(client, VM, "web-1", "a", timeout=600, clock=clock, sleep=_sleeping(clock, slept))
    assert slept == []


def test_a_403_long_after_the_watch_broke_is_the_users():
    clock, slept = Clock(), []
    client = ScriptedClient([listing(1, vm(1))], [_refused()] + [_forbidden()] * 40, clock)
    with pytest.raises(errors.Forbidden):
        waiter.wait_ready(client, VM, "web-1", "a", timeout=600, clock=clock, sleep=_sleeping(clock, slept))
    assert waiter.REJOIN_GRACE - 5 <= sum(slept) <= waiter.REJOIN_GRACE + 5


def test_an_apiserver_away_past_the_deadline_fails_with_why():
    clock, slept = Clock(), []
    client = ScriptedClient([listing(1, vm(1))], [_refused()] * 100, clock)
    with pytest.raises(errors.Unreachable, match="connection refused"):
        waiter.wait_ready(client, VM, "web-1", "a", timeout=60, clock=clock, sleep=_sleeping(clock, slept))
    assert clock.now <= 60


def test_a_wait_that_fails_after_a_write_reports_the_change():
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import reporting_change

    with pytest.raises(errors.WaitTimeout) as caught:
        with reporting_change(True):
            raise errors.WaitTimeout("not ready", last_status={})
    assert caught.value.details == {"last_status": {}, "changed": True}
    with pytest.raises(errors.WaitTimeout) as caught:
        with reporting_change(False):
            raise errors.WaitTimeout("not ready")
    assert "changed" not in caught.value.details


def test_timeout_reports_why_it_is_not_ready_and_the_last_status():
    clock = Clock()
    stuck = vm(2, conditions=[{"type": "VirtualMachineCreated", "status": "False", "reason": "Creating",
                               "message": "waiting for the VM to be created in vCenter"}])
    client = ScriptedClient([listing(1, stuck)], [[]], clock)
    with pytest.raises(errors.WaitTimeout) as caught:
        waiter.wait_ready(client, VM, "web-1", "a", timeout=30, clock=clock)
    assert caught.value.msg == ("VirtualMachine web-1 in namespace a was not ready within 30 seconds: "
                                "VirtualMachineCreated=False (waiting for the VM to be created in vCenter)")
    assert caught.value.details["last_status"] == stuck["status"]


def test_deleted_while_waiting_fails():
    clock = Clock()
    client = ScriptedClient([listing(1, vm(1))], [[{"type": "DELETED", "object": vm(2)}]], clock)
    with pytest.raises(errors.WaitFailed, match="was deleted while waiting"):
        waiter.wait_ready(client, VM, "web-1", "a", timeout=60, clock=clock)


def test_wait_absent_ends_on_delete_and_times_out_naming_finalizers():
    clock = Clock()
    client = ScriptedClient([listing(1, vm(1))], [[{"type": "DELETED", "object": vm(2)}]], clock)
    assert waiter.wait_absent(client, VM, "web-1", "a", timeout=60, clock=clock) is None
    clock = Clock()
    held = vm(1)
    held["metadata"]["finalizers"] = ["vmoperator.vmware.com/virtualmachine"]
    client = ScriptedClient([listing(1, held)], [[]], clock)
    with pytest.raises(errors.WaitTimeout, match="finalizers left: vmoperator.vmware.com/virtualmachine"):
        waiter.wait_absent(client, VM, "web-1", "a", timeout=10, clock=clock)


class Answer:
    def __init__(self, status, data):
        self.status, self.data = status, data
        self.response = self

    def read(self):
        return self.data

    def release_conn(self):
        pass


def test_the_client_logs_in_again_once_on_401():
    """A token that expires mid-run is renewed once from username/password, then the request repeats."""
    logins = []

    class FakeApiClient:
        class configuration:
            host = "https://sv"
            api_key = {"BearerToken": "old"}
            api_key_prefix = {"BearerToken": "Bearer"}

        def __init__(self):
            self.sent = []

        def param_serialize(self, method, path, **kwargs):
            return (method, path, dict(self.configuration.api_key), None, None)

        def call_api(self, method, url, headers, body, post, _request_timeout=None):
            self.sent.append(headers["BearerToken"])
            return Answer(401, b"{}") if headers["BearerToken"] == "old" else Answer(200, b'{"ok": true}')

    def relogin():
        logins.append(1)
        return "new"

    api = FakeApiClient()
    client = SupervisorClient(api, relogin=relogin)
    assert client.request("GET", "/api/v1/namespaces", Target("list")) == {"ok": True}
    assert api.sent == ["old", "new"] and logins == [1]
    # without credentials to log in again, a 401 is the user's to fix
    api.configuration.api_key = {"BearerToken": "old"}
    with pytest.raises(errors.AuthenticationFailed):
        SupervisorClient(api).request("GET", "/api/v1/namespaces", Target("list"))


def test_vm_manifest_sets_only_what_is_given_and_moves_inline_data_into_a_secret():
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest

    manifest, secret = vm_manifest.build({
        "name": "web-1", "namespace": "a", "class_name": "small", "image_name": None, "power_state": "PoweredOn",
        "labels": {"tier": 1}, "network_interfaces": [{"name": "eth0", "network": "net", "dhcp4": True}],
        "volumes": [{"name": "data", "claim_name": "pvc", "read_only": None}],
        "bootstrap": {"cloud_init": {"user_data": "#cloud-config\n", "ssh_authorized_keys": ["ssh-ed25519 K"]}},
    })
    assert manifest["metadata"] == {"name": "web-1", "namespace": "a", "labels": {"tier": "1"}}
    assert manifest["spec"] == {
        "className": "small", "powerState": "PoweredOn",
        "network": {"interfaces": [{"name": "eth0", "network": {"name": "net"}, "dhcp4": True}]},
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}],
        "bootstrap": {"cloudInit": {"rawCloudConfig": {"name": "web-1-bootstrap", "key": "user-data"},
                                    "sshAuthorizedKeys": ["ssh-ed25519 K"]}},
    }
    assert secret["metadata"]["name"] == "web-1-bootstrap" and secret["data"] == {"user-data": "I2Nsb3VkLWNvbmZpZwo="}
    assert vm_manifest.owned_bootstrap_secret(secret, "web-1") and not vm_manifest.owned_bootstrap_secret(secret, "x")
    manifest, secret = vm_manifest.build({"name": "w", "namespace": "a", "bootstrap": {
        "sysprep": {"secret_name": "answers", "secret_key": "unattend"}}})
    assert manifest["spec"]["bootstrap"] == {"sysprep": {"rawSysprep": {"name": "answers", "key": "unattend"}}}
    assert secret is None
    with pytest.raises(errors.InvalidArgument, match="not a valid DNS-1123 label"):
        vm_manifest.build({"name": "w", "namespace": "a", "network_interfaces": [{"name": "Eth_0"}]})
