# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload management on a cluster as the user wants it, compared with what vCenter has.

No HTTP here: names are turned into identifiers (and back, for the diff) through a ``Lookup``
(``connection.py``), which reads vCenter's inventory once. ``enable_spec`` is the body that
enables a Supervisor, ``update_spec`` the PATCH that brings a running one to the options (and
refuses to change what a running Supervisor keeps), ``settings_of`` what the diff shows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument

GONE = "REMOVING"  # disabling: the Supervisor is on its way out
STORAGE_FIELDS = ("master_storage_policy", "ephemeral_storage_policy", "image_storage")


class Wish(object):
    """The module's options and the Lookup that resolves their names: what the planners read."""

    __slots__ = ("params", "lookup")

    def __init__(self, params, lookup):
        self.params = params
        self.lookup = lookup


def _storage(policy):
    return {"master_storage_policy": policy, "ephemeral_storage_policy": policy,
            "image_storage": {"storage_policy": policy}}


def _registry(params):
    registry = params["default_image_registry"]
    if registry is None:
        return None
    if not 0 < registry["port"] < 65536:
        raise InvalidArgument("default_image_registry port must be 1-65535, got {0}".format(registry["port"]))
    return {"hostname": registry["hostname"], "port": registry["port"]}


def enable_spec(params, lookup):
    if not params["storage_policy"]:
        raise InvalidArgument("storage_policy is required to enable workload management on cluster {0}".format(
            params["cluster"]))
    spec = {"size_hint": params["size_hint"] or "SMALL",
            "network_provider": params["network_provider"] or "VSPHERE_NETWORK"}
    spec.update(_storage(lookup.one("storage policy", params["storage_policy"])))
    if params["management_network"]:
        spec["master_management_network"] = {"mode": "DHCP",
                                             "network": lookup.one("network", params["management_network"])}
    registry = _registry(params)
    if registry:
        spec["default_image_registry"] = registry
    return spec


def update_spec(params, found, lookup):
    """The update spec that brings a running Supervisor to the options (empty when it is there already).
    Fails, before anything is sent, when an option asks to change what a running Supervisor keeps.
    """
    fixed = []
    if params["network_provider"] and found.get("network_provider") != params["network_provider"]:
        fixed.append("network_provider ({0}, not {1})".format(found.get("network_provider"),
                                                              params["network_provider"]))
    if params["management_network"]:
        network = lookup.one("network", params["management_network"])
        current = (found.get("master_management_network") or {}).get("network")
        if current != network:
            fixed.append("management_network ({0}, not {1})".format(
                lookup.name_of("network", current) if current else "none set", params["management_network"]))
    if fixed:
        raise InvalidArgument(
            "the running Supervisor of {0} cannot change {1}; disable and enable workload management to change "
            "{2}".format(params["cluster"], ", ".join(fixed), "them" if len(fixed) > 1 else "it"))
    update = {}
    if params["size_hint"] and found.get("size_hint") != params["size_hint"]:
        update["size_hint"] = params["size_hint"]
    if params["storage_policy"]:
        storage = _storage(lookup.one("storage policy", params["storage_policy"]))
        if any(found.get(key) != value for key, value in storage.items()):
            update.update(storage)
    registry = _registry(params)
    if registry and found.get("default_image_registry") != registry:
        update["default_image_registry"] = registry
    return update


def updated_fields(update):
    """The fields of an update spec a user recognises (one storage policy, not its three uses)."""
    return sorted(set(update) - set(STORAGE_FIELDS[1:]))


def settings_of(found, lookup):
    """What the diff shows of a Supervisor: its status and the settings this module manages."""
    if not found:
        return {"config_status": "DISABLED"}
    policy = found.get("master_storage_policy")
    return {"config_status": found.get("config_status"), "size_hint": found.get("size_hint"),
            "network_provider": found.get("network_provider"),
            "storage_policy": lookup.name_of("storage policy", policy) if policy else None,
            "default_image_registry": found.get("default_image_registry")}


def planned_settings(before, changes, lookup):
    """The diff's after of a check-mode run: ``before`` with the enable or update spec applied."""
    after = dict(before, config_status="RUNNING")
    for key in ("size_hint", "network_provider", "default_image_registry"):
        if key in changes:
            after[key] = changes[key]
    if "master_storage_policy" in changes:
        after["storage_policy"] = lookup.name_of("storage policy", changes["master_storage_policy"])
    return after
