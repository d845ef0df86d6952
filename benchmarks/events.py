"""Supervisor events: fault-to-playbook-start latency with the real ansible-rulebook, and fan-in.

Uses a testbed of its own (``PACIFIC_TESTBED_STATE``/``PACIFIC_TESTBED_PORT_BASE`` when set).

1. Latency. ``--vms`` VirtualMachines run in a vSphere Namespace; each injection is the testbed's
   ``power-off`` fault - the VM powered off in vCenter, out of band, with pyVmomi as
   ``python -m testbed fault power-off`` does - and its time is taken when the vCenter task has
   returned. One fault at a time; after each the VM is powered on again (not counted).

   - end to end: ``ansible-rulebook`` (Java 17, drools) runs ``benchmarks/rulebooks/event_latency.yml``:
     source ``pacific.supervisor.supervisor_events``, rule ``run_playbook`` of
     ``benchmarks/playbooks/record_start.yml``, whose first task writes the time it starts and
     the event's ``meta.received_at`` (when ansible-rulebook took it from the source's queue).
   - the split: injection -> the VirtualMachine's status in the kube-apiserver (the testbed's VM
     Operator notices vCenter changes with a 0.5 s poll; seen by a raw watch of this process) ->
     event emitted by the source (the source alone, its ``main(queue, args)`` in this process, as
     ansible-rulebook loads it) -> received by ansible-rulebook -> playbook start; and, as the
     anchor, a bare ``ansible-playbook`` of the same playbook, from exec to its first task.

2. Fan-in. ``--objects`` core Events in a namespace (made with concurrent writes, kept between
   runs), then ``--changes-per-second`` new occurrences of them (count + 1, as a recurring Event
   is recorded) for ``--seconds``, written by a child process; the source runs in this process
   (its module_utils, consumed from an asyncio queue) and the lag, event emitted - change written,
   is printed per 10-s window with the process's RSS at the start and the end.

No assertion on time: the figures are printed, with the goals beside them.

    .venv/bin/python -m benchmarks.events                      # 50 injections, 10,000 objects, 100/s for 60 s
    .venv/bin/python -m benchmarks.events --injections 5 --objects 500 --changes-per-second 20 --seconds 10
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import multiprocessing
import os
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import urllib3  # noqa: E402
import yaml  # noqa: E402
from kubernetes import client, watch  # noqa: E402

from benchmarks.anchors import our_collections  # noqa: E402
from testbed.layout import Layout  # noqa: E402
from testbed.pytest_plugin import isolated_layout  # noqa: E402
from testbed.stack import Testbed  # noqa: E402
from testbed.vcenter import ensure_namespace  # noqa: E402

NAMESPACE = "bench-events"
FANIN_NAMESPACE = "bench-fanin"
VM_CLASS = "bench-events-small"
PORT_BASE = 11440
GROUP, VERSION, PLURAL = "vmoperator.vmware.com", "v1alpha3", "virtualmachines"
HERE = Path(__file__).resolve().parent
RULEBOOK = HERE / "rulebooks" / "event_latency.yml"
PLAYBOOK = HERE / "playbooks" / "record_start.yml"
SOURCE = ("ansible_collections", "pacific", "supervisor", "extensions", "eda", "plugins", "event_source",
          "supervisor_events.py")
GOALS = {"p50": 1.0, "p99": 3.0}
READY = "bench-events: the source has listed"


# --- figures ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def row(label: str, values: list[float], goal: str = "") -> str:
    if not values:
        return f"{label:<46}{'-':>8}{'-':>8}{'-':>8}{'-':>8}  no samples"
    return (f"{label:<46}{percentile(values, 50):>8.3f}{percentile(values, 99):>8.3f}{max(values):>8.3f}"
            f"{len(values):>8}  {goal}")


def header(title: str) -> str:
    return f"{title:<46}{'p50 s':>8}{'p99 s':>8}{'max s':>8}{'n':>8}"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- set-up ----------------------------------------------------------------------------------
def layout() -> Layout:
    if "PACIFIC_TESTBED_STATE" in os.environ:
        return Layout.from_env()
    return isolated_layout("bench-events", PORT_BASE)


def source_module():
    """The source's ``events`` module (its module_utils), loaded from the collection tree as
    ansible-rulebook loads the source file."""
    return runpy.run_path(str(our_collections().joinpath(*SOURCE)))["events"]


def source_args(testbed: Testbed, kinds: list[str], namespace: str) -> dict:
    return {"server": testbed.layout.apiserver_url, "token": testbed.credentials.admin_token,
            "ca_cert": str(testbed.pki.ca_cert), "kinds": kinds, "namespaces": [namespace]}


def vm_names(count: int) -> list[str]:
    return [f"lat-{n:03d}" for n in range(count)]


def created_vms(api_client, names: list[str], timeout: float = 600) -> dict[str, str]:
    """Make the VMs that are missing and wait until each has its VM in vCenter; name -> moref."""
    objects = client.CustomObjectsApi(api_client)
    existing = {vm["metadata"]["name"] for vm in
                objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)["items"]}
    for name in names:
        if name not in existing:
            objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, {
                "apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine", "metadata": {"name": name},
                "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                         "powerState": "PoweredOn"}})
    deadline = time.monotonic() + timeout
    while True:
        listed = {vm["metadata"]["name"]: (vm.get("status") or {}).get("uniqueID") for vm in
                  objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)["items"]}
        made = {name: listed[name] for name in names if listed.get(name)}
        if len(made) == len(names):
            return made
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(made)}/{len(names)} VMs made in vCenter after {timeout}s")
        time.sleep(1)


class Vcenter:
    """One pyVmomi session to the testbed's vCenter; powers VMs off and on, as the power-off fault does."""

    def __init__(self, testbed: Testbed):
        from testbed.vcenter import connect

        self.si = connect(testbed.layout)

    def power(self, moref: str, on: bool) -> None:
        from pyVmomi import vim

        from testbed.vcenter import wait_for_task

        vm = vim.VirtualMachine(moref, self.si._stub)
        if vm.runtime.powerState != ("poweredOn" if on else "poweredOff"):
            wait_for_task(vm.PowerOnVM_Task() if on else vm.PowerOffVM_Task())

    def close(self) -> None:
        from pyVim.connect import Disconnect

        Disconnect(self.si)


