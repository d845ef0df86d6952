"""Converging 200 objects that do not drift: ``pacific.supervisor.apply`` against a ``kubernetes.core.k8s`` loop.

Same run, same testbed (its own state directory and ports), same manifests: 80 VirtualMachines,
80 native pods and 40 Services in one vSphere Namespace. After a first converge (not timed) and
once the VM Operator has settled, each way is timed as a whole ``ansible-playbook`` run, as a
user meets it, ``--rounds`` times; the medians and their ratio are printed, and the cost of
``apply`` in check mode.

    python -m benchmarks.converge [--rounds 3] [--vms 80 --pods 80 --services 40]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from kubernetes import client

from benchmarks.anchors import community_collection, our_collections
from testbed.pytest_plugin import isolated_layout
from testbed.stack import Testbed
from testbed.vcenter import ensure_namespace

NAMESPACE = "bench-converge"
VM_CLASS = "bench-small"
PORT_BASE = 10440


def manifests(vms: int, pods: int, services: int) -> list[dict]:
    objects = []
    for n in range(vms):
        objects.append({"apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
                        "metadata": {"name": f"vm-{n}", "labels": {"app": f"app-{n % services}"}},
                        "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                                 "powerState": "PoweredOn"}})
    for n in range(pods):
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": f"pod-{n}", "labels": {"app": f"app-{n % services}"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                 "ports": [{"containerPort": 80}],
                                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}})
    for n in range(services):
        objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{n}"},
                        "spec": {"selector": {"app": f"app-{n}"}, "ports": [{"port": 80, "targetPort": 80}]}})
    return objects


def wait_settled(testbed: Testbed, vms: int, pods: int, timeout: float = 600) -> None:
    """Until every VM is powered on and every pod runs: the controllers are done writing."""
    with testbed.admin_client() as api_client:
        objects, core = client.CustomObjectsApi(api_client), client.CoreV1Api(api_client)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listed = objects.list_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", NAMESPACE,
                                                           "virtualmachines")["items"]
            on = sum(1 for vm in listed if (vm.get("status") or {}).get("powerState") == "PoweredOn")
            running = sum(1 for pod in core.list_namespaced_pod(NAMESPACE).items if pod.status.phase == "Running")
            if on >= vms and running >= pods:
                return
            time.sleep(1)
    raise SystemExit(f"the testbed did not settle in {timeout}s ({on}/{vms} VMs on, {running}/{pods} pods running)")


def playbook(work: Path, name: str, task: dict, outcome: str) -> Path:
    """A play of one task whose outcome (an expression over ``result``) lands in a JSON file."""
    path = work / f"{name}.yml"
    path.write_text(yaml.safe_dump([{
        "name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
        "tasks": [
            {"name": name, **task, "register": "result"},
            {"name": "record", "ansible.builtin.copy": {
                "dest": str(work / f"{name}.json"), "content": "{{ " + outcome + " | to_json }}"}},
        ]}], sort_keys=False))
    return path


def timed(path: Path, env: dict, extra: list[str]) -> tuple[float, dict]:
    started = time.monotonic()
    playbook_command = str(Path(sys.executable).parent / "ansible-playbook")
    done = subprocess.run([playbook_command, "-i", "localhost,", str(path), *extra], env=env,
                          capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{path.name} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return elapsed, json.loads((path.parent / (path.stem + ".json")).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vms", type=int, default=80)
    parser.add_argument("--pods", type=int, default=80)
    parser.add_argument("--services", type=int, default=40)
    args = parser.parse_args()

    core_collection = community_collection("kubernetes", "core")
    if core_collection is None:
        raise SystemExit("kubernetes.core is needed as the anchor")
    testbed = Testbed(isolated_layout("bench-converge", PORT_BASE))
    testbed.up()
    try:
        ensure_namespace(testbed, NAMESPACE, VM_CLASS)
        work = Path(tempfile.mkdtemp(prefix="converge-"))
        batch = manifests(args.vms, args.pods, args.services)
        source = work / "manifests"
        source.mkdir()
        (source / "all.yml").write_text(yaml.safe_dump_all(batch, sort_keys=False))
        creds, layout = testbed.credentials, testbed.layout
        connection = {"server": layout.apiserver_url, "token": creds.admin_token, "ca_cert": str(testbed.pki.ca_cert)}
        k8s_connection = {"host": layout.apiserver_url, "api_key": creds.admin_token,
                          "ca_cert": str(testbed.pki.ca_cert)}
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(our_collections()), str(core_collection)]),
               "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_LOCALHOST_WARNING": "0",
               "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_NOCOLOR": "1"}
        ours = playbook(work, "apply", {"pacific.supervisor.apply": {
            "src": str(source), "namespace": NAMESPACE, **connection}}, "result.summary")
        loop = playbook(work, "k8s_loop", {
            "kubernetes.core.k8s": {"definition": "{{ item }}", "namespace": NAMESPACE, **k8s_connection},
            "loop": "{{ lookup('ansible.builtin.file', '" + str(source / "all.yml") + "') | from_yaml_all | list }}",
            "loop_control": {"label": "{{ item.kind }}/{{ item.metadata.name }}"}},
            "result.results | selectattr('changed') | list | length")
        total = len(batch)
        print(f"converge benchmark: {args.vms} VMs + {args.pods} pods + {args.services} Services = {total} objects")
        first, summary = timed(ours, env, [])
        print(f"first converge with apply: {first:.1f}s {summary}", flush=True)
        wait_settled(testbed, args.vms, args.pods)
        primed, outcome = timed(loop, env, [])  # its first pass may take over fields; steady state after it
        print(f"first pass of the kubernetes.core.k8s loop: {primed:.1f}s, changed {outcome}", flush=True)
        runs = {"apply": [], "apply --check": [], "kubernetes.core.k8s loop": []}
        outcomes = {}
        for _ in range(args.rounds):
            for label, path, extra in (("apply", ours, []), ("apply --check", ours, ["--check"]),
                                       ("kubernetes.core.k8s loop", loop, [])):
                elapsed, outcome = timed(path, env, extra)
                print(f"  {label}: {elapsed:.2f}s {outcome}", flush=True)
                runs[label].append(elapsed)
                outcomes[label] = outcome
        medians = {label: statistics.median(times) for label, times in runs.items()}
        print(f"\n{'way (nothing drifts)':<28}{'median s':>10}{'min s':>8}{'max s':>8}  outcome")
        for label, times in runs.items():
            print(f"{label:<28}{medians[label]:>10.2f}{min(times):>8.2f}{max(times):>8.2f}  {outcomes[label]}")
        print(f"\nratio kubernetes.core.k8s loop / apply: {medians['kubernetes.core.k8s loop'] / medians['apply']:.1f}x"
              f" (goal >= 5x)")
        print(f"check mode cost: apply --check / apply: {medians['apply --check'] / medians['apply']:.2f}x")
        cleanup = playbook(work, "cleanup", {"pacific.supervisor.apply": {
            "src": str(source), "namespace": NAMESPACE, "state": "absent", "wait": True, **connection}},
            "result.summary")
        timed(cleanup, env, [])
    finally:
        if os.environ.get("PACIFIC_TESTBED_KEEP") != "1":
            testbed.down()


if __name__ == "__main__":
    main()
