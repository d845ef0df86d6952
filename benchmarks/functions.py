"""Functions that scale to zero: the activator's cold starts against the bare floor, bursts at zero,
warm overhead and scaling by concurrency, on the testbed, in one run.

Uses a testbed of its own (``PACIFIC_TESTBED_STATE``/``PACIFIC_TESTBED_PORT_BASE`` when set). The
activator is the event source ``pacific.supervisor.function_activator`` run in a process of its own
(its ``main(queue, args)``, as ansible-rulebook loads it) as the namespace developer (EDIT, a
``/wcp/login`` token): only a namespace's RBAC. The functions are Deployments of the testbed's echo
image, made by the developer.

1. Cold start, ``--wakes`` times each, one after the other:
   - through the activator: a request for a function at zero, sent to the activator, until its
     answer (the activator scales the Deployment, sees the pod, probes it, sends the request on);
   Each wake starts with no pod of either side left (and 0.1 s for the Spherelet to settle).
   - the bare floor, in the same run: PATCH the scale subresource of another Deployment 0 -> 1,
     then LIST its pods every 10 ms until one has an IP and GET it every 5 ms until it answers
     (what any activator has to wait for at least); scaled back to 0 after each.
2. Bursts at zero: ``--bursts`` bursts of ``--burst-size`` concurrent requests, each sent when the
   function is at zero again (pods gone); the count of answers that are not 2xx.
3. Warm overhead: ``--warm`` requests, one at a time, alternately through the activator and
   straight to the pod (a new connection each, both ways); the p50 difference.
4. Concurrency: 40 clients that each send one request after another (each answer takes 0.2 s) to
   a function at zero with target 10 and container concurrency 10, for ``--concurrency-seconds``;
   the replicas reached, when 4 pods were ready, and the highest concurrency any pod saw.

No assertion on time: the figures are printed, with the goals beside them.

    .venv/bin/python -m benchmarks.functions --quick   # about a minute on an idle 2-core machine
    .venv/bin/python -m benchmarks.functions           # 50 wakes, 8 bursts of 500, 2,000 warm requests
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import aiohttp  # noqa: E402
import requests  # noqa: E402
from kubernetes import client  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from benchmarks.anchors import our_collections  # noqa: E402
from testbed.credentials import DEVELOPER_USER  # noqa: E402
from testbed.layout import Layout  # noqa: E402
from testbed.pytest_plugin import isolated_layout  # noqa: E402
from testbed.stack import Testbed  # noqa: E402
from testbed.vcenter import developer_token, rest_session, wait_developer_access  # noqa: E402

NAMESPACE = "bench-functions"
PORT_BASE = 11640
LABEL = "pacific.supervisor/function"
SOURCE = ("ansible_collections", "pacific", "supervisor", "extensions", "eda", "plugins", "event_source",
          "function_activator.py")
READY = "pacific.supervisor.function_activator ready"
ANCHORS = [
    ("Knative Serving", "cold start 1-2 s at best with the image present; 8-18 s reported; queue 10,000 then 503"),
    ("KEDA HTTP add-on", "3.35 s cold start reported; first request failing (#432, #854, #1692)"),
    ("OpenFaaS", "burst of 200 from zero: 48 x 502 and 952 timeouts (faas#685)"),
]


# --- figures ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"


# --- set-up ----------------------------------------------------------------------------------
def layout() -> Layout:
    if "PACIFIC_TESTBED_STATE" in os.environ:
        return Layout.from_env()
    return isolated_layout("bench-functions", PORT_BASE)


def developer_namespace(testbed: Testbed) -> None:
    """The benchmark's vSphere Namespace, the developer EDIT in it (made once, kept)."""
    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    if http.get(f"{base}/api/vcenter/namespaces/instances/{NAMESPACE}").status_code == 404:
        cluster = http.get(base + "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
        user, domain = DEVELOPER_USER.split("@")
        http.post(base + "/api/vcenter/namespaces/instances", json={
            "cluster": cluster, "namespace": NAMESPACE,
            "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}]}
        ).raise_for_status()
    wait_developer_access(testbed, NAMESPACE)


def deployment(name: str, function: bool = True, env: dict | None = None, **annotations) -> dict:
    labels = {LABEL: name} if function else {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels, "annotations": {k: str(v) for k, v in annotations.items()}},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "main", "image": "pacific/echo", "ports": [{"containerPort": 8080}],
                         "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def fresh(apps: client.AppsV1Api, body: dict) -> None:
    """The Deployment as ``body`` says, at zero (made again when it exists)."""
    name = body["metadata"]["name"]
    try:
        apps.delete_namespaced_deployment(name, NAMESPACE, propagation_policy="Foreground")
        while True:
            apps.read_namespaced_deployment(name, NAMESPACE)
            time.sleep(0.2)
    except ApiException as err:
        if err.status != 404:
            raise
    apps.create_namespaced_deployment(NAMESPACE, body)


class Activator:
    """The event source in a process of its own, as the developer; its events in a file."""

    def __init__(self, testbed: Testbed, port: int, work: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.events_path = work / "events.jsonl"
        self.log_path = work / "activator.log"
        env = {**os.environ, "PACIFIC_SUPERVISOR_TOKEN": developer_token(testbed),
               "PACIFIC_SUPERVISOR_SERVER": testbed.layout.apiserver_url,
               "PACIFIC_SUPERVISOR_CA_CERT": str(testbed.pki.ca_cert)}
        for key in ("PACIFIC_SUPERVISOR_USERNAME", "PACIFIC_SUPERVISOR_PASSWORD", "PACIFIC_SUPERVISOR_KUBECONFIG",
                    "KUBECONFIG", "K8S_AUTH_KUBECONFIG"):
            env.pop(key, None)
        args = {"namespaces": [NAMESPACE], "host": "127.0.0.1", "port": port, "tick": 0.05,
                "record_file": str(self.events_path)}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen([sys.executable, __file__, "--serve", json.dumps(args)], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while READY not in self.log_path.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the activator did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stats(self, name: str) -> dict:
        for function in requests.get(self.url + "/_activator/stats", timeout=10).json()["functions"]:
            if function["name"] == name:
                return function
        return {}

    def at_zero(self, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            state = self.stats(name)
            if state and state["replicas"] == 0 and not state["pods"] and state["in_flight"] == 0:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not go to zero: {state}")
            time.sleep(0.02)

    def events(self, kind: str, name: str) -> list[dict]:
        if not self.events_path.exists():
            return []
        return [e for e in map(json.loads, self.events_path.read_text().splitlines())
                if e["type"] == kind and e["name"] == name]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def serve(args_json: str) -> None:
    """``--serve``: run the source as ansible-rulebook does (its file loaded with runpy)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    source = runpy.run_path(str(our_collections().joinpath(*SOURCE)))

    class Queue:
        async def put(self, event):
            pass  # the record file has them

    asyncio.run(source["main"](Queue(), json.loads(args_json)))


# --- 1. cold starts --------------------------------------------------------------------------
def no_pods(core: client.CoreV1Api, selector: str, timeout: float = 60) -> None:
    """Until no pod of ``selector`` is left: every wake starts from nothing (a pod that outlived a
    quick 1 -> 0 -> 1 would answer at once and flatter either side)."""
    deadline = time.monotonic() + timeout
    while core.list_namespaced_pod(NAMESPACE, label_selector=selector).items:
        if time.monotonic() > deadline:
            raise SystemExit(f"pods of {selector} still there after {timeout:.0f}s")
        time.sleep(0.02)


def bare_wake(apps: client.AppsV1Api, core: client.CoreV1Api, name: str, seen: set[str]) -> float:
    """Scale 0 -> 1 and poll until the new pod answers; the seconds it took."""
    no_pods(core, f"app={name}")
    http = requests.Session()
    http.trust_env = False
    started = time.monotonic()
    apps.patch_namespaced_deployment_scale(name, NAMESPACE, {"spec": {"replicas": 1}})
    ip = None
    while ip is None:
        for pod in core.list_namespaced_pod(NAMESPACE, label_selector=f"app={name}").items:
            if pod.metadata.uid not in seen and not pod.metadata.deletion_timestamp and pod.status.pod_ip:
                ip = pod.status.pod_ip
                seen.add(pod.metadata.uid)
        if ip is None:
            time.sleep(0.01)
    while True:
        try:
            if http.get(f"http://{ip}:8080/", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.005)
    took = time.monotonic() - started
    apps.patch_namespaced_deployment_scale(name, NAMESPACE, {"spec": {"replicas": 0}})
    return took


def activator_wake(activator: Activator, core: client.CoreV1Api, name: str) -> float:
    activator.at_zero(name)
    no_pods(core, f"{LABEL}={name}")
    started = time.monotonic()
    try:
        answer = requests.get(f"{activator.url}/function/{NAMESPACE}/{name}/", timeout=60)
    except requests.RequestException as err:
        raise SystemExit(f"a wake of {name} got no answer ({err}); the activator says {activator.stats(name)}")
    took = time.monotonic() - started
    if answer.status_code != 200:
        raise SystemExit(f"a wake of {name} answered {answer.status_code}: {answer.text}")
    return took


def quiet(core: client.CoreV1Api) -> None:
    """Neither side's pods left, and a moment for the Spherelet to finish tearing the last one
    down: a wake that starts while the other side's pod is being deleted waits behind it."""
    no_pods(core, f"{LABEL}=cold")
    no_pods(core, "app=bare")
    time.sleep(0.1)


def cold_starts(activator: Activator, apps, core, wakes: int) -> dict:
    seen: set[str] = set()
    through, bare = [], []
    for _ in range(wakes):
        activator.at_zero("cold")
        quiet(core)
        through.append(activator_wake(activator, core, "cold"))
        quiet(core)
        bare.append(bare_wake(apps, core, "bare", seen))
    events = activator.events("function_cold_start", "cold")
    return {"through": through, "bare": bare, "events": events}


# --- 2. bursts at zero -----------------------------------------------------------------------
async def burst(url: str, size: int) -> list[int]:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def one():
            try:
                async with http.get(url) as answer:
                    await answer.read()
                    return answer.status
            except aiohttp.ClientError:
                return 0
        return await asyncio.gather(*(one() for _ in range(size)))


def bursts(activator: Activator, core: client.CoreV1Api, count: int, size: int) -> dict:
    statuses, times = [], []
    for _ in range(count):
        activator.at_zero("burst")
        no_pods(core, f"{LABEL}=burst")
        started = time.monotonic()
        statuses.extend(asyncio.run(burst(f"{activator.url}/function/{NAMESPACE}/burst/", size)))
        times.append(time.monotonic() - started)
    return {"statuses": statuses, "times": times}


# --- 3. warm overhead ------------------------------------------------------------------------
async def warm_pairs(activator_url: str, direct_url: str, count: int,
                     keep_alive: bool = False) -> tuple[list[float], list[float]]:
    """Alternate requests through the activator and straight to the pod; with ``keep_alive`` the
    client keeps its connection to the activator (the echo pod answers HTTP/1.0 and closes)."""
    through, direct = [], []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as fresh_http, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=not keep_alive)) as kept_http:
        async def timed(url):
            http = kept_http if url == activator_url else fresh_http
            started = time.perf_counter()
            async with http.get(url) as answer:
                await answer.read()
                assert answer.status == 200, answer.status
            return time.perf_counter() - started
        for _ in range(20):  # warm both paths
            await timed(activator_url)
            await timed(direct_url)
        for index in range(count):
            first, second = (activator_url, direct_url) if index % 2 else (direct_url, activator_url)
            a, b = await timed(first), await timed(second)
            (through if first == activator_url else direct).append(a)
            (direct if first == activator_url else through).append(b)
    return through, direct


def warm(activator: Activator, count: int) -> dict:
    requests.get(f"{activator.url}/function/{NAMESPACE}/warm/", timeout=60).raise_for_status()
    pod = activator.stats("warm")["pods"][0]
    urls = (f"{activator.url}/function/{NAMESPACE}/warm/", f"http://{pod['ip']}:8080/")
    through, direct = asyncio.run(warm_pairs(*urls, count))
    kept, kept_direct = asyncio.run(warm_pairs(*urls, count, keep_alive=True))
    return {"through": through, "direct": direct, "kept": kept, "kept_direct": kept_direct}


# --- 4. concurrency --------------------------------------------------------------------------
async def clients(url: str, workers: int, seconds: float, stop: threading.Event) -> list[int]:
    connector = aiohttp.TCPConnector(limit=0)
    statuses: list[int] = []
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        deadline = time.monotonic() + seconds

        async def worker():
            while time.monotonic() < deadline and not stop.is_set():
                try:
                    async with http.get(url) as answer:
                        await answer.read()
                        statuses.append(answer.status)
                except aiohttp.ClientError:
                    statuses.append(0)
        await asyncio.gather(*(worker() for _ in range(workers)))
    return statuses


def concurrency(activator: Activator, seconds: float) -> dict:
    activator.at_zero("conc")
    stop = threading.Event()
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()

    def sample():
        while not stop.is_set():
            state = activator.stats("conc")
            ready = sum(1 for pod in state.get("pods", []) if pod["ready"])
            samples.append((time.monotonic() - started, ready, state.get("replicas", 0)))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    statuses = asyncio.run(clients(f"{activator.url}/function/{NAMESPACE}/conc/", 40, seconds, stop))
    stop.set()
    sampler.join()
    state = activator.stats("conc")
    four = next((at for at, ready, _ in samples if ready >= 4), None)
    return {"statuses": statuses, "ready": max(r for _, r, _ in samples), "replicas": max(r for _, _, r in samples),
            "four_at": four, "pod_max": max((pod["max_in_flight"] for pod in state["pods"]), default=0),
            "pods": len(state["pods"])}


# --- the run ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 wakes, 4 bursts of 500, 200 warm requests, 6 s of "
                                                             "concurrency")
    parser.add_argument("--wakes", type=int, default=None)
    parser.add_argument("--bursts", type=int, default=None)
    parser.add_argument("--burst-size", type=int, default=500)
    parser.add_argument("--warm", type=int, default=None)
    parser.add_argument("--concurrency-seconds", type=float, default=None)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    quick = args.quick
    wakes = args.wakes or (30 if quick else 50)
    burst_count = args.bursts or (4 if quick else 8)
    warm_count = args.warm or (200 if quick else 2000)
    conc_seconds = args.concurrency_seconds or (6.0 if quick else 15.0)

    begun = time.monotonic()
    testbed = Testbed(layout())
    testbed.up()
    print(f"functions benchmark on the testbed in {testbed.layout.state} (ports from {testbed.layout.ports.base}); "
          f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    developer_namespace(testbed)
    configuration = client.Configuration()
    configuration.host = testbed.layout.apiserver_url
    configuration.ssl_ca_cert = str(testbed.pki.ca_cert)
    configuration.api_key = {"authorization": "Bearer " + developer_token(testbed)}
    api_client = client.ApiClient(configuration)
    apps, core = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    idle = {"pacific.supervisor/idle-window": "200ms"}
    for body in (deployment("cold", **idle), deployment("bare", function=False), deployment("burst", **idle),
                 deployment("warm", **{"autoscaling.knative.dev/min-scale": "1"}),
                 deployment("conc", env={"ECHO_DELAY_SECONDS": "0.2"}, **idle,
                            **{"autoscaling.knative.dev/target": "10", "pacific.supervisor/container-concurrency": "10"})):
        fresh(apps, body)
    work = Path(tempfile.mkdtemp(prefix="bench-functions-"))
    activator = Activator(testbed, testbed.layout.ports.base + 90, work)
    try:
        set_up = time.monotonic() - begun
        cold = cold_starts(activator, apps, core, wakes)
        burst_result = bursts(activator, core, burst_count, args.burst_size)
        warm_result = warm(activator, warm_count)
        conc = concurrency(activator, conc_seconds)
    except BaseException:
        activator.stop()
        print(f"the activator's log and events are kept in {work}", file=sys.stderr)
        raise
    activator.stop()
    shutil.rmtree(work, ignore_errors=True)
    report(cold, burst_result, warm_result, conc, time.monotonic() - begun, set_up)


def report(cold: dict, burst_result: dict, warm_result: dict, conc: dict, total: float, set_up: float) -> None:
    through, bare = cold["through"], cold["bare"]
    p50, p99 = percentile(through, 50), percentile(through, 99)
    b50, b99 = percentile(bare, 50), percentile(bare, 99)
    print(f"\n1. cold start, {len(through)} wakes each (request at zero -> answer)")
    print(f"   {'':<34}{'p50':>10}{'p99':>10}{'max':>10}")
    print(f"   {'through the activator':<34}{ms(p50):>10}{ms(p99):>10}{ms(max(through)):>10}")
    print(f"   {'bare: scale 0->1, poll the pod':<34}{ms(b50):>10}{ms(b99):>10}{ms(max(bare)):>10}")
    print(f"   activator above bare: p50 {ms(p50 - b50)} (goal <= 100 ms), p99 {ms(p99)} (goal <= 1 s)")
    if cold["events"]:
        seen = [e["timings"].get("pod_seen_ms", 0) for e in cold["events"]]
        ready = [e["timings"]["ready_ms"] for e in cold["events"]]
        scale = [e["timings"]["scale_ms"] for e in cold["events"]]
        print(f"   the activator's own timings (p50): scale request {statistics.median(scale):.0f} ms, pod seen "
              f"{statistics.median(seen):.0f} ms, pod answering its probe {statistics.median(ready):.0f} ms")
    statuses = burst_result["statuses"]
    bad = sum(1 for status in statuses if not 200 <= status < 300)
    print(f"\n2. bursts at zero: {len(burst_result['times'])} x {len(statuses) // max(1, len(burst_result['times']))} "
          f"concurrent = {len(statuses)} requests, {bad} not 2xx (goal 0); a burst took p50 "
          f"{ms(statistics.median(burst_result['times']))}, max {ms(max(burst_result['times']))}")
    w_through, w_direct = warm_result["through"], warm_result["direct"]
    print(f"\n3. warm, {len(w_through)} requests each way, a new connection each: through the activator p50 "
          f"{ms(percentile(w_through, 50))} p99 {ms(percentile(w_through, 99))}; straight to the pod p50 "
          f"{ms(percentile(w_direct, 50))} p99 {ms(percentile(w_direct, 99))}; added p50 "
          f"{ms(percentile(w_through, 50) - percentile(w_direct, 50))} (goal <= 2 ms)")
    kept, kept_direct = warm_result["kept"], warm_result["kept_direct"]
    print(f"   the client keeping its connection to the activator: through p50 {ms(percentile(kept, 50))} p99 "
          f"{ms(percentile(kept, 99))}; straight to the pod p50 {ms(percentile(kept_direct, 50))}; added p50 "
          f"{ms(percentile(kept, 50) - percentile(kept_direct, 50))}")
    c_bad = sum(1 for status in conc["statuses"] if not 200 <= status < 300)
    four = f"{conc['four_at']:.1f} s" if conc["four_at"] is not None else "never"
    print(f"\n4. 40 concurrent clients at target 10, container concurrency 10: {conc['replicas']} replicas asked, "
          f"{conc['ready']} pods ready at most, 4 ready after {four} (goal >= 4 within 10 s); highest concurrency "
          f"any pod saw {conc['pod_max']} (goal <= 10); {len(conc['statuses'])} requests, {c_bad} not 2xx")
    print("\nanchors (reported by their users, not measured here):")
    for name, figure in ANCHORS:
        print(f"   {name:<18}{figure}")
    print(f"\ntotal {total:.1f} s (set-up {set_up:.1f} s); load average at the end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