class StatusWatch(threading.Thread):
    """When each VirtualMachine's status.powerState was seen changed in the kube-apiserver: a raw
    watch of this process, the reference point between the testbed's controller and the source."""

    def __init__(self, api_client):
        super().__init__(daemon=True, name="status-watch")
        self.objects = client.CustomObjectsApi(api_client)
        self.seen: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self.last: dict[str, str] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        version = None
        while True:
            try:
                if version is None:
                    listed = self.objects.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
                    for vm in listed["items"]:
                        self.last[vm["metadata"]["name"]] = (vm.get("status") or {}).get("powerState")
                    version = listed["metadata"]["resourceVersion"]
                    self.ready.set()
                for event in watch.Watch().stream(self.objects.list_namespaced_custom_object, GROUP, VERSION,
                                                  NAMESPACE, PLURAL, resource_version=version, timeout_seconds=120):
                    now = time.time()
                    vm = event["object"]
                    version = vm["metadata"]["resourceVersion"]
                    name, power = vm["metadata"]["name"], (vm.get("status") or {}).get("powerState")
                    if power and self.last.get(name) != power:
                        self.last[name] = power
                        self.seen.setdefault((name, power), []).append((now, version))
            except Exception:  # noqa: BLE001 - 410 or a dropped connection: list again
                version = None
                time.sleep(0.2)

    def first(self, name: str, power: str, after: float) -> float | None:
        return (self.change(name, power, after) or (None, None))[0]

    def change(self, name: str, power: str, after: float) -> tuple[float, str] | None:
        """The first time ``name`` was seen turned ``power`` after ``after``, and that resourceVersion."""
        return next((seen for seen in self.seen.get((name, power), []) if seen[0] >= after), None)

    def wait(self, name: str, power: str, after: float, timeout: float = 60) -> tuple[float, str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.change(name, power, after)
            if found is not None:
                return found
            time.sleep(0.02)
        return None


# --- 1a. the source alone ---------------------------------------------------------------------
async def source_only(testbed: Testbed, vcenter: Vcenter, vms: dict[str, str], status: StatusWatch,
                      injections: int) -> list[dict]:
    events = source_module()
    queue: asyncio.Queue = asyncio.Queue()
    emitted: dict[tuple[str, str], list[float]] = {}
    watches: list = []
    task = asyncio.create_task(events.run(queue, source_args(testbed, ["VirtualMachine"], NAMESPACE),
                                          watches_out=watches))

    async def consume():
        while True:
            event = await queue.get()
            if event["change"] == "power_state":
                emitted.setdefault((event["name"], event["to"]), []).append(time.time())

    async def emitted_after(name, power, after, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((t for t in emitted.get((name, power), []) if t >= after), None)
            if found is not None:
                return found
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return None

    consumer = asyncio.create_task(consume())
    while not (watches and all(w.counts["watches"] for w in watches)):  # listed (the baseline), watching
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    samples, names = [], sorted(vms)
    try:
        for n in range(injections):
            name = names[n % len(names)]
            sent = time.time()
            await asyncio.to_thread(vcenter.power, vms[name], False)
            injected = time.time()
            at = await emitted_after(name, "PoweredOff", sent)
            samples.append({"name": name, "injected": injected, "kube": status.first(name, "PoweredOff", sent),
                            "emitted": at})
            on = time.time()
            await asyncio.to_thread(vcenter.power, vms[name], True)
            await emitted_after(name, "PoweredOn", on)
    finally:
        task.cancel()
        consumer.cancel()
        await asyncio.gather(task, consumer, return_exceptions=True)
    return samples


# --- 1b. end to end with ansible-rulebook -------------------------------------------------------
def rulebook_env(work: Path) -> dict:
    return {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(our_collections()),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "PYTHONUNBUFFERED": "1"}


def read_record(path: Path, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            time.sleep(0.02)
    return None


def iso_seconds(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def end_to_end(testbed: Testbed, vcenter: Vcenter, vms: dict[str, str], status: StatusWatch, injections: int,
               work: Path) -> list[dict]:
    records = work / "records"
    records.mkdir()
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    variables = work / "vars.yml"
    variables.write_text(yaml.safe_dump({
        "supervisor_server": testbed.layout.apiserver_url, "supervisor_token": testbed.credentials.admin_token,
        "supervisor_ca_cert": str(testbed.pki.ca_cert), "namespace": NAMESPACE,
        "playbook": str(PLAYBOOK), "record_dir": str(records), "ready_vm": min(vms), "ready_marker": READY}))
    variables.chmod(0o600)
    log_path = work / "rulebook.log"
    log = log_path.open("w")
    rulebook = subprocess.Popen(
        [str(Path(sys.executable).with_name("ansible-rulebook")), "--rulebook", str(RULEBOOK), "-i", str(inventory),
         "--vars", str(variables)], cwd=work, env=rulebook_env(work), stdout=log, stderr=subprocess.STDOUT)
    names = sorted(vms)
    samples = []

    def inject(name: str, timeout: float) -> dict | None:
        sent = time.time()
        vcenter.power(vms[name], False)
        injected = time.time()
        # the record of this very transition: named by the resourceVersion the VM's status got
        kube, version = status.wait(name, "PoweredOff", sent) or (None, None)
        found = read_record(records / f"{name}-{version}.json", timeout) if version else None
        on = time.time()
        vcenter.power(vms[name], True)
        status.wait(name, "PoweredOn", on)
        time.sleep(0.5)  # ansible-rulebook done with the action (sequential strategy) before the next fault
        if found is None:
            return None
        return {"name": name, "injected": injected, "kube": kube,
                "received": iso_seconds(found["received_at"]), "started": found["started"]}

    try:
        deadline = time.monotonic() + 300
        while READY not in log_path.read_text():  # the source has listed (the rulebook prints it)
            if rulebook.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ansible-rulebook did not start its source:\n" + log_path.read_text()[-4000:])
            time.sleep(0.2)
        if inject(names[0], 180) is None:  # warm-up, not counted
            raise SystemExit("ansible-rulebook ran no playbook:\n" + log_path.read_text()[-4000:])
        for n in range(injections):
            sample = inject(names[n % len(names)], 120)
            if sample is None:
                print(f"  injection {n}: no playbook within 120 s", flush=True)
                continue
            samples.append(sample)
    finally:
        rulebook.terminate()
        try:
            rulebook.wait(30)
        except subprocess.TimeoutExpired:
            rulebook.kill()
            rulebook.wait()
        log.close()
    return samples


def bare_playbook(work: Path, runs: int) -> tuple[list[float], list[float], list[float]]:
    """The same playbook without ansible-rulebook, from the call to its first task: ansible-playbook
    alone (wall and CPU seconds), and through ``ansible_runner.run`` as run_playbook calls it."""
    import ansible_runner

    records = work / "bare"
    records.mkdir()
    env = rulebook_env(work)
    wall, cpu, runner = [], [], []
    for n in range(runs):
        event = {"name": f"bare-{n}", "resource_version": "0", "meta": {"received_at": "-"}}
        extra = {"ansible_eda": {"event": event}, "record_dir": str(records)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", "-c", "local",
                        str(PLAYBOOK), "-e", json.dumps(extra)], env=env, capture_output=True, check=True)
        wall.append(json.loads((records / f"bare-{n}-0.json").read_text())["started"] - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        private = work / f"runner-{n}"
        (private / "project").mkdir(parents=True)
        shutil.copy(PLAYBOOK, private / "project" / PLAYBOOK.name)
        extra["ansible_eda"]["event"]["name"] = f"runner-{n}"
        started = time.time()
        ansible_runner.run(private_data_dir=str(private), playbook=PLAYBOOK.name, inventory="localhost,",
                           extravars=extra, envvars={k: v for k, v in env.items() if k.startswith("ANSIBLE_") or k == "PATH"},
                           cmdline="-c local", quiet=True)
        runner.append(json.loads((records / f"runner-{n}-0.json").read_text())["started"] - started)
    return wall, cpu, runner


def latency(testbed: Testbed, args) -> None:
    print(f"\n== 1. fault-to-playbook-start latency: {args.injections} power-off faults on {args.vms} VMs, "
          "one at a time", flush=True)
    ensure_namespace(testbed, NAMESPACE, VM_CLASS)
    names = vm_names(args.vms)
    vcenter = Vcenter(testbed)
    with testbed.admin_client() as api_client:
        vms = created_vms(api_client, names)
        status = StatusWatch(api_client)
        status.start()
        status.ready.wait(30)
        for moref in vms.values():
            vcenter.power(moref, True)
        deadline = time.monotonic() + 120
        while any(status.last.get(name) != "PoweredOn" for name in names) and time.monotonic() < deadline:
            time.sleep(0.2)
        work = Path(tempfile.mkdtemp(prefix="bench-events-"))
        try:
            alone = asyncio.run(source_only(testbed, vcenter, vms, status, args.injections))
            print(f"  source alone: {len(alone)} injections measured", flush=True)
            full = end_to_end(testbed, vcenter, vms, status, args.injections, work)
            print(f"  ansible-rulebook: {len(full)} injections measured", flush=True)
            bare, bare_cpu, runner = bare_playbook(work, args.bare_runs)
        finally:
            vcenter.close()
            shutil.rmtree(work, ignore_errors=True)

    def deltas(samples, start, end):
        return [s[end] - s[start] for s in samples if s.get(start) is not None and s.get(end) is not None]

    print()
    print(header("path (seconds)"))
    print(row("fault -> playbook start (ansible-rulebook)", deltas(full, "injected", "started"),
              f"goal p50 < {GOALS['p50']:.0f} s, p99 < {GOALS['p99']:.0f} s"))
    print(row("  fault -> VM status in kube-apiserver", deltas(full, "injected", "kube"), "testbed's VM Operator"))
    print(row("  VM status -> received by ansible-rulebook", deltas(full, "kube", "received"),
              "source + rulebook queue"))
    print(row("  received -> playbook start", deltas(full, "received", "started"),
              "drools + ansible-runner + ansible-playbook"))
    print(row("source alone: fault -> event emitted", deltas(alone, "injected", "emitted")))
    print(row("  fault -> VM status in kube-apiserver", deltas(alone, "injected", "kube"), "testbed's VM Operator"))
    print(row("  VM status -> event emitted", deltas(alone, "kube", "emitted"), "the source: watch + diff"))
    print(row("anchor: ansible_runner.run -> 1st task", runner, "as run_playbook calls it"))
    print(row("anchor: bare ansible-playbook exec -> 1st task", bare, "same playbook, no rulebook"))
    print(row("  its CPU time (user + sys), whole run", bare_cpu, "what the load stretches"))
    missing = args.injections - len(full)
    total = deltas(full, "injected", "started")
    tail = deltas(full, "received", "started")
    notes = []
    if missing:
        notes.append(f"{missing} injection(s) ran no playbook within 120 s")
    if total and tail and percentile(tail, 50) > 0.5 * percentile(total, 50):
        notes.append(f"the playbook's start dominates: received -> start is {percentile(tail, 50):.2f} s of "
                     f"{percentile(total, 50):.2f} s (p50); a bare ansible-playbook takes "
                     f"{percentile(bare, 50):.2f} s to its first task, so most of it is ansible-playbook's own "
                     "start-up (Python, ansible-core, inventory, the play), not the event path")
    notes.append("each run_playbook is a new ansible-runner + ansible-playbook process: the rulebook already sets "
                 "copy_files: false (only the playbook is copied, not its folder); the other options (check_files, "
                 "json_mode, verbosity) and ansible-rulebook's settings (--execution-strategy parallel, "
                 "-m/--max-concurrent-actions) change how actions queue, not how fast one starts")
    for note in notes:
        print(f"note: {note}")


# --- 2. fan-in -----------------------------------------------------------------------------------
class Http:
    """Raw JSON calls to the kube-apiserver with the admin token: cheap enough for thousands of writes."""

    def __init__(self, server: str, token: str, ca_cert: str, connections: int = 32):
        self.server = server
        self.pool = urllib3.PoolManager(maxsize=connections, ca_certs=ca_cert, cert_reqs="CERT_REQUIRED")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body=None, content_type="application/json"):
        answer = self.pool.request(method, self.server + path, headers={**self.headers, "Content-Type": content_type},
                                   body=None if body is None else json.dumps(body).encode(), retries=False,
                                   timeout=urllib3.Timeout(connect=10, read=60))
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.data[:300]!r}")
        return json.loads(answer.data) if answer.data else None


def stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "labels": {"bench": "fanin"}},
            "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": FANIN_NAMESPACE,
                               "name": f"target-{name[-3:]}"},
            "reason": "BenchChange", "message": "benchmarks/events.py fan-in", "type": "Normal", "count": 1,
            "firstTimestamp": stamp(), "lastTimestamp": stamp(), "source": {"component": "bench-events"}}


