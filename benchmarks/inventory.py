"""Inventory speed and memory: pacific.supervisor.workloads against community.vmware and a floor.

Starts a vcsim of its own (the testbed's binary) with N VMs on a loopback port, then times, in
the same run and against the same vcsim, each as a child process (wall time and peak RSS from
``wait4`` in a small parent of its own):

- ``ansible-inventory --list`` with ``pacific.supervisor.workloads`` (default properties, and five);
- ``ansible-inventory --list`` with ``community.vmware.vmware_vm_inventory`` (its default
  properties, and the same five);
- the floor: bare pyVmomi, one ContainerView and PropertyCollector ``RetrievePropertiesEx``
  (paged) of the same VM properties, nothing else;
- ansible-core's own share: ``ansible-inventory --list`` of the same hosts and variables handed
  over by a plugin that fetches nothing (``benchmarks/plugins/inventory/replay.py``). No
  inventory plugin can be faster or smaller than this anchor.

community.vmware is not a dependency of the collection: it is taken from the ``ansible``
community package on PyPI (``pip download``), extracted once under ``.cache/bench``.

    .venv/bin/python benchmarks/inventory.py            # 5000 and 1000 VMs
    .venv/bin/python benchmarks/inventory.py --vms 200 --rounds 1  # a quick look

Each row is run ``--rounds`` times (3): the median wall time is reported with its spread, and
the highest peak RSS. One floor fetch, not measured, comes first (vcsim's first is slower).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.anchors import community_collection, our_collections  # noqa: E402
from testbed.build import binary_paths, ensure_built  # noqa: E402
from testbed.layout import Layout  # noqa: E402
from testbed.pki import ensure_pki  # noqa: E402

CACHE = REPO_ROOT / ".cache" / "bench"
USER, PASSWORD = "bench@vsphere.local", "bench-password"
FIVE = ["name", "runtime.powerState", "guest.ipAddress", "config.uuid", "config.guestId"]
OURS_DEFAULT = ["name", "runtime.powerState", "guest.ipAddress", "guest.hostName", "config.guestId",
                "config.guestFullName", "config.hardware.numCPU", "config.hardware.memoryMB", "config.uuid",
                "config.instanceUuid", "parent", "resourcePool"]
REPLAY = "anchor: the same hosts, variables and groups from the replay plugin"
COMMUNITY_DEFAULT = ["name", "config.cpuHotAddEnabled", "config.cpuHotRemoveEnabled", "config.instanceUuid",
                     "config.hardware.numCPU", "config.template", "config.name", "config.uuid", "guest.hostName",
                     "guest.ipAddress", "guest.guestId", "guest.guestState", "runtime.maxMemoryUsage",
                     "summary.runtime.powerState", "config.guestId", "runtime.connectionState"]


# --- the floor, run as its own process so that its memory is its own -------------------------
def floor(port: int, ca: str, properties: list[str]) -> None:
    import ssl

    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl

    si = SmartConnect(host="127.0.0.1", port=port, user=USER, pwd=PASSWORD,
                      sslContext=ssl.create_default_context(cafile=ca))
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    collector = vmodl.query.PropertyCollector
    spec = collector.FilterSpec(
        objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[collector.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=properties)])
    found = []
    result = content.propertyCollector.RetrievePropertiesEx([spec], collector.RetrieveOptions(maxObjects=1000))
    while result:
        found.extend({p.name: p.val for p in item.propSet} for item in result.objects)
        if not result.token:
            break
        result = content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
    Disconnect(si)
    print(len(found))


# --- set-up ----------------------------------------------------------------------------------
class Vcsim:
    def __init__(self, vms: int, port: int, pki):
        self.vms, self.port, self.pki = vms, port, pki
        self.ready = CACHE / f"vcsim-{port}.url"

    def __enter__(self):
        binary = binary_paths(Layout.from_env())["vcsim"]
        if not binary.is_file():
            binary = ensure_built(Layout.from_env())["vcsim"]
        self.ready.unlink(missing_ok=True)
        started = time.monotonic()
        # one datacenter, one cluster of one host, all VMs in its root pool
        self.process = subprocess.Popen([
            str(binary), f"-l=127.0.0.1:{self.port}", "-dc=1", "-cluster=1", "-host=1", "-standalone-host=0",
            "-pool=0", f"-vm={self.vms}", f"-tlscert={self.pki.serving_cert}", f"-tlskey={self.pki.serving_key}",
            f"-username={USER}", f"-password={PASSWORD}", f"-ready-file={self.ready}",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while not self.ready.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"vcsim exited with {self.process.returncode}")
            if time.monotonic() - started > 600:
                raise SystemExit("vcsim not ready within 600 s")
            time.sleep(0.2)
        print(f"vcsim with {self.vms} VMs ready on 127.0.0.1:{self.port} in {time.monotonic() - started:.1f}s")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.ready.unlink(missing_ok=True)


# Started by a small interpreter of its own: a child forked (or vfork'ed) straight from this
# process would carry this process's RSS high-water mark into its own ru_maxrss.
_MEASURE = """
import json, os, sys, time
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"wall": time.monotonic() - started, "rss_kib": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, out)
"""


def measure(argv: list[str], env: dict, cwd: Path) -> dict:
    """Wall seconds and peak RSS (MiB) of one command, taken by a small parent process of its
    own (``_MEASURE``: fork, exec, ``wait4``); its stdout is kept."""
    out, figures = cwd / "stdout.json", cwd / "measured.json"
    with open(out, "wb") as sink:
        done = subprocess.run([sys.executable, "-S", "-c", _MEASURE, str(figures), *argv], env=env, cwd=cwd,
                              stdout=sink, stderr=subprocess.PIPE, check=False)
    measured = json.loads(figures.read_text())
    if measured["code"] != 0 or done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({measured['code']}):\n{done.stderr.decode()[-3000:]}")
    return {"wall": measured["wall"], "rss": measured["rss_kib"] / 1024, "stdout": out.read_bytes(),
            "stderr": done.stderr.decode()}


def replayed_inventory(listing: bytes, work: Path) -> Path:
    """The hosts, variables and groups of a ``--list`` output as a config of the ``replay``
    anchor plugin (``benchmarks/plugins/inventory``)."""
    def plain(obj):
        return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj

    listed = json.loads(listing, object_hook=plain)
    hostvars = listed.pop("_meta")["hostvars"]
    hosts, replay = work / "hosts.json", work / "anchor.replay.yml"
    hosts.write_text(json.dumps({"hosts": hostvars, "groups": listed}))
    replay.write_text(json.dumps({"plugin": "replay", "source": str(hosts)}))
    return replay


def host_count(listing: bytes) -> int:
    return len(json.loads(listing).get("_meta", {}).get("hostvars", {}))


def run(vms: int, port: int, pki, community: Path | None, work: Path, rounds: int) -> list[dict]:
    ours = our_collections()
    ca = str(pki.ca_cert)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VMWARE_", "PACIFIC_"))},
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(str(p) for p in (ours, community) if p),
        "ANSIBLE_HOME": str(work / "ansible-home"),
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_INVENTORY_PLUGINS": str(REPO_ROOT / "benchmarks" / "plugins" / "inventory"),
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "SSL_CERT_FILE": ca,  # community.vmware verifies against the default trust store
    }
    connection = {"hostname": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD}
    configs = {
        "pacific.supervisor.workloads (default)": ("ours.workloads.yml", {
            "plugin": "pacific.supervisor.workloads", **connection, "ca_cert": ca}),
        "pacific.supervisor.workloads (5 properties)": ("ours5.workloads.yml", {
            "plugin": "pacific.supervisor.workloads", **connection, "ca_cert": ca, "properties": FIVE}),
    }
    if community:
        configs["community.vmware (default)"] = ("default.vmware.yml", {
            "plugin": "community.vmware.vmware_vm_inventory", **connection, "validate_certs": True})
        configs["community.vmware (5 properties)"] = ("five.vmware.yml", {
            "plugin": "community.vmware.vmware_vm_inventory", **connection, "validate_certs": True,
            "properties": FIVE, "hostnames": ['name + "_" + config.uuid']})
    def timed(label: str, argv: list[str], count=host_count) -> bytes:
        """``rounds`` runs of ``argv``: the median wall time, its spread, the highest peak RSS."""
        results = [measure(argv, env, work) for _ in range(rounds)]
        walls = [result["wall"] for result in results]
        rows.append({"label": label, "wall": statistics.median(walls), "min": min(walls), "max": max(walls),
                     "rss": max(result["rss"] for result in results), "hosts": count(results[-1]["stdout"])})
        return results[-1]["stdout"]

    def floor_argv(properties: list[str]) -> list[str]:
        return [sys.executable, __file__, "--floor", str(port), ca, ",".join(properties)]

    rows, replayed = [], None
    # vcsim answers its first property fetch more slowly than the next ones: one fetch, not
    # measured, before any row, so that the first row measured is not the one to pay for it
    measure(floor_argv(OURS_DEFAULT), env, work)
    for label, (filename, config) in configs.items():
        path = work / filename
        path.write_text(json.dumps(config))
        listing = timed(label, ["ansible-inventory", "-i", str(path), "--list"])
        if replayed is None:
            replayed = replayed_inventory(listing, work)
    # what ansible-inventory --list itself costs for the same hosts, variables and groups, handed
    # over by a plugin that fetches nothing: the least any inventory plugin costs
    timed(REPLAY, ["ansible-inventory", "-i", str(replayed), "--list"])
    for label, properties in (("floor: pyVmomi PropertyCollector (default)", OURS_DEFAULT),
                              ("floor: pyVmomi PropertyCollector (5 properties)", FIVE),
                              ("floor: pyVmomi PropertyCollector (community default)", COMMUNITY_DEFAULT)):
        timed(label, floor_argv(properties), count=int)
    return rows


def report(vms: int, rows: list[dict]) -> None:
    by = {row["label"]: row for row in rows}
    print(f"\n### {vms} VMs\n")
    print("| run | hosts | wall, median (s) | min–max (s) | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['label']} | {row['hosts']} | {row['wall']:.2f} | {row['min']:.2f}–{row['max']:.2f} "
              f"| {row['rss']:.0f} |")
    ours, ours5 = by["pacific.supervisor.workloads (default)"], by["pacific.supervisor.workloads (5 properties)"]
    floor_default = by["floor: pyVmomi PropertyCollector (default)"]
    floor5 = by["floor: pyVmomi PropertyCollector (5 properties)"]
    print()
    anchor = by[REPLAY]
    print(f"- ansible-inventory alone (replay plugin, same hosts, variables and groups): {anchor['wall']:.2f}s, "
          f"{anchor['rss']:.0f} MiB; ours beyond it: {ours['wall'] - anchor['wall']:.2f}s, "
          f"{ours['rss'] - anchor['rss']:.0f} MiB")
    print(f"- ours / floor, same properties: {ours['wall'] / floor_default['wall']:.2f}x (default), "
          f"{ours5['wall'] / floor5['wall']:.2f}x (5 properties)   [goal <= 2x]")
    community = by.get("community.vmware (default)")
    if community:
        community5 = by["community.vmware (5 properties)"]
        print(f"- community.vmware default / ours default: {community['wall'] / ours['wall']:.1f}x faster   [goal >= 20x]")
        print(f"- community.vmware 5 properties / ours 5 properties: {community5['wall'] / ours5['wall']:.1f}x faster")
        print(f"- peak RSS ours / community.vmware: {ours['rss'] / community['rss']:.2f} (default), "
              f"{ours5['rss'] / community5['rss']:.2f} (5 properties)   [goal <= 0.5]")
        print(f"- bound for any plugin inside ansible-inventory: community.vmware default / replay anchor "
              f"{community['wall'] / anchor['wall']:.1f}x faster at best; the anchor's peak RSS is "
              f"{anchor['rss'] / community['rss']:.2f} of community.vmware's (the least that holding and listing these hosts costs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, nargs="+", default=[5000, 1000])
    parser.add_argument("--port", type=int, default=24490, help="loopback port of the benchmark's own vcsim")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each row (the median is reported)")
    parser.add_argument("--floor", nargs=3, metavar=("PORT", "CA", "PROPERTIES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor(int(args.floor[0]), args.floor[1], args.floor[2].split(","))
        return 0
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    CACHE.mkdir(parents=True, exist_ok=True)
    pki = ensure_pki(CACHE / "pki")
    community = community_collection("community", "vmware")
    for vms in args.vms:
        work = Path(tempfile.mkdtemp(prefix=f"inventory-{vms}-", dir=CACHE))
        try:
            with Vcsim(vms, args.port, pki):
                rows = run(vms, args.port, pki, community, work, args.rounds)
            report(vms, rows)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
