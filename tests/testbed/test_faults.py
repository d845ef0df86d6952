"""Every fault the testbed can inject, through its CLI, and its undo."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import requests
from kubernetes import client

from testbed.layout import REPO_ROOT
from tests.testbed.conftest import GROUP, VERSION, Vcenter, _absent, _conditions, _get, _until, _vm

pytestmark = pytest.mark.testbed


def fault(testbed, *args) -> str:
    env = {**os.environ, **testbed.layout.environment()}
    done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("name", "reason"), [("vm-stuck-creating", "Creating"), ("vm-create-failure", "CreateFailed")])
def test_vm_creation_faults_hold_until_undone(testbed, namespace, admin_client, name, reason):
    objects = client.CustomObjectsApi(admin_client)
    vm_name = f"faulty-{reason.lower()}"
    fault(testbed, name, "--namespace", namespace, "--name", vm_name)
    try:
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm(vm_name))
        vm = _until(lambda: (lambda o: o if _conditions(o).get("VirtualMachineCreated", ("",))[0] == "False"
                             else None)(_get(objects, vm_name)), 30, f"{name} reported")
        assert _conditions(vm)["VirtualMachineCreated"] == ("False", reason)
        time.sleep(2.5)  # past a resync: still held
        assert "uniqueID" not in _get(objects, vm_name)["status"]
        events = {e.reason for e in client.CoreV1Api(admin_client).list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={vm_name}").items}
        assert ("CreateFailure" in events) == (name == "vm-create-failure")
    finally:
        assert "undone" in fault(testbed, name, "--namespace", namespace, "--name", vm_name, "--undo")
    _until(lambda: _get(objects, vm_name).get("status", {}).get("uniqueID"), 30, "creation after the undo")


def test_power_off_fault_and_undo(testbed, namespace, admin_client):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("faulty-power"))
    _until(lambda: _get(objects, "faulty-power").get("status", {}).get("powerState") == "PoweredOn", 30, "on")
    fault(testbed, "power-off", "--namespace", namespace, "--name", "faulty-power")
    _until(lambda: _get(objects, "faulty-power")["status"]["powerState"] == "PoweredOff", 30, "off in status")
    fault(testbed, "power-off", "--namespace", namespace, "--name", "faulty-power", "--undo")
    _until(lambda: _get(objects, "faulty-power")["status"]["powerState"] == "PoweredOn", 30, "on again")


def test_vcenter_session_expiry(testbed):
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    assert vcenter.call("GET", "/api/session").status_code == 200
    time.sleep(0.01)
    fault(testbed, "vcenter-session-expiry")
    assert vcenter.call("GET", "/api/session").status_code == 401
    fresh = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    assert fresh.call("GET", "/api/vcenter/namespaces/instances").status_code == 200


def test_wcp_token_expiry(testbed):
    creds = testbed.credentials
    http = requests.Session()
    http.trust_env, http.verify = False, str(testbed.pki.ca_cert)
    login = testbed.layout.supervisor_login_url

    def whoami_status(token: str) -> int:
        # who-am-I: 201 for any authenticated user, 401 for a refused token (no anonymous fallback)
        return http.post(testbed.layout.apiserver_url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                         json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                         headers={"Authorization": f"Bearer {token}"}).status_code

    old = http.post(login, auth=(creds.developer_user, creds.developer_password)).json()["session_id"]
    assert whoami_status(old) == 201
    time.sleep(1.1)  # JWT issue times are whole seconds
    fault(testbed, "wcp-token-expiry")
    # kube-apiserver keeps good token answers for 10 s whatever the webhook cache TTL says
    _until(lambda: whoami_status(old) == 401, 15, "the old token refused")
    new = http.post(login, auth=(creds.developer_user, creds.developer_password)).json()["session_id"]
    assert whoami_status(new) == 201


def test_apiserver_restart_keeps_its_objects(testbed, namespace, admin_client):
    before = client.CoreV1Api(admin_client).read_namespace(namespace).metadata.uid
    fault(testbed, "apiserver-restart")
    assert testbed.is_ready("kube-apiserver")
    assert client.CoreV1Api(admin_client).read_namespace(namespace).metadata.uid == before


def test_unknown_fault_and_missing_scope_are_clear_errors(testbed):
    env = {**os.environ, **testbed.layout.environment()}
    for args, complaint in ((["meteor-strike"], "invalid choice"),
                            (["vm-stuck-creating"], "needs --namespace"),
                            (["power-off", "--namespace", "nowhere", "--name", "nothing"], "nowhere/nothing")):
        done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True)
        assert done.returncode != 0 and complaint in done.stderr, done.stderr


def _pod(name: str, restart_policy: str = "Always") -> dict:
    return {"metadata": {"name": name}, "spec": {"restartPolicy": restart_policy, "containers": [{
        "name": "app", "image": "busybox:1.36", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}


@pytest.mark.parametrize(("restart_policy", "phase", "state"), [("Always", "Running", "waiting"),
                                                                ("Never", "Failed", "terminated")])
def test_pod_crashloop(testbed, namespace, admin_client, restart_policy, phase, state):
    core = client.CoreV1Api(admin_client)
    _until(lambda: core.read_namespaced_service_account("default", namespace), 30, "default ServiceAccount")
    name = f"crashy-{restart_policy.lower()}"
    core.create_namespaced_pod(namespace, _pod(name, restart_policy))
    _until(lambda: core.read_namespaced_pod(name, namespace).status.phase == "Running", 30, "Running")
    fault(testbed, "pod-crashloop", "--namespace", namespace, "--name", name)
    try:
        pod = _until(lambda: (lambda p: p if getattr(p.status.container_statuses[0].state, state) else None)(
            core.read_namespaced_pod(name, namespace)), 30, f"container {state}")
        status = pod.status.container_statuses[0]
        assert pod.status.phase == phase and status.ready is False
        assert status.last_state.terminated.exit_code == 1
        if restart_policy == "Always":
            assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count >= 1
    finally:
        fault(testbed, "pod-crashloop", "--namespace", namespace, "--name", name, "--undo")
    if restart_policy == "Always":
        healed = _until(lambda: (lambda p: p if p.status.container_statuses[0].ready else None)(
            core.read_namespaced_pod(name, namespace)), 30, "healed after the undo")
        assert healed.status.container_statuses[0].state.running and healed.status.container_statuses[0].restart_count >= 1
    core.delete_namespaced_pod(name, namespace)
    _until(lambda: _absent(core.read_namespaced_pod, name, namespace), 30, f"pod {name} deleted")


def test_quota_exhausted_and_undo(testbed, namespace, admin_client):
    core = client.CoreV1Api(admin_client)
    _until(lambda: core.read_namespaced_service_account("default", namespace), 30, "default ServiceAccount")
    lowered = fault(testbed, "quota-exhausted", "--namespace", namespace)
    try:
        running = int(re.search(r"lowered to the (\d+) pods", lowered).group(1))
        _until(lambda: (core.read_namespaced_resource_quota("wcp-resource-quota", namespace).status.hard or {})
               .get("pods") == str(running), 30, "the lowered pod limit in force")
        with pytest.raises(client.exceptions.ApiException) as raised:
            core.create_namespaced_pod(namespace, _pod("one-too-many"))
        assert raised.value.status == 403 and "exceeded quota" in raised.value.body
    finally:
        assert "restored" in fault(testbed, "quota-exhausted", "--namespace", namespace, "--undo")
    _until(lambda: "pods" not in (core.read_namespaced_resource_quota("wcp-resource-quota", namespace).status.hard or {}),
           30, "the limit lifted")
