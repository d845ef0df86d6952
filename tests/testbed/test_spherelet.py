"""The simulated Spherelet: ESXi Nodes, native pods bound, run, reachable, and shown as pod VMs."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from pyVmomi import vim

from testbed.vcenter import vcsim_vms, vm_named, vm_rows
from tests.testbed.conftest import _absent, _until

pytestmark = pytest.mark.testbed


def _echo_pod(name: str, text: str, cpu: str = "250m") -> dict:
    return {"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.0", "ports": [{"containerPort": 8080}],
                                     "env": [{"name": "ECHO_TEXT", "value": text}],
                                     "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}]}}


@pytest.fixture(scope="module")
def core(admin_client, namespace):
    api = client.CoreV1Api(admin_client)
    _until(lambda: api.read_namespaced_service_account("default", namespace), 30, "default ServiceAccount")
    return api


def _running(core, namespace, name):
    return _until(lambda: (lambda p: p if p.status.phase == "Running" else None)(
        core.read_namespaced_pod(name, namespace)), 30, f"pod {name} Running")


def test_one_node_per_esxi_host_with_capacity_and_a_lease(admin_client, vcenter_si):
    nodes = client.CoreV1Api(admin_client).list_node().items
    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
    hosts = {h.name.lower().replace("_", "-") for h in view.view[0].host}
    view.Destroy()
    assert {n.metadata.name for n in nodes} == hosts
    for node in nodes:
        assert node.metadata.labels["kubernetes.io/os"] == "CRX"
        assert node.metadata.annotations["vmware-system-esxi-node-moid"].startswith("host-")
        assert int(node.status.capacity["cpu"]) >= 1
        assert [c.status for c in node.status.conditions if c.type == "Ready"] == ["True"]
        lease = client.CoordinationV1Api(admin_client).read_namespaced_lease(node.metadata.name, "kube-node-lease")
        assert lease.spec.holder_identity == node.metadata.name


def test_native_pod_runs_on_an_esxi_node_with_a_pod_vm_and_answers_http(core, testbed, namespace, vcenter_si):
    core.create_namespaced_pod(namespace, _echo_pod("echo-a", "hello from a vSphere pod"))
    pod = _running(core, namespace, "echo-a")
    assert pod.spec.node_name.startswith("dc0-c0-h")
    network = testbed.layout.pod_network
    assert pod.status.pod_ip.startswith(network.prefix + "." if network.possible() else "127.1.")
    assert pod.status.container_statuses[0].ready
    assert vcsim_vms(vcenter_si, namespace).get("echo-a") == namespace
    # its pod VM runs on the ESXi host of its Node
    node = core.read_node(pod.spec.node_name)
    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    pod_vms = [vm for vm in view.view if vm.name == "echo-a" and vm.parent.name == namespace]
    view.Destroy()
    assert [vm.runtime.host._moId for vm in pod_vms] == [node.metadata.annotations["vmware-system-esxi-node-moid"]]
    reasons = {e.reason for e in core.list_namespaced_event(namespace, field_selector="involvedObject.name=echo-a").items}
    assert {"Scheduled", "Started"} <= reasons
    answer = _until(lambda: _fetch(f"http://{pod.status.pod_ip}:8080/"), 30, "the echo server")
    assert answer == "hello from a vSphere pod\n"


def test_a_service_in_front_of_native_pods_has_their_addresses_as_endpoints(core, testbed, admin_client, namespace):
    if not testbed.layout.pod_network.possible():
        pytest.skip("pod network needs root and iproute2: pods are on loopback, which Endpoints refuse")
    core.create_namespaced_service(namespace, {"metadata": {"name": "echo-a"}, "spec": {
        "selector": {"app": "echo-a"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    discovery = client.DiscoveryV1Api(admin_client)

    def ready_addresses():
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=echo-a").items
        return [address for piece in slices for endpoint in piece.endpoints or []
                if endpoint.conditions.ready for address in endpoint.addresses]

    pod = core.read_namespaced_pod("echo-a", namespace)
    assert _until(ready_addresses, 30, "EndpointSlice of the Service") == [pod.status.pod_ip]
    assert _fetch(f"http://{pod.status.pod_ip}:8080/") == "hello from a vSphere pod\n"
    core.delete_namespaced_service("echo-a", namespace)


def _fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.read().decode()
    except OSError:
        return None


def test_a_pod_that_fits_nowhere_stays_pending_and_says_why(core, namespace):
    core.create_namespaced_pod(namespace, _echo_pod("too-big", "never", cpu="64"))
    pod = _until(lambda: (lambda p: p if p.status.conditions else None)(core.read_namespaced_pod("too-big", namespace)),
                 30, "a scheduling verdict")
    scheduled = pod.status.conditions[0]
    assert (scheduled.type, scheduled.status, scheduled.reason) == ("PodScheduled", "False", "Unschedulable")
    assert pod.spec.node_name is None and pod.status.phase == "Pending"
    core.delete_namespaced_pod("too-big", namespace)


def test_deleting_a_pod_stops_it_and_removes_its_pod_vm(core, namespace, vcenter_si):
    pod = core.read_namespaced_pod("echo-a", namespace)
    core.delete_namespaced_pod("echo-a", namespace)
    _until(lambda: _absent(core.read_namespaced_pod, "echo-a", namespace), 30, "pod deleted")
    assert "echo-a" not in vcsim_vms(vcenter_si, namespace)
    _until(lambda: _fetch(f"http://{pod.status.pod_ip}:8080/") is None, 30, "the echo server stopped")


def test_a_pod_made_again_under_its_name_is_another_pod(core, namespace, vcenter_si):
    """What a kubelet keys by UID: the old pod's process and pod VM go, the new one runs as itself
    and stays (nothing meant for the old pod reaches it)."""
    core.create_namespaced_pod(namespace, _echo_pod("echo-b", "first"))
    old = _running(core, namespace, "echo-b")
    _until(lambda: _fetch(f"http://{old.status.pod_ip}:8080/"), 30, "the first echo server")
    # gone at once, as a Failed pod's deletion is, and made again straight away
    core.delete_namespaced_pod("echo-b", namespace, grace_period_seconds=0)
    core.create_namespaced_pod(namespace, _echo_pod("echo-b", "second"))
    new = _running_again(core, namespace, old)
    assert _until(lambda: _fetch(f"http://{new.status.pod_ip}:8080/"), 30, "the second echo server") == "second\n"
    assert old.metadata.uid not in vm_named(vcenter_si, "echo-b").config.annotation
    assert new.metadata.uid in vm_named(vcenter_si, "echo-b").config.annotation
    assert [parent for name, parent, _vm in vm_rows(vcenter_si) if name == "echo-b"] == [namespace]
    time.sleep(3)  # a late clean-up of the old pod would have hit the new one by now
    still = core.read_namespaced_pod("echo-b", namespace)
    assert still.metadata.uid == new.metadata.uid and still.metadata.deletion_timestamp is None
    assert still.status.phase == "Running" and still.status.container_statuses[0].ready
    core.delete_namespaced_pod("echo-b", namespace)
    _until(lambda: _absent(core.read_namespaced_pod, "echo-b", namespace), 30, "echo-b deleted")


def _status(url: str) -> int | None:
    """The HTTP status ``url`` answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def test_a_namesake_made_while_the_old_pod_stops_is_left_alone(core, namespace):
    """The Spherelet ends a deleting pod's grace period for that pod only. Here the old pod's
    container drains for 4 s; meanwhile the pod is force-deleted and made again. When the drain
    is over, the new pod must not be deleted in the old one's place."""
    draining = _echo_pod("echo-c", "first")
    draining["spec"]["containers"][0]["env"].append({"name": "ECHO_STOP_SECONDS", "value": "4"})
    core.create_namespaced_pod(namespace, draining)
    old = _running(core, namespace, "echo-c")
    url = f"http://{old.status.pod_ip}:8080/"
    assert _until(lambda: _fetch(url), 30, "the draining echo server") == "first\n"
    core.delete_namespaced_pod("echo-c", namespace)  # graceful: the Spherelet stops the container
    _until(lambda: _status(url) == 503, 30, "the container draining")
    drain_over = time.monotonic() + 4 + 6  # its 4 s, and time for the Spherelet to finish the old pod
    core.delete_namespaced_pod("echo-c", namespace, grace_period_seconds=0)
    core.create_namespaced_pod(namespace, _echo_pod("echo-c", "second"))
    new = _running_again(core, namespace, old)
    time.sleep(max(0.0, drain_over - time.monotonic()))
    still = core.read_namespaced_pod("echo-c", namespace)
    assert still.metadata.uid == new.metadata.uid and still.metadata.deletion_timestamp is None
    assert _fetch(f"http://{still.status.pod_ip}:8080/") == "second\n"
    core.delete_namespaced_pod("echo-c", namespace)
    _until(lambda: _absent(core.read_namespaced_pod, "echo-c", namespace), 30, "echo-c deleted")


