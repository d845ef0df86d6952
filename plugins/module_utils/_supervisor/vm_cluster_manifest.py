# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM cluster: N replicas of one VM spec, placed by a VirtualMachineSetResourcePolicy.

The policy is named after the cluster and puts its VMs in a child resource pool and folder of
the namespace. Replica ``i`` is the VirtualMachine ``<cluster>-<i>`` (``vm_manifest.build`` with
that name), labelled ``CLUSTER_LABEL: <cluster>`` so that one LIST with a label selector finds
every member. ``plan`` compares the members found with the replicas wanted: what to apply and
what to delete, highest ordinals first. Pure; unit-tested.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, vm_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name, metadata as object_metadata
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.pod_manifest import check_quantity

CLUSTER_LABEL = "vm-cluster.pacific.supervisor/name"
ORDINAL_LABEL = "vm-cluster.pacific.supervisor/ordinal"
RESOURCE_POLICY = kinds.known(kinds.VMOP, "VirtualMachineSetResourcePolicy")
VIRTUAL_MACHINE = kinds.VIRTUAL_MACHINE
# ordinals 0..999: enough for a VM cluster, and a bound that keeps a typo from making thousands of VMs
MAX_REPLICAS = 1000
QUANTITIES = ("cpu", "memory")


def member_name(cluster, ordinal):
    return "{0}-{1}".format(cluster, ordinal)


def ordinal_of(cluster, vm_name):
    """The ordinal of a member's name, or None when the name is not ``<cluster>-<number>``."""
    found = re.match(r"^" + re.escape(cluster) + r"-(0|[1-9][0-9]*)$", vm_name or "")
    return int(found.group(1)) if found else None


def check(params):
    """Validate the options that do not depend on the API: names and replicas."""
    name = check_name(params.get("name"), "VM cluster name", label=True)
    check_name(params.get("namespace"), "namespace", label=True)
    replicas = params.get("replicas")
    if params.get("state", "present") == "present":
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.InvalidArgument("replicas must be a whole number of 0 or more, not {0!r}".format(replicas))
        if replicas > MAX_REPLICAS:
            raise errors.InvalidArgument("replicas must be at most {0}, not {1}".format(MAX_REPLICAS, replicas))
        # the longest member name must still be a DNS label
        check_name(member_name(name, max(replicas - 1, 0)), "VM name of replica {0}".format(max(replicas - 1, 0)),
                   label=True)
    return name


def _amounts(amounts, what):
    built = {}
    for key, value in (amounts or {}).items():
        if key not in QUANTITIES:
            raise errors.InvalidArgument("{0} takes {1}, not {2!r}".format(what, " and ".join(QUANTITIES), key))
        if value is not None:
            built[key] = check_quantity(value, "{0}.{1}".format(what, key))
    return built


def resource_policy(params):
    """The VirtualMachineSetResourcePolicy of the cluster: a resource pool and a folder named after
    it (unless given), with optional reservations and limits."""
    name, namespace = params["name"], params["namespace"]
    pool = {"name": params.get("resource_pool") or name}
    reservations = _amounts(params.get("reservations"), "reservations")
    limits = _amounts(params.get("limits"), "limits")
    if reservations:
        pool["reservations"] = reservations
    if limits:
        pool["limits"] = limits
    return {
        "apiVersion": kinds.VMOP, "kind": "VirtualMachineSetResourcePolicy",
        "metadata": object_metadata(name, namespace, {CLUSTER_LABEL: name}),
        "spec": {"resourcePool": pool, "folder": params.get("folder") or name},
    }


def bootstrap_secret_name(cluster):
    return vm_manifest.bootstrap_secret_name(cluster)


def _build(params, ordinal):
    labels = dict(params.get("labels") or {})
    labels[CLUSTER_LABEL] = params["name"]
    labels[ORDINAL_LABEL] = str(ordinal)
    vm_params = dict(params, name=member_name(params["name"], ordinal), labels=labels,
                     resource_policy_name=params["name"], bootstrap_secret_name=bootstrap_secret_name(params["name"]),
                     bootstrap_secret_labels={vm_manifest.MANAGED_BY: vm_manifest.MANAGER,
                                              CLUSTER_LABEL: params["name"]})
    return vm_manifest.build(vm_params)


def member(params, ordinal):
    """The VirtualMachine manifest of replica ``ordinal``: the cluster's VM spec through
    ``vm_manifest.build``, named ``<cluster>-<ordinal>``, labelled, placed by the policy. Inline
    bootstrap data is named from the cluster's one Secret (``bootstrap_secret``)."""
    return _build(params, ordinal)[0]


def bootstrap_secret(params):
    """The Secret ``<cluster>-bootstrap`` every member's inline bootstrap data comes from, or None."""
    return _build(params, 0)[1]


def owned_bootstrap_secret(secret, cluster):
    """Whether ``secret`` is the bootstrap Secret this collection made for VM cluster ``cluster``."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(vm_manifest.MANAGED_BY) == vm_manifest.MANAGER and labels.get(CLUSTER_LABEL) == cluster


def plan(cluster, replicas, existing):
    """``(keep, remove)`` for the members ``existing`` (``{vm name: object}``, from one LIST):
    ``keep`` the names of ordinals 0..replicas-1 (existing or not) in order, ``remove`` the
    names of members beyond them, highest ordinal first. Members whose names are not
    ``<cluster>-<n>`` (made by hand, with our label) are removed last."""
    keep = [member_name(cluster, ordinal) for ordinal in range(replicas)]
    extra = [name for name in existing if name not in keep]
    numbered = sorted((n for n in extra if ordinal_of(cluster, n) is not None),
                      key=lambda n: ordinal_of(cluster, n), reverse=True)
    strays = sorted(n for n in extra if ordinal_of(cluster, n) is None)
    return keep, numbered + strays


def summarize(name, namespace, replicas, members, policy):
    """What the module returns of the cluster: its members in ordinal order (``vm_manifest.summarize``)."""
    vms = [vm_manifest.summarize(obj) for obj in members]
    vms.sort(key=lambda vm: (ordinal_of(name, vm["name"]) is None, ordinal_of(name, vm["name"]) or 0, vm["name"]))
    return {
        "name": name,
        "namespace": namespace,
        "replicas": replicas,
        "ready_replicas": sum(1 for vm in vms if vm["ready"]),
        "resource_policy": (policy or {}).get("metadata", {}).get("name"),
        "vms": vms,
    }
