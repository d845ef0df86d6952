"""clusterctl (built from the pinned sigs.k8s.io/cluster-api) against a guest cluster of the testbed.

On vSphere 8 a TanzuKubernetesCluster is realised as a Cluster API Cluster of the
``tanzukubernetescluster`` ClusterClass, so Cluster API's own CLI reads it as it reads any
management cluster's: ``clusterctl describe cluster`` walks Cluster -> its infrastructure (CAPV's
VSphereCluster) -> control plane (KubeadmControlPlane) -> MachineDeployments -> MachineSets ->
Machines -> VSphereMachines and KubeadmConfigs (``--echo``; ``--show-templates`` adds the
deployments' KubeadmConfigTemplates), ``--v1beta2`` reads Cluster API v1.10's v1beta2 conditions
and replica counters, and ``clusterctl get kubeconfig`` reads the cluster's kubeconfig
Secret. The namespace's developer (an EDIT user, logged in as ``kubectl vsphere login`` does it)
makes the cluster. clusterctl first checks the Cluster API contract by reading the CRD
``clusters.cluster.x-k8s.io``, a cluster-scoped object a namespace's EDIT user may not read (the
known failure says why), so the tree is read with the Supervisor admin's kubeconfig, and the
developer's own call is judged on its own.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

import pytest
import yaml

from testbed import build
from tests.conformance.conftest import judge
# the vSphere Namespace with the developer's EDIT access, and the developer's login, of the kubectl suite
from tests.conformance.test_kubectl import NAMESPACE, VM_CLASS, developer_login, estate  # noqa: F401

pytestmark = pytest.mark.testbed

GUEST = "conformance-capi"
TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")
TKC_MANIFEST = {"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster",
                "metadata": {"name": GUEST},
                "spec": {"topology": {"controlPlane": {"replicas": 1, "vmClass": VM_CLASS,
                                                       "storageClass": "vsan-default-storage-policy",
                                                       "tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}},
                                      "nodePools": [{"name": "workers", "replicas": 1, "vmClass": VM_CLASS,
                                                     "storageClass": "vsan-default-storage-policy"}]}}}


def _ready(obj: dict | None) -> bool:
    status = (obj or {}).get("status", {})
    return status.get("observedGeneration") == (obj or {}).get("metadata", {}).get("generation") and any(
        c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


@pytest.fixture(scope="module")
def guest(developer_login):
    """The developer's guest cluster, Ready; None when the developer could not log in or make it."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    kubeconfig = developer_login[1]
    if kubeconfig is None:
        yield None
        return
    objects = client.CustomObjectsApi(config.new_client_from_config(str(kubeconfig)))

    def read():
        try:
            return objects.get_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], GUEST)
        except ApiException as err:
            if err.status == 404:
                return None
            raise
    objects.create_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], TKC_MANIFEST)
    deadline = time.monotonic() + 180
    while not _ready(found := read()) and time.monotonic() < deadline:
        time.sleep(0.5)
    yield found if _ready(found) else None
    objects.delete_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], GUEST)
    deadline = time.monotonic() + 120
    while read() is not None and time.monotonic() < deadline:
        time.sleep(0.5)


@dataclass(frozen=True)
class Call:
    who: str  # "admin" (the Supervisor admin's kubeconfig) or "developer" (the namespace's EDIT user)
    args: tuple[str, ...]
    check: Callable[[str], str | None]
    ok_exit: tuple[int, ...] = (0,)

    @property
    def id(self) -> str:
        return f"clusterctl ({self.who}) {' '.join(self.args)}"


def lines_with(*words: str) -> Callable[[str], str | None]:
    def check(out: str) -> str | None:
        missing = [word for word in words if word not in out]
        return f"no {', '.join(missing)} in {out[:3000]}" if missing else None
    return check


def cluster_row_ready(out: str) -> str | None:
    """The tree's first row is the Cluster, READY True (clusterctl's columns: NAME READY SEVERITY ...)."""
    rows = [line for line in out.splitlines() if f"Cluster/{GUEST}" in line]
    if not rows:
        return f"no Cluster/{GUEST} row in {out[:600]!r}"
    return None if rows[0].split()[1:2] == ["True"] else f"the Cluster's row is {rows[0]!r}, READY True expected"


def every_object(out: str) -> str | None:
    """The whole chain a TKC is realised as, each object by its kind."""
    missing = [kind for kind in (f"Cluster/{GUEST}", "ClusterInfrastructure", "VSphereCluster/", "ControlPlane",
                                 "KubeadmControlPlane/", "Workers", "MachineDeployment/", "Machine/")
               if kind not in out]
    return f"no {', '.join(missing)} in {out[:600]!r}" if missing else cluster_row_ready(out)


def one_row_per_machine(out: str) -> str | None:
    machines = [line for line in out.splitlines() if "Machine/" in line and "MachineDeployment/" not in line]
    if len(machines) != 2:  # one control plane node, one worker
        return f"{len(machines)} Machine rows, 2 expected: {out[:600]!r}"
    not_ready = [line.strip() for line in machines if " True " not in f" {line} "]
    return f"Machines not READY True: {not_ready}" if not_ready else None


MACHINE_ROW = re.compile(r"(?<![A-Za-z])Machine/(\S+)")


