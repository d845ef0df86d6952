# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vSphere Namespace as the user wants it, compared with what vCenter has.

Pure functions, no I/O: ``desired_fields`` turns already-resolved settings into the API's
fields, ``normalized`` puts an API answer in the same shape (lists sorted, defaults filled),
``update_spec`` keeps only the fields that differ — the body of one PATCH. A setting the user
did not give is left as vCenter has it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._common.validate import (
    INT64_MAX, MIB_LIMIT_MAX, in_range)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# module option -> resource_spec field (MHz, MiB, MiB, count)
LIMITS = {"cpu_limit": "cpu_limit", "memory_limit": "memory_limit", "storage_limit": "storage_request_limit",
          "pod_limit": "pod_count"}
# the most each limit can be: vCenter's API holds them as int64 (long), and the Supervisor's
# ResourceQuota shows memory and storage in bytes, which must hold in an int64 quantity too
LIMIT_MAXIMUMS = {"cpu_limit": (INT64_MAX, " (MHz)"), "memory_limit": (MIB_LIMIT_MAX, " (MiB)"),
                  "storage_limit": (MIB_LIMIT_MAX, " (MiB)"), "pod_limit": (INT64_MAX, "")}
MANAGED = ("cluster", "description", "storage_specs", "resource_spec", "vm_service_spec", "access_list")


def check_name(name):
    if not isinstance(name, str) or len(name) > 63 or not DNS_LABEL.match(name):
        raise InvalidArgument("namespace name {0!r} is not valid: use lower-case letters, digits and '-', "
                              "start and end with a letter or digit, at most 63 characters".format(name))
    return name


def check_settings(params):
    """Refuse what vCenter would refuse, before anything is looked up or changed."""
    check_name(params["name"])
    for option in LIMITS:
        in_range(params.get(option), option, minimum=0, maximum=LIMIT_MAXIMUMS[option][0], unit=LIMIT_MAXIMUMS[option][1])
    seen = set()
    for policy in params.get("storage_policies") or []:
        in_range(policy.get("limit"), "the limit of storage policy {0!r}".format(policy["name"]), minimum=0,
                 maximum=MIB_LIMIT_MAX, unit=" (MiB)")
        if policy["name"] in seen:
            raise InvalidArgument("storage policy {0!r} is listed twice".format(policy["name"]))
        seen.add(policy["name"])
    subjects = {}
    for entry in params.get("access") or []:
        key = (entry["subject_type"], entry["subject"].lower(), entry["domain"].lower())
        if key in subjects and subjects[key] != entry["role"]:
            raise InvalidArgument("{0} {1}@{2} is given two roles ({3} and {4}); give one".format(
                entry["subject_type"].lower(), entry["subject"], entry["domain"], subjects[key], entry["role"]))
        subjects[key] = entry["role"]


def _access_key(entry):
    return (entry["subject_type"], entry["domain"].lower(), entry["subject"].lower(), entry["role"])


def _access(entries):
    unique = dict((_access_key(entry), entry) for entry in entries)
    return [dict(subject=unique[key]["subject"], domain=unique[key]["domain"],
                 subject_type=unique[key]["subject_type"], role=unique[key]["role"]) for key in sorted(unique)]


def _storage(specs):
    return sorted(({"policy": s["policy"], "limit": s.get("limit")} for s in specs), key=lambda s: s["policy"])


def _resources(spec):
    return dict((key, value) for key, value in (spec or {}).items() if value is not None)


def _vm_service(spec):
    spec = spec or {}
    return {"vm_classes": sorted(spec.get("vm_classes") or []),
            "content_libraries": sorted(spec.get("content_libraries") or [])}


def normalized(info):
    """The managed fields of a namespace as ``GET .../instances/{name}`` returns it, in a stable shape."""
    return {
        "cluster": info.get("cluster"),
        "description": info.get("description") or "",
        "storage_specs": _storage(info.get("storage_specs") or []),
        "resource_spec": _resources(info.get("resource_spec")),
        "vm_service_spec": _vm_service(info.get("vm_service_spec")),
        "access_list": _access(info.get("access_list") or []),
    }


def desired_fields(settings, current=None):
    """API fields for the settings given (None = leave alone); ``current`` is ``normalized`` or None.

    ``settings`` holds resolved identifiers: cluster, description, storage_specs
    ([{policy, limit}]), limits ({resource_spec field: value}), vm_classes, content_libraries,
    access ([{subject, domain, subject_type, role}]).
    """
    current = current or normalized({})
    fields = {}
    if settings.get("cluster") is not None:
        fields["cluster"] = settings["cluster"]
    if settings.get("description") is not None:
        fields["description"] = settings["description"]
    if settings.get("storage_specs") is not None:
        fields["storage_specs"] = _storage(settings["storage_specs"])
    limits = _resources(settings.get("limits"))
    if limits:
        # the API replaces resource_spec as a whole: keep the limits the user did not mention
        merged = dict(current["resource_spec"])
        merged.update(limits)
        fields["resource_spec"] = merged
    if settings.get("vm_classes") is not None or settings.get("content_libraries") is not None:
        vm_service = dict(current["vm_service_spec"])
        for key in ("vm_classes", "content_libraries"):
            if settings.get(key) is not None:
                vm_service[key] = sorted(set(settings[key]))
        fields["vm_service_spec"] = vm_service
    if settings.get("access") is not None:
        fields["access_list"] = _access(settings["access"])
    return fields


def update_spec(current, fields):
    """The PATCH body: the fields whose value differs from ``current`` (both normalized)."""
    if "cluster" in fields and fields["cluster"] != current["cluster"]:
        raise InvalidArgument("the namespace is on cluster {0}; a namespace cannot move to cluster {1} (delete it "
                              "and create it there)".format(current["cluster"], fields["cluster"]))
    return dict((key, value) for key, value in fields.items() if key != "cluster" and current.get(key) != value)


def create_spec(name, fields):
    spec = dict(fields, namespace=name)
    if not spec.get("cluster"):
        raise InvalidArgument("cluster is required to create namespace {0}".format(name))
    spec["storage_specs"] = [_api_storage(s) for s in spec.get("storage_specs", [])]
    return spec


def api_patch(patch):
    """``update_spec`` as the API takes it (storage entries without a limit leave the key out)."""
    body = dict(patch)
    if "storage_specs" in body:
        body["storage_specs"] = [_api_storage(s) for s in body["storage_specs"]]
    return body


def _api_storage(spec):
    return dict((key, value) for key, value in spec.items() if value is not None)


def after(current, patch):
    """What the namespace will look like once ``patch`` is applied (for --diff and check mode)."""
    result = dict(current)
    result.update(patch)
    return result


# resource_spec field -> the module option that sets it, where the two names differ
OPTION_NAMES = dict((field, option) for option, field in LIMITS.items() if field != option)


def with_option_names(info):
    """``info`` (an API answer or ``normalized``) with each limit of its resource_spec also under the
    name of the option that sets it (``pod_limit`` beside ``pod_count``, ``storage_limit`` beside
    ``storage_request_limit``). The API's names stay for one release, deprecated."""
    if not info or not isinstance(info.get("resource_spec"), dict):
        return info
    resources = dict(info["resource_spec"])
    for field, option in OPTION_NAMES.items():
        if field in resources:
            resources[option] = resources[field]
    return dict(info, resource_spec=resources)
