"""Faults, as the real users meet them: the kube-apiserver restarted during a module's wait and
during an ``apply`` batch's wait, vCenter sessions expiring mid-play, WCP tokens expiring mid-play
(and a login's token after it expired), a concurrent writer of the same object. Each run goes
through ansible-playbook as the namespace developer (a real /wcp/login) or the admin on the shared
estate; each task must finish or fail with one clear message, and a re-run must converge
(nothing changed, everything ready). Prints
``faults: N scenarios, F finished, C failed clearly, R re-runs converged``."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from kubernetes import client

from testbed.faults import FaultBook
from testbed.layout import REPO_ROOT

pytestmark = pytest.mark.testbed

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
TRACEBACK_SIGNS = ("Traceback (most recent call last)", "MODULE FAILURE", "unexpected ")
TALLY: dict[str, tuple[str, bool]] = {}  # scenario -> (finished | failed clearly, re-run converged)


def fault(testbed, *args) -> str:
    """``python -m testbed fault ...``, as a user of the testbed injects one."""
    done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT,
                          env={**os.environ, **testbed.layout.environment()}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def outcome_of(result: dict) -> str:
    """``finished`` or ``failed clearly``; anything else fails the test with what was wrong."""
    if not result.get("failed"):
        return "finished"
    message = result.get("msg")
    assert isinstance(message, str) and message.strip(), "a failure without a message: %s" % json.dumps(result)[:500]
    assert not any(sign in message for sign in TRACEBACK_SIGNS), "not a clear failure: " + message[:500]
    assert "Traceback" not in str(result.get("module_stderr", "")), "a traceback: " + message[:300]
    return "failed clearly"


def _until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.3)


def _vm_of(admin_client, namespace, name):
    try:
        return client.CustomObjectsApi(admin_client).get_namespaced_custom_object(
            GROUP, VERSION, namespace, "virtualmachines", name)
    except client.ApiException as err:
        if err.status == 404:
            return None
        raise


def _vm_ready(vm) -> bool:
    """A VirtualMachine (as the API has it, or as the vm module returns it) on with an IPv4."""
    if vm and "status" not in vm and "ready" in vm:  # the module's view
        return vm["ready"] is True and vm.get("power_state") == "PoweredOn" and bool(vm.get("ip"))
    status = (vm or {}).get("status") or {}
    return status.get("powerState") == "PoweredOn" and bool((status.get("network") or {}).get("primaryIP4"))


def _revoking(testbed, what: str, every: float, stop: threading.Event) -> int:
    """Void every credential of ``what`` issued so far, each ``every`` seconds until ``stop``
    (the fault command's own revocation, without a Python start-up per fault); how many."""
    book, count = FaultBook(testbed.layout.faults_file), 0
    while not stop.wait(every):
        book.revoke(what)
        count += 1
    return count


@pytest.fixture(scope="module")
def suite(testbed, admin_client, estate, tmp_path_factory, pytestconfig):
    work = tmp_path_factory.mktemp("faults")
    before = estate.snapshot(testbed, admin_client)
    yield work
    estate.remove(testbed, admin_client, sorted(estate.snapshot(testbed, admin_client) - before))
    # the suite's one line, shown without -s as well
    with pytestconfig.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print_tally()


def print_tally():
    finished = sum(kind == "finished" for kind, converged in TALLY.values())
    clearly = sum(kind == "failed clearly" for kind, converged in TALLY.values())
    print("\nfaults: %d scenarios, %d finished, %d failed clearly, %d re-runs converged"
          % (len(TALLY), finished, clearly, sum(converged for kind, converged in TALLY.values())))


def _vm_args(name, ns, cls, **more):
    return {"name": name, "namespace": ns, "class_name": cls, "image_name": "ubuntu-22.04",
            "storage_class": "vsan-default-storage-policy", "power_state": "PoweredOn", **more}


def test_apiserver_restart_during_a_vm_wait(testbed, admin_client, estate, suite):
    """The VM is held creating (vm-stuck-creating) so that the restart lands inside the wait."""
    work = suite
    ns, name = estate.NAMESPACE, "fault-restart-vm"
    task = [{"id": "vm", "module": "vm", "args": _vm_args(name, ns, estate.VM_CLASS, wait=True, wait_timeout=150)}]
    developer = estate.connections(testbed, "developer")
    fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name)
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(estate.run_tasks, testbed, work, "restart-vm", task, developer)
            _until(lambda: _vm_of(admin_client, ns, name) or running.done(), 60, "the VirtualMachine made")
            assert "restarted" in fault(testbed, "apiserver-restart")
            fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
            results = running.result(timeout=170)[0]
    finally:
        fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
    result = results["vm"]
    kind = outcome_of(result)
    assert result.get("changed") is True, "the task made the VM, so it changed something: %s" % json.dumps(result)[:600]
    if kind == "finished":
        assert _vm_ready(result["vm"]), result["vm"]
    again = estate.run_tasks(testbed, work, "restart-vm-again", task, developer)[0]
    converged = not again["vm"].get("failed") and again["vm"]["changed"] is False and _vm_ready(again["vm"]["vm"])
    TALLY["apiserver restart during a vm wait"] = (kind, converged)
    assert converged, json.dumps(again["vm"])[:800]


