"""Run the WCP simulator for the testbed whose layout the environment names."""
from __future__ import annotations

import asyncio
import functools
import logging
import ssl

import aiohttp
from aiohttp import web

from testbed import build, passthrough
from testbed.credentials import Credentials
from testbed.faults import FaultBook
from testbed.layout import GUEST_API_PORT, HOST, SUPERVISOR_API_PORT, SUPERVISOR_LOGIN_PORT, Layout
from testbed.pki import Pki
from testbed.wcp import app as wcp_app
from testbed.wcp.libraries import ContentLibraries
from testbed.wcp.store import Store

log = logging.getLogger("testbed.wcp")
RESYNC_SECONDS = 5.0


def vcsim_inventory(layout: Layout, credentials: Credentials, pki: Pki) -> tuple[dict[str, dict], dict[str, str]]:
    """(cluster moref -> its name and capacity, storage policy id -> name), read from vcsim."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import SoapStubAdapter, pbm, vim

    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    si = SmartConnect(host=HOST, port=layout.ports.vcsim, user=credentials.vcenter_user,
                      pwd=credentials.vcenter_password, sslContext=context)
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
        # name and capacity (MHz, MiB) as Clusters.Stats reports it
        clusters = {cluster._moId: {
            "name": cluster.name, "capacity": {
                "cpu_capacity": cluster.summary.totalCpu or 0,
                "memory_capacity": (cluster.summary.totalMemory or 0) // 2**20,
                "storage_capacity": sum(ds.summary.capacity or 0 for ds in cluster.datastore) // 2**20}}
            for cluster in view.view}
        # PBM trusts the vim session, passed in the vcSessionCookie SOAP header
        cookie = si._stub.cookie.split(";", 1)[0].split("=", 1)[-1].strip().strip('"')
        stub = SoapStubAdapter(host=HOST, port=layout.ports.vcsim, path="/pbm", version="pbm.version.version11",
                               sslContext=context, requestContext={"vcSessionCookie": cookie})
        profiles = pbm.ServiceInstance("ServiceInstance", stub).RetrieveContent().profileManager
        ids = profiles.PbmQueryProfile(resourceType=pbm.profile.ResourceType(resourceType="STORAGE"),
                                       profileCategory="REQUIREMENT")
        policies = {p.profileId.uniqueId: p.name for p in profiles.PbmRetrieveContent(profileIds=ids)} if ids else {}
        return clusters, policies
    finally:
        Disconnect(si)


POWER_STATES = {"poweredOn": "POWERED_ON", "poweredOff": "POWERED_OFF", "suspended": "SUSPENDED"}


def vcsim_compute(layout: Layout, credentials: Credentials, pki: Pki) -> dict[str, list[dict]]:
    """vcsim's clusters and VMs as vCenter's ``/api/vcenter/cluster`` and ``/api/vcenter/vm`` list them, and
    the morefs of its distributed switches and port groups."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl

    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    si = SmartConnect(host=HOST, port=layout.ports.vcsim, user=credentials.vcenter_user,
                      pwd=credentials.vcenter_password, sslContext=context)
    try:
        content = si.RetrieveContent()

        def every(kind):
            view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
            try:
                return list(view.view)
            finally:
                view.Destroy()
        clusters = [{"cluster": cluster._moId, "name": cluster.name,
                     "ha_enabled": bool(cluster.configuration.dasConfig.enabled),
                     "drs_enabled": bool(cluster.configuration.drsConfig.enabled)}
                    for cluster in every(vim.ClusterComputeResource)]
        vms = []
        for vm in every(vim.VirtualMachine):
            try:
                summary = vm.summary
            except vmodl.fault.ManagedObjectNotFound:  # destroyed between the view and the read: gone
                continue
            vms.append({"vm": vm._moId, "name": summary.config.name,
                        "power_state": POWER_STATES.get(summary.runtime.powerState, "POWERED_OFF"),
                        "cpu_count": summary.config.numCpu, "memory_size_MiB": summary.config.memorySizeMB})
        switches = sorted(switch._moId for switch in every(vim.DistributedVirtualSwitch))
        portgroups = sorted(group._moId for group in every(vim.dvs.DistributedVirtualPortgroup))
        return {"clusters": sorted(clusters, key=lambda c: c["cluster"]), "vms": sorted(vms, key=lambda v: v["vm"]),
                "switches": switches, "portgroups": portgroups}
    finally:
        Disconnect(si)


async def discover_inventory(wcp: wcp_app.Wcp, layout: Layout, pki: Pki) -> None:
    """Record vcsim's clusters and storage policies; the first cluster runs the Supervisor unless one already does."""
    while True:
        try:
            found, wcp.storage_policies = await asyncio.to_thread(vcsim_inventory, layout, wcp.credentials, pki)
            break
        except Exception as err:  # vcsim starts beside us and may not listen yet
            log.info("waiting for vcsim: %s", err)
            await asyncio.sleep(0.2)
    known = wcp.store.list("clusters")
    for moref in set(known) - set(found):  # vcsim's inventory changed under us
        wcp.store.delete("clusters", moref)
    any_enabled = any(stored.get("enabled") for moref, stored in known.items() if moref in found)
    for moref, cluster in sorted(found.items()):
        stored = known.get(moref, {"enabled": False})
        if not any_enabled and not stored["enabled"]:
            stored, any_enabled = {**stored, "enabled": True}, True
        wcp.store.put("clusters", moref, {**stored, **cluster})


