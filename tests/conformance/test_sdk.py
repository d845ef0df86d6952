"""The vSphere Automation SDK for Python (`vmware-vcenter`) over JSON-RPC `/api`, against the testbed.

What a Python user of VMware's SDK does first: ``create_vsphere_client`` (a JSON-RPC session), then
the inventory (clusters, VMs, tags) and the Supervisor's API (namespaces, clusters with workload
management, VM classes, Supervisor Services). Each answer is checked with the SDK's own binding
types: the call must return what the operation's IDL declares, with the fields vCenter 8 fills.
"""
from __future__ import annotations

import base64
from typing import Callable

import pytest

from tests.conformance.conftest import judge
from tests.conformance.test_govc import carvel_package

# the 9.1 bindings mark some 8.0 operations deprecated (Clusters.list): vCenter 8 is what is checked
pytestmark = [pytest.mark.testbed, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

vsphere = pytest.importorskip("vmware.vapi.vsphere.client")

NAMESPACE = "conformance-sdk"
VM_CLASS = "conformance-sdk-small"
SERVICE = "echo.sdk.conformance.example.com"  # a Supervisor Service registered for the SDK to read
SDK_CLASS, SDK_NAMESPACE = "conformance-sdk-made", "conformance-sdk-made"  # what the SDK makes itself


@pytest.fixture(scope="module")
def estate(testbed):
    """A VM class bound to a vSphere Namespace, made over REST as an admin would, for the SDK to read."""
    from tests.testbed.conftest import Vcenter
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    classes, instances = ("/api/vcenter/namespace-management/virtual-machine-classes",
                          "/api/vcenter/namespaces/instances")
    services = "/api/vcenter/namespace-management/supervisor-services"
    vcenter.call("DELETE", f"{instances}/{NAMESPACE}")  # an aborted run's
    vcenter.call("DELETE", f"{classes}/{VM_CLASS}")
    vcenter.call("DELETE", f"{instances}/{SDK_NAMESPACE}")
    vcenter.call("DELETE", f"{classes}/{SDK_CLASS}")
    vcenter.call("PATCH", f"{services}/{SERVICE}", params={"action": "deactivate"})
    vcenter.call("DELETE", f"{services}/{SERVICE}")
    content = base64.b64encode(carvel_package("1.0.0", SERVICE).encode()).decode()
    assert vcenter.call("POST", services, json={"carvel_spec": {"version_spec": {"content": content}}}).ok
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    assert vcenter.call("POST", classes, json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 2048}).ok
    assert vcenter.call("POST", instances, json={"cluster": cluster, "namespace": NAMESPACE,
                                                 "vm_service_spec": {"vm_classes": [VM_CLASS]}}).ok
    supervisor = vcenter.call("GET", "/api/vcenter/namespace-management/supervisors/summaries").json()["items"][0][
        "supervisor"]
    switch = vcenter.call("GET", "/api/vcenter/namespace-management/distributed-switch-compatibility",
                          params={"cluster": cluster}).json()[0]["distributed_switch"]
    yield {"cluster": cluster, "supervisor": supervisor, "switch": switch}
    vcenter.call("DELETE", f"{instances}/{NAMESPACE}")
    vcenter.call("DELETE", f"{classes}/{VM_CLASS}")
    vcenter.call("PATCH", f"{services}/{SERVICE}", params={"action": "deactivate"})
    vcenter.call("DELETE", f"{services}/{SERVICE}")


@pytest.fixture(scope="module")
def sdk(testbed):
    """The SDK's client and a stub configuration on its session, or the error that stopped the login."""
    import requests
    from vmware.vapi.lib.connect import get_requests_connector
    from vmware.vapi.security.session import create_session_security_context
    from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

    http = requests.Session()
    http.verify = str(testbed.pki.ca_cert)
    http.trust_env = False
    server = f"127.0.0.1:{testbed.layout.ports.wcp}"
    try:
        client = vsphere.create_vsphere_client(server, testbed.credentials.vcenter_user,
                                               testbed.credentials.vcenter_password, session=http)
    except Exception as err:  # noqa: BLE001 - the failure is the case's answer
        return None, None, f"{type(err).__name__}: {err}"
    connector = get_requests_connector(session=http, url=f"https://{server}/api")
    connector.set_security_context(create_session_security_context(client.get_session_id()))
    return client, StubConfigurationFactory.new_std_configuration(connector), None


def listed(*fields: str) -> Callable[[object], str | None]:
    """The answer is a list whose items have these attributes set (None counts as unset)."""
    def check(answer, estate=None) -> str | None:
        if not isinstance(answer, list):
            return f"expected a list, got {type(answer).__name__}"
        for item in answer:
            unset = [name for name in fields if getattr(item, name, None) is None]
            if unset:
                return f"{', '.join(unset)} unset in {item}"
        return None
    return check


