"""What vm_image_info and storage_class_info make of what a namespace's user reads: images with the
content libraries behind them (either image registry version), storage classes from the quota."""
from __future__ import annotations

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import image_catalog, storage_classes

READY = {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": ""}]}


def _image(kind, object_name, namespace, provider_kind, provider_name, **status):
    metadata = {"name": object_name} if namespace is None else {"name": object_name, "namespace": namespace}
    return {"kind": kind, "metadata": metadata,
            "spec": {"providerRef": {"apiVersion": "imageregistry.vmware.com/v1alpha2", "kind": provider_kind,
                                     "name": provider_name}},
            "status": dict(READY, **status)}


def _catalog():
    catalog = image_catalog.Catalog()
    catalog.images = [
        _image("VirtualMachineImage", "vmi-1", "team-a", "ContentLibraryItem", "clitem-1", name="ubuntu-22.04",
               type="OVF", osInfo={"id": "ubuntu64Guest", "type": "Linux", "version": "22.04"}, firmware="efi",
               hardwareVersion=19, providerItemID="item-uuid-1"),
        _image("ClusterVirtualMachineImage", "vmi-2", None, "ClusterContentLibraryItem", "clitem-2", name="photon-5"),
        _image("VirtualMachineImage", "vmi-3", "team-a", "ContentLibraryItem", "clitem-gone", name="orphan"),
    ]
    catalog.items = {
        # v1alpha2 names the library in spec, v1alpha1 in status
        ("ContentLibraryItem", "team-a", "clitem-1"): {"spec": {"id": "item-uuid-1", "libraryName": "cl-1"}},
        ("ClusterContentLibraryItem", None, "clitem-2"): {"spec": {"uuid": "item-uuid-2"},
                                                          "status": {"contentLibraryRef": {"name": "cl-2"}}},
    }
    catalog.libraries = {
        ("ContentLibrary", "team-a", "cl-1"): {"kind": "ContentLibrary",
                                               "metadata": {"name": "cl-1", "namespace": "team-a"},
                                               "spec": {"id": "lib-uuid-1"}, "status": dict(READY, name="ubuntu")},
        ("ClusterContentLibrary", None, "cl-2"): {"kind": "ClusterContentLibrary", "metadata": {"name": "cl-2"},
                                                  "spec": {"uuid": "lib-uuid-2"},
                                                  "status": {"name": "vmware-images", "type": "Subscribed"}},
    }
    return catalog


def test_an_image_names_the_library_behind_it_through_its_item():
    catalog = _catalog()
    shown = image_catalog.summarize_image(catalog.images[0], catalog.library_of(catalog.images[0]))
    assert shown["name"] == "vmi-1" and shown["display_name"] == "ubuntu-22.04" and shown["ready"]
    assert shown["os"] == {"id": "ubuntu64Guest", "type": "Linux", "version": "22.04"}
    assert shown["hardware_version"] == 19 and shown["provider_item_id"] == "item-uuid-1"
    assert shown["content_library"] == {"name": "ubuntu", "id": "lib-uuid-1", "resource_name": "cl-1",
                                        "kind": "ContentLibrary"}


def test_a_cluster_image_reads_a_v1alpha1_item_and_a_subscribed_cluster_library():
    catalog = _catalog()
    library = catalog.library_of(catalog.images[1])
    assert library == {"name": "vmware-images", "id": "lib-uuid-2", "resource_name": "cl-2",
                       "kind": "ClusterContentLibrary", "namespace": None, "type": "SUBSCRIBED", "ready": False}


def test_an_image_whose_item_is_not_there_has_no_library():
    catalog = _catalog()
    assert catalog.library_of(catalog.images[2]) is None
    assert image_catalog.summarize_image(catalog.images[2])["content_library"] is None


def test_storage_classes_come_from_the_quota_and_no_limit_is_null():
    quotas = [{"metadata": {"name": "wcp-resource-quota"},
               "spec": {"hard": {"limits.cpu": "4",
                                 "gold.storageclass.storage.k8s.io/requests.storage": "5000Mi",
                                 "silver.storageclass.storage.k8s.io/requests.storage": str(2 ** 63 - 1)}},
               "status": {"used": {"gold.storageclass.storage.k8s.io/requests.storage": "1Gi"}}}]
    limits = storage_classes.limits_in(quotas)
    assert sorted(limits) == ["gold", "silver"]
    gold = storage_classes.summarize("gold", "team-a", limits["gold"], {
        "provisioner": "csi.vsphere.vmware.com", "parameters": {"storagePolicyID": "p-1"}, "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate", "allowVolumeExpansion": True, "metadata": {"name": "gold"}})
    assert (gold["limit"], gold["limit_mib"], gold["used"], gold["used_mib"]) == ("5000Mi", 5000, "1Gi", 1024)
    assert gold["storage_policy_id"] == "p-1" and gold["default"] is False
    silver = storage_classes.summarize("silver", "team-a", limits["silver"], None)
    assert silver["limit"] is None and silver["limit_mib"] is None and silver["provisioner"] is None


def test_quantities_in_bytes():
    assert storage_classes.quantity_bytes("5000Mi") == 5000 * 2 ** 20
    assert storage_classes.quantity_bytes("10G") == 10 ** 10
    assert storage_classes.quantity_bytes("1.5Gi") == 3 * 2 ** 29
    assert storage_classes.quantity_bytes("9223372036854775807") == 2 ** 63 - 1
    assert storage_classes.quantity_bytes("bogus") is None and storage_classes.quantity_bytes(None) is None
