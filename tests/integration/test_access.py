"""Access, as the real users meet it: TLS verification is on by default everywhere (the testbed's
self-signed CA is refused by every module, the inventory and both event sources until it is
named), and a namespace developer can neither read nor change a namespace they have no access
to, through any module, the inventory or the event source: one clear 403 message, nothing made,
nothing of that namespace in any result. Prints ``access: N refusals checked, L leaks``."""
from __future__ import annotations

import asyncio
import json
import os
import runpy
import subprocess
import sys

import pytest
import yaml

from tests.collection_path import collection_tree
from tests.testbed.conftest import _until

pytestmark = pytest.mark.testbed

# the sources as ansible-rulebook finds them: inside an ansible_collections tree
SOURCES = collection_tree() / "ansible_collections" / "pacific" / "supervisor" / "extensions" / "eda" / "plugins" / "event_source"
MARKER = "pacific-estate-private"  # the name of what lives in the namespace the developer may not see
UNTRUSTED = r"not trusted|CERTIFICATE_VERIFY_FAILED|certificate verify failed"
FORBIDDEN = r"forbidden|not allowed|no access"


@pytest.fixture(scope="module")
def private(estate, admin_client):
    """Something of the other namespace that no developer result may show: a VM and a ConfigMap."""
    from kubernetes import client

    objects = client.CustomObjectsApi(admin_client)
    core = client.CoreV1Api(admin_client)
    objects.create_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", estate.OTHER, "virtualmachines", {
        "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine", "metadata": {"name": MARKER},
        "spec": {"className": estate.VM_CLASS, "imageName": "ubuntu-22.04", "powerState": "PoweredOff",
                 "storageClass": "vsan-default-storage-policy"}})
    core.create_namespaced_config_map(estate.OTHER, {"metadata": {"name": MARKER}, "data": {"marker": MARKER}})
    yield MARKER
    objects.delete_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", estate.OTHER, "virtualmachines", MARKER)
    core.delete_namespaced_config_map(MARKER, estate.OTHER)
    # the VM goes once the VM Operator has destroyed it in vCenter (a finalizer): the next module's
    # before-snapshot must not hold it
    _until(lambda: all(item["metadata"]["name"] != MARKER for item in objects.list_namespaced_custom_object(
        "vmoperator.vmware.com", "v1alpha3", estate.OTHER, "virtualmachines")["items"]), 120, f"VM {MARKER} gone")


def _refused(result, pattern) -> str | None:
    """Why ``result`` is not one clear refusal matching ``pattern`` (None when it is)."""
    import re

    if not result.get("failed"):
        return "not refused: " + json.dumps(result)[:300]
    message = result.get("msg") or ""
    if not re.search(pattern, message, re.I):
        return "message %r does not match %r" % (message[:300], pattern)
    if "Traceback" in message or message.startswith("unexpected "):
        return "a traceback: " + message[:300]
    return None


@pytest.fixture(scope="module")
def checks(testbed, admin_client, estate, private, tmp_path_factory):
    """``[(what, problem or None)]`` for every refusal checked, and the leaks found."""
    work = tmp_path_factory.mktemp("access")
    places = {"ns": estate.NAMESPACE, "other": estate.OTHER, "cls": estate.VM_CLASS}
    found, leaks = [], []
    before = estate.snapshot(testbed, admin_client)

    # TLS: nothing names the testbed's CA, so the system trust store is all there is
    developer = estate.connections(testbed, "developer", ca=False)
    developer["pacific.supervisor.login"] = developer["group/pacific.supervisor.supervisor"]
    tasks = (estate.tasks(estate.DEVELOPER_FACE + [("login", {})], places, "tls")
             + estate.tasks(estate.VCENTER_FACE, places, "tls"))
    results, _output = estate.run_tasks(testbed, work, "tls", tasks, developer)
    found.extend((task["id"], _refused(results[task["id"]], UNTRUSTED)) for task in tasks)

    # another namespace, as the developer
    developer = estate.connections(testbed, "developer")
    other = dict(places, ns=estate.OTHER)
    tasks = estate.tasks(estate.DEVELOPER_FACE, other, "other")
    results, output = estate.run_tasks(testbed, work, "other", tasks, developer, "-vvv")
    found.extend((task["id"], _refused(results[task["id"]], FORBIDDEN)) for task in tasks)
    # every namespace the developer may read: theirs, never the other
    listing = estate.tasks([("vm_info", {}), ("pod_info", {}), ("guest_cluster_info", {})], places, "all")
    listed, listed_output = estate.run_tasks(testbed, work, "all", listing, developer, "-vvv")
    for task in listing:
        result = listed[task["id"]]
        found.append((task["id"], None if not result.get("failed") else "failed: " + str(result.get("msg"))[:300]))
    leaks.extend("in the output of %s" % label for label, text in (("other", output), ("all", listed_output))
                 if MARKER in text)
    after = estate.snapshot(testbed, admin_client)
    if after != before:
        leaks.append("made or removed: %s" % sorted(after ^ before))
        estate.remove(testbed, admin_client, sorted(after - before))
    return found, leaks, work


