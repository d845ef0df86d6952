"""Checks of vSphere Namespace and VM class specs, each failing with one INVALID_ARGUMENT."""
from __future__ import annotations

import re

from testbed.wcp.errors import ApiError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ROLES = {"OWNER", "EDIT", "VIEW"}
SUBJECT_TYPES = {"USER", "GROUP"}
# resource_spec keys a Supervisor understands, all non-negative integers (MHz, MiB or counts)
RESOURCE_KEYS = {
    "cpu_limit", "cpu_limit_default", "cpu_request_default",
    "memory_limit", "memory_limit_default", "memory_request_default",
    "storage_request_limit", "pod_count", "service_count", "deployment_count",
    "daemon_set_count", "replica_set_count", "stateful_set_count", "config_map_count",
    "secret_count", "persistent_volume_claim_count", "job_count",
}
# Namespaces.CreateSpec as VMware's API reference documents it (creator and content_libraries included)
NAMESPACE_KEYS = {"cluster", "namespace", "description", "access_list", "storage_specs", "resource_spec",
                  "vm_service_spec", "networks", "creator", "content_libraries"}
# VirtualMachineClasses.CreateSpec / UpdateSpec; govmomi's UpdateSpec also sends the class's id
VM_CLASS_KEYS = {"id", "cpu_count", "memory_mb", "memory_MB", "cpu_reservation", "memory_reservation",
                 "description", "devices", "config_spec"}


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def dns_label(value, what: str) -> str:
    if not isinstance(value, str) or len(value) > 63 or not DNS_LABEL.match(value):
        raise invalid(f"{what} {value!r} is not a valid name: lower-case letters, digits and '-', at most 63")
    return value


def _non_negative_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _unknown(spec: dict, allowed: set[str], what: str) -> None:
    extra = sorted(set(spec) - allowed)
    if extra:
        raise invalid(f"{what} has unknown fields: {', '.join(extra)}")


def access_list(entries) -> list[dict]:
    if not isinstance(entries, list):
        raise invalid("access_list must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise invalid("each access_list entry must be an object")
        if entry.get("role") not in ROLES:
            raise invalid(f"access_list role {entry.get('role')!r} is not one of {', '.join(sorted(ROLES))}")
        if entry.get("subject_type") not in SUBJECT_TYPES:
            raise invalid(f"access_list subject_type {entry.get('subject_type')!r} is not USER or GROUP")
        if not entry.get("subject") or not entry.get("domain"):
            raise invalid("access_list entries need a subject and a domain")
    return entries


def storage_specs(entries) -> list[dict]:
    if not isinstance(entries, list):
        raise invalid("storage_specs must be a list")
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("policy"):
            raise invalid("each storage_specs entry needs a policy")
        if "limit" in entry and entry["limit"] is not None:
            _non_negative_int(entry["limit"], f"storage_specs limit of policy {entry['policy']}")
    return entries


def resource_spec(spec) -> dict:
    if not isinstance(spec, dict):
        raise invalid("resource_spec must be an object")
    _unknown(spec, RESOURCE_KEYS, "resource_spec")
    for key, value in spec.items():
        if value is not None:
            _non_negative_int(value, f"resource_spec.{key}")
    return spec


def vm_service_spec(spec, known_classes: set[str]) -> dict:
    if not isinstance(spec, dict):
        raise invalid("vm_service_spec must be an object")
    _unknown(spec, {"vm_classes", "content_libraries"}, "vm_service_spec")
    # an optional list given as null is an absent one, as vCenter reads it (govc sends null)
    spec = {key: value for key, value in spec.items() if value is not None}
    unknown = sorted(set(spec.get("vm_classes", [])) - known_classes)
    if unknown:
        raise invalid(f"vm_service_spec names unknown VM classes: {', '.join(unknown)}")
    return spec


def namespace_fields(spec: dict, known_classes: set[str], creating: bool) -> dict:
    """Validate a CreateSpec (creating) or an UpdateSpec/SetSpec; return only the stored fields."""
    if not isinstance(spec, dict):
        raise invalid("the request body must be a JSON object")
    _unknown(spec, NAMESPACE_KEYS if creating else NAMESPACE_KEYS - {"cluster", "namespace"}, "namespace spec")
    spec = {key: value for key, value in spec.items() if value is not None}  # null: not given
    checked = {}
    if "creator" in spec:
        checked["creator"] = spec["creator"]
    if "content_libraries" in spec:
        if not isinstance(spec["content_libraries"], list):
            raise invalid("content_libraries must be a list")
        checked["content_libraries"] = spec["content_libraries"]
    if "description" in spec:
        if not isinstance(spec["description"], str):
            raise invalid("description must be a string")
        checked["description"] = spec["description"]
    for key, check in (("access_list", access_list), ("storage_specs", storage_specs),
                       ("resource_spec", resource_spec)):
        if key in spec:
            checked[key] = check(spec[key])
    if "vm_service_spec" in spec:
        checked["vm_service_spec"] = vm_service_spec(spec["vm_service_spec"], known_classes)
    if "networks" in spec:
        checked["networks"] = spec["networks"]
    return checked


def vm_class(spec: dict, creating: bool) -> dict:
    if not isinstance(spec, dict):
        raise invalid("the request body must be a JSON object")
    _unknown(spec, VM_CLASS_KEYS, "VM class spec")
    spec = {key: value for key, value in spec.items() if value is not None}
    checked = {}
    if creating:
        dns_label(spec.get("id"), "VM class id")
        for key in ("cpu_count", "memory_mb"):
            if key not in spec and not (key == "memory_mb" and "memory_MB" in spec):
                raise invalid(f"a VM class needs {key}")
    if "memory_MB" in spec:  # the API's own spelling
        spec = {**spec, "memory_mb": spec["memory_MB"]}
    for key in ("cpu_count", "memory_mb"):
        if key in spec:
            if _non_negative_int(spec[key], key) == 0:
                raise invalid(f"{key} must be at least 1")
            checked[key] = spec[key]
    for key in ("cpu_reservation", "memory_reservation"):
        if key in spec and spec[key] is not None:
            value = _non_negative_int(spec[key], key)
            if value > 100:
                raise invalid(f"{key} is a percentage, 0 to 100, got {value}")
            checked[key] = value
    if "description" in spec:
        checked["description"] = str(spec["description"])
    if "devices" in spec:
        checked["devices"] = spec["devices"]
    if "config_spec" in spec:
        if not isinstance(spec["config_spec"], dict):
            raise invalid("config_spec must be an object (a VirtualMachineConfigSpec)")
        checked["config_spec"] = spec["config_spec"]
    return checked