def _running_again(core, namespace, old):
    """The pod made again under ``old``'s name, once it runs; it must never be deleted meanwhile."""
    name = old.metadata.name

    def probe():
        try:
            pod = core.read_namespaced_pod(name, namespace)
        except ApiException as err:
            if err.status != 404:
                raise
            raise AssertionError(f"{name} made again was deleted in the old pod's place") from err
        return pod if pod.status.phase == "Running" and pod.metadata.uid != old.metadata.uid else None

    return _until(probe, 30, f"{name} made again Running")


def test_namespace_pod_quota_is_enforced(core, testbed, namespace):
    from tests.testbed.conftest import Vcenter

    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    path = f"/api/vcenter/namespaces/instances/{namespace}"
    assert vcenter.call("PATCH", path, json={"resource_spec": {"pod_count": 0}}).status_code == 204
    try:
        _until(lambda: (core.read_namespaced_resource_quota("wcp-resource-quota", namespace).status.hard or {})
               .get("pods") == "0", 30, "pod quota of 0 in force")
        with pytest.raises(ApiException) as raised:
            core.create_namespaced_pod(namespace, _echo_pod("over-quota", "no"))
        assert raised.value.status == 403 and "exceeded quota" in raised.value.body
    finally:
        vcenter.call("PATCH", path, json={"resource_spec": {}})
