"""govc, VMware's vSphere CLI (built from the pinned govmomi's command packages), against the testbed.

Each case is one govc invocation as a vSphere admin would type it; its answer is checked against the
shape vCenter 8 gives: the field names of govmomi's own types (vapi/namespace, session), which are
those of VMware's vSphere Automation API reference. The cases run in order: those that make a VM
class and a vSphere Namespace come before the ones that read, change and delete them.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Callable

import pytest

from testbed import build
from tests.conformance.conftest import judge

pytestmark = pytest.mark.testbed

VM_CLASS = "conformance-small"
NAMESPACE = "conformance-govc"
LIBRARY_NAMESPACE = "conformance-govc-lib"
LIBRARY = "conformance-govc"
SERVICE = "echo.conformance.example.com"  # a Supervisor Service, registered from a Carvel package


def carvel_package(version: str, service: str = SERVICE) -> str:
    """A Supervisor Service version as VMware's docs show one: a Carvel Package and its PackageMetadata."""
    return f"""apiVersion: data.packaging.carvel.dev/v1alpha1
kind: PackageMetadata
metadata:
  name: {service}
spec:
  displayName: Conformance echo
  shortDescription: An echo service registered by the conformance suite
---
apiVersion: data.packaging.carvel.dev/v1alpha1
kind: Package
metadata:
  name: {service}.{version}
spec:
  refName: {service}
  version: {version}
  releasedAt: "2026-01-01T00:00:00Z"
  template:
    spec:
      fetch:
      - imgpkgBundle:
          image: registry.example.com/echo-bundle:{version}
      template:
      - ytt:
          paths: [config/]
      deploy:
      - kapp: {{}}
"""
# the field names of govmomi's namespace types, as VMware's API reference spells them
CLUSTER_SUMMARY = ("cluster", "cluster_name", "config_status", "kubernetes_status")
NAMESPACE_SUMMARY = ("namespace", "cluster", "config_status", "description", "stats")
NAMESPACE_INFO = ("cluster", "config_status", "description", "vm_service_spec", "stats")
# govc prints govmomi's types, whose JSON names differ from the wire's in places (memory_mb)
VM_CLASS_INFO = ("id", "cpu_count", "memory_mb", "description", "namespaces", "config_status", "devices")


def has(*fields: str) -> Callable[[object], str | None]:
    """A check that the answer (an object, or each item of a list) has these fields."""
    def check(answer) -> str | None:
        items = answer if isinstance(answer, list) else [answer]
        for item in items:
            if not isinstance(item, dict):
                return f"expected an object, got {item!r:.200}"
            missing = [name for name in fields if name not in item]
            if missing:
                return f"no {', '.join(missing)} in {json.dumps(item)[:300]}"
        return None
    return check


def values(**expected) -> Callable[[object], str | None]:
    """A check of values in govc's answer (keys as govmomi's types print them; ``a__b`` is a.b;
    a list expected is a subset the answer's list must hold)."""
    def check(answer) -> str | None:
        for path, want in expected.items():
            got = answer
            for key in path.split("__"):
                got = got.get(key) if isinstance(got, dict) else None
            if isinstance(want, list) and isinstance(got, list) and set(want) <= set(got):
                continue
            if got != want:
                return f"{path.replace('__', '.')} is {got!r}, vCenter answers {want!r}"
        return None
    return check


def storage_policy_named(answer) -> str | None:
    policies = [spec.get("policy") for spec in (answer.get("storage_specs") or []) if isinstance(spec, dict)]
    return None if len(policies) == 1 and policies[0] else f"storage_specs are {answer.get('storage_specs')!r}, " \
        "vCenter answers the one policy given, by ID"


def one_library(answer) -> str | None:
    libraries = (answer.get("vm_service_spec") or {}).get("content_libraries") or []
    return None if len(libraries) == 1 else f"content libraries are {libraries!r}, vCenter answers the one given"


def both(*checks) -> Callable[[object], str | None]:
    def check(answer) -> str | None:
        return next((problem for problem in (one(answer) for one in checks) if problem), None)
    return check


def listing(service: str) -> Callable[[object], str | None]:
    def check(answer) -> str | None:
        found = [item.get("supervisor_service") for item in answer or [] if isinstance(item, dict)]
        return None if service in found else f"{service} not among {found}"
    return check


