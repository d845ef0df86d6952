"""What serverless functions need of the testbed: Deployments whose pods are native pods that answer
on the pod network, scaled by a namespace developer (EDIT) through the scale subresource; the
slow-starting catalogue image (``pacific/slow-echo:<ms>``) Ready only once it answers; and the
``function-unready`` fault, under which a function's pods run but never become ready."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
import requests
from kubernetes import client

from testbed.controllers.spherelet import _http_probe
from testbed.faults import FaultBook
from testbed.workloads import runnable
from testbed.workloads.slow_echo import DEFAULT_MS, start_delay_ms
from tests.testbed.conftest import Vcenter, _absent, _until

NAMESPACE = "fn-test"
LABEL = "pacific.supervisor/function"
PORT = 18493  # loopback pod IPs are shared by every testbed on a machine without a pod network


@pytest.mark.parametrize("image, override, delay", [
    ("pacific/slow-echo:1500", None, 1500),
    ("registry.example.com/pacific/slow-echo:250", None, 250),
    ("pacific/slow-echo:latest", None, DEFAULT_MS),
    ("pacific/slow-echo", None, DEFAULT_MS),
    ("pacific/slow-echo:1500", "20", 20),
])
def test_slow_echo_takes_its_delay_from_the_tag(image, override, delay):
    assert start_delay_ms(image, override) == delay
    assert runnable(image) == "testbed.workloads.slow_echo"


def test_the_spherelet_reads_http_readiness_probes_by_port_number_or_name():
    def container(port, path="/healthz"):
        return client.V1Container(name="c", image="pacific/echo", ports=[client.V1ContainerPort(container_port=8080, name="http")],
                                  readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path=path, port=port)))
    assert _http_probe(container(9000)) == (9000, "/healthz")
    assert _http_probe(container("http")) == (8080, "/healthz")
    assert _http_probe(container("8081", path=None)) == (8081, "/")
    assert _http_probe(container("nope")) is None
    assert _http_probe(client.V1Container(name="c", image="pacific/echo")) is None
    exec_probe = client.V1Container(name="c", image="x", readiness_probe=client.V1Probe(
        _exec=client.V1ExecAction(command=["true"])))
    assert _http_probe(exec_probe) is None


@pytest.fixture(scope="module")
def developer_namespace(testbed, admin_client):
    """A vSphere Namespace where the namespace developer (devops) is EDIT, made through vCenter."""
    creds = testbed.credentials
    vcenter = Vcenter(testbed, creds.vcenter_user, creds.vcenter_password)
    core = client.CoreV1Api(admin_client)
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")  # an aborted run's
    _until(lambda: _absent(core.read_namespace, NAMESPACE), 60, "the namespace of an earlier run to go")
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    user, domain = creds.developer_user.split("@")
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": NAMESPACE,
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}]})
    assert answer.status_code == 204, answer.text
    _until(lambda: core.read_namespaced_service_account("default", NAMESPACE), 30, "default ServiceAccount")
    login = requests.post(testbed.layout.supervisor_login_url, auth=(creds.developer_user, creds.developer_password),
                          verify=str(testbed.pki.ca_cert))
    assert login.status_code == 200, login.text
    token = login.json()["session_id"]
    rbac = client.RbacAuthorizationV1Api(admin_client)
    _until(lambda: rbac.list_namespaced_role_binding(NAMESPACE).items, 30, "the developer's RoleBinding")
    yield token
    FaultBook(testbed.layout.faults_file).undo("function-unready", NAMESPACE, "sulky")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")


class Developer:
    """The Supervisor API as the namespace developer."""

    def __init__(self, testbed, token: str):
        self.base = testbed.layout.apiserver_url
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(testbed.pki.ca_cert)
        self.http.headers["Authorization"] = f"Bearer {token}"

    def deployments(self, name: str = "") -> str:
        return f"{self.base}/apis/apps/v1/namespaces/{NAMESPACE}/deployments" + (f"/{name}" if name else "")

    def create(self, body: dict) -> dict:
        answer = self.http.post(self.deployments(), json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def scale(self, name: str, replicas: int) -> requests.Response:
        return self.http.patch(self.deployments(name) + "/scale", params={"fieldManager": "function-activator"},
                               json={"spec": {"replicas": replicas}},
                               headers={"Content-Type": "application/merge-patch+json"})

    def delete(self, name: str) -> None:
        self.http.delete(self.deployments(name))


def _function(name: str, image: str) -> dict:
    labels = {LABEL: name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "function", "image": image, "env": [{"name": "ECHO_TEXT", "value": name}],
                         "ports": [{"name": "http", "containerPort": PORT}],
                         "readinessProbe": {"httpGet": {"path": "/healthz", "port": PORT}, "periodSeconds": 1},
                         "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}}


def _pods(core, name: str) -> list:
    return core.list_namespaced_pod(NAMESPACE, label_selector=f"{LABEL}={name}").items


def _ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _fetch(url: str) -> str | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as answer:
            return answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None


@pytest.mark.testbed
def test_a_developer_scales_a_slow_function_from_zero_and_its_pod_is_ready_once_it_answers(
        testbed, admin_client, developer_namespace):
    core = client.CoreV1Api(admin_client)
    developer = Developer(testbed, developer_namespace)
    developer.create(_function("slow", "pacific/slow-echo:1500"))
    try:
        answer = developer.scale("slow", 1)
        assert answer.status_code == 200, f"EDIT may scale deployments/scale: {answer.text}"
        started = time.monotonic()
        pod = _until(lambda: next((p for p in _pods(core, "slow") if p.status.phase == "Running"), None), 60,
                     "the ReplicaSet's pod Running")
        running_at = time.monotonic()
        # a native pod of the ReplicaSet, on an ESXi host, with a pod-network address
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        assert pod.spec.node_name.startswith("dc0-c0-h")
        network = testbed.layout.pod_network
        assert pod.status.pod_ip.startswith(network.prefix + "." if network.possible() else "127.1.")
        # Running but not Ready while the image starts: its probe is refused
        assert not _ready(pod), "a slow-echo pod must not be Ready before it listens"
        ready = _until(lambda: next((p for p in _pods(core, "slow") if _ready(p)), None), 60, "the pod Ready")
        ready_at = time.monotonic()
        assert ready_at - started >= 1.2, "Ready before its 1.5 s start delay was over"
        assert ready.status.container_statuses[0].ready
        assert _fetch(f"http://{ready.status.pod_ip}:{PORT}/") == "slow\n"
        deployment = client.AppsV1Api(admin_client).read_namespaced_deployment("slow", NAMESPACE)
        assert deployment.status.ready_replicas == 1
        assert running_at - started < ready_at - started
    finally:
        developer.delete("slow")


@pytest.mark.testbed
def test_function_unready_keeps_a_functions_pods_from_becoming_ready(testbed, admin_client, developer_namespace):
    core = client.CoreV1Api(admin_client)
    developer = Developer(testbed, developer_namespace)
    book = FaultBook(testbed.layout.faults_file)
    book.inject("function-unready", NAMESPACE, "sulky")
    developer.create(_function("sulky", "pacific/echo:1.0"))
    try:
        assert developer.scale("sulky", 1).status_code == 200
        pod = _until(lambda: next((p for p in _pods(core, "sulky") if p.status.phase == "Running"), None), 60,
                     "the pod Running")
        time.sleep(3)
        pod = core.read_namespaced_pod(pod.metadata.name, NAMESPACE)
        assert pod.status.phase == "Running" and not _ready(pod)
        assert _fetch(f"http://{pod.status.pod_ip}:{PORT}/healthz") is None, "nothing listens on an unready pod"
        events = core.list_namespaced_event(NAMESPACE, field_selector=f"involvedObject.name={pod.metadata.name}").items
        assert "Unhealthy" in {event.reason for event in events}
        # undone: the next pod comes up and is Ready
        book.undo("function-unready", NAMESPACE, "sulky")
        core.delete_namespaced_pod(pod.metadata.name, NAMESPACE)
        healed = _until(lambda: next((p for p in _pods(core, "sulky") if _ready(p)), None), 60, "a new pod Ready")
        assert healed.metadata.name != pod.metadata.name
        assert _fetch(f"http://{healed.status.pod_ip}:{PORT}/") == "sulky\n"
    finally:
        book.undo("function-unready", NAMESPACE, "sulky")
        developer.delete("sulky")
