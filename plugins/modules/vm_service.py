#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_service
short_description: Manage a VM Service load balancer or cluster IP in front of VMs on a vSphere Supervisor
version_added: 0.1.0
description:
  - Creates, changes and deletes a C(VirtualMachineService) (C(vmoperator.vmware.com/v1alpha3)), a
    C(LoadBalancer) or C(ClusterIP) service in front of the VMs of a vSphere Namespace its selector picks.
  - Changes are made with server-side apply under the field manager C(pacific.supervisor).
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
attributes:
  check_mode:
    support: full
    description: A server-side dry run; the server validates the change without making it.
  diff_mode:
    support: full
    description: Shows the VirtualMachineService before and after, without server-managed fields.
options:
  name:
    description: The service's name, a DNS-1123 label.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace of the service and its VMs.
    type: str
    required: true
  state:
    description: Whether the service should exist.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: C(LoadBalancer) gets an external address; C(ClusterIP) is reachable inside the Supervisor only.
    type: str
    choices: [LoadBalancer, ClusterIP]
    default: ClusterIP
  selector:
    description: The labels of the VMs the service sends traffic to (all must match). Required with O(state=present).
    type: dict
  ports:
    description: The ports the service offers. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      port:
        description: The port the service listens on.
        type: int
        required: true
      target_port:
        description: The port on the VMs; O(ports[].port) when not set.
        type: int
      name:
        description: The port's name, a DNS-1123 label; C(port-<port>) when not set.
        type: str
      protocol:
        description: The protocol.
        type: str
        choices: [TCP, UDP, SCTP]
        default: TCP
  load_balancer_ip:
    description: A specific external address to ask the load balancer for (O(type=LoadBalancer) only).
    type: str
  load_balancer_source_ranges:
    description: Client CIDRs the load balancer lets in (O(type=LoadBalancer) only).
    type: list
    elements: str
  labels:
    description: Labels of the VirtualMachineService.
    type: dict
  annotations:
    description: Annotations of the VirtualMachineService.
    type: dict
  force_conflicts:
    description: Take over fields another field manager owns instead of failing.
    type: bool
    default: false
notes:
  - O(wait=true) waits until a C(LoadBalancer) service has an external address; a C(ClusterIP) service is
    ready once it exists.
seealso:
  - module: pacific.supervisor.vm
  - module: pacific.supervisor.vm_cluster
"""

EXAMPLES = r"""
- name: A load balancer in front of the web VMs, waiting for its address
  pacific.supervisor.vm_service:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_token }}"
    name: web
    namespace: team-a
    type: LoadBalancer
    selector:
      app: web
    ports:
      - {name: http, port: 80, target_port: 8080}
    wait: true
  register: web_lb

- name: Its address
  ansible.builtin.debug:
    msg: "http://{{ web_lb.vm_service.address }}/"
"""

RETURN = r"""
vm_service:
  description: The service after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    type:
      description: C(LoadBalancer) or C(ClusterIP).
      type: str
    selector:
      description: The labels of the VMs it serves.
      type: dict
    ports:
      description: Its ports, as the VirtualMachineService has them (C(name), C(port), C(targetPort), C(protocol)).
      type: list
      elements: dict
    address:
      description: The external address of a C(LoadBalancer) service, once it has one.
      type: str
    ready:
      description: Whether it is usable (a C(LoadBalancer) with an address, or any C(ClusterIP)).
      type: bool
    state_message:
      description: What it is waiting for.
      type: str
    resource:
      description: The whole VirtualMachineService object.
      type: dict
  sample:
    name: web
    namespace: team-a
    type: LoadBalancer
    selector: {app: web}
    address: 10.245.3.17
    ready: true
diff:
  description: The VirtualMachineService before and after, without server-managed fields (with O(ignore:--diff)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_service_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC

ARGUMENT_SPEC = dict(
    type=dict(type="str", choices=list(vm_service_manifest.TYPES), default="ClusterIP"),
    selector=dict(type="dict"),
    ports=dict(type="list", elements="dict", options=dict(
        port=dict(type="int", required=True),
        target_port=dict(type="int"),
        name=dict(type="str"),
        protocol=dict(type="str", choices=list(vm_service_manifest.PROTOCOLS), default="TCP"),
    )),
    load_balancer_ip=dict(type="str"),
    load_balancer_source_ranges=dict(type="list", elements="str"),
    labels=dict(type="dict"),
    annotations=dict(type="dict"),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)


def handle(params, run):
    manifest = vm_service_manifest.build(params)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    before = engine.get(vm_service_manifest.VIRTUAL_MACHINE_SERVICE, params["name"], params["namespace"])
    if params["state"] == "present" and before is None:
        namespace_exists(engine, params["namespace"])
    outcome = engine.ensure(manifest, state=params["state"], check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"], before=before)
    result = {"changed": outcome["changed"], "vm_service": vm_service_manifest.summarize(outcome["object"])}
    if run.diff:
        result["diff"] = outcome["diff"]
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               required_if=[("state", "present", ["selector", "ports"])],
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