def nonempty_list(*fields: str) -> Callable[[object], str | None]:
    def check(answer, estate=None) -> str | None:
        return listed(*fields)(answer) or (None if answer else "an empty list; vcsim's inventory has some")
    return check


def _session_get(client, stub_config, estate):
    from com.vmware.cis_client import Session
    return Session(stub_config).get()


def _namespaces(client, stub_config, estate):
    from com.vmware.vcenter.namespaces_client import Instances
    return Instances(stub_config).list()


def _management(interface: str, operation: str = "list", *args):
    def call(client, stub_config, estate):
        from com.vmware.vcenter import namespace_management_client
        service = getattr(namespace_management_client, interface)(stub_config)
        return getattr(service, operation)(*[arg.format(**estate) for arg in args])
    return call


def _supervisors(interface: str, operation: str, *args):
    def call(client, stub_config, estate):
        from com.vmware.vcenter.namespace_management import supervisors_client
        service = getattr(supervisors_client, interface)(stub_config)
        return getattr(service, operation)(*[arg.format(**estate) for arg in args])
    return call


def _services(operation: str, *args):
    def call(client, stub_config, estate):
        from com.vmware.vcenter.namespace_management.supervisor_services_client import Versions
        return getattr(Versions(stub_config), operation)(*args)
    return call


def done(answer, estate) -> str | None:
    return None  # the operation returned without an error, as vCenter's do


def _class_write(operation: str):
    def call(client, stub_config, estate):
        from com.vmware.vcenter.namespace_management_client import VirtualMachineClasses
        service = VirtualMachineClasses(stub_config)
        if operation == "create":
            return service.create(VirtualMachineClasses.CreateSpec(id=SDK_CLASS, cpu_count=1, memory_mb=1024))
        if operation == "update":
            return service.update(SDK_CLASS, VirtualMachineClasses.UpdateSpec(cpu_count=2, memory_mb=2048))
        return service.delete(SDK_CLASS)
    return call


def _namespace_write(operation: str):
    def call(client, stub_config, estate):
        from com.vmware.vcenter.namespaces_client import Instances
        service = Instances(stub_config)
        if operation == "create":
            return service.create(Instances.CreateSpec(cluster=estate["cluster"], namespace=SDK_NAMESPACE,
                                                       description="made by the vSphere Automation SDK"))
        return service.delete(SDK_NAMESPACE)
    return call


def _namespace_get_of(name: str):
    def call(client, stub_config, estate):
        from com.vmware.vcenter.namespaces_client import Instances
        return Instances(stub_config).get(name)
    return call


def _namespace_get(client, stub_config, estate):
    from com.vmware.vcenter.namespaces_client import Instances
    return Instances(stub_config).get(NAMESPACE)


def fields(**expected) -> Callable[[object], str | None]:
    """The answer's attributes have these values (a list expected: a subset the answer holds)."""
    def check(answer, estate) -> str | None:
        for name, want in expected.items():
            got = getattr(answer, name, None)
            want = want.format(**estate) if isinstance(want, str) else want
            if want is ... and got is not None:
                continue
            if isinstance(want, list) and isinstance(got, (list, set)) and set(want) <= set(got):
                continue
            if got != want:
                return f"{name} is {got!r}, vCenter answers {want!r}"
        return None
    return check


