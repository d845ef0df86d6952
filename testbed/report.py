"""What `status` and `make demo` print: the testbed's peers and what they hold."""
from __future__ import annotations

from testbed.layout import HOST
from testbed.stack import DAEMONS, Testbed
from testbed.vcenter import session

VCENTER_KINDS = ("Datacenter", "ClusterComputeResource", "HostSystem", "VirtualMachine", "Datastore")


def vcenter_counts(testbed: Testbed) -> dict[str, int]:
    """Inventory counts read through the vCenter endpoint (WCP proxying to vcsim) with pyVmomi."""
    from pyVmomi import vim

    with session(testbed.layout, port=testbed.layout.ports.wcp) as si:
        content = si.RetrieveContent()
        counts = {}
        for kind in VCENTER_KINDS:
            view = content.viewManager.CreateContainerView(content.rootFolder, [getattr(vim, kind)], True)
            counts[kind] = len(view.view)
            view.Destroy()
        return counts


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

