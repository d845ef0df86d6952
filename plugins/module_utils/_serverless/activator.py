# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The function activator: an HTTP front always in the path of a namespace's functions.

A request names its function by path (``/function/<namespace>/<name>/...``) or by Host
(``<name>.<namespace>.<domain>``). The activator counts it in flight (held or sent) at once and:

- sends it to the ready pod with the fewest requests in flight, never above the function's
  container concurrency;
- when no pod can take it (the function at zero, waking, draining to zero, or every pod at its
  concurrency), holds it in the function's queue (bounded: past ``queue_size`` it answers 503
  with Retry-After) and, at zero, wakes the function: it scales the Deployment through its scale
  subresource itself, sees the pod through the Pod feed, probes its readiness path until it
  answers, then hands held requests out in the order they came;
- answers 504 naming the function when a request waited its cold-start timeout;
- every tick feeds the function's concurrency to its autoscaler (``autoscaler.py``) and scales
  to what it says; after the idle window with nothing in flight or held, stops routing to the
  function first, then scales it to zero, so nothing is sent to a pod going away (what arrives
  meanwhile is held and wakes it again).

Events for rulebooks (``emit``): ``function_cold_start``, ``function_scaled`` and
``function_cold_start_failed``, with timings in milliseconds. Nothing here knows Ansible; the
Kubernetes side is the collection's client and informer (``feeds.py``), run in threads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import collections
import logging
import time

try:
    import aiohttp
    from aiohttp import web
except ImportError as err:  # pragma: no cover - reported by the event source's start
    aiohttp = web = None
    AIOHTTP_IMPORT_ERROR = err
else:
    AIOHTTP_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import autoscaler, policy as policies
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.feeds import (
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    PODS,
)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target

LOG = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"))
IDEMPOTENT = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"))
STATS_PATH = "/_activator/stats"
HEALTH_PATH = "/_activator/healthz"


class QueueFull(Exception):
    pass


class ColdStartTimeout(Exception):
    pass


class Pod(object):
    """One pod of a function, as the activator routes to it."""

    __slots__ = ("name", "uid", "ip", "ready", "in_flight", "max_in_flight", "served", "seen_at", "probe")

    def __init__(self, name, uid, ip, seen_at):
        self.name, self.uid, self.ip = name, uid, ip
        self.ready = False
        self.in_flight = self.max_in_flight = self.served = 0
        self.seen_at = seen_at
        self.probe = None


class Function(object):
    """What the activator knows and counts of one function."""

    def __init__(self, namespace, name, now):
        self.namespace, self.name = namespace, name
        self.policy = policies.Policy()
        self.error = None  # the policy's refusal: requests are answered 500 with it
        self.replicas = 0  # what the Deployment asks for (spec.replicas)
        self.pods = {}  # name -> Pod, the ones that may be routed to once ready
        self.retired = set()  # uids of pods handed to a scale-down: never routed to again
        self.held = collections.deque()  # futures of held requests, in arrival order
        self.in_flight = 0  # held + sent
        self.max_in_flight = 0
        self.last_request = now
        self.routing = True  # False while going to zero
        self.waking = None  # the wake task
        self.scaling = asyncio.Lock()
        self.autoscaler = autoscaler.Autoscaler(self.policy)
        self.ready_event = asyncio.Event()
        self.wake_failures = 0

    @property
    def key(self):
        return self.namespace, self.name

    def ready_pods(self):
        return [pod for pod in self.pods.values() if pod.ready]

    def pick(self):
        """The ready pod with the fewest requests in flight that may take one more, or None."""
        limit = self.policy.container_concurrency
        best = None
        for pod in self.pods.values():
            if pod.ready and (not limit or pod.in_flight < limit) and (best is None or pod.in_flight < best.in_flight):
                best = pod
        return best

    def stats(self):
        return {"namespace": self.namespace, "name": self.name, "replicas": self.replicas,
                "in_flight": self.in_flight, "max_in_flight": self.max_in_flight, "held": len(self.held),
                "routing": self.routing, "waking": self.waking is not None, "error": self.error,
                "pods": [{"name": pod.name, "ip": pod.ip, "ready": pod.ready, "in_flight": pod.in_flight,
                          "max_in_flight": pod.max_in_flight, "served": pod.served}
                         for pod in sorted(self.pods.values(), key=lambda p: p.name)]}


