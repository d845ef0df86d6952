"""pyVmomi sessions to the testbed's vcsim, and a task wait that does not trip on vcsim's task names.

``pyVim.task.WaitForTask`` reads ``task.info.name.info.name`` while a task is running; vcsim names
some tasks (``CloneVM_Task`` among them) with a method pyVmomi does not know, so the wait fails
with an AttributeError whenever it happens to see the task running. ``wait_for_task`` reads only
the task's state and error.
"""
from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterator

from testbed.credentials import Credentials
from testbed.layout import HOST, Layout
from testbed.pki import Pki


def connect(layout: Layout, *, port: int | None = None, password: str | None = None):
    """A pyVmomi ServiceInstance straight to vcsim (or to ``port``), trusting the testbed's CA."""
    from pyVim.connect import SmartConnect

    credentials = Credentials.load_or_create(layout.credentials_file)
    context = ssl.create_default_context(cafile=str(Pki(layout.pki).ca_cert))
    return SmartConnect(host=HOST, port=port or layout.ports.vcsim, user=credentials.vcenter_user,
                        pwd=credentials.vcenter_password if password is None else password,
                        sslContext=context)


@contextlib.contextmanager
def session(layout: Layout, **kwargs) -> Iterator:
    """``connect`` for a ``with`` block; logs out at the end."""
    from pyVim.connect import Disconnect

    si = connect(layout, **kwargs)
    try:
        yield si
    finally:
        Disconnect(si)


def wait_for_task(task, timeout: float = 120.0):
    """Wait until ``task`` succeeds and return its result; raise its fault if it fails."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        state = task.info.state
        if state == "success":
            return task.info.result
        if state == "error":
            raise task.info.error
        if time.monotonic() > deadline:
            raise TimeoutError(f"vCenter task {task._moId} still {state} after {timeout:.0f} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def vm_rows(si) -> list[tuple[str, str, object]]:
    """``(name, parent folder name, VM)`` of every VM in vcsim, read in one property fetch, so
    that a VM deleted meanwhile (or a destroyed template vcsim still lists) cannot break it."""
    from pyVmomi import vim, vmodl

    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    collector = vmodl.query.PropertyCollector
    spec = collector.FilterSpec(
        objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[collector.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "parent"])])
    try:
        rows = []
        for item in content.propertyCollector.RetrieveContents([spec]):
            props = {p.name: p.val for p in item.propSet}
            if "name" in props and "parent" in props:
                rows.append((props["name"], props["parent"].name, item.obj))
        return rows
    finally:
        view.Destroy()


def vcsim_vms(si, folder: str | None = None) -> dict[str, str]:
    """Name -> parent folder of every VM in vcsim (optionally in one folder)."""
    return {name: parent for name, parent, _vm in vm_rows(si) if folder is None or parent == folder}


def vm_named(si, name: str):
    """The VM called ``name`` (the first one, if several are)."""
    found = [vm for vm_name, _parent, vm in vm_rows(si) if vm_name == name]
    if not found:
        raise LookupError(f"no VM named {name!r} in vcsim")
    return found[0]


def rest_session(testbed):
    """A ``requests`` session logged in to the vCenter REST API (the WCP endpoint) as the admin."""
    import requests

    http = requests.Session()
    http.trust_env = False
    http.verify = str(testbed.pki.ca_cert)
    creds = testbed.credentials
    answer = http.post(testbed.layout.vcenter_url + "/api/session", auth=(creds.vcenter_user, creds.vcenter_password))
    answer.raise_for_status()
    http.headers["vmware-api-session-id"] = answer.json()
    return http


def wcp_token(testbed, user: str, password: str) -> str:
    """A Supervisor token of ``user`` from a real /wcp/login at the Supervisor's address, as
    ``kubectl vsphere login`` gets one."""
    import requests

    answer = requests.post(testbed.layout.supervisor_login_url, auth=(user, password),
                           verify=str(testbed.pki.ca_cert), timeout=30)
    answer.raise_for_status()
    return answer.json()["session_id"]


def developer_token(testbed) -> str:
    """The namespace developer's token: what the developer face runs as."""
    creds = testbed.credentials
    return wcp_token(testbed, creds.developer_user, creds.developer_password)


def wait_developer_access(testbed, namespace: str, timeout: float = 60.0) -> None:
    """Until the developer may read ``namespace`` (WCP mirrors its access list into RoleBindings)."""
    import requests

    token, deadline = developer_token(testbed), time.monotonic() + timeout
    url = f"{testbed.layout.supervisor_url}/api/v1/namespaces/{namespace}"
    while requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=str(testbed.pki.ca_cert),
                       timeout=30).status_code != 200:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the developer may not read namespace {namespace} after {timeout:.0f}s")
        time.sleep(0.3)


def ensure_namespace(testbed, namespace: str, vm_class: str, cpu_count: int = 1, memory_mb: int = 512) -> None:
    """A vSphere Namespace offering one VM class, made through the vCenter REST API as an admin
    makes it, unless it exists."""
    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    cluster = http.get(base + "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    http.post(base + "/api/vcenter/namespace-management/virtual-machine-classes",
              json={"id": vm_class, "cpu_count": cpu_count, "memory_MB": memory_mb})
    if http.get(f"{base}/api/vcenter/namespaces/instances/{namespace}").status_code == 404:
        http.post(base + "/api/vcenter/namespaces/instances", json={
            "cluster": cluster, "namespace": namespace, "vm_service_spec": {"vm_classes": [vm_class]},
            "resource_spec": {}}).raise_for_status()
