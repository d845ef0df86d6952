"""The vSphere Automation SDK for Python (`vmware-vcenter`) over JSON-RPC `/api`, against the testbed.

What a Python user of VMware's SDK does first: ``create_vsphere_client`` (a JSON-RPC session), then
the inventory (clusters, VMs, tags) and the Supervisor's API (namespaces, clusters with workload
management, VM classes, Supervisor Services). Each answer is checked with the SDK's own binding
types: the call must return what the operation's IDL declares, with the fields vCenter 8 fills.
"""
from __future__ import annotations

from typing import Callable

import pytest

from tests.conformance.conftest import judge

# the 9.1 bindings mark some 8.0 operations deprecated (Clusters.list): vCenter 8 is what is checked
pytestmark = [pytest.mark.testbed, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

vsphere = pytest.importorskip("vmware.vapi.vsphere.client")


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
    def check(answer) -> str | None:
        if not isinstance(answer, list):
            return f"expected a list, got {type(answer).__name__}"
        for item in answer:
            unset = [name for name in fields if getattr(item, name, None) is None]
            if unset:
                return f"{', '.join(unset)} unset in {item}"
        return None
    return check


def nonempty_list(*fields: str) -> Callable[[object], str | None]:
    def check(answer) -> str | None:
        return listed(*fields)(answer) or (None if answer else "an empty list; vcsim's inventory has some")
    return check


def _session_get(client, stub_config):
    from com.vmware.cis_client import Session
    return Session(stub_config).get()


def _namespaces(client, stub_config):
    from com.vmware.vcenter.namespaces_client import Instances
    return Instances(stub_config).list()


def _management(interface: str):
    def call(client, stub_config):
        from com.vmware.vcenter import namespace_management_client
        return getattr(namespace_management_client, interface)(stub_config).list()
    return call


CALLS = [
    ("sdk cis.session get", _session_get,
     lambda info: None if getattr(info, "user", None) else f"no user in {info}"),
    ("sdk vcenter.cluster list", lambda client, _: client.vcenter.Cluster.list(), nonempty_list("cluster", "name")),
    ("sdk vcenter.vm list", lambda client, _: client.vcenter.VM.list(), nonempty_list("vm", "name", "power_state")),
    ("sdk tagging.tag list", lambda client, _: client.tagging.Tag.list(), listed()),
    ("sdk vcenter.namespaces.instances list", _namespaces, listed("namespace", "cluster", "config_status")),
    ("sdk vcenter.namespace_management.clusters list", _management("Clusters"),
     nonempty_list("cluster", "cluster_name", "config_status")),
    ("sdk vcenter.namespace_management.virtual_machine_classes list", _management("VirtualMachineClasses"),
     listed("id", "cpu_count", "memory_mb")),
    ("sdk vcenter.namespace_management.supervisor_services list", _management("SupervisorServices"), listed()),
]


def test_login(sdk):
    judge("sdk create_vsphere_client (cis.session create)", sdk[2])


@pytest.mark.parametrize("name,call,check", CALLS, ids=[name for name, _, _ in CALLS])
def test_sdk(sdk, name, call, check):
    client, stub_config, login_problem = sdk
    if login_problem:
        judge(name, f"no session: {login_problem}")
        return
    try:
        answer = call(client, stub_config)
    except Exception as err:  # noqa: BLE001 - the failure is the case's answer
        problem = f"{type(err).__name__}: {str(err)[:300]}"
    else:
        problem = check(answer)
    judge(name, problem)