def nonempty(answer) -> str | None:
    return None if answer else "an empty answer"


def anything(answer) -> str | None:
    return None


@dataclass(frozen=True)
class Call:
    args: tuple[str, ...]
    check: Callable[[object], str | None] = anything
    json: bool = True  # the answer is govc's -json output
    name: str = ""  # the call's id when its arguments alone do not tell it

    @property
    def id(self) -> str:
        return self.name or "govc " + " ".join(self.args)


CALLS = [
    Call(("session.ls",), has("currentSession", "sessionList")),
    Call(("session.ls", "-S"), has("currentSession")),
    Call(("namespace.cluster.ls",), has(*CLUSTER_SUMMARY)),
    Call(("namespace.cluster.ls", "-l"), nonempty, json=False),
    Call(("namespace.vmclass.create", "-cpus=2", "-memory=2048", VM_CLASS), json=False),
    Call(("namespace.vmclass.ls",), has(*VM_CLASS_INFO)),
    Call(("namespace.vmclass.info", VM_CLASS), both(has(*VM_CLASS_INFO), values(cpu_count=2, memory_mb=2048))),
    Call(("namespace.vmclass.update", "-cpus=4", "-memory=4096", VM_CLASS), json=False),
    Call(("namespace.vmclass.info", VM_CLASS), values(id=VM_CLASS, cpu_count=4, memory_mb=4096),
         name="govc namespace.vmclass.info (after update)"),
    Call(("namespace.create", "-cluster={cluster}", f"-vmclass={VM_CLASS}", NAMESPACE), json=False,
         name="govc namespace.create -cluster -vmclass"),
    Call(("namespace.ls",), has(*NAMESPACE_SUMMARY)),
    Call(("namespace.info", NAMESPACE), both(has(*NAMESPACE_INFO), values(vm_service_spec__vm_classes=[VM_CLASS]))),
    Call(("namespace.vmclass.info", VM_CLASS), values(namespaces=[NAMESPACE]),
         name="govc namespace.vmclass.info (bound to a namespace)"),
    Call(("namespace.update", f"-vmclass={VM_CLASS}", "-storage={policy}", NAMESPACE), json=False,
         name="govc namespace.update -vmclass -storage"),
    Call(("namespace.info", NAMESPACE), storage_policy_named, name="govc namespace.info (after update)"),
    Call(("namespace.rm", NAMESPACE), json=False),
    Call(("library.create", "-ds={datastore}", LIBRARY), nonempty, json=False, name="govc library.create"),
    Call(("namespace.create", "-cluster={cluster}", f"-library={LIBRARY}", "-storage={policy}", LIBRARY_NAMESPACE),
         json=False, name="govc namespace.create -cluster -library -storage"),
    Call(("namespace.info", LIBRARY_NAMESPACE), both(one_library, storage_policy_named),
         name="govc namespace.info (with a library)"),
    Call(("namespace.rm", LIBRARY_NAMESPACE), json=False),
    Call(("library.rm", LIBRARY), json=False, name="govc library.rm"),
    Call(("namespace.vmclass.rm", VM_CLASS), json=False),
    Call(("namespace.service.ls",), anything),
    Call(("namespace.service.create", "{manifest_v1}"), json=False, name="govc namespace.service.create (Carvel)"),
    Call(("namespace.service.ls",), both(has("supervisor_service", "display_name", "state"), listing(SERVICE)),
         name="govc namespace.service.ls (one registered)"),
    Call(("namespace.service.info", SERVICE), has("display_name", "state", "description")),
    Call(("namespace.service.version.create", SERVICE, "{manifest_v2}"), json=False,
         name="govc namespace.service.version.create (Carvel)"),
    Call(("namespace.service.version.ls", SERVICE), has("version", "display_name", "state")),
    Call(("namespace.service.version.info", SERVICE, "2.0.0"), values(content_type="CARVEL_APPS_YAML", state="ACTIVATED")),
    Call(("namespace.service.version.deactivate", SERVICE, "2.0.0"), json=False),
    Call(("namespace.service.version.rm", SERVICE, "2.0.0"), json=False),
    Call(("namespace.service.deactivate", SERVICE), json=False),
    Call(("namespace.service.rm", SERVICE), json=False),
    Call(("namespace.cluster.enable", "-cluster={spare_cluster}", "-control-plane-storage-policy={policy}",
          "-ephemeral-storage-policy={policy}", "-image-storage-policy={policy}", "-size=TINY",
          "-service-cidr=10.96.0.0/23", "-pod-cidrs=10.247.0.0/20", "-workload-network.edge-cluster=edge-cluster-1",
          "-workload-network.egress-cidrs=10.0.0.128/26", "-workload-network.ingress-cidrs=10.0.0.64/26",
          "-mgmt-network.network=DC0_DVPG0", "-mgmt-network.starting-address=10.0.0.10",
          "-mgmt-network.subnet-mask=255.255.255.0", "-mgmt-network.gateway=10.0.0.1"), json=False,
         name="govc namespace.cluster.enable (NSX-T, a second cluster)"),
    Call(("namespace.cluster.disable", "-cluster={spare_cluster}"), json=False,
         name="govc namespace.cluster.disable (the second cluster)"),
    Call(("session.login", "-r"), json=False),
    Call(("session.ls", "-r"), nonempty, json=False),
    Call(("session.logout", "-r"), json=False),
]


