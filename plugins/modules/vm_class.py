#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_class
short_description: Create, update or delete a VM class of the Supervisor
version_added: 0.1.0
description:
  - Manages a VM class through vCenter's namespace-management API. A VM class is the size of the
    VMs (CPU count, memory, reservations, devices) that VM Operator makes in the vSphere Namespaces
    it is bound to (see M(pacific.supervisor.namespace), O(pacific.supervisor.namespace#module:vm_classes)).
  - Only the options given are managed; an existing class is changed with one PATCH of the fields
    that differ.
author:
  - pacific.supervisor contributors (@pacific)
options:
  name:
    description:
      - The identifier of the VM class, for example V(best-effort-small). Lower-case letters,
        digits and C(-), at most 63 characters.
    type: str
    required: true
    aliases: [id]
  state:
    description:
      - V(present) creates or updates the class, V(absent) deletes it.
      - A class still bound to a namespace cannot be deleted; unbind it there first.
    type: str
    choices: [present, absent]
    default: present
  cpu_count:
    description: Number of virtual CPUs. Required to create a class.
    type: int
  memory_mb:
    description: Memory in MiB. Required to create a class.
    type: int
  cpu_reservation:
    description: Percentage (0 to 100) of the CPU that is reserved.
    type: int
  memory_reservation:
    description: Percentage (0 to 100) of the memory that is reserved.
    type: int
  description:
    description: A description of the class.
    type: str
  devices:
    description:
      - Devices the VMs of this class get; given, they replace all devices of the class.
    type: dict
    suboptions:
      vgpu_devices:
        description: NVIDIA vGPU devices, one per entry.
        type: list
        elements: dict
        suboptions:
          profile_name:
            description: The vGPU profile, for example V(grid_p40-2q).
            type: str
            required: true
      dynamic_direct_path_io_devices:
        description: Dynamic DirectPath I/O (PCI passthrough) devices, one per entry.
        type: list
        elements: dict
        suboptions:
          vendor_id:
            description: The PCI vendor identifier.
            type: int
            required: true
          device_id:
            description: The PCI device identifier.
            type: int
            required: true
          custom_label:
            description: The device's custom label.
            type: str
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Computes the change; sends nothing.
  diff_mode:
    support: full
    description: Shows the class's fields before and after.
"""

EXAMPLES = r"""
- name: A small class with half its memory reserved
  pacific.supervisor.vm_class:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    name: guaranteed-small
    cpu_count: 2
    memory_mb: 4096
    memory_reservation: 50
    description: 2 vCPU, 4 GiB, half reserved

- name: A class with a vGPU
  pacific.supervisor.vm_class:
    name: gpu-large
    cpu_count: 8
    memory_mb: 65536
    memory_reservation: 100
    devices:
      vgpu_devices:
        - profile_name: grid_p40-8q

- name: Delete a class no namespace uses any more
  pacific.supervisor.vm_class:
    name: guaranteed-small
    state: absent
"""

RETURN = r"""
vm_class:
  description:
    - The class as vCenter reports it after the change (in check mode, as it would be).
    - Memory is C(memory_mb), as the option is named, and the devices of O(devices.dynamic_direct_path_io_devices)
      are under that name; the API's own names C(memory_MB) and C(devices.dynamic_direct_path_IO_devices)
      are returned too, deprecated, and will be removed in 0.3.0.
    - Empty after a deletion.
  returned: always
  type: dict
  sample:
    id: guaranteed-small
    cpu_count: 2
    memory_mb: 4096
    memory_MB: 4096
    cpu_reservation: 0
    memory_reservation: 50
    description: 2 vCPU, 4 GiB, half reserved
    devices: {}
    namespaces: [team-a]
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import vm_class_spec as spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.engine import Engine, module_result

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["id"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    cpu_count=dict(type="int"),
    memory_mb=dict(type="int"),
    cpu_reservation=dict(type="int"),
    memory_reservation=dict(type="int"),
    description=dict(type="str"),
    devices=dict(type="dict", options=dict(
        vgpu_devices=dict(type="list", elements="dict", options=dict(
            profile_name=dict(type="str", required=True))),
        dynamic_direct_path_io_devices=dict(type="list", elements="dict", options=dict(
            vendor_id=dict(type="int", required=True),
            device_id=dict(type="int", required=True),
            custom_label=dict(type="str"))),
    )),
)


def handle(params, run):
    spec.check_settings(params)
    with rest_session(params) as session:
        outcome = Engine(session, run).ensure(kinds.VM_CLASS, params["name"], params, state=params["state"],
                                              check_mode=run.check_mode)
    return module_result(run, outcome, "vm_class", spec.with_option_names)


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle)


if __name__ == "__main__":
    main()