def test_apiserver_restart_during_an_apply_batch(testbed, admin_client, estate, suite):
    """Ten objects (four VMs held creating, six ConfigMaps) applied with wait: the restart lands
    inside the batch's wait."""
    work = suite
    ns = estate.NAMESPACE
    vms = ["fault-batch-vm-%d" % number for number in range(4)]
    definition = [{"apiVersion": "%s/%s" % (GROUP, VERSION), "kind": "VirtualMachine", "metadata": {"name": name},
                   "spec": {"className": estate.VM_CLASS, "imageName": "ubuntu-22.04",
                            "storageClass": "vsan-default-storage-policy", "powerState": "PoweredOn"}}
                  for name in vms]
    definition += [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fault-batch-config-%d" % number},
                    "data": {"number": str(number)}} for number in range(6)]
    task = [{"id": "apply", "module": "apply",
             "args": {"namespace": ns, "definition": definition, "wait": True, "wait_timeout": 150}}]
    developer = estate.connections(testbed, "developer")
    for name in vms:
        fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name)
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(estate.run_tasks, testbed, work, "restart-batch", task, developer)
            _until(lambda: all(_vm_of(admin_client, ns, name) for name in vms) or running.done(), 60,
                   "the batch's VirtualMachines made")
            assert "restarted" in fault(testbed, "apiserver-restart")
            for name in vms:
                fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
            results = running.result(timeout=170)[0]
    finally:
        for name in vms:
            fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
    result = results["apply"]
    kind = outcome_of(result)
    assert result.get("changed") is True, "the batch made ten objects: %s" % json.dumps(result)[:600]
    again = estate.run_tasks(testbed, work, "restart-batch-again", task, developer)[0]
    rerun = again["apply"]
    converged = (not rerun.get("failed") and rerun["changed"] is False
                 and all(_vm_ready(_vm_of(admin_client, ns, name)) for name in vms))
    TALLY["apiserver restart during an apply batch"] = (kind, converged)
    assert converged, json.dumps(rerun)[:800]


def _admin_play(prefix):
    return [{"id": prefix + "-namespace", "module": "namespace",
             "args": {"name": "fault-session-ns", "cluster": "DC0_C0"}},
            {"id": prefix + "-vm-class", "module": "vm_class",
             "args": {"name": "fault-session-class", "cpu_count": 1, "memory_mb": 1024}},
            {"id": prefix + "-namespace-info", "module": "namespace_info", "args": {}},
            {"id": prefix + "-vm-class-2", "module": "vm_class",
             "args": {"name": "fault-session-class-2", "cpu_count": 2, "memory_mb": 2048}},
            {"id": prefix + "-namespace-2", "module": "namespace",
             "args": {"name": "fault-session-ns-2", "cluster": "DC0_C0"}},
            {"id": prefix + "-vm-class-info", "module": "vm_class_info", "args": {}}]


def _run_with_revocations(testbed, what, every, work, label, tasks, defaults, estate):
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        revocations = pool.submit(_revoking, testbed, what, every, stop)
        try:
            results = estate.run_tasks(testbed, work, label, tasks, defaults)[0]
        finally:
            stop.set()
        return results, revocations.result(timeout=10)


