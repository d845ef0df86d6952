#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: supervisor_enable
short_description: Enable, reconfigure or disable workload management (a Supervisor) on a vSphere cluster
version_added: 0.1.0
description:
  - Enables workload management on a cluster, given by name, with a network provider and a storage
    policy for the control plane, and waits until the Supervisor runs; or disables it and waits until
    the Supervisor is gone.
  - On a cluster that already has a Supervisor, changes what vCenter lets change on a running Supervisor
    (O(storage_policy), O(size_hint), O(default_image_registry)) when the options ask for something else,
    and waits until it runs again. Options left out are left as they are.
  - O(network_provider) and O(management_network) cannot change while the Supervisor runs; asking for
    other values fails, naming them, and changes nothing (disable and enable again to change them).
author:
  - pacific.supervisor contributors (@pacific)
options:
  cluster:
    description: The vSphere cluster, by name (or managed object identifier).
    type: str
    required: true
  state:
    description:
      - V(present) enables workload management (or reconfigures it), V(absent) disables it.
      - Disabling fails while the cluster still has vSphere Namespaces.
    type: str
    choices: [present, absent]
    default: present
  storage_policy:
    description:
      - Name (or identifier) of the storage policy of the control plane VMs, ephemeral disks and images.
      - Required to enable. Changeable on a running Supervisor.
    type: str
  network_provider:
    description:
      - The networking stack of the Supervisor. V(VSPHERE_NETWORK) when enabling without it.
      - Cannot change on a running Supervisor.
    type: str
    choices: [VSPHERE_NETWORK, NSXT_CONTAINER_PLUGIN, NSX_VPC]
  management_network:
    description:
      - Name (or identifier) of the network (port group) of the control plane's management interfaces.
      - Cannot change on a running Supervisor.
    type: str
  size_hint:
    description:
      - The size of the control plane VMs. V(SMALL) when enabling without it.
      - Changeable on a running Supervisor.
    type: str
    choices: [TINY, SMALL, MEDIUM, LARGE]
  default_image_registry:
    description:
      - The container image registry the Supervisor pulls images from by default.
      - Changeable on a running Supervisor.
    type: dict
    suboptions:
      hostname:
        description: The registry's host name or IP address.
        type: str
        required: true
      port:
        description: The registry's port.
        type: int
        default: 443
  wait:
    description:
      - Wait until the Supervisor runs (V(RUNNING)) after enabling or reconfiguring, or is gone after disabling.
      - A wait that fails after the change was made still reports C(changed=true), with C(changed_objects)
        and, in diff mode, the C(diff) of the change.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait, at least 1.
    type: int
    default: 1800
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Resolves names and says whether it would enable, reconfigure or disable; sends nothing.
  diff_mode:
    support: full
    description: Shows the Supervisor's status and settings before and after.
"""

EXAMPLES = r"""
- name: A Supervisor on Cluster-1 with vSphere networking
  pacific.supervisor.supervisor_enable:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    cluster: Cluster-1
    storage_policy: vSAN Default Storage Policy
    network_provider: VSPHERE_NETWORK
    management_network: VM Network
    size_hint: TINY

- name: Grow its control plane and give it a default registry
  pacific.supervisor.supervisor_enable:
    cluster: Cluster-1
    size_hint: MEDIUM
    default_image_registry:
      hostname: harbor.example.com

- name: Remove it again (its namespaces must be gone)
  pacific.supervisor.supervisor_enable:
    cluster: Cluster-1
    state: absent
"""

RETURN = r"""
supervisor:
  description:
    - The cluster's Supervisor as vCenter reports it (empty when there is none). In check mode, as it is now.
  returned: always
  type: dict
  sample:
    cluster: domain-c8
    cluster_name: Cluster-1
    config_status: RUNNING
    kubernetes_status: READY
    api_server_cluster_endpoint: 192.168.10.2:6443
    network_provider: VSPHERE_NETWORK
    size_hint: TINY
    master_storage_policy: aa6d5a82-1c88-45da-85d3-3d74b91a5bad
    default_image_registry: {hostname: harbor.example.com, port: 443}
updated:
  description: The fields of the update spec sent to (or, in check mode, that would be sent to) a running Supervisor.
  returned: when a running Supervisor is reconfigured
  type: list
  elements: str
  sample: [size_hint, default_image_registry]
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument, WaitFailed
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import Lookup, rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.poll import until
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import Clusters
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.soap import PYVMOMI_IMPORT_ERROR

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    storage_policy=dict(type="str"),
    network_provider=dict(type="str", choices=["VSPHERE_NETWORK", "NSXT_CONTAINER_PLUGIN", "NSX_VPC"]),
    management_network=dict(type="str"),
    size_hint=dict(type="str", choices=["TINY", "SMALL", "MEDIUM", "LARGE"]),
    default_image_registry=dict(type="dict", options=dict(
        hostname=dict(type="str", required=True),
        port=dict(type="int", default=443),
    )),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
)
GONE = "REMOVING"  # disabling: the Supervisor is on its way out
STORAGE_FIELDS = ("master_storage_policy", "ephemeral_storage_policy", "image_storage")


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


def wait_for(clusters, cluster_id, present, timeout):
    def probe():
        found = clusters.get(cluster_id)
        status = (found or {}).get("config_status")
        if present and status == "ERROR":
            messages = "; ".join(m.get("default_message", "") for m in found.get("messages") or [])
            raise WaitFailed("configuring workload management on {0} failed: {1}".format(cluster_id, messages))
        return (status == "RUNNING") if present else found is None, status or "DISABLED"
    until(probe, timeout, "the Supervisor of {0} to be {1}".format(cluster_id, "RUNNING" if present else "removed"),
          interval=1.0)


def handle(params, run):
    present = params["state"] == "present"
    result = {}
    with rest_session(params) as session, Lookup(params) as lookup:
        cluster_id = lookup.one("cluster", params["cluster"])
        clusters = Clusters(session)
        found = clusters.get(cluster_id)
        exists = found is not None and found.get("config_status") != GONE
        update = update_spec(params, found, lookup) if present and exists else {}
        spec = enable_spec(params, lookup) if present and not exists else None
        changed = exists != present or bool(update)
        if update:
            result["updated"] = sorted(set(update) - set(STORAGE_FIELDS[1:]))
        if changed and not run.check_mode:
            if update:
                clusters.update(cluster_id, update)
            elif present:
                clusters.enable(cluster_id, spec)
            else:
                clusters.disable(cluster_id)
            before = settings_of(found if exists else None, lookup)
            run.changes.record("the Supervisor of " + cluster_id, {
                "before": before,
                "after": planned_settings(before, update or spec or {}, lookup) if present
                else {"config_status": "DISABLED"}})
        if params["wait"] and not run.check_mode and (changed or found is not None):
            wait_for(clusters, cluster_id, present, params["wait_timeout"])
        shown = found if run.check_mode else clusters.get(cluster_id)
        if run.diff:
            before = settings_of(found if exists else None, lookup)
            if not present:
                after = {"config_status": "DISABLED"}
            elif run.check_mode:
                after = planned_settings(before, update or spec or {}, lookup)
            else:
                after = settings_of(shown, lookup)
            result["diff"] = {"before": before, "after": after}
    result.update(changed=changed, supervisor=shown or {})
    return result


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle,
               requirements=(("pyVmomi", PYVMOMI_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
