#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm
short_description: Manage a VM Service virtual machine on a vSphere Supervisor
version_added: 0.1.0
description:
  - Creates, changes, powers on, off or suspends, and deletes a C(VirtualMachine)
    (C(vmoperator.vmware.com/v1alpha3)) in a vSphere Namespace through the Supervisor's Kubernetes API.
  - Changes are made with server-side apply under the field manager C(pacific.supervisor); only the
    options given are managed, fields other managers own are left alone.
  - Before creating a VM or changing its class or image, checks that the class is bound to the namespace
    and the image is available there, so that a typo changes nothing.
  - Inline bootstrap data is stored in a Secret C(<name>-bootstrap) next to the VM, deleted with it.
author: pacific.supervisor contributors (@pacific-supervisor)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
  - pacific.supervisor.vm_spec
attributes:
  check_mode:
    support: full
    description: A server-side dry run; the server validates the change without making it.
  diff_mode:
    support: full
    description: Shows the VirtualMachine before and after, without server-managed fields.
options:
  name:
    description: The VirtualMachine's name, a DNS-1123 label.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace the VM lives in.
    type: str
    required: true
  state:
    description: Whether the VM should exist.
    type: str
    choices: [present, absent]
    default: present
  class_name:
    description:
      - The VirtualMachineClass (size) of the VM; it must be bound to the namespace.
      - Changing it resizes the VM.
    type: str
  image_name:
    description:
      - The image to deploy, by VirtualMachineImage or ClusterVirtualMachineImage name (C(vmi-...))
        or by its display name (for example C(ubuntu-22.04)).
    type: str
  storage_class:
    description: The storage class (storage policy) for the VM's disks.
    type: str
  power_state:
    description: The power state the VM should be in.
    type: str
    choices: [PoweredOn, PoweredOff, Suspended]
    default: PoweredOn
  power_off_mode:
    description:
      - How to power the VM off; C(TrySoft) asks the guest to shut down and halts the VM if it does not.
    type: str
    choices: [Hard, Soft, TrySoft]
  suspend_mode:
    description: How to suspend the VM.
    type: str
    choices: [Hard, Soft, TrySoft]
  min_hardware_version:
    description: The minimum virtual hardware version of the VM.
    type: int
  hostname:
    description: The guest's host name.
    type: str
  resource_policy_name:
    description: A VirtualMachineSetResourcePolicy in the namespace that places the VM (resource pool, folder).
    type: str
  labels:
    description: Labels of the VirtualMachine (used by VM services' selectors). Labels set by others are kept.
    type: dict
  annotations:
    description: Annotations of the VirtualMachine. Annotations set by others are kept.
    type: dict
  force_conflicts:
    description:
      - Take over fields another field manager (kubectl, a controller) owns instead of failing.
    type: bool
    default: false
notes:
  - O(wait=true) waits until the VM exists in vCenter in the requested power state and, when powered on,
    reports an IPv4 address.
seealso:
  - module: pacific.supervisor.vm_info
  - module: pacific.supervisor.login
"""

EXAMPLES = r"""
- name: A powered-on VM with cloud-init, waiting for its IP
  pacific.supervisor.vm:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_token }}"
    name: web-1
    namespace: team-a
    class_name: best-effort-small
    image_name: ubuntu-22.04
    storage_class: vsan-default-storage-policy
    labels:
      app: web
    bootstrap:
      cloud_init:
        user_data: |
          #cloud-config
          packages: [nginx]
    wait: true
  register: web

- name: Its address
  ansible.builtin.debug:
    msg: "{{ web.vm.ip }}"

- name: Power it off gracefully
  pacific.supervisor.vm:
    name: web-1
    namespace: team-a
    power_state: PoweredOff
    power_off_mode: TrySoft
    wait: true

- name: Remove it and wait until vCenter has destroyed it
  pacific.supervisor.vm:
    name: web-1
    namespace: team-a
    state: absent
    wait: true
