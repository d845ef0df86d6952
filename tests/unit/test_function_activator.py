"""The activator in one process: routing, holding, waking, concurrency, 503/504 and scale to zero,
against a fake Supervisor (the scale PATCH makes a pod appear on the Pod feed) and real HTTP pods
(aiohttp servers on loopback addresses of their own)."""
from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp import web

from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import activator as act
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import policy as p
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.feeds import DEPLOYMENTS, PODS

NS = "team-a"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """The HTTP server of every pod: answers after ?sleep=, counting concurrency per address."""

    def __init__(self, port, ready=True):
        self.port, self.ready = port, ready
        self.current, self.highest, self.runners = {}, {}, []
        self.drop = 0  # requests (not probes) to cut off, as a pod going away does

    async def handler(self, request):
        ip = request.transport.get_extra_info("sockname")[0]
        if not self.ready:
            return web.Response(status=503)
        if self.drop and request.path != "/":
            self.drop -= 1
            request.transport.close()
            await asyncio.sleep(0.01)
            return web.Response(status=200)
        self.current[ip] = self.current.get(ip, 0) + 1
        self.highest[ip] = max(self.highest.get(ip, 0), self.current[ip])
        try:
            await asyncio.sleep(float(request.query.get("sleep", "0")))
            return web.Response(text=f"{ip} {request.path}")
        finally:
            self.current[ip] -= 1

    async def pod(self, ip):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, ip, self.port).start()
        self.runners.append(runner)

    async def close(self):
        for runner in self.runners:
            await runner.cleanup()