def test_vcenter_session_expiry_mid_play(testbed, admin_client, estate, suite):
    """Sessions voided every second during a play of admin-face tasks: inside the tasks (a
    session made at the task's start expires before its later calls) and between them."""
    work = suite
    admin = estate.connections(testbed, "admin")
    results, revoked = _run_with_revocations(testbed, "vcenter-session-expiry", 1.0, work,
                                             "session-expiry", _admin_play("expiry"), admin, estate)
    assert revoked >= 2, "the play ended before the sessions expired twice"
    kinds = [outcome_of(result) for result in results.values()]
    again = estate.run_tasks(testbed, work, "session-expiry-again", _admin_play("again"), admin)[0]
    converged = _rerun_converged(results, again, "expiry-", "again-")
    TALLY["vCenter session expiry mid-play"] = (
        "failed clearly" if "failed clearly" in kinds else "finished", converged)
    assert converged, json.dumps(again)[:1500]


def _rerun_converged(first: dict, again: dict, first_prefix: str, again_prefix: str) -> bool:
    """Every task of the re-run succeeded, and changed nothing unless its first run failed (then
    the re-run does what the fault kept it from doing)."""
    for task_id, result in again.items():
        earlier = first[first_prefix + task_id[len(again_prefix):]]
        if result.get("failed") or (result["changed"] and not earlier.get("failed")):
            return False
    return True


def _developer_play(prefix, ns, cls):
    return [{"id": prefix + "-vm-info", "module": "vm_info", "args": {"namespace": ns}},
            {"id": prefix + "-config", "module": "apply", "args": {"namespace": ns, "definition": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fault-token-config"},
                 "data": {"a": "1"}}]}},
            {"id": prefix + "-vm", "module": "vm", "args": _vm_args("fault-token-vm", ns, cls, wait=True,
                                                                    wait_timeout=120)},
            {"id": prefix + "-pod-info", "module": "pod_info", "args": {"namespace": ns}},
            {"id": prefix + "-vm-info-2", "module": "vm_info", "args": {"namespace": ns, "names": ["fault-token-vm"]}}]


def test_wcp_token_expiry_mid_play(testbed, admin_client, estate, suite):
    """The developer's WCP tokens voided every two seconds during a play (each module logs in with
    username/password, and again once on a 401)."""
    work = suite
    ns, cls = estate.NAMESPACE, estate.VM_CLASS
    developer = estate.connections(testbed, "developer")
    results, revoked = _run_with_revocations(testbed, "wcp-token-expiry", 2.0, work, "token-expiry",
                                             _developer_play("expiry", ns, cls), developer, estate)
    assert revoked >= 2, "the play ended before the tokens expired twice"
    kinds = [outcome_of(result) for result in results.values()]
    again = estate.run_tasks(testbed, work, "token-expiry-again", _developer_play("again", ns, cls), developer)[0]
    converged = _rerun_converged(results, again, "expiry-", "again-") and _vm_ready(again["again-vm"]["vm"])
    TALLY["WCP token expiry mid-play"] = ("failed clearly" if "failed clearly" in kinds else "finished", converged)
    assert converged, json.dumps(again)[:1500]


def _refused(testbed, token: str) -> bool:
    http = requests.Session()
    http.trust_env, http.verify = False, str(testbed.pki.ca_cert)
    answer = http.post(testbed.layout.apiserver_url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                       json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                       headers={"Authorization": f"Bearer {token}"})
    return answer.status_code == 401