def bootstrap_config_under_each_machine(out: str) -> str | None:
    """With ``--echo`` each Machine's bootstrap config and infrastructure show as its children: a
    ``BootstrapConfig - KubeadmConfig/<machine>`` row (the kubeadm bootstrap provider's, named as the
    Machine) right below the Machine's row, as ``MachineInfrastructure - VSphereMachine/<machine>``."""
    rows = out.splitlines()
    machines = [(index, match.group(1)) for index, line in enumerate(rows)
                if (match := MACHINE_ROW.search(line)) and "MachineInfrastructure" not in line]
    if len(machines) != 2:
        return f"{len(machines)} Machine rows, 2 expected: {out[:800]!r}"
    for index, name in machines:
        children = " ".join(rows[index + 1:index + 3])
        for child in (f"BootstrapConfig - KubeadmConfig/{name}", f"MachineInfrastructure - VSphereMachine/{name}"):
            if child not in children:
                return f"no {child} below Machine/{name}: {out[:1200]!r}"
    return None


def v1beta2_tree(out: str) -> str | None:
    """``--v1beta2``: the v1beta2 columns (REPLICAS AVAILABLE READY UP TO DATE STATUS ...), the
    Cluster and MachineDeployment rows by their Available condition (the Cluster's replicas summed
    over control plane and workers), each Machine by its Ready condition."""
    lines = [line for line in out.splitlines() if line.strip()]
    header = lines[0].split() if lines else []
    if header[:4] != ["NAME", "REPLICAS", "AVAILABLE", "READY"] or "UP" not in header:
        return f"not the v1beta2 columns: {out[:600]!r}"
    cluster = next((line for line in lines if f"Cluster/{GUEST}" in line), "")
    if "Available: True" not in cluster or "2/2" not in cluster.split():
        return f"the Cluster's row is {cluster!r}, 2/2 replicas and Available: True expected"
    deployments = [line for line in lines if "MachineDeployment/" in line]
    if not deployments or any("Available: True" not in line for line in deployments):
        return f"MachineDeployment rows not Available: True: {deployments!r}"
    machines = [line for line in lines if MACHINE_ROW.search(line)]
    if len(machines) != 2 or any("Ready: True" not in line for line in machines):
        return f"Machine rows not 2 of Ready: True: {machines!r}"
    return None if "KubeadmControlPlane/" in out else f"no KubeadmControlPlane row in {out[:800]!r}"


def kubeconfig_of_the_guest(out: str) -> str | None:
    document = yaml.safe_load(out) or {}
    servers = [c.get("cluster", {}).get("server", "") for c in document.get("clusters") or []]
    return None if servers and servers[0].startswith("https://") else f"no cluster server in {out[:300]!r}"


CALLS = [
    Call("developer", ("describe", "cluster", GUEST), every_object),
    Call("admin", ("describe", "cluster", GUEST), every_object),
    Call("admin", ("describe", "cluster", GUEST, "--grouping=false"), one_row_per_machine),
    Call("admin", ("describe", "cluster", GUEST, "--show-conditions", "all"),
         lines_with("ControlPlaneInitialized", "ControlPlaneReady", "InfrastructureReady", "ResourcePolicyReady",
                    "MachinesReady", "BootstrapReady")),
    Call("admin", ("describe", "cluster", GUEST, "--show-machinesets"), lines_with("MachineSet/")),
    Call("admin", ("describe", "cluster", GUEST, "--show-templates"),
         lines_with(f"MachineInfrastructureTemplate - vmware.infrastructure.cluster.x-k8s.io/v1beta1/{GUEST}-control-plane",
                    f"MachineInfrastructureTemplate - vmware.infrastructure.cluster.x-k8s.io/v1beta1/{GUEST}-workers",
                    f"BootstrapConfigTemplate - bootstrap.cluster.x-k8s.io/v1beta1/{GUEST}-workers")),
    Call("admin", ("describe", "cluster", GUEST, "--echo", "--grouping=false"), bootstrap_config_under_each_machine),
    Call("admin", ("describe", "cluster", GUEST, "--v1beta2"), v1beta2_tree),
    Call("admin", ("describe", "cluster", GUEST, "--v1beta2", "--show-conditions", "all"),
         lines_with("Available", "ControlPlaneAvailable", "WorkersAvailable", "RemoteConnectionProbe",
                    "TopologyReconciled", "Initialized", "EtcdClusterHealthy", "MachinesUpToDate",
                    "BootstrapConfigReady", "NodeReady", "NodeHealthy", "UpToDate", "EtcdMemberHealthy")),
    Call("admin", ("describe", "cluster", "no-such-cluster"), lines_with("not found"), ok_exit=(1,)),
    Call("admin", ("get", "kubeconfig", GUEST), kubeconfig_of_the_guest),
]


@pytest.fixture(scope="module")
def clusterctl(testbed, developer_login, tmp_path_factory):
    binary = build.binary_paths(testbed.layout)["clusterctl"]
    home = tmp_path_factory.mktemp("clusterctl-home")
    kubeconfigs = {"admin": str(testbed.layout.admin_kubeconfig), "developer": str(developer_login[1] or "")}
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CLUSTERCTL_DISABLE_VERSIONCHECK": "true"}

    def run(who: str, args: tuple[str, ...]) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), *args, "-n", NAMESPACE], env={**env, "KUBECONFIG": kubeconfigs[who]},
                              capture_output=True, text=True, timeout=120)
    return run


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_clusterctl(guest, clusterctl, call):
    if guest is None:
        judge(call.id, f"no Ready guest cluster {GUEST}: the developer could not log in or make it")
        return
    done = clusterctl(call.who, call.args)
    out = done.stdout + (done.stderr if done.returncode else "")
    if done.returncode not in call.ok_exit:
        judge(call.id, f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}")
        return
    judge(call.id, call.check(out))
