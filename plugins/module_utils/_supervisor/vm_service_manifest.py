# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""VirtualMachineService (vmoperator.vmware.com/v1alpha3) manifests from module options, and the
summary the ``vm_service`` module returns of one.

A VirtualMachineService is to VMs what a Service is to pods: the VM Operator makes a Service
and Endpoints of the VMs its selector picks, and a LoadBalancer one gets an external address
(status.loadBalancer.ingress) from NSX or the load balancer of the Supervisor.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors, validate
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name, metadata as object_metadata

VIRTUAL_MACHINE_SERVICE = kinds.known(kinds.VMOP, "VirtualMachineService")
TYPES = ("LoadBalancer", "ClusterIP")
PROTOCOLS = ("TCP", "UDP", "SCTP")


def _port_number(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise errors.InvalidArgument("{0} must be between 1 and 65535, not {1!r}".format(what, value))
    return value


def _ports(ports):
    built, names = [], set()
    for port in ports or []:
        number = _port_number(port.get("port"), "port")
        name = check_name(port.get("name") or "port-{0}".format(number), "port name", label=True)
        if name in names:
            raise errors.InvalidArgument("port name {0!r} is used twice".format(name))
        names.add(name)
        protocol = port.get("protocol") or "TCP"
        if protocol not in PROTOCOLS:
            raise errors.InvalidArgument("protocol must be one of {0}, not {1!r}".format(", ".join(PROTOCOLS), protocol))
        target = port.get("target_port")
        built.append({"name": name, "port": number, "protocol": protocol,
                      "targetPort": _port_number(target, "target_port") if target is not None else number})
    return built


def build(params):
    """The VirtualMachineService manifest of the ``vm_service`` module's options."""
    name = check_name(params.get("name"), "VM service name", label=True)
    namespace = check_name(params.get("namespace"), "namespace", label=True)
    metadata = object_metadata(name, namespace, params.get("labels"), params.get("annotations"))
    manifest = {"apiVersion": kinds.VMOP, "kind": "VirtualMachineService", "metadata": metadata}
    if params.get("state", "present") == "absent":
        return manifest
    service_type = params.get("type") or "ClusterIP"
    if service_type not in TYPES:
        raise errors.InvalidArgument("type must be one of {0}, not {1!r}".format(", ".join(TYPES), service_type))
    if not params.get("ports"):
        raise errors.InvalidArgument("a VM service needs at least one port")
    if not params.get("selector"):
        raise errors.InvalidArgument("a VM service needs a selector (the labels of the VMs it serves)")
    spec = {"type": service_type, "ports": _ports(params["ports"]),
            "selector": dict((str(k), str(v)) for k, v in params["selector"].items())}
    if params.get("load_balancer_ip"):
        if service_type != "LoadBalancer":
            raise errors.InvalidArgument("load_balancer_ip needs type LoadBalancer")
        spec["loadBalancerIP"] = validate.ip_address(params["load_balancer_ip"], "load_balancer_ip")
    if params.get("load_balancer_source_ranges"):
        if service_type != "LoadBalancer":
            raise errors.InvalidArgument("load_balancer_source_ranges needs type LoadBalancer")
        spec["loadBalancerSourceRanges"] = [validate.cidr(source, "load_balancer_source_ranges entry")
                                            for source in params["load_balancer_source_ranges"]]
    manifest["spec"] = spec
    return manifest


def summarize(obj):
    """What the module returns of one VirtualMachineService; the whole object under ``resource``."""
    if obj is None:
        return None
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    ingress = ((status.get("loadBalancer") or {}).get("ingress")) or []
    verdict = kinds.virtual_machine_service(obj)
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "type": spec.get("type"),
        "selector": spec.get("selector") or {},
        "ports": spec.get("ports") or [],
        "address": (ingress[0].get("ip") or ingress[0].get("hostname")) if ingress else None,
        "ready": verdict.state == kinds.READY,
        "state_message": verdict.message,
        "resource": obj,
    }
