# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VirtualMachine (vmoperator.vmware.com/v1alpha3) manifests from module options, and the
summary the modules return of one. Shared by ``vm``, ``vm_info`` and ``vm_cluster``.

Inline bootstrap data (cloud-init user data, a sysprep answer file) goes into a Secret of the
VM's own, ``<vm>-bootstrap``, that the VM's ``rawCloudConfig``/``rawSysprep`` names; data in an
existing Secret is named directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors, validate
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name, metadata as object_metadata

API_VERSION = kinds.VMOP
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "pacific.supervisor"
BOOTSTRAP_SUFFIX = "-bootstrap"
BOOTSTRAP_KEYS = {"cloud_init": "user-data", "sysprep": "unattend"}

# module option -> VirtualMachine spec field, for the scalar ones
SPEC_FIELDS = (
    ("class_name", "className"),
    ("image_name", "imageName"),
    ("storage_class", "storageClass"),
    ("power_state", "powerState"),
    ("power_off_mode", "powerOffMode"),
    ("suspend_mode", "suspendMode"),
    ("min_hardware_version", "minHardwareVersion"),
)
INTERFACE_FIELDS = (
    ("addresses", "addresses"),
    ("gateway4", "gateway4"),
    ("gateway6", "gateway6"),
    ("dhcp4", "dhcp4"),
    ("dhcp6", "dhcp6"),
    ("mtu", "mtu"),
    ("nameservers", "nameservers"),
    ("search_domains", "searchDomains"),
)

# options vm and vm_cluster share, documented once in doc_fragments/vm_spec.py
VM_SPEC_ARGUMENT_SPEC = dict(
    network_interfaces=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        network=dict(type="str"),
        network_kind=dict(type="str"),
        network_api_version=dict(type="str"),
        addresses=dict(type="list", elements="str"),
        gateway4=dict(type="str"),
        gateway6=dict(type="str"),
        dhcp4=dict(type="bool"),
        dhcp6=dict(type="bool"),
        mtu=dict(type="int"),
        nameservers=dict(type="list", elements="str"),
        search_domains=dict(type="list", elements="str"),
    )),
    bootstrap=dict(type="dict", options=dict(
        cloud_init=dict(type="dict", options=dict(
            user_data=dict(type="str", no_log=True),
            secret_name=dict(type="str"),
            secret_key=dict(type="str", default="user-data", no_log=False),
            ssh_authorized_keys=dict(type="list", elements="str", no_log=False),
            instance_id=dict(type="str"),
        ), mutually_exclusive=[("user_data", "secret_name")]),
        sysprep=dict(type="dict", options=dict(
            unattend=dict(type="str", no_log=True),
            secret_name=dict(type="str"),
            secret_key=dict(type="str", default="unattend", no_log=False),
        ), mutually_exclusive=[("unattend", "secret_name")]),
    ), mutually_exclusive=[("cloud_init", "sysprep")]),
    volumes=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        claim_name=dict(type="str", required=True),
        read_only=dict(type="bool"),
    )),
)


# Asks the VM Operator to reconcile the VM again. The VM Operator reconciles a VirtualMachine on
# every update of the object and then brings vCenter's actual power state to spec.powerState
# (vm-operator: controllers/virtualmachine/virtualmachine watches every VirtualMachine event;
# pkg/providers/vsphere/vmprovider_vm.go reconcilePowerState compares the spec with the VM's
# runtime power state); a VM powered off in vCenter while its spec says PoweredOn needs one.
POWER_REQUEST_ANNOTATION = "pacific.supervisor/power-state-requested-at"
POWER_SYNCED = "VirtualMachinePowerStateSynced"


def power_drifted(before, wanted):
    """Whether the VM's spec asks for ``wanted`` already, but vCenter has it in another power
    state that the VM Operator has seen and reported (powered off or on out of band): applying
    the same spec again would change nothing and so not make the VM Operator act."""
    if before is None or wanted is None:
        return False
    metadata, spec, status = before.get("metadata") or {}, before.get("spec") or {}, before.get("status") or {}
    if metadata.get("deletionTimestamp") or spec.get("powerState") != wanted or not status.get("uniqueID"):
        return False
    if kinds.stale(before) or not status.get("powerState") or status["powerState"] == wanted:
        return False
    # a VM Operator that reports whether power is in sync says so; one that does not is taken at
    # its status (right after a spec change that status may lag, and the request is harmless)
    synced = next((c for c in status.get("conditions") or [] if c.get("type") == POWER_SYNCED), None)
    return synced is None or synced.get("status") != "True"


