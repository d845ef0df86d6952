"""migrate's engine source on the testbed, as the namespace developer (EDIT), through ansible-playbook.

The VIC simulator (``testbed/vic``) is seeded with the docker SDK as a VIC user would have run
the containers; migrate reads it in report mode (no Supervisor), refuses a container a vSphere Pod
cannot run without writing anything (read back), gives the manifests `container` gives for the
same `docker run`, and applies the project four times (check, real, check, real): changed, then
nothing changes. The claims it makes bind (the testbed's CNS-like provisioner) and its
LoadBalancer Service gets an address.
"""
from __future__ import annotations

import time

import docker
import pytest

from testbed.vic.server import Simulator
from tests.integration import estate as made

pytestmark = pytest.mark.testbed
STORAGE_CLASS = "vsan-default-storage-policy"


@pytest.fixture(scope="module")
def vic():
    with Simulator() as simulator:  # PACIFIC_TESTBED_PORT_BASE + 20, reached by the playbook's modules
        client = docker.DockerClient(base_url=simulator.url)
        client.volumes.create("shop-data", driver="vsphere", driver_opts={"Capacity": "2048"})
        client.containers.run("nginx:1.27", name="shop-web", detach=True, ports={"80/tcp": 8080}, mem_limit="1g",
                              nano_cpus=2 * 10 ** 9, volumes=["shop-data:/data"], restart_policy={"Name": "always"},
                              labels={"app": "shop"}, environment={"MODE": "prod"})
        client.containers.run("redis:7", name="shop-cache", detach=True, labels={"app": "shop"}, mem_limit="512m")
        client.containers.run("nginx:1.27", name="edge", detach=True, privileged=True, labels={"app": "edge"},
                              ports={"443/tcp": ("10.0.0.5", 443)})
        yield simulator
        client.close()


def _engine(simulator, **given):
    args = {"source": "engine", "engine": {"docker_host": simulator.url}, "namespace": made.NAMESPACE,
            "dialect": "vic", "storage_class": STORAGE_CLASS}
    args.update(given)
    return args


def test_engine_source_report_refusal_equivalence_and_four_runs(testbed, estate, admin_client, vic, tmp_path):
    from kubernetes import client

    defaults = made.connections(testbed, "developer")
    shop = _engine(vic, containers={"labels": {"app": "shop"}}, project_name="shop", mode="apply", wait=True,
                   wait_timeout=120)
    web_run = {"name": "shop-web", "namespace": made.NAMESPACE, "dialect": "vic", "image": "nginx:1.27",
               "publish": ["8080:80"], "memory": "1g", "cpus": 2, "volumes": ["shop-data:/data"],
               "volume_capacities": {"shop-data": 2048}, "storage_class": STORAGE_CLASS, "restart": "always",
               "env": {"MODE": "prod"}, "labels": {"app": "shop"}}
    before = made.snapshot(testbed, admin_client)
    results, output = made.run_tasks(testbed, tmp_path, "migrate-engine", [
        {"id": "report", "module": "migrate", "args": _engine(vic, containers={"labels": {"app": "shop"}})},
        {"id": "refused", "module": "migrate", "args": _engine(vic, containers={"labels": {"app": "edge"}},
                                                              mode="apply")},
        {"id": "web-read", "module": "migrate", "args": _engine(vic, containers={"names": ["shop-web"]},
                                                               project_name="shop-web")},
        {"id": "web-run", "module": "container", "args": web_run, "keywords": {"check_mode": True}},
    ], defaults)
    assert made.snapshot(testbed, admin_client) == before, "report mode, a refusal or check mode wrote something"

    report = results["report"]
    assert report.get("failed") is not True, output[-3000:]
    assert report["changed"] is False and report["refused"] == []
    kinds = [(m["kind"], m["metadata"]["name"]) for m in report["manifests"]]
    assert kinds == [("PersistentVolumeClaim", "shop-data"), ("Pod", "shop-cache"), ("Service", "shop-web"),
                     ("Deployment", "shop-web")]
    assert report["manifests"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"  # VIC: 2048 MB
    web = report["manifests"][3]["spec"]["template"]["spec"]["containers"][0]
    assert web["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}  # VIC: --cpus 2 is 2 vCPUs
    assert {e["file"] for e in report["report"]} == {vic.url}

    refused = results["refused"]
    assert refused["failed"] is True and "nothing was written" in refused["msg"]
    assert "service edge, key --privileged" in refused["msg"] and "service edge, key --publish" in refused["msg"]

    assert results["web-run"].get("failed") is not True, output[-3000:]
    assert results["web-read"]["manifests"] == results["web-run"]["manifests"]

    runs, output = made.run_tasks(testbed, tmp_path, "migrate-engine-apply", [
        {"id": "check-1", "module": "migrate", "args": shop, "keywords": {"check_mode": True}},
        {"id": "real-1", "module": "migrate", "args": shop},
        {"id": "check-2", "module": "migrate", "args": shop, "keywords": {"check_mode": True}},
        {"id": "real-2", "module": "migrate", "args": shop},
    ], defaults)
    core = client.CoreV1Api(admin_client)
    try:
        for run in runs.values():
            assert run.get("failed") is not True, run.get("msg") or output[-3000:]
        assert [runs[r]["changed"] for r in ("check-1", "real-1", "check-2", "real-2")] == [True, True, False, False]
        claim = core.read_namespaced_persistent_volume_claim("shop-data", made.NAMESPACE)
        assert claim.status.phase == "Bound" and claim.spec.volume_name
        volume = core.read_persistent_volume(claim.spec.volume_name)
        assert volume.spec.csi.driver == "csi.vsphere.vmware.com" and volume.spec.capacity["storage"] == "2Gi"
        deadline = time.monotonic() + 30
        while not (core.read_namespaced_service("shop-web", made.NAMESPACE).status.load_balancer.ingress or []):
            assert time.monotonic() < deadline, "the LoadBalancer Service got no address"
            time.sleep(1)
        pods = core.list_namespaced_pod(made.NAMESPACE, label_selector="pacific.supervisor/compose-project=shop")
        assert sorted(p.status.phase for p in pods.items) == ["Running", "Running"]
    finally:
        client.AppsV1Api(admin_client).delete_collection_namespaced_deployment(
            made.NAMESPACE, label_selector="pacific.supervisor/compose-project=shop")
        after = made.snapshot(testbed, admin_client) - before
        made.remove(testbed, admin_client, sorted(after))
        deadline = time.monotonic() + 60
        while [v for v in core.list_persistent_volume().items
               if v.spec.claim_ref and v.spec.claim_ref.namespace == made.NAMESPACE]:
            assert time.monotonic() < deadline, "the claims' volumes were not deleted with them"
            time.sleep(1)