class FakeSupervisor:
    """``request`` (called in a thread) records scale PATCHes; a scale up makes pods appear (Pod
    feed) after ``start_delay``; scale down deletes them."""

    def __init__(self, loop, upstream, start_delay=0.05, scale_delay=0.0):
        self.loop, self.upstream = loop, upstream
        self.start_delay, self.scale_delay = start_delay, scale_delay
        self.activator = None
        self.patches, self.pods, self.serial = [], {}, 0
        self.keep_pods = False

    def request(self, method, path, target, body=None, query=None, content_type=None):
        import time
        time.sleep(self.scale_delay)
        replicas = body["spec"]["replicas"]
        self.patches.append(replicas)
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._converge(replicas)))
        return {}

    async def _converge(self, replicas):
        if self.keep_pods and replicas < len(self.pods):
            return
        while len(self.pods) > replicas:
            name, obj = self.pods.popitem()
            self.activator.deliver(PODS, [("DELETED", obj)])
        while len(self.pods) < replicas:
            self.serial += 1
            name = f"fn-{self.serial}"
            ip = f"127.0.1.{self.serial}"
            obj = {"metadata": {"namespace": NS, "name": name, "uid": f"uid-{self.serial}",
                                "labels": {p.FUNCTION_LABEL: "fn"}},
                   "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}}
            self.pods[name] = obj
            await asyncio.sleep(self.start_delay)
            await self.upstream.pod(ip)
            self.activator.deliver(PODS, [("ADDED", obj)])


def deployment(replicas=0, **annotations):
    return {"metadata": {"namespace": NS, "name": "fn", "labels": {p.FUNCTION_LABEL: "fn"},
                         "annotations": {key: str(value) for key, value in annotations.items()}},
            "spec": {"replicas": replicas}}


async def setup(annotations=None, queue_size=10000, start_delay=0.05, scale_delay=0.0, pods_answer=True):
    port = free_port()
    upstream = Upstream(port, ready=pods_answer)
    fake = FakeSupervisor(asyncio.get_running_loop(), upstream, start_delay, scale_delay)
    events = []
    activator = act.Activator(fake, [NS], events.append, queue_size=queue_size, tick=0.05)
    fake.activator = activator
    await activator.start()
    activator.deliver(DEPLOYMENTS, [("ADDED", deployment(**{p.PORT: port, **(annotations or {})}))])
    activator_port = free_port()
    runner = await act.serve(activator, "127.0.0.1", activator_port)
    return activator, fake, upstream, events, f"http://127.0.0.1:{activator_port}", runner


async def teardown(activator, upstream, runner):
    await runner.cleanup()
    await activator.close()
    await upstream.close()


def run(coroutine):
    asyncio.run(asyncio.wait_for(coroutine, 60))


def test_first_request_at_zero_is_held_woken_and_answered_by_path_and_host():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/hello?x=1") as answer:
                    assert answer.status == 200
                    assert (await answer.text()).endswith(" /hello")
                async with http.get(url + "/there", headers={"Host": "fn.team-a.functions.local:80"}) as answer:
                    assert answer.status == 200 and (await answer.text()).endswith(" /there")
                async with http.get(url + "/function/team-a/other/") as answer:
                    assert answer.status == 404
            assert fake.patches == [1]
            kinds = [event["type"] for event in events]
            assert kinds == ["function_scaled", "function_cold_start"]
            cold = events[1]
            assert cold["from_zero"] and cold["timings"]["ready_ms"] >= cold["timings"]["scale_ms"]
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_a_burst_of_200_at_zero_is_all_answered_in_arrival_order():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup(start_delay=0.2)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                async def one(index):
                    async with http.get(f"{url}/function/team-a/fn/{index}") as answer:
                        return answer.status
                statuses = await asyncio.gather(*(one(index) for index in range(200)))
            assert statuses == [200] * 200
            assert activator.functions[(NS, "fn")].in_flight == 0
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_no_pod_is_sent_more_than_its_container_concurrency():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup({p.CONTAINER_CONCURRENCY: 2, p.TARGET: 2})
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                async def one():
                    async with http.get(f"{url}/function/team-a/fn/?sleep=0.3") as answer:
                        return answer.status
                statuses = await asyncio.gather(*(one() for client in range(12)))
            assert statuses == [200] * 12
            assert max(upstream.highest.values()) <= 2
            assert max(fake.patches) > 1  # scaled out by concurrency
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_past_the_queue_bound_503_with_retry_after():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup(
            {p.COLD_START_TIMEOUT: "2s"}, queue_size=5, start_delay=1.0)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                async def one():
                    async with http.get(f"{url}/function/team-a/fn/") as answer:
                        return answer.status, answer.headers.get("Retry-After")
                answers = await asyncio.gather(*(one() for client in range(8)))
            assert sorted(status for status, retry in answers) == [200] * 5 + [503] * 3
            assert all(retry == "1" for status, retry in answers if status == 503)
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_cold_start_timeout_answers_504_naming_the_function_and_emits_the_failure():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup(
            {p.COLD_START_TIMEOUT: "500ms"}, pods_answer=False)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 504
                    assert "team-a/fn" in await answer.text()
            await asyncio.sleep(0.1)
            failed = [event for event in events if event["type"] == "function_cold_start_failed"]
            assert failed and failed[0]["cold_start_timeout_s"] == 0.5 and failed[0]["failures"] == 1
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_to_zero_after_the_idle_window_and_a_request_during_the_scale_down_is_answered():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup({p.IDLE_WINDOW: "300ms"}, scale_delay=0.3)
        function = activator.functions[(NS, "fn")]
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 200
                for attempt in range(200):  # the activator stops routing, then scales
                    if not function.routing:
                        break
                    await asyncio.sleep(0.01)
                assert not function.routing
                async with http.get(url + "/function/team-a/fn/late") as answer:
                    assert answer.status == 200 and (await answer.text()).endswith(" /late")
            assert fake.patches[:3] == [1, 0, 1]
            for attempt in range(200):
                if function.replicas == 0:
                    break
                await asyncio.sleep(0.02)
            assert fake.patches[-1] == 0 and function.replicas == 0
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_a_bad_policy_is_answered_500_naming_the_annotation():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup({p.TARGET: "lots"})
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 500 and p.TARGET in await answer.text()
            assert fake.patches == []
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_a_request_cut_off_by_its_pod_is_sent_again_when_it_may_be_repeated_else_502():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup()
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 200
                upstream.drop = 1
                async with http.get(url + "/function/team-a/fn/again") as answer:
                    assert answer.status == 200 and (await answer.text()).endswith(" /again")
                upstream.drop = 1
                async with http.post(url + "/function/team-a/fn/once", data=b"x") as answer:
                    assert answer.status == 502 and "team-a/fn" in await answer.text()
            assert activator.functions[(NS, "fn")].in_flight == 0
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())