def fanin_objects(http: Http, count: int) -> dict[str, int]:
    """``count`` Events in the fan-in namespace (made concurrently where missing); name -> count."""
    try:
        http.call("POST", "/api/v1/namespaces", {"metadata": {"name": FANIN_NAMESPACE}})
    except RuntimeError as err:
        if " 409 " not in str(err):
            raise
    counts, token = {}, None
    while True:
        page = http.call("GET", f"/api/v1/namespaces/{FANIN_NAMESPACE}/events?limit=1000&labelSelector=bench%3Dfanin"
                         + (f"&continue={token}" if token else ""))
        counts.update({e["metadata"]["name"]: e.get("count") or 1 for e in page["items"]})
        token = page["metadata"].get("continue")
        if not token:
            break
    missing = [f"fanin-{n:05d}" for n in range(count) if f"fanin-{n:05d}" not in counts]
    started = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        for name in pool.map(lambda n: http.call("POST", f"/api/v1/namespaces/{FANIN_NAMESPACE}/events",
                                                 event_body(n))["metadata"]["name"], missing):
            counts[name] = 1
    if missing:
        took = time.monotonic() - started
        print(f"  made {len(missing)} Events in {took:.1f}s ({len(missing) / took:.0f}/s, 32 concurrent writes)",
              flush=True)
    return {f"fanin-{n:05d}": counts[f"fanin-{n:05d}"] for n in range(count)}


