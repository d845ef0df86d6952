#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: supervisor_enable
short_description: Enable or disable workload management (a Supervisor) on a vSphere cluster
version_added: 0.1.0
description:
  - Enables workload management on a cluster, given by name, with a network provider and a storage
    policy for the control plane, and waits until the Supervisor runs; or disables it and waits until
    the Supervisor is gone.
  - A cluster that already has a Supervisor is left as it is (settings of a running Supervisor are
    not changed by this module; it warns when they differ from the options).
author:
  - pacific.supervisor contributors (@pacific)
options:
  cluster:
    description: The vSphere cluster, by name (or managed object identifier).
    type: str
    required: true
  state:
    description:
      - V(present) enables workload management, V(absent) disables it.
      - Disabling fails while the cluster still has vSphere Namespaces.
    type: str
    choices: [present, absent]
    default: present
  storage_policy:
    description:
      - Name (or identifier) of the storage policy of the control plane VMs, ephemeral disks and images.
      - Required to enable.
    type: str
  network_provider:
    description: The networking stack of the Supervisor.
    type: str
    choices: [VSPHERE_NETWORK, NSXT_CONTAINER_PLUGIN, NSX_VPC]
    default: VSPHERE_NETWORK
  management_network:
    description:
      - Name (or identifier) of the network (port group) of the control plane's management interfaces.
    type: str
  size_hint:
    description: The size of the control plane VMs.
    type: str
    choices: [TINY, SMALL, MEDIUM, LARGE]
    default: SMALL
  wait:
    description: Wait until the Supervisor runs (V(RUNNING)) after enabling, or is gone after disabling.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait.
    type: int
    default: 1800
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Resolves names and says whether it would enable or disable; sends nothing.
  diff_mode:
    support: full
    description: Shows the cluster's workload management status before and after.
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
    network_provider=dict(type="str", choices=["VSPHERE_NETWORK", "NSXT_CONTAINER_PLUGIN", "NSX_VPC"],
                          default="VSPHERE_NETWORK"),
    management_network=dict(type="str"),
    size_hint=dict(type="str", choices=["TINY", "SMALL", "MEDIUM", "LARGE"], default="SMALL"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=1800),
)
GONE = "REMOVING"  # disabling: the Supervisor is on its way out


def enable_spec(params, lookup):
    if not params["storage_policy"]:
        raise InvalidArgument("storage_policy is required to enable workload management on cluster {0}".format(
            params["cluster"]))
    policy = lookup.one("storage policy", params["storage_policy"])
    spec = {"size_hint": params["size_hint"], "network_provider": params["network_provider"],
            "master_storage_policy": policy, "ephemeral_storage_policy": policy,
            "image_storage": {"storage_policy": policy}}
    if params["management_network"]:
        spec["master_management_network"] = {"mode": "DHCP",
                                             "network": lookup.one("network", params["management_network"])}
    return spec


def status_of(found):
    return {"config_status": (found or {}).get("config_status", "DISABLED")}


def wait_for(clusters, cluster_id, present, timeout):
    def probe():
        found = clusters.get(cluster_id)
        status = (found or {}).get("config_status")
        if present and status == "ERROR":
            messages = "; ".join(m.get("default_message", "") for m in found.get("messages") or [])
            raise WaitFailed("enabling workload management on {0} failed: {1}".format(cluster_id, messages))
        return (status == "RUNNING") if present else found is None, status or "DISABLED"
    until(probe, timeout, "the Supervisor of {0} to be {1}".format(cluster_id, "RUNNING" if present else "removed"),
          interval=1.0)


def warn_differences(run, found, params, lookup):
    """A running Supervisor is not reconfigured here: say so when the options ask for something else."""
    if found.get("network_provider") not in (None, params["network_provider"]):
        run.warn("the Supervisor of {0} uses network provider {1}, not {2}; it is left as it is".format(
            params["cluster"], found["network_provider"], params["network_provider"]))
    if params["storage_policy"] and found.get("master_storage_policy"):
        policy = lookup.one("storage policy", params["storage_policy"])
        if found["master_storage_policy"] != policy:
            run.warn("the Supervisor of {0} uses storage policy {1}, not {2}; it is left as it is".format(
                params["cluster"], lookup.name_of("storage policy", found["master_storage_policy"]),
                params["storage_policy"]))


def handle(params, run):
    present = params["state"] == "present"
    with rest_session(params) as session, Lookup(params) as lookup:
        cluster_id = lookup.one("cluster", params["cluster"])
        clusters = Clusters(session)
        found = clusters.get(cluster_id)
        exists = found is not None and found.get("config_status") != GONE
        changed = exists != present
        if present and not changed:
            warn_differences(run, found, params, lookup)
        if changed:
            spec = enable_spec(params, lookup) if present else None
            if not run.check_mode:
                if present:
                    clusters.enable(cluster_id, spec)
                else:
                    clusters.disable(cluster_id)
        if params["wait"] and not run.check_mode and (changed or found is not None):
            wait_for(clusters, cluster_id, present, params["wait_timeout"])
        shown = found if run.check_mode else clusters.get(cluster_id)
    result = {"changed": changed, "supervisor": shown or {}}
    if run.diff:
        result["diff"] = {"before": status_of(found if exists else None),
                          "after": {"config_status": "RUNNING" if present else "DISABLED"}}
    return result


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle,
               requirements=(("pyVmomi", PYVMOMI_IMPORT_ERROR),))


if __name__ == "__main__":
    main()