@pytest.fixture(scope="module")
def govc(testbed, tmp_path_factory):
    binary = build.binary_paths(testbed.layout)["govc"]
    creds = testbed.credentials
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path_factory.mktemp("govc-home")),
           "GOVC_URL": testbed.layout.vcenter_url, "GOVC_USERNAME": creds.vcenter_user,
           "GOVC_PASSWORD": creds.vcenter_password, "GOVC_TLS_CA_CERTS": str(testbed.pki.ca_cert)}
    env["GOVMOMI_HOME"] = env["HOME"]

    def run(*args: str, as_json: bool = True) -> subprocess.CompletedProcess:
        command, rest = args[0], list(args[1:])
        argv = [str(binary), command, *(["-json"] if as_json else []), *rest]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    for leftover in (("namespace.rm", NAMESPACE), ("namespace.rm", LIBRARY_NAMESPACE),
                     ("namespace.vmclass.rm", VM_CLASS), ("library.rm", LIBRARY),
                     ("namespace.service.deactivate", SERVICE), ("namespace.service.rm", SERVICE)):  # an aborted run's
        run(*leftover, as_json=False)
    return run


@pytest.fixture(scope="module")
def estate(testbed, tmp_path_factory):
    """The names the calls need: the Supervisor cluster's name and a storage policy's ID."""
    from tests.testbed.conftest import Vcenter
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    summary = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]
    info = vcenter.call("GET", f"/api/vcenter/namespace-management/clusters/{summary['cluster']}").json()
    spare = [c["name"] for c in vcenter.call("GET", "/api/vcenter/cluster").json() if c["cluster"] != summary["cluster"]]
    # a storage policy of vcsim's PBM, by name as an admin types it
    manifests = tmp_path_factory.mktemp("supervisor-services")
    for version in ("1.0.0", "2.0.0"):
        (manifests / f"{version}.yaml").write_text(carvel_package(version))
    yield {"cluster": summary["cluster_name"], "policy": "vSAN Default Storage Policy",
           "datastore": "LocalDS_0", "spare_cluster": spare[0], "manifest_v1": str(manifests / "1.0.0.yaml"),
           "manifest_v2": str(manifests / "2.0.0.yaml")}
    for cluster in vcenter.call("GET", "/api/vcenter/cluster").json():  # what an enable call enabled
        if cluster["cluster"] != summary["cluster"]:
            vcenter.call("POST", f"/api/vcenter/namespace-management/clusters/{cluster['cluster']}?action=disable")


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_govc(govc, estate, call):
    args = [arg.format(**estate) for arg in call.args]
    done = govc(*args, as_json=call.json)
    if done.returncode != 0:
        problem = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
    elif call.json:
        try:
            answer = json.loads(done.stdout)
        except json.JSONDecodeError:
            problem = f"not JSON: {done.stdout[:200]!r}"
        else:
            problem = call.check(answer)
    else:
        problem = call.check(done.stdout)
    judge(call.id, problem)