def writer(server: str, token: str, ca_cert: str, counts: dict[str, int], rate: int, seconds: int, out: str,
           start_at: float) -> None:
    """The changes, from a process of its own (so that its work does not hold the source's GIL):
    ``rate`` new occurrences a second, each Event once (count + 1, lastTimestamp now)."""
    http = Http(server, token, ca_cert)
    names = sorted(counts)
    done = []

    def change(name: str, count: int) -> None:
        sent = time.time()  # when a writer thread sends it (the pool may hold it a while under load)
        http.call("PATCH", f"/api/v1/namespaces/{FANIN_NAMESPACE}/events/{name}",
                  {"count": count, "lastTimestamp": stamp()}, "application/merge-patch+json")
        done.append((name, count, sent, time.time()))

    while time.time() < start_at:
        time.sleep(0.01)
    # 32 writers: more starve this process itself on a loaded machine (its own clock readings late)
    with ThreadPoolExecutor(32) as pool:
        for n in range(rate * seconds):
            due = start_at + n / rate
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            name = names[n % len(names)]
            counts[name] += 1
            pool.submit(change, name, counts[name])
    Path(out).write_text(json.dumps(done))


async def fanin_run(testbed: Testbed, args, counts: dict[str, int], out: Path) -> dict:
    events = source_module()
    queue: asyncio.Queue = asyncio.Queue()
    emitted: dict[tuple[str, int], float] = {}
    watches: list = []
    rss = {"before": rss_mib()}
    listing = time.monotonic()
    task = asyncio.create_task(events.run(queue, source_args(testbed, ["Event"], FANIN_NAMESPACE),
                                          watches_out=watches))

    async def consume():
        while True:
            event = await queue.get()
            emitted[(event["event_name"], event["count"])] = time.time()

    consumer = asyncio.create_task(consume())
    while not (watches and all(w.counts["watches"] for w in watches)):  # listed, watching
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    listed = time.monotonic() - listing
    held = sum(len(w.tracker.seen) for w in watches)  # the whole namespace, with older runs' Events
    rss["start"] = rss_mib()
    creds = testbed.credentials
    start_at = time.time() + 1.0
    child = multiprocessing.get_context("spawn").Process(target=writer, args=(
        testbed.layout.apiserver_url, creds.admin_token, str(testbed.pki.ca_cert), counts,
        args.changes_per_second, args.seconds, str(out), start_at))
    child.start()
    rss_samples = []
    try:
        while child.is_alive():
            if task.done():
                task.result()
            rss_samples.append((time.time() - start_at, rss_mib()))
            await asyncio.sleep(1.0)
        if child.exitcode != 0:
            raise SystemExit(f"the writer failed (exit code {child.exitcode})")
        changes = json.loads(out.read_text())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any((name, count) not in emitted for name, count, _, _ in changes):
            await asyncio.sleep(0.1)
        rss["end"] = rss_mib()
    finally:
        task.cancel()
        consumer.cancel()
        await asyncio.gather(task, consumer, return_exceptions=True)
    return {"listed": listed, "held": held, "rss": rss, "rss_samples": rss_samples, "changes": changes, "emitted": emitted,
            "start_at": start_at, "watches": watches}


