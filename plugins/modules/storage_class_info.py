#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: storage_class_info
short_description: List the storage classes (storage policies) a vSphere Namespace may use
version_added: 0.1.0
description:
  - Lists, through the Supervisor's Kubernetes API, the storage classes a vSphere Namespace may use,
    as a namespace's user sees them - one per vSphere storage policy assigned to the namespace, with the
    namespace's limit for it and how much of it is claimed.
  - A Supervisor names each class in the namespace's C(ResourceQuota) as
    C(<class>.storageclass.storage.k8s.io/requests.storage); that is where the list comes from. The
    C(StorageClass) object itself (cluster-scoped) adds the storage policy's identifier, the
    provisioner and the binding mode; credentials that may not read it get the list without those,
    and a warning.
  - Needs only what a namespace's developer (EDIT) or viewer (VIEW) may read; a namespace the
    credentials may not read is an error.
  - The class's RV(storage_classes[].name) is what O(pacific.supervisor.vm#module:storage_class) and
    a PersistentVolumeClaim's C(storageClassName) take.
author:
  - pacific.supervisor contributors (@pacific)
options:
  namespace:
    description: The vSphere Namespace whose storage classes to list.
    type: str
    required: true
  names:
    description: Only the storage classes of these names.
    type: list
    elements: str
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - A storage policy assigned without a limit is in the quota with the largest quantity there is;
    it is returned with RV(storage_classes[].limit) null (no limit).
seealso:
  - module: pacific.supervisor.vm_image_info
  - module: pacific.supervisor.namespace
    description: assigns storage policies, and their limits, to a namespace (admin face).
"""

EXAMPLES = r"""
- name: The storage classes team-a may use
  pacific.supervisor.storage_class_info:
    namespace: team-a
  register: team_a_storage

- name: Make a VM with the first of them
  pacific.supervisor.vm:
    name: web-1
    namespace: team-a
    class_name: best-effort-small
    image_name: ubuntu-22.04
    storage_class: "{{ team_a_storage.storage_classes[0].name }}"

- name: How much of the vSAN policy is left (MiB; null without a limit)
  pacific.supervisor.storage_class_info:
    namespace: team-a
    names: [vsan-default-storage-policy]
  register: vsan
"""

RETURN = r"""
storage_classes:
  description: The storage classes the namespace may use, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The storage class, named after the storage policy (lower case, DNS-1123).
      type: str
    namespace:
      description: The namespace asked about.
      type: str
    limit:
      description: The namespace's limit for this class, as the quota says it (for example C(5000Mi)); null when there is none.
      type: str
    limit_mib:
      description: RV(storage_classes[].limit) in MiB, the unit of O(pacific.supervisor.namespace#module:storage_policies[].limit).
      type: int
    used:
      description: How much the namespace's persistent volume claims of this class request, as the quota says it.
      type: str
    used_mib:
      description: RV(storage_classes[].used) in MiB.
      type: int
    quota:
      description: The ResourceQuota that names the class.
      type: str
    storage_policy_id:
      description: The vSphere storage policy behind the class (its C(storagePolicyID) parameter); null when the class could not be read.
      type: str
    provisioner:
      description: The class's provisioner (C(csi.vsphere.vmware.com)); null when the class could not be read.
      type: str
    reclaim_policy:
      description: C(Delete) or C(Retain); null when the class could not be read.
      type: str
    volume_binding_mode:
      description: C(Immediate) or C(WaitForFirstConsumer); null when the class could not be read.
      type: str
    allow_volume_expansion:
      description: Whether volumes of the class can grow; null when the class could not be read.
      type: bool
    default:
      description: Whether it is the cluster's default class; null when the class could not be read.
      type: bool
  sample:
    - name: vsan-default-storage-policy
      namespace: team-a
      limit: 5000Mi
      limit_mib: 5000
      used: 1Gi
      used_mib: 1024
      quota: team-a-storagequota
      storage_policy_id: aa6d5a82-1c88-45da-85d3-3d74b91a5bad
      provisioner: csi.vsphere.vmware.com
      reclaim_policy: Delete
      volume_binding_mode: Immediate
      allow_volume_expansion: true
      default: false
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import storage_classes
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists

ARGUMENT_SPEC = dict(
    namespace=dict(type="str", required=True),
    names=dict(type="list", elements="str"),
)


def handle(params, run):
    namespace = check_name(params["namespace"], "namespace", label=True)
    engine = Engine(connect(params))
    found = storage_classes.read(engine, namespace, run.warn)
    if not found:
        namespace_exists(engine, namespace)  # nothing in a namespace that is not there is a typo
    wanted = set(params.get("names") or [])
    return {"changed": False,
            "storage_classes": [entry for entry in found if not wanted or entry["name"] in wanted]}


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle, requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