def converge_power(manifest, before, wanted, clock=None):
    """``manifest`` with the annotation that makes the VM Operator reconcile the power state now,
    when it drifted (``power_drifted``); else with the annotation an earlier run set kept as it is
    (a manifest that sets annotations at all replaces the map we own, which would drop it)."""
    annotations = manifest["metadata"].get("annotations")
    if power_drifted(before, wanted):
        moment = clock() if clock else datetime.datetime.now(datetime.timezone.utc)
        manifest["metadata"].setdefault("annotations", {})[POWER_REQUEST_ANNOTATION] = moment.strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        return manifest
    earlier = (((before or {}).get("metadata") or {}).get("annotations") or {}).get(POWER_REQUEST_ANNOTATION)
    if earlier and annotations is not None:
        annotations.setdefault(POWER_REQUEST_ANNOTATION, earlier)
    return manifest


def bootstrap_secret_name(vm_name):
    return vm_name + BOOTSTRAP_SUFFIX


def check_interface_addresses(interface):
    """Refuse what the VM Operator's admission refuses of an interface's addressing (its
    documented rules): addresses with their prefix length, gateways of the right family that
    have an address of that family (or "None"), DHCP of a family without static addresses or
    gateway of it, nameservers that are IP addresses."""
    name = interface.get("name")
    families = set()
    for address in interface.get("addresses") or []:
        families.add(validate.ip_with_prefix(address, "network interface {0}: address".format(name)).version)
    for version, dhcp in ((4, "dhcp4"), (6, "dhcp6")):
        gateway = interface.get("gateway{0}".format(version))
        what = "network interface {0}: gateway{1}".format(name, version)
        if gateway and gateway != "None":
            validate.ip_address(gateway, what, version=version)
            if version not in families:
                raise errors.InvalidArgument("{0} {1!r} needs an IPv{2} address in addresses".format(
                    what, gateway, version))
        if interface.get(dhcp):
            if version in families:
                raise errors.InvalidArgument("network interface {0}: {1} cannot go with IPv{2} addresses".format(
                    name, dhcp, version))
            if gateway:
                raise errors.InvalidArgument("network interface {0}: {1} cannot go with gateway{2}".format(
                    name, dhcp, version))
    for nameserver in interface.get("nameservers") or []:
        validate.ip_address(nameserver, "network interface {0}: nameserver".format(name))
    validate.in_range(interface.get("mtu"), "network interface {0}: mtu".format(name), minimum=68, maximum=65535)


def _interfaces(interfaces):
    built = []
    for interface in interfaces or []:
        entry = {"name": check_name(interface.get("name"), "network interface name", label=True)}
        check_interface_addresses(interface)
        if interface.get("network"):
            network = {"name": interface["network"]}
            if interface.get("network_kind"):
                network["kind"] = interface["network_kind"]
            if interface.get("network_api_version"):
                network["apiVersion"] = interface["network_api_version"]
            entry["network"] = network
        for option, field in INTERFACE_FIELDS:
            if interface.get(option) is not None:
                entry[field] = interface[option]
        built.append(entry)
    return built