def fanin(testbed: Testbed, args) -> None:
    print(f"\n== 2. fan-in: {args.objects} Events listed, then {args.changes_per_second} changes/s for "
          f"{args.seconds} s (source in this process)", flush=True)
    http = Http(testbed.layout.apiserver_url, testbed.credentials.admin_token, str(testbed.pki.ca_cert))
    counts = fanin_objects(http, args.objects)
    work = Path(tempfile.mkdtemp(prefix="bench-fanin-"))
    try:
        result = asyncio.run(fanin_run(testbed, args, counts, work / "changes.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    changes, emitted, start_at = result["changes"], result["emitted"], result["start_at"]
    print(f"  first list: {result['held']} Events, listed and watching in {result['listed']:.2f}s", flush=True)
    print()
    print("window: by the time each change's write returned (the change time); lag = event emitted - change time;"
          " 'p99 from sent' counts from when the PATCH was sent instead")
    print(f"{'window (s)':<12}{'changes':>9}{'emitted':>9}{'lag min s':>11}{'lag p50 s':>11}{'lag p99 s':>11}"
          f"{'lag max s':>11}{'p99 from sent':>15}{'write s':>9}{'RSS MiB':>9}")
    windows = max(1, math.ceil(args.seconds / 10))
    lags_all = []
    for w in range(windows):
        low, high = w * 10, min((w + 1) * 10, args.seconds)
        mine = [c for c in changes if low <= c[3] - start_at < high or (w == windows - 1 and c[3] - start_at >= high)]
        lags = [emitted[(name, count)] - done for name, count, _, done in mine if (name, count) in emitted]
        from_sent = [emitted[(name, count)] - sent for name, count, sent, _ in mine if (name, count) in emitted]
        lags_all.extend(lags)
        writes = [done - sent for _, _, sent, done in mine]
        rss = [value for at, value in result["rss_samples"] if low <= at < high]
        print(f"{f'{low}-{high}':<12}{len(mine):>9}{len(lags):>9}"
              + (f"{min(lags):>11.3f}{percentile(lags, 50):>11.3f}{percentile(lags, 99):>11.3f}{max(lags):>11.3f}"
                 if lags else f"{'-':>11}" * 4)
              + (f"{percentile(from_sent, 99):>15.3f}" if from_sent else f"{'-':>15}")
              + (f"{statistics.median(writes):>9.3f}" if writes else f"{'-':>9}")
              + (f"{rss[-1]:>9.0f}" if rss else f"{'-':>9}"))
    lost = sum(1 for name, count, _, _ in changes if (name, count) not in emitted)
    span = max((done for _, _, _, done in changes), default=start_at) - start_at
    print(f"\nchanges written: {len(changes)} in {span:.1f} s (asked {args.changes_per_second * args.seconds} in "
          f"{args.seconds} s); emitted: "
          f"{len(changes) - lost}; not emitted within 30 s after the last write: {lost}")
    if lags_all:
        print(f"lag over the run: p50 {percentile(lags_all, 50):.3f}s  p99 {percentile(lags_all, 99):.3f}s  "
              f"max {max(lags_all):.3f}s  (event emitted - the change's write returned)")
    rss = result["rss"]
    print(f"RSS of this process (source + benchmark): {rss['before']:.0f} MiB before the source, "
          f"{rss['start']:.0f} MiB after its first list, {rss['end']:.0f} MiB at the end")
    counters = result["watches"][0].counts if result["watches"] else {}
    print(f"watch: {counters}")
    print("note: the source runs in this process (events.run, consumed from an asyncio.Queue as ansible-rulebook "
          "does), the writer in a child process; core Events were chosen because no testbed controller acts on them "
          "(10,000 Pods or VMs would start 10,000 simulated workloads); 'write s' is the median time of a PATCH; "
          "a lag below 0 is a watch event that arrived before the writer had the PATCH's answer.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--injections", type=int, default=50)
    parser.add_argument("--vms", type=int, default=None, help="VMs to fault in turn (default: one per injection, "
                                                              "at most 50)")
    parser.add_argument("--bare-runs", type=int, default=5, help="runs of the bare ansible-playbook anchor")
    parser.add_argument("--objects", type=int, default=10000)
    parser.add_argument("--changes-per-second", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--only", choices=("latency", "fanin"), help="run one part")
    args = parser.parse_args()
    args.vms = args.vms or min(args.injections, 50)

    testbed = Testbed(layout())
    testbed.up()
    print(f"events benchmark on the testbed in {testbed.layout.state} (ports from {testbed.layout.ports.base}); "
          f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        if args.only in (None, "latency"):
            latency(testbed, args)
        if args.only in (None, "fanin"):
            fanin(testbed, args)
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if os.environ.get("PACIFIC_TESTBED_KEEP") != "1" and "PACIFIC_TESTBED_STATE" not in os.environ:
            testbed.down()


if __name__ == "__main__":
    main()
