"""pacific.supervisor.scale_to_zero under the real ansible-rulebook CLI: the function activator
serves Deployments a namespace developer made (and runs as that developer, with a namespace's
RBAC only), wakes them from zero, holds, answers, scales them back to zero, and answers 503/504
where it must. One ansible-rulebook process (one JVM) serves the whole module."""
from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp
import pytest
from kubernetes import client

from testbed.credentials import DEVELOPER_USER
from testbed.remediation import Rulebook
from testbed.vcenter import developer_token, wait_developer_access
from tests.collection_path import collection_tree
from tests.testbed.conftest import Vcenter

pytestmark = pytest.mark.testbed

RUN = uuid.uuid4().hex[:5]
NAMESPACE = f"fn-{RUN}"
QUEUE_SIZE = 300
IDLE = 3.0
STUCK_TIMEOUT = 3.0
ESCALATE_AFTER = 2
LABEL = "pacific.supervisor/function"


def until(probe, timeout, what, interval=0.1):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout}s (last: {last!r})")


def function(name, image="pacific/echo", **annotations):
    labels = {LABEL: name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"pacific.supervisor/idle-window": f"{IDLE:g}s", **annotations}},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "main", "image": image, "ports": [{"containerPort": 8080}],
                          "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


@pytest.fixture(scope="module")
def developer_apps(testbed):
    """The Apps API as the namespace developer (EDIT), not the admin."""
    configuration = client.Configuration()
    configuration.host = testbed.layout.apiserver_url
    configuration.ssl_ca_cert = str(testbed.pki.ca_cert)
    configuration.api_key = {"authorization": "Bearer " + developer_token(testbed)}
    with client.ApiClient(configuration) as api_client:
        yield client.AppsV1Api(api_client)


@pytest.fixture(scope="module")
def namespace(testbed, developer_apps):
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    user, domain = DEVELOPER_USER.split("@")
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": NAMESPACE,
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}]})
    assert answer.status_code == 204, answer.text
    wait_developer_access(testbed, NAMESPACE)
    for body in (function("hello"), function("burst"), function("idle"),
                 function("stuck", image="busybox:1.36", **{"pacific.supervisor/cold-start-timeout": f"{STUCK_TIMEOUT:g}s"})):
        developer_apps.create_namespaced_deployment(NAMESPACE, body)
    yield NAMESPACE
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")


@pytest.fixture(scope="module")
def rulebook(testbed, namespace, tmp_path_factory):
    work = tmp_path_factory.mktemp("functions")
    port = testbed.layout.ports.base + 80
    running = Rulebook.start(
        testbed, work, collection_tree(), rulebook="pacific.supervisor.scale_to_zero",
        functions_namespaces=[namespace], functions_host="127.0.0.1", functions_port=port,
        functions_queue_size=QUEUE_SIZE, functions_record_file=str(work / "remediation.jsonl"),
        functions_escalate_after=ESCALATE_AFTER)
    running.url = f"http://127.0.0.1:{port}"
    try:
        running.wait_started(ready=("pacific.supervisor.function_activator ready",))
        yield running
    finally:
        running.stop(timeout=30)


def replicas(apps, name):
    return apps.read_namespaced_deployment(name, NAMESPACE).spec.replicas or 0


def stats(rulebook, name):
    import requests

    answer = requests.get(rulebook.url + "/_activator/stats", timeout=5).json()
    return next(f for f in answer["functions"] if f["name"] == name)


async def _requests(url, count, path="/"):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def one():
            async with http.get(url + path) as answer:
                return answer.status, await answer.text(), answer.headers.get("Retry-After")
        return await asyncio.gather(*(one() for _ in range(count)))


def send(rulebook, name, count=1, path="/"):
    return asyncio.run(_requests(f"{rulebook.url}/function/{NAMESPACE}/{name}", count, path))


def events(rulebook, kind, name):
    return [r for r in rulebook.records() if r.get("type") == kind and r.get("name") == name]


