# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacific.supervisor.vcenter_events: vCenter events with a durable checkpoint, for ansible-rulebook.

A thin adapter: the collector and the checkpoint live in ``plugins/module_utils/_vcenter/events.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: vCenter events from an EventHistoryCollector, each once, across restarts.
description:
  - An ansible-rulebook event source that reads vCenter's events (for example
    C(VmPoweredOffEvent), or an C(EventEx) or C(ExtendedEvent) by its event type id) through an
    EventHistoryCollector, filtered by event type and entity.
  - With O(checkpoint_file), the key and time of the last event handed to the rulebook are kept
    in that file (replaced atomically after each event), so a restarted activation reads on from
    there - no event lost, none repeated. Without one, or on the first start, reading begins
    after the newest event; history is not replayed.
  - Bad arguments, an unknown entity or refused credentials fail the activation at start, with
    one message. A lost connection or session is re-established with a capped exponential delay.
  - 'Once its collector is placed, the source logs (at INFO, shown by C(ansible-rulebook -v)) a
    line that begins with C(pacific.supervisor.vcenter_events ready): from then on every new
    event is read.'
  - 'Every event has the keys C(key), C(chain_id), C(event_type) (the class, such as
    C(VmPoweredOffEvent) or C(EventEx)), C(event_type_id) (the id of an EventEx or ExtendedEvent,
    else the class), C(created_time) (ISO 8601), C(user_name), C(message), C(severity),
    C(datacenter), C(compute_resource), C(host), C(vm), C(datastore) (each C({name, moref}) or
    null), C(entity) (C({type, moref, name}) of an EventEx or ExtendedEvent) and C(arguments)
    (their key/value pairs).'
options:
  hostname:
    description:
      - The vCenter server. Needed, from the arguments or the environment.
      - 'Where the connection comes from, as for the modules: when the arguments name any of
        O(hostname), O(port), O(username) and O(password), only what they name is used; when they
        name none, all come from the environment - E(VMWARE_HOST) (or E(VMWARE_SERVER)),
        E(VMWARE_PORT), E(VMWARE_USER) (or E(VMWARE_USERNAME)), E(VMWARE_PASSWORD),
        E(VMWARE_VALIDATE_CERTS), E(VMWARE_CA_CERT).'
    type: str
  port:
    description:
      - The vCenter port; V(443) when not set.
    type: int
  username:
    description:
      - The vCenter user. Needed, from the arguments or the environment.
    type: str
  password:
    description:
      - The password of O(username). Needed, from the arguments or the environment.
    type: str
  validate_certs:
    description:
      - Whether to verify vCenter's certificate; V(true) when not set. When the connection comes
        from the environment, this still wins over E(VMWARE_VALIDATE_CERTS).
    type: bool
  ca_cert:
    description:
      - A PEM file of the CA that signed vCenter's certificate. When the connection comes from the
        environment, this still wins over E(VMWARE_CA_CERT).
    type: path
  checkpoint_file:
    description:
      - A file that keeps the last event handed over, so that a restart neither loses nor repeats
        events. Its directory must be writable. Remove the file to start again from the newest event.
    type: path
  event_types:
    description:
      - Only these event types - class names such as C(VmPoweredOffEvent), or the event type ids
        of EventEx and ExtendedEvent events such as C(com.vmware.vc.HA.ClusterFailoverActionCompletedEvent).
      - All events when not set.
    type: list
    elements: str
  entity:
    description:
      - Only events about this entity (and, by O(entity.recursion), what it contains).
    type: dict
    suboptions:
      type:
        description: The managed object type.
        type: str
        required: true
        choices: [VirtualMachine, HostSystem, ClusterComputeResource, ComputeResource, ResourcePool,
                  Datacenter, Folder, Datastore, Network]
      name:
        description: The entity's name (the first one found of that type).
        type: str
      moref:
        description: The entity's managed object id, such as C(vm-42); instead of O(entity.name).
        type: str
      recursion:
        description: The entity itself, its children, or all below it.
        type: str
        choices: [all, children, self]
        default: all
  poll_interval:
    description:
      - Seconds between two reads of the collector when there was nothing new.
    type: float
    default: 1
  page_size:
    description:
      - Events read at most per call (1 to 1000).
    type: int
    default: 100
  reconnect_max_delay:
    description:
      - The longest wait, in seconds, between two reconnect attempts.
    type: float
    default: 30
notes:
  - Delivery is exactly once across a clean stop and start; if the process dies between handing
    an event over and writing the checkpoint, that one event comes again.
requirements:
  - pyvmomi
"""

EXAMPLES = r"""
- name: React to vCenter
  hosts: localhost
  sources:
    - name: vcenter
      pacific.supervisor.vcenter_events:
        hostname: vcenter.example.com
        username: eda@vsphere.local
        password: "{{ vcenter_password }}"
        checkpoint_file: /var/lib/eda/vcenter.checkpoint
        event_types: [VmPoweredOffEvent, com.vmware.vc.vm.VmStateFailedToRevertToSnapshot]
        entity:
          type: ClusterComputeResource
          name: Cluster-1
  rules:
    - name: A VM was powered off
      condition: event.event_type == "VmPoweredOffEvent"
      action:
        debug:
          msg: "{{ event.vm.name }} powered off by {{ event.user_name }}"
"""

import os
import runpy

# _collection.py, next to this file, is the one place that explains and solves how a source
# that ansible-rulebook runs with runpy imports this collection's module_utils
HERE = os.path.dirname(os.path.abspath(__file__))
events = runpy.run_path(os.path.join(HERE, "_collection.py"))["import_module"](
    HERE, "plugins.module_utils._vcenter.events")


async def main(queue, args):
    """ansible-rulebook's entry point: put vCenter events onto ``queue`` until cancelled."""
    await events.run(queue, args)
