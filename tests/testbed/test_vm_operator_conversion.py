"""VM Operator's CRD conversion webhook: a VirtualMachine reads alike at v1alpha3 and at the stored v1alpha5,
fields renamed between them included, as a Supervisor running VM Operator's webhook shows it."""
from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from pyVmomi import vim

from testbed import processes, report
from tests.testbed.conftest import GROUP, NAMESPACE, VERSION, _until, _vm

pytestmark = pytest.mark.testbed

HUB = "v1alpha5"
CONVERSION_ANNOTATION = "vmoperator.vmware.com/conversion"  # where VM Operator keeps hub-only fields on the way down
CDROM = {"name": "cd0", "image": {"kind": "VirtualMachineImage", "name": "vmi-0a1b2c3d4e5f60002"},
         "connected": True, "allowGuestControl": True}


def _read(objects, version: str, name: str) -> dict:
    return objects.get_namespaced_custom_object(GROUP, version, NAMESPACE, "virtualmachines", name)


def _running(objects, name: str) -> dict:
    return _until(lambda: (lambda o: o if (o.get("status", {}).get("network") or {}).get("primaryIP4") else None)(
        _read(objects, VERSION, name)), 30, f"{name} PoweredOn with an IPv4")


def test_the_vm_esxi_host_is_status_host_at_v1alpha3_and_node_name_at_v1alpha5(namespace, admin_client, vcenter_si):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("conv-host"))
    old = _running(objects, "conv-host")
    real = vim.VirtualMachine(old["status"]["uniqueID"], vcenter_si._stub)
    host = real.runtime.host.name  # the host's name in vCenter, as VM Operator reports it
    assert host and old["status"]["host"] == host
    hub = _read(objects, HUB, "conv-host")
    assert hub["status"]["nodeName"] == host and "host" not in hub["status"]
    # v1alpha5's storage status (requested disks, used other, total) reads as v1alpha3's usage
    assert old["status"]["storage"]["usage"] == {"disks": hub["status"]["storage"]["requested"]["disks"],
                                                 "other": hub["status"]["storage"]["usage"]["other"],
                                                 "total": hub["status"]["storage"]["total"]}
    assert old["status"]["storage"]["usage"]["disks"] == "10Gi"
    # the NIC's MAC address as the guest reports it, under ip in both
    card = next(d for d in real.config.hardware.device if isinstance(d, vim.vm.device.VirtualEthernetCard))
    for vm in (old, hub):
        assert vm["status"]["network"]["interfaces"][0]["ip"]["macAddr"] == card.macAddress
    assert hub["status"]["class"]["apiVersion"] == f"{GROUP}/{HUB}"
    assert CONVERSION_ANNOTATION in old["metadata"]["annotations"]  # a down-converted object carries the hub's fields
    assert CONVERSION_ANNOTATION not in (hub["metadata"].get("annotations") or {})


def test_a_spec_field_renamed_between_versions_survives_the_round_trip(namespace, admin_client):
    """v1alpha3's spec.cdrom is v1alpha5's spec.hardware.cdrom; a field only v1alpha5 has survives an
    update made at v1alpha3 (VM Operator keeps it in its conversion annotation)."""
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines",
                                            _vm("conv-cdrom", powerState="PoweredOff", cdrom=[CDROM]))
    hub = _read(objects, HUB, "conv-cdrom")
    assert hub["spec"]["hardware"]["cdrom"] == [CDROM] and "cdrom" not in hub["spec"]

    # changed at v1alpha5, read at v1alpha3
    objects.patch_namespaced_custom_object(GROUP, HUB, namespace, "virtualmachines", "conv-cdrom", {
        "spec": {"hardware": {"cdrom": [{**CDROM, "connected": False}]}, "promoteDisksMode": "Disabled"}})
    old = _read(objects, VERSION, "conv-cdrom")
    assert old["spec"]["cdrom"] == [{**CDROM, "connected": False}]
    assert "promoteDisksMode" not in old["spec"] and "hardware" not in old["spec"]

    # changed at v1alpha3 (a read-modify-write, as a client of that version does: again on a conflict with
    # the VM Operator's own writes), read at v1alpha5
    for _ in range(20):
        old = _read(objects, VERSION, "conv-cdrom")
        old["spec"]["cdrom"][0]["connected"] = True
        old["spec"]["powerState"] = "PoweredOn"
        try:
            objects.replace_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", "conv-cdrom", old)
            break
        except ApiException as err:
            if err.status != 409:
                raise
    else:
        pytest.fail("conv-cdrom: 20 conflicts in a row")
    hub = _read(objects, HUB, "conv-cdrom")
    assert hub["spec"]["hardware"]["cdrom"] == [CDROM]
    assert hub["spec"]["promoteDisksMode"] == "Disabled"  # v1alpha5 only: not lost by the v1alpha3 write
    assert hub["spec"]["powerState"] == "PoweredOn"
    assert CONVERSION_ANNOTATION not in (hub["metadata"].get("annotations") or {})  # consumed on the way up


def test_the_webhook_down_shows_in_status_and_up_starts_it_again(testbed, namespace, admin_client):
    objects = client.CustomObjectsApi(admin_client)
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", _vm("conv-down"))
    assert testbed.stop("vmop-webhook")
    try:
        assert dict(report.rows(testbed))["vmop-webhook"] == "stopped"
        with pytest.raises(ApiException) as raised:  # no conversion, no v1alpha3
            _read(objects, VERSION, "conv-down")
        assert raised.value.status == 500 and "conversion webhook" in raised.value.body
        assert _read(objects, HUB, "conv-down")["metadata"]["name"] == "conv-down"  # the stored version needs none
    finally:
        testbed.up()
    assert processes.running_pid(testbed.layout, "vmop-webhook") and testbed.is_ready("vmop-webhook")
    assert _read(objects, VERSION, "conv-down")["metadata"]["name"] == "conv-down"
