"""`python -m testbed functions-demo`: a function at zero answers its first request, then goes back
to zero.

As the namespace developer, it makes (or resets) a function ``hello`` in the demo's vSphere
Namespace - a Deployment of the echo image at zero, labelled ``pacific.supervisor/function``,
with a short idle window -, starts the real ansible-rulebook with
``pacific.supervisor.scale_to_zero`` (the function activator, as that developer), sends the first
request, and prints, step by step, the cold start and the scale back to zero.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.demo import NAMESPACE, _wait
from testbed.remediation import Rulebook
from testbed.stack import Testbed
from testbed.vcenter import developer_token, wait_developer_access

NAME = "hello"
LABEL = "pacific.supervisor/function"
IDLE_SECONDS = 5


def function_manifest() -> dict:
    labels = {LABEL: NAME}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "labels": labels,
                         "annotations": {"pacific.supervisor/idle-window": f"{IDLE_SECONDS}s"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "main", "image": "pacific/echo", "ports": [{"containerPort": 8080}],
                         "env": [{"name": "ECHO_TEXT", "value": "hello from a function that was at zero"}],
                         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def run(testbed: Testbed, collections_path: str, say=print) -> dict:
    """The steps; returns the cold start event."""
    wait_developer_access(testbed, NAMESPACE)
    configuration = client.Configuration()
    configuration.host = testbed.layout.apiserver_url
    configuration.ssl_ca_cert = str(testbed.pki.ca_cert)
    configuration.api_key = {"authorization": "Bearer " + developer_token(testbed)}
    with client.ApiClient(configuration) as api_client:
        apps = client.AppsV1Api(api_client)
        try:
            apps.create_namespaced_deployment(NAMESPACE, function_manifest())
        except ApiException as err:
            if err.status != 409:
                raise
            apps.patch_namespaced_deployment(NAME, NAMESPACE, function_manifest())  # at zero, as it was made

        def replicas() -> int:
            return apps.read_namespaced_deployment(NAME, NAMESPACE).spec.replicas or 0
        say(f"1. function {NAMESPACE}/{NAME}: a Deployment of the echo image at zero (replicas {replicas()}), "
            f"idle window {IDLE_SECONDS}s, made by the namespace developer")
        port = testbed.layout.ports.base + 70
        with tempfile.TemporaryDirectory(prefix="pacific-functions-demo-") as work:
            rulebook = Rulebook.start(testbed, Path(work), collections_path, rulebook="pacific.supervisor.scale_to_zero",
                                      functions_namespaces=[NAMESPACE], functions_host="127.0.0.1",
                                      functions_port=port, functions_record_file=str(Path(work) / "remediation.jsonl"))
            try:
                rulebook.wait_started(ready=("pacific.supervisor.function_activator ready",))
                url = f"http://127.0.0.1:{port}/function/{NAMESPACE}/{NAME}/"
                say(f"2. ansible-rulebook --rulebook pacific.supervisor.scale_to_zero serves it at {url}")
                started = time.monotonic()
                answer = requests.get(url, timeout=120)
                took = time.monotonic() - started
                say(f"3. the first request, at zero: {answer.status_code} {answer.text.strip()!r} in {took * 1000:.0f} ms")
                cold = rulebook.wait_for_record(lambda r: r.get("type") == "function_cold_start", 30, "the cold start")
                say(f"4. event function_cold_start: {json.dumps(cold['timings'])} (replicas now {replicas()})")
                idle_from = time.monotonic()
                _wait("the function back at zero", lambda: replicas() == 0, timeout=IDLE_SECONDS + 30)
                scaled = rulebook.wait_for_record(lambda r: r.get("type") == "function_scaled" and r.get("to") == 0,
                                                  30, "the scale to zero")
                say(f"5. back to zero {time.monotonic() - idle_from:.1f}s after the last request "
                    f"(event function_scaled {scaled['from']} -> {scaled['to']}, reason {scaled['reason']})")
                return cold
            finally:
                rulebook.stop()
