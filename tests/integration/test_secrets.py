"""Secrets stay secret, as the real users run things: every module at -vvv --diff as the namespace
developer (a password login) and as the admin (a token), the inventory at -vvv, both event
sources' events, and the files they write - grepped for the passwords, the tokens, the WCP JWTs
and a Secret's data; kubeconfigs are 0600. Prints ``secrets: N outputs grepped, H hits``."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import runpy
import stat
import subprocess
import sys

import pytest
import yaml

from tests.collection_path import collection_tree

pytestmark = pytest.mark.testbed

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}")
SECRET_VALUE = "pacific-secret-data-5c1e"
SOURCES = collection_tree() / "ansible_collections" / "pacific" / "supervisor" / "extensions" / "eda" / "plugins" / "event_source"


def _secrets(testbed) -> dict:
    creds = testbed.credentials
    return {"developer password": creds.developer_password, "admin token": creds.admin_token,
            "nobody token": creds.nobody_token, "vCenter password": creds.vcenter_password,
            "a Secret's data": SECRET_VALUE, "a Secret's data (base64)": base64.b64encode(SECRET_VALUE.encode()).decode()}


def _hits(text: str, secrets: dict) -> list[str]:
    """What secrets ``text`` holds, each with the text around its first place (the secret blanked)."""
    found = []
    for what, value in list(secrets.items()) + [("a WCP token (JWT)", None)]:
        at = text.find(value) if value else (JWT.search(text).start() if JWT.search(text) else -1)
        if at >= 0:
            around = text[max(0, at - 300):at + 60]
            found.append("%s, in: %s" % (what, JWT.sub("<JWT>", around.replace(value, "<SECRET>") if value else around)))
    return found


def _module_tasks(estate, places, dest):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secrets-suite"},
              "stringData": {"password": SECRET_VALUE}}
    return estate.tasks([
        ("vm_info", {"namespace": "{ns}"}),
        ("pod_info", {"namespace": "{ns}"}),
        ("guest_cluster_info", {"namespace": "{ns}"}),
        ("vm", {"name": "secrets-vm", "namespace": "{ns}", "class_name": "{cls}", "image_name": "ubuntu-22.04",
                "bootstrap": {"cloud_init": {"user_data": "#cloud-config\npassword: " + SECRET_VALUE + "\n"}}}),
        ("vm_service", {"name": "secrets-service", "namespace": "{ns}", "selector": {"app": "web"},
                        "ports": [{"port": 80, "target_port": 80}]}),
        ("pod", {"name": "secrets-pod", "namespace": "{ns}", "containers": [
            {"name": "app", "image": "echo", "env": {"GREETING": "hello"}}]}),
        ("apply", {"namespace": "{ns}", "definition": [secret]}),
        ("function", {"name": "secrets-function", "namespace": "{ns}", "image": "pacific/echo:1.0",
                      "env": {"GREETING": "hello"}, "activator_url": "http://127.0.0.1:18490"}),
        ("function_info", {"namespace": "{ns}"}),
        ("login", {"dest": dest}),
        ("namespace_info", {}),
        ("vm_class_info", {}),
        ("supervisor_info", {}),
    ], places, "secrets")


def _with_login_unlogged(tasks):
    """The login task as its documentation asks: no_log, since it returns the token."""
    return [dict(task, keywords={"no_log": True}) if task["module"] == "login" else task for task in tasks]


@pytest.fixture(scope="module")
def grepped(testbed, admin_client, estate, tmp_path_factory):
    """``[(what was grepped, [hits])]`` and the kubeconfigs written."""
    work = tmp_path_factory.mktemp("secrets")
    secrets = _secrets(testbed)
    places = {"ns": estate.NAMESPACE, "other": estate.OTHER, "cls": estate.VM_CLASS}
    outputs, kubeconfigs = [], []
    before = estate.snapshot(testbed, admin_client)
    for user in ("developer", "admin"):
        defaults = estate.connections(testbed, user)
        login = dict(defaults["group/pacific.supervisor.supervisor"])
        login.pop("token", None)
        login.update(username=testbed.credentials.developer_user, password=testbed.credentials.developer_password)
        defaults["pacific.supervisor.login"] = login
        dest = str(work / f"{user}.kubeconfig")
        for pass_ in ("first", "second"):  # made, then unchanged: both print diffs of their own
            results, output = estate.run_tasks(testbed, work, f"secrets-{user}-{pass_}",
                                               _with_login_unlogged(_module_tasks(estate, places, dest)), defaults, "-vvv", "--diff")
            failed = dict((key, value.get("msg")) for key, value in results.items() if value.get("failed"))
            assert not failed, failed
            results_text = json.dumps({key: value for key, value in results.items() if key != "secrets-login"})
            outputs.append((f"modules as {user} ({pass_} run), -vvv --diff", _hits(output, secrets)))
            outputs.append((f"module results as {user} ({pass_} run)", _hits(results_text, secrets)))
        kubeconfigs.append(dest)
    estate.remove(testbed, admin_client, sorted(estate.snapshot(testbed, admin_client) - before))

    layout, creds = testbed.layout, testbed.credentials
    inventory = work / "secrets.workloads.yml"
    inventory.write_text(yaml.safe_dump({
        "plugin": "pacific.supervisor.workloads", "hostname": "127.0.0.1", "port": layout.ports.wcp,
        "username": creds.vcenter_user, "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert),
        "supervisor": True, "supervisor_server": layout.supervisor_url, "supervisor_username": creds.developer_user,
        "supervisor_password": creds.developer_password, "supervisor_ca_cert": str(testbed.pki.ca_cert),
        "supervisor_namespaces": [estate.NAMESPACE]}))
    env = estate.ansible_environment(work)
    listed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(inventory),
                             "--list", "-vvv"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert listed.returncode == 0, listed.stderr[-2000:]
    outputs.append(("the inventory, --list -vvv", _hits(listed.stdout + listed.stderr, secrets)))

    events = asyncio.run(_events(testbed, estate, work, admin_client))
    outputs.append(("the supervisor event source's events", _hits(json.dumps(events["supervisor"]), secrets)))
    outputs.append(("the vCenter event source's events", _hits(json.dumps(events["vcenter"]), secrets)))
    outputs.append(("the vCenter event source's checkpoint file", _hits((work / "checkpoint.json").read_text(), secrets)))
    return outputs, kubeconfigs


async def _events(testbed, estate, work, admin_client) -> dict:
    """What each event source emits while a VM is made in the developer's namespace."""
    from kubernetes import client

    layout, creds = testbed.layout, testbed.credentials
    supervisor = runpy.run_path(str(SOURCES / "supervisor_events.py"))["main"]
    vcenter = runpy.run_path(str(SOURCES / "vcenter_events.py"))["main"]
    queues = {"supervisor": asyncio.Queue(), "vcenter": asyncio.Queue()}
    tasks = [
        asyncio.ensure_future(supervisor(queues["supervisor"], {
            "server": layout.supervisor_url, "username": creds.developer_user, "password": creds.developer_password,
            "ca_cert": str(testbed.pki.ca_cert),
            "kinds": ["VirtualMachine", "Pod", "Event", "ResourceQuota"], "namespaces": [estate.NAMESPACE],
            "initial_snapshot": True})),
        asyncio.ensure_future(vcenter(queues["vcenter"], {
            "hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
            "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert),
            "checkpoint_file": str(work / "checkpoint.json"), "poll_interval": 0.5})),
    ]
    await asyncio.sleep(3)
    objects = client.CustomObjectsApi(admin_client)
    vm = ("vmoperator.vmware.com", "v1alpha3", estate.NAMESPACE, "virtualmachines")
    objects.create_namespaced_custom_object(*vm, {
        "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine", "metadata": {"name": "secrets-events"},
        "spec": {"className": estate.VM_CLASS, "imageName": "ubuntu-22.04", "powerState": "PoweredOn",
                 "storageClass": "vsan-default-storage-policy"}})
    try:
        for _second in range(30):
            await asyncio.sleep(1)
            if not queues["vcenter"].empty() and (work / "checkpoint.json").exists():
                break
    finally:
        objects.delete_namespaced_custom_object(*vm, "secrets-events")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    drained = {}
    for name, queue in queues.items():
        drained[name] = []
        while not queue.empty():
            drained[name].append(queue.get_nowait())
    assert drained["supervisor"] and drained["vcenter"], "an event source emitted nothing"
    return drained


def test_no_secret_in_any_output_result_event_or_file(grepped, capsys):
    outputs, kubeconfigs = grepped
    hits = ["%s: %s" % (what, ", ".join(found)) for what, found in outputs if found]
    with capsys.disabled():
        print("\nsecrets: %d outputs grepped (every module at -vvv --diff as developer and admin, the inventory, "
              "both event sources, the checkpoint file), %d hits" % (len(outputs), sum(len(f) for _w, f in outputs)))
    assert not hits, "\n".join(hits)
    for path in kubeconfigs:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