def _inventory(work, name, options):
    from tests.integration.estate import ansible_environment

    source = work / f"{name}.workloads.yml"
    source.write_text(yaml.safe_dump({"plugin": "pacific.supervisor.workloads", **options}))
    environment = ansible_environment(work, ANSIBLE_INVENTORY_UNPARSED_FAILED="1")
    return subprocess.run([str(os.path.join(os.path.dirname(sys.executable), "ansible-inventory")), "-i",
                           str(source), "--list"], env=environment, capture_output=True, text=True, timeout=300,
                          check=False)


def test_tls_and_another_namespace_are_refused_by_every_module_and_nothing_leaks(checks, capsys):
    found, leaks, _work = checks
    problems = ["%s: %s" % (what, problem) for what, problem in found if problem]
    with capsys.disabled():
        print("\naccess: %d module checks (TLS and another namespace), %d failed, %d leaks" % (
            len(found), len(problems), len(leaks)))
    assert not problems + leaks, "\n".join(problems + leaks)


def test_the_inventory_verifies_tls_and_shows_a_developer_only_their_namespaces(checks, testbed, estate):
    _found, _leaks, work = checks
    layout, creds = testbed.layout, testbed.credentials
    vcenter = {"hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
               "password": creds.vcenter_password}
    untrusted = _inventory(work, "untrusted", vcenter)
    assert untrusted.returncode != 0 and "not trusted" in untrusted.stderr, untrusted.stderr[-2000:]
    developer = {**vcenter, "ca_cert": str(testbed.pki.ca_cert), "supervisor": True,
                 "supervisor_server": layout.supervisor_url, "supervisor_username": creds.developer_user,
                 "supervisor_password": creds.developer_password,
                 "supervisor_kinds": ["VirtualMachine"]}
    untrusted = _inventory(work, "untrusted-supervisor", developer | {"supervisor_namespaces": [estate.NAMESPACE]})
    assert untrusted.returncode != 0 and "not trusted" in untrusted.stderr, untrusted.stderr[-2000:]
    refused = _inventory(work, "other", {**developer, "supervisor_ca_cert": str(testbed.pki.ca_cert),
                                         "supervisor_namespaces": [estate.OTHER]})
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), refused.stderr[-2000:]
    assert MARKER not in refused.stdout + refused.stderr


def test_the_event_sources_verify_tls_and_refuse_another_namespace(testbed, estate, private):
    main = runpy.run_path(str(SOURCES / "supervisor_events.py"))["main"]
    layout, creds = testbed.layout, testbed.credentials
    developer = {"server": layout.supervisor_url, "username": creds.developer_user,
                 "password": creds.developer_password, "kinds": ["VirtualMachine"], "namespaces": [estate.NAMESPACE]}
    with pytest.raises(Exception, match=UNTRUSTED):
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), developer), 30))
    with pytest.raises(Exception, match=FORBIDDEN) as refused:
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), {**developer, "ca_cert": str(testbed.pki.ca_cert),
                                                            "namespaces": [estate.OTHER]}), 30))
    assert MARKER not in str(refused.value)
    vcenter_main = runpy.run_path(str(SOURCES / "vcenter_events.py"))["main"]
    with pytest.raises(Exception, match=UNTRUSTED):
        asyncio.run(asyncio.wait_for(vcenter_main(asyncio.Queue(), {
            "hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
            "password": creds.vcenter_password}), 30))


def test_the_function_activator_verifies_tls_and_refuses_another_namespace(testbed, estate, private):
    main = runpy.run_path(str(SOURCES / "function_activator.py"))["main"]
    layout, creds = testbed.layout, testbed.credentials
    developer = {"server": layout.supervisor_url, "username": creds.developer_user,
                 "password": creds.developer_password, "namespaces": [estate.NAMESPACE], "host": "127.0.0.1",
                 "port": 0}
    with pytest.raises(Exception, match=UNTRUSTED):
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), developer), 30))
    with pytest.raises(Exception, match=FORBIDDEN) as refused:
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), {**developer, "ca_cert": str(testbed.pki.ca_cert),
                                                            "namespaces": [estate.OTHER]}), 30))
    assert MARKER not in str(refused.value) and creds.developer_password not in str(refused.value)
    assert estate.OTHER in str(refused.value)