"""

RETURN = r"""
vm:
  description: The VM after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: The VirtualMachine's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    labels:
      description: Its labels.
      type: dict
    class_name:
      description: The VM class of its spec.
      type: str
    image_name:
      description: The image of its spec.
      type: str
    storage_class:
      description: The storage class of its spec.
      type: str
    power_state:
      description: The power state vCenter reports (status), for example C(PoweredOn).
      type: str
    desired_power_state:
      description: The power state of its spec.
      type: str
    ip:
      description: The primary IPv4 address, when powered on and known.
      type: str
    ip6:
      description: The primary IPv6 address, when known.
      type: str
    moref:
      description: The vCenter managed object ID of the VM, for example C(vm-1042).
      type: str
    bios_uuid:
      description: The VM's BIOS UUID.
      type: str
    instance_uuid:
      description: The VM's vCenter instance UUID.
      type: str
    host:
      description:
        - The ESXi host the VM runs on, by its name in vCenter, when reported (VM Operator's C(status.host),
          C(status.nodeName) of v1alpha5).
      type: str
    conditions:
      description: The VM Operator's conditions.
      type: list
      elements: dict
    ready:
      description: Whether the VM is in the requested power state (with an IP when powered on).
      type: bool
    state_message:
      description: Why it is not ready yet, or why it failed.
      type: str
    resource:
      description: The whole VirtualMachine object.
      type: dict
  sample:
    name: web-1
    namespace: team-a
    power_state: PoweredOn
    ip: 10.244.0.12
    moref: vm-1042
    ready: true
diff:
  description:
    - The VirtualMachine before and after, without server-managed fields.
    - A list of two, the VirtualMachine's and its bootstrap Secret's (values redacted), when the VM has
      inline bootstrap data.
  returned: when diff mode is on
  type: raw
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import check_vm_references
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC

MODES = ["Hard", "Soft", "TrySoft"]

ARGUMENT_SPEC = dict(
    class_name=dict(type="str"),
    image_name=dict(type="str"),
    storage_class=dict(type="str"),
    power_state=dict(type="str", choices=["PoweredOn", "PoweredOff", "Suspended"], default="PoweredOn"),
    power_off_mode=dict(type="str", choices=MODES),
    suspend_mode=dict(type="str", choices=MODES),
    min_hardware_version=dict(type="int"),
    hostname=dict(type="str"),
    resource_policy_name=dict(type="str"),
    labels=dict(type="dict"),
    annotations=dict(type="dict"),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)
ARGUMENT_SPEC.update(vm_manifest.VM_SPEC_ARGUMENT_SPEC)


def handle(params, run):
    manifest, secret = vm_manifest.build(params)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    name, namespace = params["name"], params["namespace"]
    if params["state"] == "absent":
        return remove(engine, manifest, run, params)
    before = engine.get(vm_manifest.VIRTUAL_MACHINE, name, namespace)
    check_vm_references(engine, manifest, before)
    # powered off (or on) in vCenter while the spec says otherwise: the same spec again would not
    # make the VM Operator act, an update of the object does
    vm_manifest.converge_power(manifest, before, params["power_state"])
    secret_outcome = None
    if secret is not None:  # first, so that the VM Operator finds it
        secret_outcome = engine.ensure(secret, check_mode=run.check_mode)
    outcome = engine.ensure(manifest, check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"], before=before)
    result = {"changed": outcome["changed"] or bool(secret_outcome and secret_outcome["changed"]),
              "vm": vm_manifest.summarize(outcome["object"])}
    if run.diff:
        result["diff"] = outcome["diff"] if secret_outcome is None else [outcome["diff"], secret_outcome["diff"]]
    return result


def remove(engine, manifest, run, params):
    outcome = engine.ensure(manifest, state="absent", check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"])
    secret = engine.get(vm_manifest.SECRET, vm_manifest.bootstrap_secret_name(params["name"]), params["namespace"])
    changed, diffs = outcome["changed"], [outcome["diff"]]
    if secret is not None and vm_manifest.owned_bootstrap_secret(secret, params["name"]):
        secret_outcome = engine.ensure(secret, state="absent", check_mode=run.check_mode, before=secret)
        changed = changed or secret_outcome["changed"]
        diffs.append(secret_outcome["diff"])
    result = {"changed": changed, "vm": None}
    if run.diff:
        result["diff"] = diffs[0] if len(diffs) == 1 else diffs
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