def _ready_condition(status):
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


def _ms(seconds):
    return round(seconds * 1000.0, 1)


class Activator(object):
    """The functions of some namespaces, their requests and their scale."""

    def __init__(self, client, namespaces, emit, domain="functions.local", queue_size=10000, tick=0.25,
                 probe_interval=0.005, clock=time.monotonic, escalate_after=3):
        self.client = client
        self.namespaces = list(namespaces)
        self.emit = emit  # emit(dict): hands an event to the rulebook (never blocks the loop)
        self.domain = domain.strip(".").lower() if domain else ""
        self.queue_size = queue_size
        self.escalate_after = escalate_after
        self.tick = tick
        self.probe_interval = probe_interval
        self.clock = clock
        self.functions = {}  # (namespace, name) -> Function
        # the last state of every function pod seen, kept so that a function whose Deployment the
        # feeds hand over after its pods (they run in threads of their own) finds them
        self.pod_objects = {}  # (namespace, pod name) -> object
        self.session = None
        self.loop = None
        self._ticker = None
        self._tasks = set()

    # --- life ----------------------------------------------------------------------------------
    async def start(self):
        self.loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None, use_dns_cache=False, force_close=False)
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                             timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        self._ticker = asyncio.ensure_future(self._tick_forever())

    async def close(self):
        if self._ticker is not None:
            self._ticker.cancel()
        for task in list(self._tasks):
            task.cancel()
        for function in self.functions.values():
            for pod in function.pods.values():
                if pod.probe is not None:
                    pod.probe.cancel()
            if function.waking is not None:
                function.waking.cancel()
        if self.session is not None:
            await self.session.close()

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- what the feeds say (called on the loop) -------------------------------------------------
    def deliver(self, resource, changes):
        """Changes of the feeds, ``(type, object)``, on the event loop."""
        for kind, obj in changes:
            if resource is DEPLOYMENTS:
                self._deployment(kind, obj)
            elif resource is PODS:
                self._pod(kind, obj)
            elif resource is ENDPOINT_SLICES:
                self._endpoint_slice(kind, obj)

    def _deployment(self, kind, obj):
        metadata = obj.get("metadata") or {}
        namespace, name = metadata.get("namespace"), metadata.get("name")
        if (metadata.get("labels") or {}).get(policies.FUNCTION_LABEL) != name and kind != "DELETED":
            return  # labelled for another name: not a function by the contract
        key = (namespace, name)
        if kind == "DELETED":
            function = self.functions.pop(key, None)
            if function is not None:
                for waiter in function.held:
                    if not waiter.done():
                        waiter.set_exception(LookupError("function {0}/{1} was deleted".format(namespace, name)))
                function.held.clear()
            return
        function = self.functions.get(key)
        new = function is None
        if new:
            function = self.functions[key] = Function(namespace, name, self.clock())
        try:
            function.policy = policies.from_annotations(metadata.get("annotations"))
            function.error = None
        except PacificError as err:
            function.error = "function {0}/{1}: {2}".format(namespace, name, err.msg)
            LOG.warning("%s", function.error)
        function.autoscaler.policy = function.policy
        function.replicas = int((obj.get("spec") or {}).get("replicas") or 0)
        if new:
            for pod in list(self.pod_objects.values()):
                if (pod["metadata"].get("namespace"), pod["metadata"].get("labels", {}).get(policies.FUNCTION_LABEL)) == key:
                    self._pod("ADDED", pod)

    def _pod(self, kind, obj):
        metadata = obj.get("metadata") or {}
        status = obj.get("status") or {}
        if kind == "DELETED":
            self.pod_objects.pop((metadata.get("namespace"), metadata.get("name")), None)
        else:
            self.pod_objects[(metadata.get("namespace"), metadata.get("name"))] = obj
        name = (metadata.get("labels") or {}).get(policies.FUNCTION_LABEL)
        function = self.functions.get((metadata.get("namespace"), name))
        if function is None:
            return
        pod_name, uid, ip = metadata.get("name"), metadata.get("uid"), status.get("podIP")
        if kind == "DELETED":
            function.retired.discard(uid)
        gone = (kind == "DELETED" or metadata.get("deletionTimestamp") or status.get("phase") in ("Failed", "Succeeded")
                or uid in function.retired)
        # the pod's own Ready condition counts too: what the Supervisor says is not ready (a
        # readinessProbe failing, a pod being drained) is not sent requests, whatever the probe says
        unready = status.get("phase") != "Running" or not _ready_condition(status)
        known = function.pods.get(pod_name)
        if known is not None and (gone or unready or known.uid != uid or known.ip != ip):
            self._forget(function, known)
            known = None
        if gone or unready or known is not None or not ip:
            return
        pod = function.pods[pod_name] = Pod(pod_name, uid, ip, self.clock())
        pod.probe = self._spawn(self._probe(function, pod))

    def _endpoint_slice(self, kind, obj):
        if kind == "DELETED":
            return
        for endpoint in obj.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if not conditions.get("terminating"):
                continue
            target = endpoint.get("targetRef") or {}
            for function in self.functions.values():
                pod = function.pods.get(target.get("name"))
                if pod is not None and function.namespace == (obj.get("metadata") or {}).get("namespace"):
                    self._forget(function, pod)

    def _readmit(self, function):
        """Pods retired by a scale to zero may take requests again once the function is woken: a
        scale 0 -> 1 that came before the ReplicaSet controller deleted them leaves them running."""
        if not function.retired:
            return
        function.retired.clear()
        for obj in list(self.pod_objects.values()):
            metadata = obj.get("metadata") or {}
            if (metadata.get("namespace"), (metadata.get("labels") or {}).get(policies.FUNCTION_LABEL)) == function.key:
                self._pod("MODIFIED", obj)

    def _unready(self, function, pod):
        if function.pods.get(pod.name) is pod and pod.ready:
            pod.ready = False
            if not function.ready_pods():
                function.ready_event.clear()
            pod.probe = self._spawn(self._probe(function, pod))

    def _forget(self, function, pod):
        function.pods.pop(pod.name, None)
        if pod.probe is not None:
            pod.probe.cancel()
        if not function.ready_pods():
            function.ready_event.clear()

    # --- readiness --------------------------------------------------------------------------
    async def _probe(self, function, pod):
        """GET the readiness path until it answers 2xx/3xx; then the pod takes requests."""
        url = "http://{0}:{1}{2}".format(pod.ip, function.policy.port, function.policy.readiness_path)
        delay = self.probe_interval
        timeout = aiohttp.ClientTimeout(total=2.0)
        while function.pods.get(pod.name) is pod:
            try:
                async with self.session.get(url, timeout=timeout, allow_redirects=False) as answer:
                    await answer.read()
                    if 200 <= answer.status < 400:
                        break
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.1)
        else:
            return
        pod.ready = True
        pod.probe = None
        function.ready_event.set()
        self._dispatch(function)

    # --- requests --------------------------------------------------------------------------
    def route(self, request):
        """The function a request is for and the path to send it, or None."""
        path = request.rel_url.raw_path
        if path.startswith("/function/"):
            parts = path.split("/", 4)
            if len(parts) >= 4 and parts[2] and parts[3]:
                rest = "/" + parts[4] if len(parts) > 4 else "/"
                return self.functions.get((parts[2], parts[3])), rest
            return None, None
        host = (request.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if self.domain and host.endswith("." + self.domain):
            labels = host[:-len(self.domain) - 1].split(".")
            if len(labels) == 2:
                return self.functions.get((labels[1], labels[0])), path
        return None, None

    async def handle(self, request):
        if request.path == STATS_PATH:
            return web.json_response(self.stats())
        if request.path == HEALTH_PATH:
            return web.Response(text="ok\n")
        function, path = self.route(request)
        if function is None:
            return web.Response(status=404, text="no function answers {0}{1}\n".format(
                request.host, request.path))
        if function.error is not None:
            return web.Response(status=500, text=function.error + "\n")
        arrival = self.clock()
        function.in_flight += 1
        function.max_in_flight = max(function.max_in_flight, function.in_flight)
        function.last_request = arrival
        try:
            body = await request.read()
            deadline = arrival + function.policy.cold_start_timeout
            attempts = 0
            while True:
                pod = await self._acquire(function, deadline)
                attempts += 1
                try:
                    return await self._forward(function, pod, request, path, body)
                except aiohttp.ClientConnectorError:
                    # nothing was sent: the pod is going, gone or not listening; send the request
                    # elsewhere (or hold it) and probe the pod again
                    self._unready(function, pod)
                except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                    # the pod went away with the request (a scale-in, a crash): a request that may
                    # be repeated is sent again, once or twice; any other is answered 502
                    self._unready(function, pod)
                    if request.method not in IDEMPOTENT or attempts >= 3:
                        return web.Response(status=502, text="function {0}/{1}: pod {2} failed the request: {3}\n".format(
                            function.namespace, function.name, pod.name, type(err).__name__))
                finally:
                    self._release(function, pod)
        except QueueFull:
            return web.Response(status=503, headers={"Retry-After": "1"}, text=(
                "function {0}/{1}: {2} requests are held already; try again later\n".format(
                    function.namespace, function.name, self.queue_size)))
        except ColdStartTimeout:
            if function.ready_pods():
                text = ("function {0}/{1}: no pod could take the request within its cold-start timeout of {2:g}s "
                        "(every pod at its container concurrency)\n")
            else:
                text = "function {0}/{1} did not become ready within its cold-start timeout of {2:g}s\n"
            return web.Response(status=504, text=text.format(function.namespace, function.name,
                                                             function.policy.cold_start_timeout))
        except LookupError as err:
            return web.Response(status=404, text="{0}\n".format(err))
        finally:
            function.in_flight -= 1
            function.last_request = self.clock()

    async def _acquire(self, function, deadline):
        if function.routing and not function.held:
            pod = function.pick()
            if pod is not None:
                self._take(pod)
                return pod
        if len(function.held) >= self.queue_size:
            raise QueueFull()
        waiter = self.loop.create_future()
        function.held.append(waiter)
        self._wake_if_needed(function)
        remaining = deadline - self.clock()
        if remaining > 0:
            await asyncio.wait((waiter,), timeout=remaining)
        if waiter.done() and not waiter.cancelled():
            return waiter.result()  # a pod, taken for us; or the function's deletion raised
        waiter.cancel()
        try:
            function.held.remove(waiter)
        except ValueError:
            pass
        raise ColdStartTimeout()

    def _take(self, pod):
        pod.in_flight += 1
        pod.served += 1
        pod.max_in_flight = max(pod.max_in_flight, pod.in_flight)

    def _release(self, function, pod):
        pod.in_flight -= 1
        self._dispatch(function)

    def _dispatch(self, function):
        """Hand held requests, oldest first, to pods that may take them."""
        while function.held and function.routing:
            pod = function.pick()
            if pod is None:
                return
            waiter = function.held.popleft()
            if waiter.done():
                continue  # gave up meanwhile
            self._take(pod)
            waiter.set_result(pod)

    async def _forward(self, function, pod, request, path, body):
        query = request.rel_url.raw_query_string
        url = "http://{0}:{1}{2}{3}".format(pod.ip, function.policy.port, path, "?" + query if query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        headers.append(("X-Forwarded-Host", request.host))
        if request.remote:
            headers.append(("X-Forwarded-For", request.remote))
        async with self.session.request(request.method, url, headers=headers, data=body or None,
                                        allow_redirects=False) as answer:
            payload = await answer.read()
            out = [(k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP]
            return web.Response(status=answer.status, body=payload, headers=out)

    # --- scale -----------------------------------------------------------------------------
    async def scale(self, function, replicas, reason):
        """Ask the Deployment for ``replicas`` through its scale subresource; emit ``function_scaled``."""
        async with function.scaling:
            before = function.replicas
            if before == replicas:
                return
            started = self.clock()
            # the counts when the scale was decided (what arrives while the PATCH is out is held)
            in_flight, held, ready = function.in_flight, len(function.held), len(function.ready_pods())
            path = DEPLOYMENTS.path(function.namespace, function.name) + "/scale"
            target = Target("scale", DEPLOYMENTS, function.name, function.namespace)
            await asyncio.to_thread(self.client.request, "PATCH", path, target, {"spec": {"replicas": replicas}},
                                    None, "application/merge-patch+json")
            function.replicas = replicas
            self.emit({"type": "function_scaled", "namespace": function.namespace, "name": function.name,
                       "from": before, "to": replicas, "reason": reason, "in_flight": in_flight,
                       "held": held, "ready_pods": ready,
                       "request_ms": _ms(self.clock() - started)})

    def _wake_if_needed(self, function):
        if function.waking is None and function.routing and not function.ready_pods():
            function.waking = self._spawn(self._wake(function))

    async def _wake(self, function):
        started = self.clock()
        timings = {}
        try:
            replicas = autoscaler.wake_replicas(function.policy, len(function.held))
            from_zero = function.replicas == 0
            if function.replicas < replicas:
                await self.scale(function, replicas, "wake")
            self._readmit(function)
            timings["scale_ms"] = _ms(self.clock() - started)
            try:
                await asyncio.wait_for(function.ready_event.wait(), function.policy.cold_start_timeout)
            except asyncio.TimeoutError:
                function.wake_failures += 1
                self.emit({"type": "function_cold_start_failed", "namespace": function.namespace,
                           "name": function.name, "cold_start_timeout_s": function.policy.cold_start_timeout,
                           "waited_ms": _ms(self.clock() - started), "held": len(function.held),
                           "pods": sorted(function.pods), "replicas": function.replicas,
                           "failures": function.wake_failures,
                           "escalate": function.wake_failures >= self.escalate_after})
                return
            ready = function.ready_pods()
            pod = min(ready, key=lambda p: p.seen_at) if ready else None
            if pod is not None:
                timings["pod_seen_ms"] = _ms(max(0.0, pod.seen_at - started))
            timings["ready_ms"] = _ms(self.clock() - started)
            function.wake_failures = 0
            self.emit({"type": "function_cold_start", "namespace": function.namespace, "name": function.name,
                       "from_zero": from_zero, "held": len(function.held), "replicas": function.replicas,
                       "pod": pod.name if pod else None, "timings": timings, "duration_ms": timings["ready_ms"]})
        except PacificError as err:
            function.wake_failures += 1
            self.emit({"type": "function_cold_start_failed", "namespace": function.namespace, "name": function.name,
                       "cold_start_timeout_s": function.policy.cold_start_timeout,
                       "waited_ms": _ms(self.clock() - started), "held": len(function.held),
                       "pods": sorted(function.pods), "replicas": function.replicas,
                       "failures": function.wake_failures, "error": err.msg,
                       "escalate": function.wake_failures >= self.escalate_after})
        finally:
            function.waking = None

    async def _to_zero(self, function):
        """Scale to zero a function its caller stopped routing to (in the same step of the loop as
        it found it idle, so no request was sent meanwhile); what arrives from then on is held and
        wakes the function again once the scale-down is done."""
        try:
            await self.scale(function, 0, "idle")
            for pod in list(function.pods.values()):
                function.retired.add(pod.uid)
                self._forget(function, pod)
            function.autoscaler.reset()
        except PacificError as err:
            LOG.warning("function %s/%s: scaling to zero failed: %s", function.namespace, function.name, err)
        finally:
            function.routing = True
        if function.held:
            self._wake_if_needed(function)
            self._dispatch(function)

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(self.tick)
            for function in list(self.functions.values()):
                try:
                    await self._tick(function)
                except PacificError as err:
                    LOG.warning("function %s/%s: %s", function.namespace, function.name, err)

    async def _tick(self, function):
        if function.error is not None or not function.routing or function.scaling.locked():
            return
        now = self.clock()
        if autoscaler.idle(function.policy, now, function.last_request, function.in_flight, len(function.held)):
            if function.replicas > 0 and function.waking is None:
                function.routing = False  # first: from now on every request is held
                self._spawn(self._to_zero(function))
            return
        if function.replicas == 0 and not function.held:
            return
        function.autoscaler.record(now, function.in_flight)
        decision = function.autoscaler.decide(now, len(function.ready_pods()), function.replicas)
        if decision.replicas != function.replicas and (function.ready_pods() or decision.replicas > function.replicas):
            self._spawn(self.scale(function, decision.replicas, decision.reason))

    def stats(self):
        return {"functions": [function.stats() for function in
                              sorted(self.functions.values(), key=lambda f: f.key)]}


async def serve(activator, host, port):
    """An aiohttp server for ``activator`` on ``host``:``port``; answers the runner (``cleanup()`` it)."""
    app = web.Application(client_max_size=64 * 2**20)
    app.router.add_route("*", "/{tail:.*}", activator.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    return runner
