#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pod_info
short_description: List native vSphere pods on a vSphere Supervisor
version_added: 0.1.0
description:
  - Lists native vSphere pods (C(v1) C(Pod) objects in vSphere Namespaces) with their phase, ESXi host, IP
    address and container states, in one request.
  - With O(vcenter), also whether each namespace can run vSphere Pods at all (RV(vsphere_pods)). A
    Supervisor on vSphere Distributed Switch (VDS) networking runs only Supervisor Services' pods, so a
    namespace there has none and can have none. A namespace asked for by O(namespace) that cannot is
    also a warning.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.vsphere_pods
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
options:
  namespace:
    description:
      - The vSphere Namespace to list. Every namespace the credentials may read when not set.
      - Without it, a caller who may list across namespaces (an admin) reads them all at once; a namespace
        developer may not, and reads the namespaces of its WCP login one by one (the Supervisor's
        C(/wcp/workloads), as C(kubectl vsphere login) reads them), which needs O(username) and O(password);
        with only a token, leaving O(namespace) out is an error that says so. A namespace listed but refused
        is left out with a warning.
      - A namespace that does not exist is an error. A developer cannot tell it from one it has no access to
        (a Supervisor answers both with 403), and the message says so.
    type: str
  names:
    description: Only the pods of these names.
    type: list
    elements: str
  labels:
    description: Only the pods that carry all these labels (equality).
    type: dict
  label_selector:
    description: A Kubernetes label selector, for example C(app=web,tier!=db). Combined with O(labels).
    type: str
  phase:
    description: Only the pods in this phase.
    type: str
    choices: [Pending, Running, Succeeded, Failed, Unknown]
seealso:
  - module: pacific.supervisor.pod
"""

EXAMPLES = r"""
- name: The failed pods of team-a
  pacific.supervisor.pod_info:
    namespace: team-a
    phase: Failed
  register: failed

- name: Why they failed
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.containers | map(attribute='last_termination_reason') | list }}"
  loop: "{{ failed.pods }}"

- name: Whether team-b can run vSphere Pods at all (vCenter asked as the task's SSO user)
  pacific.supervisor.pod_info:
    namespace: team-b
    vcenter:
      hostname: vcenter.example.com
  register: team_b

- name: Why not, and what to use instead
  ansible.builtin.debug:
    msg: "{{ item.reason }}"
  loop: "{{ team_b.vsphere_pods | rejectattr('available') | list }}"
"""

RETURN = r"""
pods:
  description:
    - The matching pods, sorted by namespace and name, in the shape M(pacific.supervisor.pod) returns as RV(pacific.supervisor.pod#module:pod).
  returned: always
  type: list
  elements: dict
  sample:
    - name: echo
      namespace: team-a
      phase: Running
      node: esxi-01.example.com
      pod_ip: 10.244.1.5
      containers:
        - name: echo
          state: running
          ready: true
          restart_count: 0
      ready: true
vsphere_pods:
  description:
    - For each vSphere Namespace (O(namespace), else every one vCenter lists), sorted by name, whether its
      Supervisor runs vSphere Pods of users, from vCenter's facts.
  returned: when O(vcenter) is given
  type: list
  elements: dict
  contains:
    available:
      description: Whether pods can run there (false on a Supervisor with VDS networking).
      type: bool
    network_provider:
      description: The Supervisor's C(network_provider), for example C(NSXT_CONTAINER_PLUGIN) or C(VSPHERE_NETWORK).
      type: str
    networking:
      description: The same in words.
      type: str
    cluster:
      description: The vSphere cluster of the namespace's Supervisor.
      type: str
    namespace:
      description: The namespace.
      type: str
    reason:
      description: Why pods cannot run there and what to use instead; null where they can.
      type: str
  sample:
    - available: false
      network_provider: VSPHERE_NETWORK
      networking: vSphere Distributed Switch (VDS) networking
      cluster: domain-c61
      namespace: team-b
      reason: "vSphere Pods are not available in vSphere Namespace team-b: ..."
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import pod_manifest, selection
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import (
    VCENTER_LOOKUP_SPEC, vsphere_pod_support)

ARGUMENT_SPEC = dict(selection.SELECTION_SPEC,
                     phase=dict(type="str", choices=["Pending", "Running", "Succeeded", "Failed", "Unknown"]),
                     **VCENTER_LOOKUP_SPEC)


def handle(params, run):
    selection.check_selection(params)
    phase = params.get("phase")
    found = selection.selected(Engine(connect(params), run=run), pod_manifest.POD, params, pod_manifest.summarize,
                               field_selector="status.phase=" + phase if phase else None)
    result = {"changed": False, "pods": found}
    if params.get("vcenter"):
        result["vsphere_pods"] = _vsphere_pods(params, run)
    return result


def _vsphere_pods(params, run):
    namespace = params.get("namespace")
    if namespace is None:
        every = vsphere_pod_support(params)
        return [every[name] for name in sorted(every)]
    support = vsphere_pod_support(params, namespace)
    if support is None:
        return []
    if not support["available"]:
        run.warn(support["reason"])
    return [support]


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