def test_pods_handed_over_before_their_deployment_are_found():
    async def scenario():
        port = free_port()
        upstream = Upstream(port)
        await upstream.pod("127.0.2.1")
        activator = act.Activator(None, [NS], [].append, tick=0.05)
        await activator.start()
        try:
            activator.deliver(PODS, [("ADDED", {
                "metadata": {"namespace": NS, "name": "fn-a", "uid": "u1", "labels": {p.FUNCTION_LABEL: "fn"}},
                "status": {"phase": "Running", "podIP": "127.0.2.1",
                           "conditions": [{"type": "Ready", "status": "True"}]}})])
            activator.deliver(DEPLOYMENTS, [("ADDED", deployment(replicas=1, **{p.PORT: port}))])
            function = activator.functions[(NS, "fn")]
            await asyncio.wait_for(function.ready_event.wait(), 5)
            assert [pod.name for pod in function.ready_pods()] == ["fn-a"]
        finally:
            await activator.close()
            await upstream.close()
    run(scenario())


def test_a_pod_the_supervisor_says_is_not_ready_is_not_sent_requests():
    async def scenario():
        port = free_port()
        upstream = Upstream(port)
        await upstream.pod("127.0.3.1")
        activator = act.Activator(None, [NS], [].append, tick=0.05)
        await activator.start()
        runner = await act.serve(activator, "127.0.0.1", 0)
        url = "http://127.0.0.1:{0}".format(runner.addresses[0][1])

        def pod(ready):
            return {"metadata": {"namespace": NS, "name": "fn-a", "uid": "u1", "labels": {p.FUNCTION_LABEL: "fn"}},
                    "status": {"phase": "Running", "podIP": "127.0.3.1",
                               "conditions": [{"type": "Ready", "status": ready}]}}
        try:
            policy = {p.PORT: port, p.COLD_START_TIMEOUT: "300ms"}
            activator.deliver(DEPLOYMENTS, [("ADDED", deployment(replicas=1, **policy))])
            activator.deliver(PODS, [("ADDED", pod("False"))])
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 504
                activator.deliver(PODS, [("MODIFIED", pod("True"))])
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 200
                activator.deliver(PODS, [("MODIFIED", pod("False"))])
                assert activator.functions[(NS, "fn")].pods == {}
        finally:
            await runner.cleanup()
            await activator.close()
            await upstream.close()
    run(scenario())


def test_a_pod_that_outlives_a_quick_scale_to_zero_and_back_takes_requests_again():
    async def scenario():
        activator, fake, upstream, events, url, runner = await setup({p.IDLE_WINDOW: "100ms"})
        function = activator.functions[(NS, "fn")]
        fake.keep_pods = True  # the ReplicaSet never got to delete it: 1 -> 0 -> 1 too fast
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(url + "/function/team-a/fn/") as answer:
                    assert answer.status == 200
                for attempt in range(200):
                    if function.replicas == 0:
                        break
                    await asyncio.sleep(0.01)
                assert function.replicas == 0 and function.pods == {}
                async with http.get(url + "/function/team-a/fn/again") as answer:
                    assert answer.status == 200
            assert len(fake.pods) == 1  # the same pod answered
        finally:
            await teardown(activator, upstream, runner)
    run(scenario())
