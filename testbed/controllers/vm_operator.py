"""VM Operator: VirtualMachine -> a VM in vcsim, with status, conditions and Events.

- Class and image are resolved in the VM's namespace (images also cluster-wide, by object name
  or display name). Either missing: its condition turns False with reason NotFound and no VM is
  made. A resolved image is written to spec.image ({kind, name}) as VM Operator's mutating webhook
  does on create (here at the first reconcile: the testbed runs no webhook server).
- The VM lands in the namespace's resource pool and folder, sized by its class.
- Power, as the real VM Operator's reconcilePowerState does it: each reconcile of a change to the
  VirtualMachine (its spec, labels or annotations - the real one reconciles on every update of
  the object) compares spec.powerState with the VM's actual power state in vCenter and powers it
  on, off or suspends it when they differ. A power change made in vCenter is reported in status
  (the poller notices within a second) with VirtualMachinePowerStateSynced False, but not undone
  until the object changes: the real VM Operator's vm-watcher (AsyncSignalEnabled) would reconcile
  at once and power it back on; the testbed models it switched off, so that an out-of-band
  power-off stays visible to remediation rulebooks and the modules.
- Deleting the VirtualMachine destroys the VM behind a finalizer.
- VirtualMachines are reconciled at v1alpha5, the version stored, as VM Operator's controllers do;
  clients of other versions see them through VM Operator's conversion webhook (vmop-webhook).
  Status reports the ESXi host the VM runs on (status.nodeName; v1alpha3's status.host).
- vSphere Zones (topology.tanzu.vmware.com): the Supervisor's cluster is one zone, ``zone-<cluster>``
  (what the VMs' status.zone and the Supervisor's topology name), an AvailabilityZone; a namespace
  gets its Zone (its pool and folder for VMs) when a VM is first placed there (WCP makes it with
  the namespace; the testbed when the pool and folder exist).
"""
from __future__ import annotations

import json
import logging
import threading

from kubernetes import client
from kubernetes.client.rest import ApiException
from pyVmomi import vim

from testbed.controllers import kube
from testbed.controllers.conditions import record_event, set_condition
from testbed.controllers.vsphere import POWER_FROM_VSPHERE, Vsphere
from testbed.faults import FaultBook
from testbed.wcp.libraries import library_resource_name

log = logging.getLogger("testbed.controllers.vm_operator")

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
# VirtualMachines are read and written at the hub version, as VM Operator's controllers work (its status
# too: v1alpha3's conversion restores a VM's status from the hub's, so a status written there is lost);
# readers of other versions see them through VM Operator's conversion webhook (vmop-webhook)
HUB = "v1alpha5"
FINALIZER = "vmoperator.vmware.com/virtualmachine"
ANNOTATION = "VirtualMachine "  # how a VM made by the VM Operator says so in vCenter
CLUSTER_LABEL = "vSphereClusterID"
MANAGED_BY = ("com.vmware.vcenter.wcp", "VirtualMachine")  # the solution that owns VM Service VMs in vCenter
# images every testbed offers, as if published by a subscribed content library
SEEDED_IMAGES = {
    "vmi-0a1b2c3d4e5f60001": ("ubuntu-22.04", "ubuntu64Guest"),
    "vmi-0a1b2c3d4e5f60002": ("photon-5", "vmwarePhoton64Guest"),
}
# the content library assigned to the whole Supervisor that the seeded images come from, and the
# UUIDs of its items (a ClusterContentLibrary and ClusterContentLibraryItems of the image registry)
SEEDED_LIBRARY = ("supervisor-vm-images", "5e3d6a10-0c1b-4f2e-9d8c-7b6a5f4e3d21")
SEEDED_ITEM_IDS = {
    "vmi-0a1b2c3d4e5f60001": "0a1b2c3d-4e5f-4000-8000-000000000001",
    "vmi-0a1b2c3d4e5f60002": "0a1b2c3d-4e5f-4000-8000-000000000002",
}
IMAGE_REGISTRY = ("imageregistry.vmware.com", "v1alpha2")
TOPOLOGY = ("topology.tanzu.vmware.com", "v1alpha1")
BOOT_DISK_GIB = 10  # the boot disk a VM gets from its image (the seeded images' OVFs have one of 10 GiB)


