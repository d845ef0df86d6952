#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: namespace
short_description: Create, update or delete a vSphere Namespace
version_added: 0.1.0
description:
  - Manages a vSphere Namespace on a Supervisor through vCenter's namespaces API, that is its description,
    storage policies and their limits, CPU, memory, storage and pod limits, the VM classes and content
    libraries of its VM service, and who may use it.
  - Give names as vSphere Client shows them (cluster, storage policies, content libraries); the module
    resolves them to identifiers and fails, changing nothing, when a name is unknown or ambiguous.
  - Only the options given are managed. An existing namespace is changed with one PATCH of the fields
    that differ; a list given (storage policies, VM classes, content libraries, access) replaces the
    namespace's list.
author:
  - pacific.supervisor contributors (@pacific)
options:
  name:
    description:
      - The namespace's name, also the name of its Kubernetes Namespace. Lower-case letters, digits
        and C(-), at most 63 characters.
    type: str
    required: true
    aliases: [namespace]
  state:
    description: V(present) creates or updates the namespace, V(absent) deletes it and everything in it.
    type: str
    choices: [present, absent]
    default: present
  cluster:
    description:
      - The name (or managed object identifier) of the vSphere cluster whose Supervisor hosts the namespace.
      - Needed to create a namespace unless exactly one cluster has a Supervisor. A namespace cannot move
        to another cluster.
    type: str
  description:
    description: A description of the namespace.
    type: str
  storage_policies:
    description:
      - Storage policies the namespace may use, each as a Kubernetes storage class, with an optional limit.
      - The Supervisor names each policy's storage class after the policy's name, lower-cased and made a
        DNS-1123 name (C(vSAN Default Storage Policy) becomes C(vsan-default-storage-policy)); that is the
        O(pacific.supervisor.vm#module:storage_class) workloads name.
    type: list
    elements: dict
    suboptions:
      name:
        description: The storage policy's name (or identifier).
        type: str
        required: true
      limit:
        description:
          - How much storage (MiB) the namespace may claim with this policy; unlimited when not set.
          - At most 8796093022207 (8 EiB in bytes, the most a Kubernetes quota holds).
        type: int
  cpu_limit:
    description: CPU limit of the namespace, in MHz; zero or more, at most 2**63-1 (vCenter holds it as a long).
    type: int
  memory_limit:
    description:
      - Memory limit of the namespace, in MiB.
      - At most 8796093022207 (8 EiB in bytes, the most a Kubernetes quota holds).
    type: int
  storage_limit:
    description:
      - Limit of all storage the namespace may claim, in MiB.
      - At most 8796093022207 (8 EiB in bytes, the most a Kubernetes quota holds).
    type: int
  pod_limit:
    description: The most pods the namespace may run.
    type: int
  vm_classes:
    description: The VM classes VMs in the namespace may use (see M(pacific.supervisor.vm_class)).
    type: list
    elements: str
  content_libraries:
    description: Names (or identifiers) of the content libraries whose items become VM images in the namespace.
    type: list
    elements: str
  access:
    description: Who may use the namespace, and how.
    type: list
    elements: dict
    suboptions:
      subject:
        description: The user or group name, without its domain.
        type: str
        required: true
      domain:
        description: The identity source of O(access[].subject).
        type: str
        default: vsphere.local
      subject_type:
        description: Whether O(access[].subject) is a user or a group.
        type: str
        choices: [USER, GROUP]
        default: USER
      role:
        description: V(OWNER) and V(EDIT) may change what runs in the namespace, V(VIEW) may only read it.
        type: str
        choices: [OWNER, EDIT, VIEW]
        required: true
  wait:
    description:
      - Wait until vCenter reports the namespace configured (C(config_status) V(RUNNING)), that is,
        until its Kubernetes Namespace, quota and role bindings are in place.
      - A wait that fails after the change was made still reports C(changed=true), with C(changed_objects)
        and, in diff mode, the C(diff) of the change.
    type: bool
    default: true
  wait_timeout:
    description: How many seconds to wait, at least 1.
    type: int
    default: 120
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Resolves names and computes the change; sends nothing.
  diff_mode:
    support: full
    description: Shows the namespace's managed fields before and after (with identifiers).
"""

EXAMPLES = r"""
- name: A namespace for team A
  pacific.supervisor.namespace:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    name: team-a
    cluster: Cluster-1
    description: Team A's workloads
    storage_policies:
      - name: vSAN Default Storage Policy
        limit: 102400
    cpu_limit: 20000
    memory_limit: 65536
    vm_classes: [best-effort-small, guaranteed-small]
    content_libraries: [ubuntu-images]
    access:
      - subject: devops
        role: EDIT
      - subject: auditors
        subject_type: GROUP
        role: VIEW

- name: Raise the pod limit only; everything else stays as it is
  pacific.supervisor.namespace:
    name: team-a
    pod_limit: 200

- name: Delete the namespace and everything in it
  pacific.supervisor.namespace:
    name: team-a
    state: absent
"""

RETURN = r"""
namespace:
  description:
    - The namespace as vCenter reports it after the change (in check mode, as it would be), plus its C(name).
    - C(resource_spec) has each limit under the name of its option (C(cpu_limit), C(memory_limit),
      C(storage_limit), C(pod_limit)); the API's own names C(storage_request_limit) and C(pod_count)
      are returned too, deprecated, and will be removed in 0.3.0.
    - Empty after a deletion.
  returned: always
  type: dict
  sample:
    name: team-a
    cluster: domain-c8
    description: Team A's workloads
    config_status: RUNNING
    storage_specs: [{policy: aa6d5a82-1c88-45da-85d3-3d74b91a5bad, limit: 102400}]
    resource_spec: {cpu_limit: 20000, memory_limit: 65536, pod_limit: 200, pod_count: 200}
    vm_service_spec: {vm_classes: [best-effort-small], content_libraries: [1f4b1e0c-...]}
    access_list: [{subject: devops, domain: vsphere.local, subject_type: USER, role: EDIT}]
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import namespace_spec as spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import Lookup, rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.engine import Engine, module_result
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.soap import REQUIREMENTS

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["namespace"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    cluster=dict(type="str"),
    description=dict(type="str"),
    storage_policies=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        limit=dict(type="int"))),
    cpu_limit=dict(type="int"),
    memory_limit=dict(type="int"),
    storage_limit=dict(type="int"),
    pod_limit=dict(type="int"),
    vm_classes=dict(type="list", elements="str"),
    content_libraries=dict(type="list", elements="str"),
    access=dict(type="list", elements="dict", options=dict(
        subject=dict(type="str", required=True),
        domain=dict(type="str", default="vsphere.local"),
        subject_type=dict(type="str", choices=["USER", "GROUP"], default="USER"),
        role=dict(type="str", choices=["OWNER", "EDIT", "VIEW"], required=True))),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=120),
)


def resolved_settings(params, lookup):
    """The user's settings with every name turned into vCenter's identifier."""
    settings = dict(description=params["description"], vm_classes=params["vm_classes"], access=params["access"],
                    limits=dict((field, params[option]) for option, field in spec.LIMITS.items()))
    if params["cluster"] is not None:
        settings["cluster"] = lookup.one("cluster", params["cluster"])
    if params["storage_policies"] is not None:
        settings["storage_specs"] = [{"policy": lookup.one("storage policy", policy["name"]), "limit": policy["limit"]}
                                     for policy in params["storage_policies"]]
    if params["content_libraries"] is not None:
        settings["content_libraries"] = lookup.all("content library", params["content_libraries"])
    return settings


def handle(params, run):
    spec.check_settings(params)
    name = params["name"]
    with rest_session(params) as session, Lookup(params) as lookup:
        outcome = Engine(session, run).ensure(
            kinds.NAMESPACE, name, lambda: resolved_settings(params, lookup), state=params["state"],
            check_mode=run.check_mode, wait=params["wait"], wait_timeout=params["wait_timeout"])
    return module_result(run, outcome, "namespace", spec.with_option_names, named=name)


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
