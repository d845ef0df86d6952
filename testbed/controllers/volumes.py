"""A CNS-like volume provisioner: a claim of a namespace's storage class gets a CNS block volume.

As the vSphere CSI driver's provisioner does on a Supervisor: a PersistentVolumeClaim whose
StorageClass has the provisioner ``csi.vsphere.vmware.com`` and is one the namespace may use (WCP
makes a class for every storage policy of a namespace; where the namespace's ResourceQuota limits
storage classes, the class must be among them) gets a
PersistentVolume of the claim's size, pre-bound to the claim (``claimRef``), with a CSI source of
that driver and a volume handle of its own; kube-controller-manager's binder then binds the two.
A claim of a class the namespace has no access to stays Pending with a Warning Event. When a claim
goes, its volume (reclaim policy Delete) goes too, as CNS deletes the disk.
"""
from __future__ import annotations

import threading
import uuid

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.controllers import kube
from testbed.controllers.conditions import record_event

DRIVER = "csi.vsphere.vmware.com"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
COMPONENT = "csi.vsphere.vmware.com_vsphere-csi-controller"


def quota_key(storage_class: str) -> str:
    return f"{storage_class}.storageclass.storage.k8s.io/requests.storage"


def volume_for(claim: dict, storage_class: dict) -> dict:
    """The PersistentVolume the provisioner makes for ``claim``."""
    meta, spec = claim["metadata"], claim["spec"]
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{meta['uid']}", "annotations": {PROVISIONED_BY: DRIVER},
                     "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {"capacity": {"storage": spec["resources"]["requests"]["storage"]},
                 "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
                 "storageClassName": storage_class["metadata"]["name"],
                 "volumeMode": spec.get("volumeMode") or "Filesystem",
                 "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                              "name": meta["name"], "uid": meta["uid"]},
                 "csi": {"driver": DRIVER, "fsType": "ext4", "volumeHandle": str(uuid.uuid4()),
                         "volumeAttributes": {"type": "vSphere CNS Block Volume",
                                              "storage.kubernetes.io/csiProvisionerIdentity": "testbed-csi"}}},
    }


class VolumeProvisioner:
    def __init__(self, api_client: client.ApiClient):
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.storage = client.StorageV1Api(api_client)
        self.queue = kube.WorkQueue()

    def start(self, stop: threading.Event) -> None:
        kube.run_workers(self.queue, self.reconcile, count=2, name="volume-provisioner")
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-claims", args=(
            self.core.list_persistent_volume_claim_for_all_namespaces, self._enqueue, stop)).start()
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-volumes", args=(
            self.core.list_persistent_volume, self._volume_changed, stop)).start()

    def _enqueue(self, claim) -> None:
        self.queue.add((claim.metadata.namespace, claim.metadata.name))

    def _volume_changed(self, volume) -> None:
        ref = volume.spec.claim_ref
        if ref is not None and (volume.metadata.annotations or {}).get(PROVISIONED_BY) == DRIVER:
            self.queue.add((ref.namespace, ref.name))
            if volume.status and volume.status.phase == "Released":
                self.queue.add(("", volume.metadata.name))

    def _json(self, obj) -> dict:
        return self.api_client.sanitize_for_serialization(obj)

    def reconcile(self, key: kube.Key) -> None:
        namespace, name = key
        if not namespace:
            self._release(name)
            return
        found = kube.unless_absent(self.core.read_namespaced_persistent_volume_claim, name, namespace)
        if found is None or found.metadata.deletion_timestamp or found.spec.volume_name:
            return
        claim = self._json(found)
        claim.update(apiVersion="v1", kind="PersistentVolumeClaim")
        class_name = found.spec.storage_class_name
        if not class_name:
            return  # a Supervisor has no default class: the claim waits for one to be named
        storage_class = kube.unless_absent(self.storage.read_storage_class, class_name)
        if storage_class is None or storage_class.provisioner != DRIVER:
            return
        quotas = self.core.list_namespaced_resource_quota(namespace).items
        named = set(key for q in quotas for key in ((q.spec.hard if q.spec else None) or {})
                    if key.endswith(".storageclass.storage.k8s.io/requests.storage"))
        if named and quota_key(class_name) not in named:
            record_event(self.core, claim, "ProvisioningFailed",
                         f"failed to provision volume with StorageClass \"{class_name}\": the storage policy of this "
                         f"class is not assigned to namespace {namespace}", warning=True, component=COMPONENT)
            return
        body = volume_for(claim, self._json(storage_class))
        try:
            self.core.create_persistent_volume(body)
        except ApiException as err:
            if err.status != 409:
                raise
            return
        record_event(self.core, claim, "ProvisioningSucceeded",
                     f"Successfully provisioned volume {body['metadata']['name']}", component=COMPONENT)

    def _release(self, volume_name: str) -> None:
        volume = kube.unless_absent(self.core.read_persistent_volume, volume_name)
        if volume is None or volume.status.phase != "Released" or volume.spec.persistent_volume_reclaim_policy != "Delete":
            return
        try:
            self.core.delete_persistent_volume(volume_name)
        except ApiException as err:
            if err.status != 404:
                raise
