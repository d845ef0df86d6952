"""What `status` and `make demo` print: the testbed's peers and what they hold."""
from __future__ import annotations

import ssl

from testbed.layout import HOST
from testbed.stack import DAEMONS, Testbed

VCENTER_KINDS = ("Datacenter", "ClusterComputeResource", "HostSystem", "VirtualMachine", "Datastore")


def vcenter_counts(testbed: Testbed) -> dict[str, int]:
    """Inventory counts read through the vCenter endpoint (WCP proxying to vcsim) with pyVmomi."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim

    creds = testbed.credentials
    context = ssl.create_default_context(cafile=str(testbed.pki.ca_cert))
    si = SmartConnect(host=HOST, port=testbed.layout.ports.wcp, user=creds.vcenter_user,
                      pwd=creds.vcenter_password, sslContext=context)
    try:
        content = si.RetrieveContent()
        counts = {}
        for kind in VCENTER_KINDS:
            view = content.viewManager.CreateContainerView(content.rootFolder, [getattr(vim, kind)], True)
            counts[kind] = len(view.view)
            view.Destroy()
        return counts
    finally:
        Disconnect(si)


def rows(testbed: Testbed) -> list[tuple[str, str]]:
    table = []
    running = testbed.running()
    for name in DAEMONS:
        pid = running[name]
        state = "ready" if pid and testbed.is_ready(name) else ("starting" if pid else "stopped")
        table.append((name, f"{state:8} pid {pid}  {HOST}:{testbed.port(name)}" if pid else state))
    if not (running["kube-apiserver"] and testbed.is_ready("kube-apiserver")):
        return table
    from kubernetes import client

    from testbed import crds

    with testbed.admin_client() as api_client:
        version = client.VersionApi(api_client).get_code()
        table.append(("Kubernetes", f"{version.git_version} at {testbed.layout.apiserver_url}"))
        for group, count in crds.established_counts(api_client).items():
            table.append((f"CRDs {group}", f"{count} Established"))
    if running["wcp"] and testbed.is_ready("wcp"):
        counts = vcenter_counts(testbed)
        table.append(("vCenter (via WCP)", ", ".join(f"{n} {kind}" for kind, n in counts.items())))
    return table


def render(table: list[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in table)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in table)