CALLS = [
    ("sdk cis.session get", _session_get,
     lambda info, estate: None if getattr(info, "user", None) else f"no user in {info}"),
    ("sdk vcenter.cluster list", lambda client, _, __: client.vcenter.Cluster.list(), nonempty_list("cluster", "name")),
    ("sdk vcenter.vm list", lambda client, _, __: client.vcenter.VM.list(), nonempty_list("vm", "name", "power_state")),
    ("sdk tagging.tag list", lambda client, _, __: client.tagging.Tag.list(), listed()),
    ("sdk vcenter.namespaces.instances list", _namespaces, listed("namespace", "cluster", "config_status")),
    ("sdk vcenter.namespace_management.clusters list", _management("Clusters"),
     nonempty_list("cluster", "cluster_name", "config_status")),
    ("sdk vcenter.namespace_management.virtual_machine_classes list", _management("VirtualMachineClasses"),
     listed("id", "cpu_count", "memory_mb")),
    ("sdk vcenter.namespace_management.supervisor_services list", _management("SupervisorServices"), listed()),
    ("sdk vcenter.namespace_management.clusters get", _management("Clusters", "get", "{cluster}"),
     fields(config_status="RUNNING", api_server_management_endpoint=..., stat_summary=..., network_provider=...,
            service_cidr=...)),
    ("sdk vcenter.namespace_management.supervisors.summary list", _supervisors("Summary", "list"),
     lambda answer, estate: listed("supervisor", "info")(answer.items) or (None if answer.items else "no Supervisor")),
    ("sdk vcenter.namespace_management.supervisors.summary get", _supervisors("Summary", "get", "{supervisor}"),
     fields(name=..., stats=..., config_status="RUNNING", kubernetes_status="READY")),
    ("sdk vcenter.namespace_management.supervisors.topology get", _supervisors("Topology", "get", "{supervisor}"),
     lambda answer, estate: None if any(estate["cluster"] in zone.clusters for zone in answer)
     else f"no zone holds the Supervisor's cluster in {answer}"),
    ("sdk vcenter.namespace_management.networks list", _management("Networks", "list", "{cluster}"),
     nonempty_list("network", "network_provider")),
    ("sdk vcenter.namespace_management.distributed_switch_compatibility list",
     _management("DistributedSwitchCompatibility", "list", "{cluster}"), nonempty_list("distributed_switch", "compatible")),
    ("sdk vcenter.namespace_management.networks get", _management("Networks", "get", "{cluster}", "primary"),
     fields(network="primary", network_provider=...)),
    ("sdk vcenter.namespace_management.edge_cluster_compatibility list",
     _management("EdgeClusterCompatibility", "list", "{cluster}", "{switch}"),
     nonempty_list("edge_cluster", "display_name", "compatible")),
    ("sdk vcenter.namespace_management.clusters get (NSX network info)", _management("Clusters", "get", "{cluster}"),
     fields(network_provider="NSXT_CONTAINER_PLUGIN", ncp_cluster_network_info=...)),
    ("sdk vcenter.namespace_management.supervisor_services get",
     _management("SupervisorServices", "get", SERVICE), fields(display_name="Conformance echo", state="ACTIVATED")),
    ("sdk vcenter.namespace_management.supervisor_services.versions list", _services("list", SERVICE),
     lambda answer, estate: None if [v.version for v in answer] == ["1.0.0"] else f"versions {answer}"),
    ("sdk vcenter.namespace_management.supervisor_services.versions get", _services("get", SERVICE, "1.0.0"),
     fields(content_type="CARVEL_APPS_YAML", state="ACTIVATED", trust_verified=...)),
    ("sdk vcenter.namespace_management.virtual_machine_classes create", _class_write("create"), done),
    ("sdk vcenter.namespace_management.virtual_machine_classes get (made by the SDK)",
     _management("VirtualMachineClasses", "get", SDK_CLASS), fields(cpu_count=1, memory_mb=1024)),
    ("sdk vcenter.namespace_management.virtual_machine_classes update", _class_write("update"), done),
    ("sdk vcenter.namespace_management.virtual_machine_classes get (updated by the SDK)",
     _management("VirtualMachineClasses", "get", SDK_CLASS), fields(cpu_count=2, memory_mb=2048)),
    ("sdk vcenter.namespaces.instances create", _namespace_write("create"), done),
    ("sdk vcenter.namespaces.instances get (made by the SDK)", _namespace_get_of(SDK_NAMESPACE),
     fields(cluster="{cluster}", vm_service_spec=...)),
    ("sdk vcenter.namespaces.instances delete", _namespace_write("delete"), done),
    ("sdk vcenter.namespace_management.virtual_machine_classes delete", _class_write("delete"), done),
    ("sdk vcenter.namespaces.instances get", _namespace_get,
     fields(config_status=..., cluster="{cluster}", vm_service_spec=...)),
    ("sdk vcenter.namespace_management.virtual_machine_classes get",
     _management("VirtualMachineClasses", "get", VM_CLASS), fields(cpu_count=2, memory_mb=2048, namespaces=[NAMESPACE])),
]


def test_login(sdk):
    judge("sdk create_vsphere_client (cis.session create)", sdk[2])


def test_login_with_a_wrong_password(testbed):
    import requests
    from com.vmware.vapi.std.errors_client import Unauthenticated

    http = requests.Session()
    http.verify, http.trust_env = str(testbed.pki.ca_cert), False
    try:
        vsphere.create_vsphere_client(f"127.0.0.1:{testbed.layout.ports.wcp}", testbed.credentials.vcenter_user,
                                      "not-the-password", session=http)
    except Unauthenticated:
        problem = None
    except Exception as err:  # noqa: BLE001 - the failure is the case's answer
        problem = f"{type(err).__name__} instead of Unauthenticated: {str(err)[:200]}"
    else:
        problem = "a session for a wrong password"
    judge("sdk create_vsphere_client with a wrong password", problem)


@pytest.mark.parametrize("name,call,check", CALLS, ids=[name for name, _, _ in CALLS])
def test_sdk(sdk, estate, name, call, check):
    client, stub_config, login_problem = sdk
    if login_problem:
        judge(name, f"no session: {login_problem}")
        return
    try:
        answer = call(client, stub_config, estate)
    except Exception as err:  # noqa: BLE001 - the failure is the case's answer
        problem = f"{type(err).__name__}: {str(err)[:300]}"
    else:
        problem = check(answer, estate)
    judge(name, problem)