def _bootstrap(name, namespace, bootstrap, secret_name=None, secret_labels=None):
    """(spec.bootstrap, Secret manifest or None) from the ``bootstrap`` option. Inline data goes
    into ``secret_name`` (``<name>-bootstrap`` when not given), labelled ``secret_labels``
    (by default as the bootstrap Secret of VM ``name``)."""
    if not bootstrap:
        return None, None
    provided = [key for key in ("cloud_init", "sysprep") if bootstrap.get(key)]
    if len(provided) > 1:
        raise errors.InvalidArgument("bootstrap takes one of cloud_init and sysprep, not both")
    if not provided:
        return None, None
    provider = provided[0]
    options = bootstrap[provider]
    inline = options.get("user_data") if provider == "cloud_init" else options.get("unattend")
    if inline and options.get("secret_name"):
        raise errors.InvalidArgument("bootstrap.{0}: give inline data or secret_name, not both".format(provider))
    secret = None
    if inline:
        secret_name, key = secret_name or bootstrap_secret_name(name), BOOTSTRAP_KEYS[provider]
        secret = {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": object_metadata(secret_name, namespace,
                                        secret_labels or {MANAGED_BY: MANAGER, "vmoperator.vmware.com/vm": name}),
            "data": {key: base64.b64encode(inline.encode("utf-8")).decode("ascii")},
        }
    elif options.get("secret_name"):
        secret_name, key = options["secret_name"], options.get("secret_key") or BOOTSTRAP_KEYS[provider]
    else:
        secret_name = None
    spec = {}
    if provider == "cloud_init":
        if secret_name:
            spec["rawCloudConfig"] = {"name": secret_name, "key": key}
        if options.get("ssh_authorized_keys"):
            spec["sshAuthorizedKeys"] = list(options["ssh_authorized_keys"])
        if options.get("instance_id"):
            spec["instanceID"] = options["instance_id"]
        return {"cloudInit": spec}, secret
    if secret_name:
        spec["rawSysprep"] = {"name": secret_name, "key": key}
    return {"sysprep": spec}, secret


def build(params):
    """``(vm_manifest, bootstrap_secret_or_None)`` from the ``vm`` module's options. Only
    options that are set appear, so server-side apply leaves other fields to their owners.
    ``bootstrap_secret_name``/``bootstrap_secret_labels`` (not options) let VMs share one Secret."""
    name = check_name(params["name"], "VM name", label=True)
    namespace = check_name(params["namespace"], "namespace", label=True)
    metadata = object_metadata(name, namespace, params.get("labels"), params.get("annotations"))
    spec = {}
    for option, field in SPEC_FIELDS:
        if params.get(option) is not None:
            spec[field] = params[option]
    network = {}
    if params.get("hostname"):
        network["hostName"] = params["hostname"]
    if params.get("network_interfaces"):
        network["interfaces"] = _interfaces(params["network_interfaces"])
    if network:
        spec["network"] = network
    if params.get("volumes"):
        spec["volumes"] = [
            {"name": check_name(volume.get("name"), "volume name", label=True),
             "persistentVolumeClaim": dict([("claimName", volume["claim_name"])] +
                                           ([("readOnly", volume["read_only"])]
                                            if volume.get("read_only") is not None else []))}
            for volume in params["volumes"]]
    if params.get("resource_policy_name"):
        spec["reserved"] = {"resourcePolicyName": params["resource_policy_name"]}
    bootstrap, secret = _bootstrap(name, namespace, params.get("bootstrap"), params.get("bootstrap_secret_name"),
                                   params.get("bootstrap_secret_labels"))
    if bootstrap:
        spec["bootstrap"] = bootstrap
    manifest = {"apiVersion": API_VERSION, "kind": "VirtualMachine", "metadata": metadata, "spec": spec}
    return manifest, secret


def summarize(obj):
    """What the modules return of one VirtualMachine: the facts most playbooks need, flat, and
    the whole object under ``resource``. None stays None."""
    if obj is None:
        return None
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    network = status.get("network") or {}
    verdict = kinds.virtual_machine(obj)
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "labels": metadata.get("labels") or {},
        "class_name": spec.get("className"),
        "image_name": spec.get("imageName"),
        "storage_class": spec.get("storageClass"),
        "power_state": status.get("powerState"),
        "desired_power_state": spec.get("powerState"),
        "ip": network.get("primaryIP4"),
        "ip6": network.get("primaryIP6"),
        "moref": status.get("uniqueID"),
        "bios_uuid": status.get("biosUUID"),
        "instance_uuid": status.get("instanceUUID"),
        "host": status.get("host"),
        "conditions": status.get("conditions") or [],
        "ready": verdict.state == kinds.READY,
        "state_message": verdict.message,
        "resource": obj,
    }


VIRTUAL_MACHINE = kinds.VIRTUAL_MACHINE
SECRET = kinds.SECRET


def owned_bootstrap_secret(secret, vm_name):
    """Whether ``secret`` is the bootstrap Secret this collection made for ``vm_name``."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY) == MANAGER and labels.get("vmoperator.vmware.com/vm") == vm_name