def test_a_login_token_after_wcp_token_expiry(testbed, estate, suite):
    """A token from pacific.supervisor.login, voided: a module given only it fails saying to log
    in again; a new login's token works."""
    work = suite
    ns = estate.NAMESPACE
    developer = estate.connections(testbed, "developer")
    login = [{"id": "login", "module": "login", "args": {}, "keywords": {"no_log": True}}]
    token = estate.run_tasks(testbed, work, "token-login", login, developer)[0]["login"]["token"]
    with_token = {**developer["group/pacific.supervisor.supervisor"], "token": token, "username": "", "password": ""}
    read = [{"id": "vm-info", "module": "vm_info", "args": {"namespace": ns}}]
    time.sleep(0.01)
    fault(testbed, "wcp-token-expiry")
    _until(lambda: _refused(testbed, token), 15, "the login's token refused")  # apiserver caches good answers 10 s
    results, output = estate.run_tasks(testbed, work, "token-expired", read,
                                       {"group/pacific.supervisor.supervisor": with_token})
    kind = outcome_of(results["vm-info"])
    assert kind == "failed clearly", json.dumps(results["vm-info"])[:600]
    assert re.search(r"log in again", results["vm-info"]["msg"]), results["vm-info"]["msg"]
    assert token not in output and token not in json.dumps(results)
    token = estate.run_tasks(testbed, work, "token-login-again", login, developer)[0]["login"]["token"]
    with_token["token"] = token
    again = estate.run_tasks(testbed, work, "token-fresh", read, {"group/pacific.supervisor.supervisor": with_token})[0]
    converged = not again["vm-info"].get("failed")
    TALLY["a login's token after WCP token expiry"] = (kind, converged)
    assert converged, json.dumps(again)[:600]


def test_a_concurrent_writer(testbed, admin_client, estate, suite):
    """While vm waits for its VM, the admin's client adds a label (a field the module does not
    own): the task ends converged and the label stays. Then the admin takes over the module's own
    label with force: the next run fails naming force_conflicts; with force_conflicts it takes the
    field back, and a re-run changes nothing."""
    work = suite
    ns, name = estate.NAMESPACE, "fault-writer-vm"
    args = _vm_args(name, ns, estate.VM_CLASS, labels={"tier": "web"}, wait=True, wait_timeout=120)
    task = [{"id": "vm", "module": "vm", "args": args}]
    developer = estate.connections(testbed, "developer")
    objects = client.CustomObjectsApi(admin_client)
    fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name)
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(estate.run_tasks, testbed, work, "writer", task, developer)
            _until(lambda: _vm_of(admin_client, ns, name) or running.done(), 60, "the VirtualMachine made")
            objects.patch_namespaced_custom_object(GROUP, VERSION, ns, "virtualmachines", name,
                                                   {"metadata": {"labels": {"owner": "admin"}}})
            fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
            results = running.result(timeout=150)[0]
    finally:
        fault(testbed, "vm-stuck-creating", "--namespace", ns, "--name", name, "--undo")
    first = outcome_of(results["vm"])
    assert first == "finished" and results["vm"]["changed"] is True, json.dumps(results["vm"])[:600]
    assert _vm_of(admin_client, ns, name)["metadata"]["labels"] == {"tier": "web", "owner": "admin"}
    # the same field, taken with force by another field manager
    admin_apply = {"apiVersion": "%s/%s" % (GROUP, VERSION), "kind": "VirtualMachine",
                   "metadata": {"name": name, "namespace": ns, "labels": {"tier": "db"}}}
    objects.patch_namespaced_custom_object(GROUP, VERSION, ns, "virtualmachines", name, admin_apply,
                                           field_manager="faults-suite-admin", force=True,
                                           _content_type="application/apply-patch+yaml")
    conflicted = estate.run_tasks(testbed, work, "writer-conflict", task, developer)[0]
    second = outcome_of(conflicted["vm"])
    assert second == "failed clearly" and "force_conflicts" in conflicted["vm"]["msg"], json.dumps(conflicted)[:600]
    assert conflicted["vm"].get("changed") is not True
    forced = [{"id": "vm", "module": "vm", "args": {**args, "force_conflicts": True}}]
    taken = estate.run_tasks(testbed, work, "writer-force", forced, developer)[0]
    assert not taken["vm"].get("failed") and taken["vm"]["changed"] is True, json.dumps(taken)[:600]
    assert _vm_of(admin_client, ns, name)["metadata"]["labels"]["tier"] == "web"
    again = estate.run_tasks(testbed, work, "writer-again", task, developer)[0]
    converged = (not again["vm"].get("failed") and again["vm"]["changed"] is False and _vm_ready(again["vm"]["vm"]))
    TALLY["a concurrent writer of the VM"] = ("finished", converged)
    TALLY["a field manager's conflict"] = (second, converged)
    assert converged, json.dumps(again)[:600]