def memory_mib(quantity: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    for suffix, factor in units.items():
        if str(quantity).endswith(suffix):
            return int(float(str(quantity)[: -len(suffix)]) * factor)
    return int(int(quantity) / (1024 * 1024))


def _without_none(value):
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    return value


def _desired(vm: dict) -> str:
    """What a user changes of a VirtualMachine (not status, not resourceVersion): a change of it is
    an update the real VM Operator reconciles, power state included."""
    meta = vm["metadata"]
    return json.dumps([vm.get("spec"), meta.get("labels"), meta.get("annotations"), meta.get("generation")],
                      sort_keys=True)


def _interfaces(placed, guest_ip: str | None) -> list[dict] | None:
    """status.network.interfaces: the VM's NICs as the guest reports them (none while it does not run)."""
    if not guest_ip:
        return None
    cards = [device for device in placed.config.hardware.device if isinstance(device, vim.vm.device.VirtualEthernetCard)]
    return [{"name": f"eth{index}", "deviceKey": card.key,
             "ip": {"macAddr": card.macAddress, **({"addresses": [{"address": f"{guest_ip}/16"}]} if index == 0 else {})}}
            for index, card in enumerate(cards)] or None


def _quantity(size_bytes: int) -> str:
    """A byte count as a Kubernetes quantity, in the unit VM Operator's status uses (Gi, else Mi, else Ki)."""
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size_bytes % factor == 0 and size_bytes:
            return f"{size_bytes // factor}{unit}"
    return str(size_bytes)


def _storage_status(placed) -> dict:
    """status.volumes and status.storage (v1alpha5) as VM Operator reports a VM's own (non-PVC) disks:
    a Classic volume per virtual disk (its name the disk file's, its UUID, capacity as limit) and what
    counts against the namespace's storage quota: the disks' capacity requested, the rest of the VM's
    files (configuration, logs, swap) used as ``other``, and their sum as ``total`` (v1alpha3 shows
    all three under ``usage``)."""
    disks = [device for device in placed.config.hardware.device if isinstance(device, vim.vm.device.VirtualDisk)]
    committed = int(getattr(placed.summary.storage, "committed", 0) or 0) if placed.summary.storage else 0
    volumes = []
    for disk in disks:
        file_name = disk.backing.fileName.rsplit("/", 1)[-1].removesuffix(".vmdk")
        volumes.append({"name": file_name, "type": "Classic", "attached": True,
                        "diskUUID": getattr(disk.backing, "uuid", None) or None,
                        "limit": _quantity(disk.capacityInKB * 1024)})
    capacity = sum(disk.capacityInKB * 1024 for disk in disks)
    return {"volumes": volumes or None,
            "storage": {"requested": {"disks": _quantity(capacity) if capacity else "0"},
                        "usage": {"other": _quantity(committed) if committed else "0"},
                        "total": _quantity(capacity + committed) if capacity + committed else "0"}}


def primary_ip(moref: str) -> str:
    number = int("".join(ch for ch in moref if ch.isdigit()) or 0)
    return f"10.244.{number // 250 % 250}.{number % 250 + 2}"


class VmOperator:
    def __init__(self, api_client: client.ApiClient, vsphere: Vsphere, faults: FaultBook):
        self.faults = faults
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.vsphere = vsphere
        self.queue = kube.WorkQueue()
        # what of the object power was last reconciled for: a reconcile caused only by the poller
        # or by our own status write leaves vCenter's power state alone
        self.reconciled: dict[kube.Key, str] = {}
        self.known_power: dict[str, str] = {}  # moref -> what status last said

    # --- wiring ----------------------------------------------------------------------------
    def start(self, stop: threading.Event) -> None:
        self.seed_images()
        kube.run_workers(self.queue, self.reconcile, count=4, name="vm-operator")
        threading.Thread(target=kube.watch_forever, daemon=True, name="vm-watch", args=(
            self.custom.list_cluster_custom_object, self._enqueue, stop),
            kwargs={"group": GROUP, "version": HUB, "plural": "virtualmachines"}).start()
        threading.Thread(target=self.poll_power, args=(stop,), daemon=True, name="vm-power").start()

    def _enqueue(self, obj: dict) -> None:
        self.queue.add((obj["metadata"]["namespace"], obj["metadata"]["name"]))

    def _seed_cluster_object(self, plural: str, body: dict, status: dict) -> None:
        group, version = IMAGE_REGISTRY
        body = dict(body, apiVersion=f"{group}/{version}")
        try:
            self.custom.create_cluster_custom_object(group, version, plural, body)
        except ApiException as err:
            if err.status != 409:
                raise
        status = dict(status, conditions=set_condition([], "Ready", True, "Ready"))
        self.custom.patch_cluster_custom_object_status(group, version, plural, body["metadata"]["name"],
                                                       {"status": status})

    def seed_cluster_library(self) -> None:
        """The library behind the seeded ClusterVirtualMachineImages, as the image registry shows a
        library assigned to the Supervisor: a ClusterContentLibrary and one item per image."""
        display, library_id = SEEDED_LIBRARY
        library = library_resource_name(library_id)
        self._seed_cluster_object("clustercontentlibraries", {
            "kind": "ClusterContentLibrary", "metadata": {"name": library},
            "spec": {"id": library_id, "libraryType": "ContentLibrary"}}, {"name": display, "state": "Active"})
        for name, (image, _guest_id) in SEEDED_IMAGES.items():
            self._seed_cluster_object("clustercontentlibraryitems", {
                "kind": "ClusterContentLibraryItem", "metadata": {"name": f"clitem-{name[4:]}"},
                "spec": {"id": SEEDED_ITEM_IDS[name], "libraryName": library}},
                {"name": image, "type": "OVF", "cached": True})

    def seed_images(self) -> None:
        self.seed_cluster_library()
        for name, (display, guest_id) in SEEDED_IMAGES.items():
            body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ClusterVirtualMachineImage",
                    "metadata": {"name": name, "labels": {"testbed.pacific.supervisor/guest-id": guest_id}},
                    "spec": {"providerRef": {"apiVersion": "/".join(IMAGE_REGISTRY),
                                             "kind": "ClusterContentLibraryItem", "name": f"clitem-{name[4:]}"}}}
            try:
                self.custom.create_cluster_custom_object(GROUP, VERSION, "clustervirtualmachineimages", body)
            except ApiException as err:
                if err.status != 409:
                    raise
            status = {"status": {"name": display, "type": "OVF", "providerItemID": SEEDED_ITEM_IDS[name],
                                 "conditions": set_condition([], "Ready", True, "Ready")}}
            self.custom.patch_cluster_custom_object_status(GROUP, VERSION, "clustervirtualmachineimages", name, status)

    # --- resolution ------------------------------------------------------------------------
    def _vm_class(self, namespace: str, name: str) -> dict | None:
        return kube.unless_absent(self.custom.get_namespaced_custom_object, GROUP, VERSION, namespace,
                                  "virtualmachineclasses", name)

    def _image(self, namespace: str, name: str) -> dict | None:
        candidates = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachineimages")["items"]
        candidates += self.custom.list_cluster_custom_object(GROUP, VERSION, "clustervirtualmachineimages")["items"]
        return next((image for image in candidates if name in (image["metadata"]["name"],
                                                                image.get("status", {}).get("name"))), None)

    def _resource_policy(self, namespace: str, name: str | None) -> tuple[str | None, str | None] | None:
        """(child resource pool, child folder) of the VirtualMachineSetResourcePolicy named, (None,
        None) when none is named, None when the one named does not exist."""
        if not name:
            return None, None
        policy = kube.unless_absent(self.custom.get_namespaced_custom_object, GROUP, VERSION, namespace,
                                    "virtualmachinesetresourcepolicies", name)
        if policy is None:
            return None
        spec = policy.get("spec", {})
        return (spec.get("resourcePool") or {}).get("name") or name, spec.get("folder") or name

    def _cluster_of(self, namespace: str) -> str | None:
        try:
            return (self.core.read_namespace(namespace).metadata.labels or {}).get(CLUSTER_LABEL)
        except ApiException:
            return None

    # --- reconcile -------------------------------------------------------------------------
    def _get(self, key: kube.Key) -> dict | None:
        return kube.unless_absent(self.custom.get_namespaced_custom_object, GROUP, HUB, key[0],
                                  "virtualmachines", key[1])

    def _write_status(self, vm: dict, status: dict) -> None:
        """Merge-patch status; keys set to None are removed. Nothing is sent when nothing changes."""
        namespace, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        if vm.get("status") == _without_none(status):
            return
        self.custom.patch_namespaced_custom_object_status(GROUP, HUB, namespace, "virtualmachines", name,
                                                          {"status": status})

    def reconcile(self, key: kube.Key) -> None:
        vm = self._get(key)
        if vm is None:
            self.reconciled.pop(key, None)
            return
        namespace, name = key
        meta = vm["metadata"]
        placed = self.vsphere.vm_by_moref(vm.get("status", {}).get("uniqueID", "")) if vm.get("status", {}).get(
            "uniqueID") else None

        if meta.get("deletionTimestamp"):
            if placed is not None:
                self.vsphere.destroy(placed)
                record_event(self.core, vm, "DeleteSuccess", f"deleted VM {placed._moId}")
            finalizers = [f for f in meta.get("finalizers", []) if f != FINALIZER]
            self.custom.patch_namespaced_custom_object(GROUP, HUB, namespace, "virtualmachines", name,
                                                       {"metadata": {"finalizers": finalizers or None}})
            self.reconciled.pop(key, None)
            return
        if FINALIZER not in meta.get("finalizers", []):
            self.custom.patch_namespaced_custom_object(GROUP, HUB, namespace, "virtualmachines", name, {
                "metadata": {"finalizers": [*meta.get("finalizers", []), FINALIZER],
                             "resourceVersion": meta["resourceVersion"]}})
            return  # the MODIFIED event brings us back with the finalizer in place

        spec, status = vm["spec"], dict(vm.get("status", {}))
        conditions = status.get("conditions", [])
        vm_class = self._vm_class(namespace, spec.get("className", ""))
        conditions = set_condition(conditions, "VirtualMachineClassReady", vm_class is not None,
                                   "True" if vm_class else "NotFound",
                                   "" if vm_class else f"VirtualMachineClass {spec.get('className')!r} not found "
                                   f"in namespace {namespace}")
        image = self._image(namespace, spec.get("imageName", ""))
        if image is not None and not spec.get("image") and self._fill_image(vm, image):
            return  # the MODIFIED event brings us back with spec.image
        conditions = set_condition(conditions, "VirtualMachineImageReady", image is not None,
                                   "True" if image else "NotFound",
                                   "" if image else f"VirtualMachineImage {spec.get('imageName')!r} not found")
        if placed is None and (vm_class is None or image is None):
            missing = "class" if vm_class is None else "image"
            conditions = set_condition(conditions, "VirtualMachineCreated", False, "NotCreated",
                                       f"waiting for the VM {missing}")
            if status.get("conditions") != conditions:
                record_event(self.core, vm, "CreateFailure", next(c["message"] for c in conditions
                             if c["status"] == "False" and c["type"] != "VirtualMachineCreated"), warning=True)
            self._write_status(vm, {**status, "conditions": conditions})
            return

        if placed is None and self._creation_faulted(vm, status, conditions):
            return
        if placed is None:
            policy_name = (spec.get("reserved") or {}).get("resourcePolicyName")
            policy = self._resource_policy(namespace, policy_name)
            if policy is None:  # the requeue of VMs not created yet tries again when it appears
                conditions = set_condition(conditions, "VirtualMachineCreated", False, "ResourcePolicyNotFound",
                                           f"VirtualMachineSetResourcePolicy {policy_name!r} not found in {namespace}")
                self._write_status(vm, {**status, "conditions": conditions})
                return
            pool, folder = self.vsphere.placement(namespace, self._cluster_of(namespace), *policy)
            self._ensure_zone(namespace, *self.vsphere.placement(namespace, self._cluster_of(namespace)))
            placed = self.vsphere.find_vm(folder, name, ANNOTATION)
            if placed is None:
                hardware = vm_class["spec"].get("hardware", {})
                guest_id = image["metadata"].get("labels", {}).get("testbed.pacific.supervisor/guest-id",
                                                                    "otherLinux64Guest")
                # as the real VM Operator makes it: owned by WCP, its namespaced name in extraConfig, a NIC
                placed = self.vsphere.create_vm(folder, pool, name, int(hardware.get("cpus", 1)),
                                                memory_mib(hardware.get("memory", "1Gi")), guest_id,
                                                f"{ANNOTATION}{namespace}/{name} ({meta['uid']})",
                                                extra_config={"vmservice.namespacedName": f"{namespace}/{name}"},
                                                managed_by=MANAGED_BY, nic=True, disk_gib=BOOT_DISK_GIB)
                record_event(self.core, vm, "CreateSuccess", f"created VM {placed._moId} in {namespace}")

        wanted = spec.get("powerState", "PoweredOff")
        desired = _desired(vm)
        if self.reconciled.get(key) != desired:
            self.vsphere.set_power(placed, wanted)  # against vCenter's actual state, as the real one
            self.reconciled[key] = desired
        power = POWER_FROM_VSPHERE[placed.runtime.powerState]
        conditions = set_condition(conditions, "VirtualMachineCreated", True, "True")
        # as the real VM Operator's reconcileStatusPowerState reports it
        conditions = set_condition(conditions, "VirtualMachinePowerStateSynced", power == wanted,
                                   "Synced" if power == wanted else "NotSynced",
                                   wanted if power == wanted else f"spec.powerState={wanted} != status.powerState={power}")
        status.update({
            "uniqueID": placed._moId,
            "biosUUID": placed.config.uuid,
            "instanceUUID": placed.config.instanceUuid,
            "powerState": power,
            "class": {"apiVersion": f"{GROUP}/{HUB}", "kind": "VirtualMachineClass",
                      "name": spec.get("className")},
            "conditions": conditions,
        })
        # the guest's address as VMware Tools reports it to vCenter, where the real VM Operator reads it
        wanted_ip = primary_ip(placed._moId) if power == "PoweredOn" else None
        if (placed.guest.ipAddress or None) != wanted_ip:
            self.vsphere.set_guest(placed, wanted_ip, name)
        guest_ip = placed.guest.ipAddress or None
        # the ESXi host the VM runs on, by its name in vCenter, as VM Operator's reconcileStatusNodeName
        # reports it (v1alpha3 readers see it as status.host)
        status.update({"nodeName": placed.runtime.host.name if placed.runtime.host else None,
                       "zone": f"zone-{placed.runtime.host.parent._moId}",
                       "hardwareVersion": int(placed.config.version.removeprefix("vmx-") or 0) or None,
                       **_storage_status(placed)})
        # None deletes the address in the merge patch: a VM that is not running reports none
        status["network"] = {**status.get("network", {}), "primaryIP4": guest_ip,
                             "interfaces": _interfaces(placed, guest_ip)}
        self.known_power[placed._moId] = power
        self._write_status(vm, status)

    def _ensure_zone(self, namespace: str, pool, folder) -> None:
        """The AvailabilityZone of the namespace's cluster and the namespace's Zone (called as a VM is made)."""
        cluster = pool.owner._moId
        zone = f"zone-{cluster}"
        group, version = TOPOLOGY
        placement = {"poolMoIDs": [pool._moId], "folderMoID": folder._moId}
        for create, body in (
                (lambda body: self.custom.create_cluster_custom_object(group, version, "availabilityzones", body),
                 {"apiVersion": f"{group}/{version}", "kind": "AvailabilityZone", "metadata": {"name": zone},
                  "spec": {"clusterComputeResourceMoIDs": [cluster]}}),
                (lambda body: self.custom.create_namespaced_custom_object(group, version, namespace, "zones", body),
                 {"apiVersion": f"{group}/{version}", "kind": "Zone", "metadata": {"name": zone, "namespace": namespace},
                  "spec": {"availabilityZoneReference": {"apiVersion": f"{group}/{version}", "name": zone},
                           "namespace": placement, "managedVMs": placement}})):
            try:
                create(body)
            except ApiException as err:
                if err.status != 409:
                    raise

    def _fill_image(self, vm: dict, image: dict) -> bool:
        """spec.image from spec.imageName, as VM Operator's mutating webhook sets it on create
        (ResolveImageNameOnCreate: the VirtualMachineImage or ClusterVirtualMachineImage the name
        resolves to, by object name or display name). The testbed has no webhook server, so its VM
        Operator writes it at the first reconcile. Whether it was written."""
        ref = {"kind": image["kind"], "name": image["metadata"]["name"]}
        meta = vm["metadata"]
        try:
            self.custom.patch_namespaced_custom_object(GROUP, HUB, meta["namespace"], "virtualmachines",
                                                       meta["name"], {"metadata": {"resourceVersion": meta["resourceVersion"]},
                                                                      "spec": {"image": ref}})
        except ApiException as err:
            if err.status in (404, 409):  # gone, or changed meanwhile: the next event brings us back
                return True
            raise
        return True

    def _creation_faulted(self, vm: dict, status: dict, conditions: list[dict]) -> bool:
        """Injected faults hold creation: stuck (no news at all) or failed (a Warning event)."""
        namespace, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        if self.faults.active("vm-stuck-creating", namespace, name):
            conditions = set_condition(conditions, "VirtualMachineCreated", False, "Creating",
                                       "waiting for the VM to be created in vCenter")
        elif self.faults.active("vm-create-failure", namespace, name):
            message = "CreateVM_Task failed: InsufficientResourcesFault: not enough resources in the namespace's pool"
            previous = next((c for c in conditions if c["type"] == "VirtualMachineCreated"), {})
            conditions = set_condition(conditions, "VirtualMachineCreated", False, "CreateFailed", message)
            if previous.get("reason") != "CreateFailed":
                record_event(self.core, vm, "CreateFailure", message, warning=True)
        else:
            return False
        self._write_status(vm, {**status, "conditions": conditions})
        return True

    # --- vCenter -> status -----------------------------------------------------------------
    def poll_power(self, stop: threading.Event) -> None:
        """Notice power changes made in vCenter and requeue their VirtualMachines; every few
        seconds also requeue VMs not created yet, so an undone fault lets them proceed."""
        rounds = 0
        while not stop.wait(0.5):
            rounds += 1
            try:
                self._poll_once(requeue_uncreated=rounds % 4 == 0)
            except Exception as err:  # vcsim or the apiserver restarting
                log.warning("power poll failed: %s", err)

    def _poll_once(self, requeue_uncreated: bool) -> None:
        states = self.vsphere.power_states()
        drifted = {moref for moref, power in states.items()
                   if moref in self.known_power and self.known_power[moref] != power}
        if not drifted and not requeue_uncreated:
            return
        for vm in self.custom.list_cluster_custom_object(GROUP, HUB, "virtualmachines")["items"]:
            unique_id = vm.get("status", {}).get("uniqueID")
            if unique_id in drifted or (requeue_uncreated and not unique_id):
                self._enqueue(vm)
