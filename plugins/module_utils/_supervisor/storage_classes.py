# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The storage classes a vSphere Namespace may use, as its users read them.

A Supervisor gives each storage policy assigned to a namespace a StorageClass (cluster-scoped) and
puts the policy's limit into the namespace's ResourceQuota as
``<class>.storageclass.storage.k8s.io/requests.storage``; a policy without a limit has the largest
quantity there (2^63-1 bytes). The quota, which a namespace's users may read, is what says which
classes the namespace may use; the StorageClass adds the policy, provisioner and binding mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds

RESOURCE_QUOTA = kinds.Resource("v1", "ResourceQuota", "resourcequotas")
STORAGE_CLASS = kinds.Resource("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False)
QUOTA_SUFFIX = ".storageclass.storage.k8s.io/requests.storage"
# what a quota holds for "no limit": the largest int64, in bytes
UNLIMITED = 2 ** 63 - 1

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}


def quantity_bytes(value):
    """A Kubernetes storage quantity (``5000Mi``, ``10G``, ``1073741824``) in bytes, or None."""
    if value is None:
        return None
    text, multiplier = str(value).strip(), 1
    for suffix, factor in list(_BINARY.items()) + list(_DECIMAL.items()):
        if text.endswith(suffix):
            text, multiplier = text[:-len(suffix)], factor
            break
    try:
        return int(text) * multiplier
    except ValueError:
        try:
            return int(float(text) * multiplier)
        except ValueError:
            return None


def _mib(count):
    return None if count is None else count // 2 ** 20


def limits_in(quotas):
    """``{class: {"limit": quantity or None, "used": quantity or None, "quota": name}}`` from the
    namespace's ResourceQuotas; the smallest limit wins where two quotas name one class."""
    found = {}
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        used = (quota.get("status") or {}).get("used") or {}
        for key, limit in hard.items():
            if not key.endswith(QUOTA_SUFFIX):
                continue
            name = key[:-len(QUOTA_SUFFIX)]
            known = found.get(name)
            if known is None or (quantity_bytes(limit) or 0) < (quantity_bytes(known["limit"]) or 0):
                found[name] = {"limit": limit, "used": used.get(key), "quota": (quota.get("metadata") or {}).get("name")}
    return found


def summarize(name, namespace, limits, storage_class):
    """One storage class of a namespace as the module returns it; ``storage_class`` is the object,
    or None when it could not be read."""
    limit_bytes = quantity_bytes(limits.get("limit"))
    unlimited = limit_bytes is None or limit_bytes >= UNLIMITED
    shown = {
        "name": name,
        "namespace": namespace,
        "limit": None if unlimited else limits.get("limit"),
        "limit_mib": None if unlimited else _mib(limit_bytes),
        "used": limits.get("used"),
        "used_mib": _mib(quantity_bytes(limits.get("used"))),
        "quota": limits.get("quota"),
        "storage_policy_id": None, "provisioner": None, "reclaim_policy": None, "volume_binding_mode": None,
        "allow_volume_expansion": None, "default": None,
    }
    if storage_class is not None:
        annotations = (storage_class.get("metadata") or {}).get("annotations") or {}
        shown.update(
            storage_policy_id=(storage_class.get("parameters") or {}).get("storagePolicyID"),
            provisioner=storage_class.get("provisioner"),
            reclaim_policy=storage_class.get("reclaimPolicy"),
            volume_binding_mode=storage_class.get("volumeBindingMode"),
            allow_volume_expansion=storage_class.get("allowVolumeExpansion"),
            default=annotations.get("storageclass.kubernetes.io/is-default-class") == "true",
        )
    return shown


def read(engine, namespace, warn):
    """The storage classes ``namespace`` may use, sorted by name. A namespace the credentials may
    not read fails (Forbidden); StorageClasses they may not read are left without details, with
    one ``warn``."""
    quotas, _version = engine.list(RESOURCE_QUOTA, namespace)
    limits = limits_in(quotas)
    classes, unreadable = {}, None
    for name in sorted(limits):
        try:
            classes[name] = engine.get(STORAGE_CLASS, name)
        except errors.Forbidden as err:
            unreadable = err.msg
            break
    if unreadable:
        warn("the storage classes' policies and provisioners are not shown: {0}".format(unreadable))
    return [summarize(name, namespace, limits[name], classes.get(name)) for name in sorted(limits)]
