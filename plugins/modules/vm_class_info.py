#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_class_info
short_description: List the Supervisor's VM classes
version_added: 0.1.0
description:
  - Reads VM classes through vCenter's namespace-management API, with the namespaces each is bound to.
author:
  - pacific.supervisor contributors (@pacific)
options:
  name:
    description:
      - Only the class with this identifier. Without it, every class.
      - A class that does not exist gives an empty list, not a failure.
    type: str
    aliases: [id]
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing changes.
"""

EXAMPLES = r"""
- name: Every VM class
  pacific.supervisor.vm_class_info:
  register: classes

- name: Is best-effort-small there?
  pacific.supervisor.vm_class_info:
    name: best-effort-small
  register: small

- name: Say which namespaces use it
  ansible.builtin.debug:
    msg: "{{ small.vm_classes[0].namespaces | default([]) }}"
"""

RETURN = r"""
vm_classes:
  description:
    - The VM classes, sorted by identifier, as vCenter reports them.
    - Memory is C(memory_mb), as M(pacific.supervisor.vm_class) names the option, and the devices of
      its O(pacific.supervisor.vm_class#module:devices.dynamic_direct_path_io_devices) are under that
      name; the API's own names C(memory_MB) and C(devices.dynamic_direct_path_IO_devices) are
      returned too, deprecated, and will be removed in 0.3.0.
  returned: always
  type: list
  elements: dict
  sample:
    - id: best-effort-small
      cpu_count: 2
      memory_mb: 4096
      memory_MB: 4096
      cpu_reservation: 0
      memory_reservation: 0
      description: ""
      devices: {}
      config_status: READY
      namespaces: [team-a]
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import vm_class_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import VmClasses

ARGUMENT_SPEC = dict(name=dict(type="str", aliases=["id"]))


def handle(params, run):
    with rest_session(params) as session:
        classes = VmClasses(session).list()
    if params["name"] is not None:
        classes = [found for found in classes if found.get("id") == params["name"]]
    return {"changed": False, "vm_classes": [vm_class_spec.with_option_names(found) for found in
                                             sorted(classes, key=lambda found: found.get("id", ""))]}


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle)


if __name__ == "__main__":
    main()
