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
    api_server_cluster_endpoint: 192.168.10.2
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
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import supervisor_spec as spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import Lookup, rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.soap import REQUIREMENTS

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


def handle(params, run):
    result = {}
    with rest_session(params) as session, Lookup(params) as lookup:
        cluster_id = lookup.one("cluster", params["cluster"])
        outcome = Engine(session, run).ensure(
            kinds.SUPERVISOR, cluster_id, spec.Wish(params, lookup), state=params["state"],
            check_mode=run.check_mode, wait=params["wait"], wait_timeout=params["wait_timeout"])
    if outcome["action"] == "update":
        result["updated"] = spec.updated_fields(outcome["sent"])
    if run.diff:
        result["diff"] = outcome["diff"]
    result.update(changed=outcome["changed"], supervisor=outcome["object"] or {})
    return result


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
