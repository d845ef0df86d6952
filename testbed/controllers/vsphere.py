"""vcsim as the controllers see it: placement per namespace, VM lifecycle, bulk power states."""
from __future__ import annotations

import threading

from pyVim.connect import Disconnect
from pyVmomi import vim, vmodl

from testbed.layout import Layout
from testbed.vcenter import connect, wait_for_task

NAMESPACES_FOLDER = "Namespaces"
POWER_FROM_VSPHERE = {"poweredOn": "PoweredOn", "poweredOff": "PoweredOff", "suspended": "Suspended"}


class Vsphere:
    def __init__(self, layout: Layout):
        self._si = connect(layout)
        self.content = self._si.RetrieveContent()
        self.datacenter = self.content.rootFolder.childEntity[0]
        self._lock = threading.Lock()  # placement objects are created once, by one thread

    def close(self) -> None:
        Disconnect(self._si)

    def _view(self, kind, root=None) -> list:
        view = self.content.viewManager.CreateContainerView(root or self.content.rootFolder, [kind], True)
        try:
            return list(view.view)
        finally:
            view.Destroy()

    def cluster(self, moref: str | None):
        clusters = self._view(vim.ClusterComputeResource)
        for candidate in clusters:
            if candidate._moId == moref:
                return candidate
        return clusters[0]

    def placement(self, namespace: str, cluster_moref: str | None, child_pool: str | None = None,
                  child_folder: str | None = None):
        """The resource pool and folder of a vSphere Namespace, made on first use; with a
        VirtualMachineSetResourcePolicy, its child pool and folder inside them."""
        pool, folder = self._namespace_placement(namespace, cluster_moref)
        with self._lock:
            if child_pool:
                pool = next((p for p in pool.resourcePool if p.name == child_pool), None) or \
                    pool.CreateResourcePool(child_pool, _unlimited_pool_spec())
            if child_folder:
                folder = next((f for f in folder.childEntity if isinstance(f, vim.Folder) and f.name == child_folder),
                              None) or folder.CreateFolder(child_folder)
        return pool, folder

    def remove_child_placement(self, namespace: str, cluster_moref: str | None, child_pool: str | None,
                               child_folder: str | None) -> bool:
        """Destroy a resource policy's child pool and folder in a namespace's once no VM is left in
        them; False while one is (the caller tries again)."""
        with self._lock:  # found, not made: a namespace gone meanwhile took its pool and folder along
            parent_pool = next((p for p in self.cluster(cluster_moref).resourcePool.resourcePool
                                if p.name == namespace), None)
            namespaces = next((f for f in self.datacenter.vmFolder.childEntity
                               if isinstance(f, vim.Folder) and f.name == NAMESPACES_FOLDER), None)
            parent_folder = next((f for f in namespaces.childEntity if isinstance(f, vim.Folder)
                                  and f.name == namespace), None) if namespaces is not None else None
            pool = next((p for p in parent_pool.resourcePool if p.name == child_pool), None) \
                if parent_pool is not None and child_pool else None
            folder = next((f for f in parent_folder.childEntity if isinstance(f, vim.Folder) and f.name == child_folder),
                          None) if parent_folder is not None and child_folder else None
            if (pool is not None and pool.vm) or (folder is not None and folder.childEntity):
                return False
            for entity in (pool, folder):
                if entity is not None:
                    wait_for_task(entity.Destroy_Task())
        return True

    def _namespace_placement(self, namespace: str, cluster_moref: str | None):
        with self._lock:
            cluster = self.cluster(cluster_moref)
            root_pool = cluster.resourcePool
            pool = next((p for p in root_pool.resourcePool if p.name == namespace), None)
            if pool is None:
                pool = root_pool.CreateResourcePool(namespace, _unlimited_pool_spec())
            parent = next((f for f in self.datacenter.vmFolder.childEntity
                           if isinstance(f, vim.Folder) and f.name == NAMESPACES_FOLDER), None)
            if parent is None:
                parent = self.datacenter.vmFolder.CreateFolder(NAMESPACES_FOLDER)
            folder = next((f for f in parent.childEntity if isinstance(f, vim.Folder) and f.name == namespace), None)
            if folder is None:
                folder = parent.CreateFolder(namespace)
            return pool, folder

    def find_vm(self, folder, name: str, annotation_prefix: str = ""):
        """The VM called ``name`` in ``folder`` whose annotation says who made it (VM or pod).

        Names and annotations come in one property fetch: reading them VM by VM fails on a
        sibling destroyed meanwhile."""
        collector = vmodl.query.PropertyCollector
        spec = collector.FilterSpec(
            objectSet=[collector.ObjectSpec(obj=folder, skip=True, selectSet=[collector.TraversalSpec(
                name="children", path="childEntity", skip=False, type=vim.Folder)])],
            propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "config.annotation"])])
        for item in self.content.propertyCollector.RetrieveContents([spec]):
            values = {prop.name: prop.val for prop in item.propSet}
            if values.get("name") == name and (values.get("config.annotation") or "").startswith(annotation_prefix):
                return item.obj
        return None

    def vm_by_moref(self, moref: str):
        vm = vim.VirtualMachine(moref, self._si._stub)
        try:
            vm.name  # noqa: B018  (touch it: raises if gone)
        except vmodl.fault.ManagedObjectNotFound:
            return None
        return vm

    def workload_network(self):
        """The distributed port group workload VMs are connected to: vcsim's first that is not an uplink
        (the primary workload network the WCP simulator reports)."""
        return next((group for group in self._view(vim.dvs.DistributedVirtualPortgroup) if not group.config.uplink),
                    None)

    def create_vm(self, folder, pool, name: str, cpus: int, memory_mib: int, guest_id: str, annotation: str,
                  *, extra_config: dict[str, str] | None = None, managed_by: tuple[str, str] | None = None,
                  nic: bool = False, disk_gib: int = 0, host_moid: str | None = None):
        """Create a VM; ``managed_by`` is (extension key, type) of the solution that owns it, ``nic`` gives it
        a vmxnet3 card on the workload network, ``disk_gib`` a thin boot disk of that size (an image's),
        ``host_moid`` the ESXi host it runs on (else vCenter chooses one of the pool's cluster)."""
        datastore = self._view(vim.Datastore)[0]
        devices = []
        if disk_gib:
            controller = vim.vm.device.ParaVirtualSCSIController(key=-100, busNumber=0, sharedBus="noSharing")
            disk = vim.vm.device.VirtualDisk(
                key=-101, controllerKey=-100, unitNumber=0, capacityInKB=disk_gib * 2**20,
                backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(diskMode="persistent", thinProvisioned=True,
                                                                      fileName=f"[{datastore.name}]"))
            devices += [vim.vm.device.VirtualDeviceSpec(operation="add", device=controller),
                        vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk)]
        group = self.workload_network() if nic else None
        if group is not None:
            backing = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(port=vim.dvs.PortConnection(
                switchUuid=group.config.distributedVirtualSwitch.uuid, portgroupKey=group.key))
            card = vim.vm.device.VirtualVmxnet3(key=-1, backing=backing, addressType="generated",
                                                connectable=vim.vm.device.VirtualDevice.ConnectInfo(
                                                    startConnected=True, connected=True, allowGuestControl=True))
            devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=card))
        spec = vim.vm.ConfigSpec(
            name=name, numCPUs=cpus, memoryMB=memory_mib, guestId=guest_id, annotation=annotation,
            files=vim.vm.FileInfo(vmPathName=f"[{datastore.name}]"), deviceChange=devices,
            extraConfig=[vim.option.OptionValue(key=key, value=value) for key, value in (extra_config or {}).items()],
        )
        if managed_by:
            spec.managedBy = vim.ext.ManagedByInfo(extensionKey=managed_by[0], type=managed_by[1])
        host = vim.HostSystem(host_moid, self._si._stub) if host_moid else None
        wait_for_task(folder.CreateVM_Task(config=spec, pool=pool, host=host))
        return self.find_vm(folder, name, annotation)

    def set_guest(self, vm, ip: str | None, host_name: str) -> None:
        """What VMware Tools in the guest reports to vCenter: running with an address and host name, or not
        running (vcsim takes guest properties as ``SET.guest.*`` extraConfig)."""
        values = {"SET.guest.ipAddress": ip or "", "SET.guest.hostName": host_name if ip else "",
                  "SET.guest.toolsRunningStatus": "guestToolsRunning" if ip else "guestToolsNotRunning"}
        wait_for_task(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(
            extraConfig=[vim.option.OptionValue(key=key, value=value) for key, value in values.items()])))

    def set_power(self, vm, wanted: str) -> None:
        current = POWER_FROM_VSPHERE[vm.runtime.powerState]
        if current == wanted:
            return
        if wanted == "PoweredOn":
            wait_for_task(vm.PowerOnVM_Task())
        elif wanted == "PoweredOff":
            wait_for_task(vm.PowerOffVM_Task())
        elif wanted == "Suspended":
            if current == "PoweredOff":
                wait_for_task(vm.PowerOnVM_Task())
            wait_for_task(vm.SuspendVM_Task())

    def destroy(self, vm) -> None:
        if vm.runtime.powerState != "poweredOff":
            wait_for_task(vm.PowerOffVM_Task())
        wait_for_task(vm.Destroy_Task())

    def esxi_hosts(self, cluster_moref: str | None) -> list[dict]:
        """The hosts of the Supervisor cluster, with what a Node reports of them."""
        hosts = []
        for host in self.cluster(cluster_moref).host:
            hardware = host.summary.hardware
            hosts.append({"moid": host._moId, "name": host.name, "uuid": hardware.uuid,
                          "cpus": hardware.numCpuCores, "memory_bytes": hardware.memorySize})
        return hosts

    def power_states(self) -> dict[str, str]:
        """moref -> power state of every VM under the Namespaces folder, in one property fetch."""
        parent = next((f for f in self.datacenter.vmFolder.childEntity
                       if isinstance(f, vim.Folder) and f.name == NAMESPACES_FOLDER), None)
        if parent is None:
            return {}
        view = self.content.viewManager.CreateContainerView(parent, [vim.VirtualMachine], True)
        try:
            collector = vmodl.query.PropertyCollector
            spec = collector.FilterSpec(
                objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[collector.TraversalSpec(
                    name="view", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[collector.PropertySpec(type=vim.VirtualMachine, pathSet=["runtime.powerState"])],
            )
            found = {}
            result = self.content.propertyCollector.RetrievePropertiesEx([spec], collector.RetrieveOptions())
            while result:
                for item in result.objects:
                    found[item.obj._moId] = POWER_FROM_VSPHERE[item.propSet[0].val]
                if not result.token:
                    break
                result = self.content.propertyCollector.ContinueRetrievePropertiesEx(result.token)
            return found
        finally:
            view.Destroy()


def _unlimited_pool_spec():
    allocation = vim.ResourceAllocationInfo(
        reservation=0, limit=-1, expandableReservation=True,
        shares=vim.SharesInfo(level=vim.SharesInfo.Level.normal, shares=0),
    )
    return vim.ResourceConfigSpec(cpuAllocation=allocation, memoryAllocation=allocation)
