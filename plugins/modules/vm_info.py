#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_info
short_description: List VM Service virtual machines on a vSphere Supervisor
version_added: 0.1.0
description:
  - Lists C(VirtualMachine) objects (C(vmoperator.vmware.com/v1alpha3)) with their power state, IP address,
    vCenter managed object ID and UUIDs, in one request.
author: pacific.supervisor contributors (@pacific-supervisor)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
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
    description: Only the VMs of these names.
    type: list
    elements: str
  labels:
    description: Only the VMs that carry all these labels (equality).
    type: dict
  label_selector:
    description: A Kubernetes label selector, for example C(app=web,tier!=db). Combined with O(labels).
    type: str
seealso:
  - module: pacific.supervisor.vm
"""

EXAMPLES = r"""
- name: The web VMs of team-a
  pacific.supervisor.vm_info:
    namespace: team-a
    labels:
      app: web
  register: web

- name: Their addresses
  ansible.builtin.debug:
    msg: "{{ web.vms | map(attribute='ip') | list }}"
"""

RETURN = r"""
vms:
  description:
    - The matching VMs, sorted by namespace and name, in the shape M(pacific.supervisor.vm) returns as RV(pacific.supervisor.vm#module:vm).
  returned: always
  type: list
  elements: dict
  sample:
    - name: web-1
      namespace: team-a
      power_state: PoweredOn
      ip: 10.244.0.12
      moref: vm-1042
      bios_uuid: 4213a1c6-9a51-1a2b-3c4d-5e6f7a8b9c0d
      instance_uuid: 5013b2d7-0b62-2b3c-4d5e-6f7a8b9c0d1e
      host: esxi-03.example.com
      ready: true
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest, selection
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine

ARGUMENT_SPEC = dict(selection.SELECTION_SPEC)


def handle(params, run):
    selection.check_selection(params)
    found = selection.selected(Engine(connect(params), run=run), vm_manifest.VIRTUAL_MACHINE, params,
                               vm_manifest.summarize)
    return {"changed": False, "vms": found}


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