async def mirror_loop(wcp: wcp_app.Wcp, kubeconfig: str) -> None:
    from kubernetes import config

    from testbed.wcp.mirror import Mirror

    while True:
        if not wcp.storage_policies:  # their names name the StorageClasses: wait until vcsim told them
            await asyncio.sleep(0.2)
            continue
        try:
            if wcp.mirror is None:
                wcp.mirror = await asyncio.to_thread(
                    lambda: Mirror(config.new_client_from_config(config_file=kubeconfig)))
            snapshot = wcp.store.snapshot()
            wcp.changed.clear()
            providers = {moref: wcp_app.network_provider(stored) for moref, stored in snapshot["clusters"].items()}
            errors = await asyncio.to_thread(wcp.mirror.reconcile, snapshot["namespaces"], snapshot["vm_classes"],
                                             wcp.libraries.items, wcp.storage_policies, providers)
            wcp.mirror_errors = errors
            for name, seen in snapshot["namespaces"].items():
                # only what was mirrored is RUNNING: a change made meanwhile waits for the next pass
                if name not in errors and seen.get("config_status") != "RUNNING" and wcp.store.get("namespaces", name) == seen:
                    wcp.store.put("namespaces", name, {**seen, "config_status": "RUNNING"})
        except Exception as err:  # Kubernetes not up yet, or restarting: try again shortly
            log.warning("mirroring into Kubernetes failed: %s", err)
            wcp.mirror = None
            await asyncio.sleep(0.5)
            continue
        try:
            await asyncio.wait_for(wcp.changed.wait(), timeout=RESYNC_SECONDS)
        except asyncio.TimeoutError:
            pass


async def serve(layout: Layout) -> None:
    pki = Pki(layout.pki)
    upstream_tls = ssl.create_default_context(cafile=str(pki.ca_cert))
    wcp = wcp_app.Wcp(
        store=Store(layout.state / "wcp.json"),
        credentials=Credentials.load_or_create(layout.credentials_file),
        jwt_key=(layout.pki / "wcp-jwt.key").read_bytes(),
        vcsim_url=f"https://{HOST}:{layout.ports.vcsim}",
        upstream_tls=upstream_tls,
        apiserver_url=layout.apiserver_url,
        pod_cidr=layout.pod_network.subnet,
        ca_pem=pki.ca_cert.read_text(),
        faults=FaultBook(layout.faults_file),
        guest_ports_file=layout.state / "guest-apiservers.json",
        kubernetes_version=build.kubernetes_version(),  # the version stamped into its kube-apiserver
        supervisor_host=layout.supervisor_host,
        supervisor_api_port=SUPERVISOR_API_PORT,
        guest_vip=lambda port: layout.guest_vip(layout.guest_slot(port)),
        guest_api_port=GUEST_API_PORT,
    )
    wcp.compute = functools.partial(vcsim_compute, layout, wcp.credentials, pki)
    wcp.libraries = ContentLibraries(wcp.vcsim_url, wcp.credentials, str(pki.ca_cert))
    application = web.Application(middlewares=[wcp_app.api_errors, wcp_app.shared_sessions], client_max_size=16 * 1024 * 1024)
    application["wcp"] = wcp
    application["upstream"] = aiohttp.ClientSession(auto_decompress=False)
    wcp_app.routes(application)

    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(str(pki.serving_cert), str(pki.serving_key))
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, layout.ports.wcp, ssl_context=serving).start()
    supervisor = web.Application(middlewares=[wcp_app.api_errors])
    supervisor["wcp"] = wcp
    wcp_app.supervisor_routes(supervisor)
    supervisor_runner = web.AppRunner(supervisor, access_log=None)
    await supervisor_runner.setup()
    await web.TCPSite(supervisor_runner, layout.supervisor_host, SUPERVISOR_LOGIN_PORT, ssl_context=serving).start()
    # the Supervisor's 6443: a pass-through to the kube-apiserver, TLS end to end
    kubernetes = await passthrough.listen(layout.supervisor_host, SUPERVISOR_API_PORT, layout.ports.apiserver)
    background = [asyncio.create_task(discover_inventory(wcp, layout, pki)),
                  asyncio.create_task(mirror_loop(wcp, str(layout.admin_kubeconfig)))]
    try:
        await asyncio.Event().wait()
    finally:
        for task in background:
            task.cancel()
        kubernetes.close()
        await application["upstream"].close()
        await supervisor_runner.cleanup()
        await runner.cleanup()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    layout = Layout.from_env()
    try:
        asyncio.run(serve(layout))
    except PermissionError as err:  # ports 443 and 6443 need root (or CAP_NET_BIND_SERVICE)
        raise SystemExit(f"cannot listen on the Supervisor's address {layout.supervisor_host} (ports "
                         f"{SUPERVISOR_LOGIN_PORT} and {SUPERVISOR_API_PORT}): {err}; run the testbed as root") from None


if __name__ == "__main__":
    main()
