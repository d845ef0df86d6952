"""govmomi's vSphere Supervisor Go client (``vapi/rest`` + ``vapi/namespace``) against the testbed.

``testbed/tools/vapi-probe`` calls one method of govmomi's ``namespace.Manager`` (or its REST
client's session) per run and prints the answer as govmomi's type encodes it; an error is the
client's own (a status it did not expect, a body it could not decode). Every method a vSphere admin
uses on a Supervisor is driven, v2 included, in order: those that make a VM class and vSphere
Namespaces come before the ones that read, change and delete them.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass
from typing import Callable

import pytest

from testbed import build
from tests.conformance.conftest import judge
from tests.conformance.test_govc import anything, both, carvel_package, has, nonempty, values

pytestmark = pytest.mark.testbed

VM_CLASS = "conformance-govmomi"
NAMESPACE = "conformance-govmomi"
NAMESPACE_V2 = "conformance-govmomi-v2"
SERVICE = "echo.govmomi.conformance.example.com"


def carvel(version: str) -> str:
    return base64.b64encode(carvel_package(version, SERVICE).encode()).decode()


def items_of(check: Callable[[object], str | None]) -> Callable[[object], str | None]:
    def inner(answer) -> str | None:
        items = (answer or {}).get("items") if isinstance(answer, dict) else None
        return check(items) if items else f"no items in {answer!r:.200}"
    return inner


def holds(field: str, value: str) -> Callable[[object], str | None]:
    """The answer, a list, has an item whose ``field`` (a value or a list) holds ``value``."""
    def check(answer, estate=None) -> str | None:
        for item in answer or []:
            got = item.get(field) if isinstance(item, dict) else None
            if got == value or (isinstance(got, list) and value in got):
                return None
        return f"no item with {field} {value!r} in {json.dumps(answer)[:300]}"
    return check


class Deferred:
    """A check made once the estate is known: ``make(estate)`` gives it."""

    def __init__(self, make: Callable[[dict], Callable[[object], str | None]]):
        self.make = make

    def __call__(self, answer, estate) -> str | None:
        return self.make(estate)(answer)


def one_policy(estate: dict) -> Callable[[object], str | None]:
    def check(answer) -> str | None:
        policies = [spec.get("policy") for spec in answer.get("storage_specs") or []]
        return None if policies == [estate["policy"]] else \
            f"storage_specs are {answer.get('storage_specs')!r}, vCenter answers the one policy given"
    return check


@dataclass(frozen=True)
class Call:
    method: str
    args: tuple[str, ...] = ()
    check: Callable = anything
    name: str = ""

    @property
    def id(self) -> str:
        return "govmomi " + (self.name or self.method)


def spec(**fields) -> str:
    """A spec argument as JSON; ``{cluster}``-style names in it are filled from the estate."""
    return json.dumps(fields)


def filled(arg: str, estate: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: estate.get(match.group(1), match.group(0)), arg)


CALLS = [
    Call("Session", check=has("user")),
    Call("ListClusters", check=both(nonempty, has("cluster", "cluster_name", "config_status", "kubernetes_status"))),
    Call("GetSupervisorSummaries",
         check=items_of(has("supervisor", "info"))),
    Call("GetSupervisorSummary", ("{supervisor}",),
         check=both(has("name", "stats", "config_status", "kubernetes_status"),
                    values(config_status="RUNNING", kubernetes_status="READY"))),
    Call("GetSupervisorTopology", ("{supervisor}",), check=Deferred(lambda estate: holds("clusters", estate["cluster"]))),
    Call("ListClusterNetworks", ("{cluster}",), check=both(nonempty, has("network", "network_provider"))),
    Call("GetClusterNetwork", ("{cluster}", "{network}"), check=has("network", "network_provider")),
    Call("ListCompatibleDistributedSwitches", ("{cluster}",),
         check=both(nonempty, has("distributed_switch", "compatible"))),
    Call("ListCompatibleEdgeClusters", ("{cluster}", "{switch}"), check=has("edge_cluster", "compatible")),
    Call("ListSupervisorServices", check=anything),
    Call("CreateSupervisorService", (spec(carvel_spec={"version_spec": {"content": carvel("1.0.0")}}),)),
    Call("ListSupervisorServices", check=both(holds("supervisor_service", SERVICE), has("display_name", "state")),
         name="ListSupervisorServices (one registered)"),
    Call("GetSupervisorService", (SERVICE,), check=values(display_name="Conformance echo", state="ACTIVATED")),
    Call("CreateSupervisorServiceVersion", (SERVICE, spec(carvel_spec={"content": carvel("2.0.0")}))),
    Call("ListSupervisorServiceVersions", (SERVICE,), check=both(holds("version", "2.0.0"), holds("version", "1.0.0"))),
    Call("GetSupervisorServiceVersion", (SERVICE, "2.0.0"), check=values(content_type="CARVEL_APPS_YAML")),
    Call("DeactivateSupervisorServiceVersion", (SERVICE, "2.0.0")),
    Call("GetSupervisorServiceVersion", (SERVICE, "2.0.0"), check=values(state="DEACTIVATED"),
         name="GetSupervisorServiceVersion (deactivated)"),
    Call("ActivateSupervisorServiceVersion", (SERVICE, "2.0.0")),
    Call("DeactivateSupervisorServiceVersion", (SERVICE, "2.0.0"), name="DeactivateSupervisorServiceVersion (again)"),
    Call("RemoveSupervisorServiceVersion", (SERVICE, "2.0.0")),
    Call("DeactivateSupervisorServices", (SERVICE,)),
    Call("ActivateSupervisorServices", (SERVICE,)),
    Call("DeactivateSupervisorServices", (SERVICE,), name="DeactivateSupervisorServices (again)"),
    Call("RemoveSupervisorService", (SERVICE,)),
    Call("CreateVmClass", (spec(id=VM_CLASS, cpu_count=2, memory_MB=2048, devices={}),)),
    Call("ListVmClasses", check=both(holds("id", VM_CLASS), has("id", "cpu_count", "memory_mb", "config_status"))),
    Call("GetVmClass", (VM_CLASS,), check=values(id=VM_CLASS, cpu_count=2, memory_mb=2048)),
    Call("UpdateVmClass", (VM_CLASS, spec(id=VM_CLASS, cpu_count=4, memory_MB=4096, devices={}))),
    Call("GetVmClass", (VM_CLASS,), check=values(cpu_count=4, memory_mb=4096), name="GetVmClass (after update)"),
    Call("CreateNamespace", (spec(cluster="{cluster}", namespace=NAMESPACE, vm_service_spec={"vm_classes": [VM_CLASS]}),)),
    Call("ListNamespaces", check=holds("namespace", NAMESPACE)),
    Call("GetNamespace", (NAMESPACE,),
         check=both(has("cluster", "config_status", "stats", "vm_service_spec"),
                    values(vm_service_spec__vm_classes=[VM_CLASS]))),
    Call("GetVmClass", (VM_CLASS,), check=values(namespaces=[NAMESPACE]), name="GetVmClass (bound to a namespace)"),
    Call("UpdateNamespace", (NAMESPACE, spec(vm_service_spec={"vm_classes": [VM_CLASS]},
                                             storage_specs=[{"policy": "{policy}"}]))),
    Call("GetNamespace", (NAMESPACE,), check=Deferred(one_policy), name="GetNamespace (after update)"),
    Call("ListNamespacesV2", check=holds("namespace", NAMESPACE)),
    Call("GetNamespaceV2", (NAMESPACE,), check=Deferred(lambda estate: values(supervisor=estate["supervisor"]))),
    Call("CreateNamespaceV2", (spec(supervisor="{supervisor}", namespace=NAMESPACE_V2),)),
    Call("GetNamespaceV2", (NAMESPACE_V2,), check=has("supervisor", "config_status", "stats"),
         name="GetNamespaceV2 (made by CreateNamespaceV2)"),
    Call("DeleteNamespace", (NAMESPACE_V2,), name="DeleteNamespace (v2's)"),
    Call("DeleteNamespace", (NAMESPACE,)),
    Call("DeleteVmClass", (VM_CLASS,)),
    Call("GetVmClass", (VM_CLASS,), check=anything, name="GetVmClass (deleted: an error)"),
    Call("Logout"),
]


@pytest.fixture(scope="module")
def probe(testbed, tmp_path_factory):
    binary = build.binary_paths(testbed.layout)["vapi-probe"]
    creds = testbed.credentials
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path_factory.mktemp("vapi-probe-home")),
           "GOVMOMI_URL": testbed.layout.vcenter_url, "GOVMOMI_USERNAME": creds.vcenter_user,
           "GOVMOMI_PASSWORD": creds.vcenter_password, "GOVMOMI_TLS_CA_CERTS": str(testbed.pki.ca_cert)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=60)
    for leftover in (("DeleteNamespace", NAMESPACE_V2), ("DeleteNamespace", NAMESPACE), ("DeleteVmClass", VM_CLASS),
                     ("DeactivateSupervisorServices", SERVICE), ("RemoveSupervisorService", SERVICE)):
        run(*leftover)  # what an aborted run left
    return run


@pytest.fixture(scope="module")
def estate(testbed):
    from tests.testbed.conftest import Vcenter
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    info = vcenter.call("GET", f"/api/vcenter/namespace-management/clusters/{cluster}").json()
    supervisor = vcenter.call("GET", "/api/vcenter/namespace-management/supervisors/summaries").json()["items"][0][
        "supervisor"]
    networks = vcenter.call("GET", f"/api/vcenter/namespace-management/clusters/{cluster}/networks").json()
    switches = vcenter.call("GET", "/api/vcenter/namespace-management/distributed-switch-compatibility",
                            params={"cluster": cluster}).json()
    return {"cluster": cluster, "supervisor": supervisor, "policy": info["master_storage_policy"],
            "network": networks[0]["network"] if networks else "primary",
            "switch": switches[0]["distributed_switch"] if switches else "dvs-1"}


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_govmomi(probe, estate, call):
    done = probe(call.method, *[filled(arg, estate) for arg in call.args])
    if call.name.endswith("(deleted: an error)"):  # govmomi's error for vCenter's 404 names the status
        judge(call.id, None if done.returncode != 0 and "404" in done.stderr
              else f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[:200]}; vCenter answers 404")
        return
    if done.returncode != 0:
        problem = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
    else:
        try:
            answer = json.loads(done.stdout)
        except json.JSONDecodeError:
            problem = f"not JSON: {done.stdout[:200]!r}"
        else:
            problem = call.check(answer, estate) if isinstance(call.check, Deferred) else call.check(answer)
    judge(call.id, problem)