def test_the_first_request_at_zero_is_answered(rulebook, developer_apps):
    assert replicas(developer_apps, "hello") == 0
    started = time.monotonic()
    [(status, body, _)] = send(rulebook, "hello", path="/first?q=1")
    took = time.monotonic() - started
    assert status == 200, body
    assert json.loads(body)["path"] == "/first?q=1"
    assert replicas(developer_apps, "hello") == 1
    cold = until(lambda: events(rulebook, "function_cold_start", "hello"), 10, "the cold start event")[0]
    assert cold["from_zero"] and cold["namespace"] == NAMESPACE
    assert 0 < cold["timings"]["ready_ms"] <= took * 1000 + 50
    print(f"first request at zero answered in {took * 1000:.0f} ms; timings {cold['timings']}")


def test_a_burst_of_200_at_zero_is_all_answered(rulebook, developer_apps):
    assert replicas(developer_apps, "burst") == 0
    answers = send(rulebook, "burst", 200)
    assert [status for status, _, _ in answers] == [200] * 200
    assert stats(rulebook, "burst")["in_flight"] == 0


def test_to_zero_within_the_idle_window_with_no_request_cut_and_requests_during_it_answered(rulebook, developer_apps):
    # traffic for a while, all answered
    for _ in range(5):
        assert [status for status, _, _ in send(rulebook, "idle", 20)] == [200] * 20
    last = time.monotonic()
    # the moment the activator stops routing (it then scales to zero), more requests come
    until(lambda: not stats(rulebook, "idle")["routing"] or replicas(developer_apps, "idle") == 0,
          IDLE + 5, "the scale-down begun", interval=0.005)
    during = send(rulebook, "idle", 10)
    assert [status for status, _, _ in during] == [200] * 10
    scaled = until(lambda: [e for e in events(rulebook, "function_scaled", "idle") if e["reason"] == "idle"],
                   10, "a scale to zero")
    # now it goes to zero again after the requests that came during the scale-down
    last = time.monotonic()
    until(lambda: replicas(developer_apps, "idle") == 0 and stats(rulebook, "idle")["pods"] == [],
          IDLE + 5, "the function at zero again", interval=0.1)
    took = time.monotonic() - last
    assert took <= IDLE + 5
    assert scaled[0]["in_flight"] == 0
    print(f"at zero {took:.1f}s after the last request (idle window {IDLE:g}s)")


def test_past_the_queue_bound_503_with_retry_after(rulebook):
    answers = send(rulebook, "stuck", QUEUE_SIZE + 20)
    statuses = sorted(status for status, _, _ in answers)
    assert statuses.count(503) == 20 and statuses.count(504) == QUEUE_SIZE, statuses[:5]
    assert all(retry == "1" for status, _, retry in answers if status == 503)


def test_at_the_cold_start_timeout_504_naming_the_function_and_repeated_failures_escalated(rulebook):
    [(status, body, _)] = send(rulebook, "stuck")
    assert status == 504 and f"{NAMESPACE}/stuck" in body and "cold-start timeout" in body
    failed = until(lambda: events(rulebook, "function_cold_start_failed", "stuck"), 10, "the failure events")
    assert failed[-1]["failures"] >= ESCALATE_AFTER and failed[-1]["cold_start_timeout_s"] == STUCK_TIMEOUT
    record = rulebook.wait_for_record(lambda r: r.get("scenario") == "function_cold_start_failed", 120,
                                      "the escalation record")
    assert record["outcome"] == "escalated" and record["object"]["name"] == "stuck"
    rulebook.wait_for_output(f"ESCALATION function_cold_start_failed {NAMESPACE}/stuck", 30)


def test_no_token_in_the_records_or_the_output(rulebook):
    import yaml

    token = yaml.safe_load((rulebook.log_path.parent / "vars.yml").read_text())["supervisor_token"]
    for text in (rulebook.records_path.read_text(), rulebook.output(None)):
        assert token not in text and token[-20:] not in text
