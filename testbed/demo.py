"""`python -m testbed demo`: a small Supervisor estate made through both faces, shown as a tree;
`python -m testbed remediate-demo`: a rulebook repairs a fault injected into it.

``demo`` is idempotent: it makes what is missing of a vSphere Namespace ``demo`` (through the
vCenter API), a VM, a TanzuKubernetesCluster and an echo pod (through Kubernetes), waits until
they run, and prints the tree of what the Supervisor holds.

``remediate-demo`` starts the real ansible-rulebook with ``pacific.supervisor.remediate`` on
namespace ``demo``, powers the VM ``web-1`` off in vCenter behind the Supervisor's back (the
testbed's ``power-off`` fault), and prints, step by step, what the rulebook saw and did.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed import inject
from testbed.credentials import DEVELOPER_USER
from testbed.errors import TestbedError
from testbed.remediation import Rulebook
from testbed.stack import Testbed
from testbed.vcenter import rest_session, wait_developer_access

NAMESPACE = "demo"
DEVELOPER_SUBJECT, DEVELOPER_DOMAIN = DEVELOPER_USER.split("@")
VM_CLASS = "best-effort-small"
VMOP = ("vmoperator.vmware.com", "v1alpha3")
TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")


def _create(call, *args) -> None:
    try:
        call(*args)
    except ApiException as err:
        if err.status != 409:
            raise


def _wait(what: str, probe, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TestbedError(f"demo: {what} not ready after {timeout:.0f}s")
        time.sleep(0.3)


def build(testbed: Testbed, api_client: client.ApiClient) -> None:
    base = testbed.layout.vcenter_url
    http = rest_session(testbed)
    cluster = http.get(base + "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    http.post(base + "/api/vcenter/namespace-management/virtual-machine-classes",
              json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 2048})
    # limits need defaults, or the quota admits no pod that leaves its own limits out
    spec = {"description": "made by make demo", "vm_service_spec": {"vm_classes": [VM_CLASS]},
            "resource_spec": {"cpu_limit": 20000, "memory_limit": 65536,
                              "cpu_limit_default": 500, "memory_limit_default": 512},
            # the developer (the login `python -m testbed env` gives) may edit it
            "access_list": [{"role": "EDIT", "subject_type": "USER", "domain": DEVELOPER_DOMAIN,
                             "subject": DEVELOPER_SUBJECT}]}
    if http.get(f"{base}/api/vcenter/namespaces/instances/{NAMESPACE}").status_code == 404:
        http.post(base + "/api/vcenter/namespaces/instances",
                  json={"cluster": cluster, "namespace": NAMESPACE, **spec}).raise_for_status()
    else:
        http.patch(f"{base}/api/vcenter/namespaces/instances/{NAMESPACE}", json=spec).raise_for_status()
    core, custom = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    _wait("namespace", lambda: _exists(core.read_namespaced_service_account, "default", NAMESPACE)
          and _exists(core.read_namespaced_limit_range, "wcp-limit-range", NAMESPACE))
    wait_developer_access(testbed, NAMESPACE)
    _create(custom.create_namespaced_custom_object, *VMOP, NAMESPACE, "virtualmachines", {
        "apiVersion": "/".join(VMOP), "kind": "VirtualMachine", "metadata": {"name": "web-1"},
        "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                 "powerState": "PoweredOn"}})
    _create(custom.create_namespaced_custom_object, *TKC[:2], NAMESPACE, TKC[2], {
        "apiVersion": "/".join(TKC[:2]), "kind": "TanzuKubernetesCluster", "metadata": {"name": "tkc-1"},
        "spec": {"topology": {
            "controlPlane": {"replicas": 1, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy",
                             "tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}},
            "nodePools": [{"name": "workers", "replicas": 2, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy"}]}}})
    _create(core.create_namespaced_pod, NAMESPACE, {
        "metadata": {"name": "echo", "labels": {"app": "echo"}},
        "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.0", "ports": [{"containerPort": 8080}],
                                 "env": [{"name": "ECHO_TEXT", "value": "hello from a vSphere pod"}]}]}})
    _wait("VM web-1", lambda: custom.get_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", "web-1")
          .get("status", {}).get("powerState") == "PoweredOn")
    _wait("guest cluster tkc-1", lambda: custom.get_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], "tkc-1")
          .get("status", {}).get("phase") == "running")
    _wait("pod echo", lambda: core.read_namespaced_pod("echo", NAMESPACE).status.phase == "Running")


def _exists(read, *args) -> bool:
    try:
        read(*args)
        return True
    except ApiException:
        return False


def tree(api_client: client.ApiClient) -> str:
    core, custom = client.CoreV1Api(api_client), client.CustomObjectsApi(api_client)
    lines = [f"Supervisor  (ESXi nodes: {', '.join(n.metadata.name for n in core.list_node().items)})"]
    namespaces = [n.metadata.name for n in core.list_namespace(
        label_selector="testbed.pacific.supervisor/managed-by=wcp").items]
    for index, namespace in enumerate(namespaces):
        last = index == len(namespaces) - 1
        lines.append(f"{'└' if last else '├'}── vSphere Namespace {namespace}")
        stem = "    " if last else "│   "
        rows = []
        machines = {m["metadata"]["name"] for m in custom.list_namespaced_custom_object(
            "cluster.x-k8s.io", "v1beta1", namespace, "machines")["items"]}
        for vm in custom.list_namespaced_custom_object(*VMOP, namespace, "virtualmachines")["items"]:
            if vm["metadata"]["name"] in machines:
                continue
            status = vm.get("status", {})
            rows.append(f"VM {vm['metadata']['name']}: {status.get('powerState', '?')}, "
                        f"{(status.get('network') or {}).get('primaryIP4', 'no IP')}, {status.get('uniqueID', '-')}")
        for tkc in custom.list_namespaced_custom_object(*TKC[:2], namespace, TKC[2])["items"]:
            status = tkc.get("status", {})
            endpoint = (status.get("apiEndpoints") or [{}])[0]
            rows.append(f"guest cluster {tkc['metadata']['name']}: {status.get('phase', '?')} "
                        f"{status.get('version', '')}, API {endpoint.get('host', '-')}:{endpoint.get('port', '-')}, "
                        f"{len([m for m in machines if m.startswith(tkc['metadata']['name'] + '-')])} machines")
        for pod in core.list_namespaced_pod(namespace).items:
            rows.append(f"pod {pod.metadata.name}: {pod.status.phase} on {pod.spec.node_name or '-'}, "
                        f"IP {pod.status.pod_ip or '-'}")
        for row_index, row in enumerate(rows):
            lines.append(f"{stem}{'└' if row_index == len(rows) - 1 else '├'}── {row}")
    return "\n".join(lines)


def run(testbed: Testbed) -> str:
    with testbed.admin_client() as api_client:
        build(testbed, api_client)
        return tree(api_client)


def remediation(testbed: Testbed, collections_path: str, say=print) -> dict:
    """The ``remediate-demo`` steps; returns the rulebook's record of the repair."""
    with testbed.admin_client() as api_client:
        custom = client.CustomObjectsApi(api_client)

        def power() -> str | None:
            vm = custom.get_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", "web-1")
            return vm.get("status", {}).get("powerState")
        _wait("VM web-1 (run the demo first)", lambda: power() == "PoweredOn", timeout=30)
        with tempfile.TemporaryDirectory(prefix="pacific-remediate-demo-") as work:
            say("1. ansible-rulebook --rulebook pacific.supervisor.remediate: watching namespace "
                f"{NAMESPACE} on the Supervisor and VmPoweredOffEvent in vCenter")
            rulebook = Rulebook.start(testbed, Path(work), collections_path, remediation_namespaces=[NAMESPACE])
            try:
                rulebook.wait_started()
                started = time.monotonic()
                say(f"2. fault: {inject.apply(testbed, 'power-off', NAMESPACE, 'web-1', undo=False)} "
                    "(its spec still says PoweredOn)")
                _wait("the Supervisor to see web-1 powered off", lambda: power() == "PoweredOff", timeout=30)
                say("3. the Supervisor's VirtualMachine web-1 reports PoweredOff; vCenter logged who did it")
                record = rulebook.wait_for_record(
                    lambda r: r["scenario"] == "vm_powered_off" and r["object"]["name"] == "web-1",
                    180, "the rulebook's vm_powered_off record")
                detail = record["detail"]
                say(f"4. rule 'VM powered off in vCenter' ran pacific.supervisor.remediation_vm_powered_off: "
                    f"{record['outcome']} {NAMESPACE}/web-1 ({detail.get('moref')}), powered off by "
                    f"{detail.get('powered_off_by')}, now {detail.get('power_state')}")
                _wait("web-1 running again", lambda: power() == "PoweredOn", timeout=60)
                say(f"5. VirtualMachine web-1 is PoweredOn again, {time.monotonic() - started:.1f}s after the fault; "
                    f"the playbook's record: {json.dumps(record)}")
                return record
            finally:
                rulebook.stop()
