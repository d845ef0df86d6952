#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_cluster
short_description: Manage a set of identical VM Service virtual machines on a vSphere Supervisor
version_added: 0.1.0
description:
  - Keeps O(replicas) C(VirtualMachine)s (C(vmoperator.vmware.com/v1alpha3)) of one spec in a vSphere Namespace,
    named C(<name>-0), C(<name>-1), ..., and labelled C(vm-cluster.pacific.supervisor/name=<name>).
  - Places them with a C(VirtualMachineSetResourcePolicy) named after the cluster, which gives them a resource
    pool and a folder of their own in vCenter.
  - Scaling up adds the missing ordinals; scaling down deletes the highest ordinals first. Finding the members
    takes one LIST; each member is then converged with server-side apply like M(pacific.supervisor.vm) does.
  - Before anything is made, checks that the namespace exists, the class is bound to it and the image is
    available there, so that bad input changes nothing.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
  - pacific.supervisor.vm_spec
attributes:
  check_mode:
    support: full
    description: Server-side dry runs of every change; nothing is made or deleted.
  diff_mode:
    support: full
    description: Shows the resource policy and every member before and after, without server-managed fields.
options:
  name:
    description: The cluster's name, a DNS-1123 label; its VMs are C(<name>-<ordinal>).
    type: str
    required: true
  namespace:
    description: The vSphere Namespace of the cluster.
    type: str
    required: true
  state:
    description: Whether the cluster should exist. C(absent) deletes every member and the resource policy.
    type: str
    choices: [present, absent]
    default: present
  replicas:
    description: How many VMs the cluster has (0 to 1000). Required with O(state=present).
    type: int
  class_name:
    description: The VirtualMachineClass of every VM; it must be bound to the namespace. Changing it resizes them all.
    type: str
  image_name:
    description: The image of every VM, by VirtualMachineImage name or display name.
    type: str
  storage_class:
    description: The storage class for the VMs' disks.
    type: str
  power_state:
    description: The power state every VM should be in.
    type: str
    choices: [PoweredOn, PoweredOff, Suspended]
    default: PoweredOn
  power_off_mode:
    description: How to power the VMs off.
    type: str
    choices: [Hard, Soft, TrySoft]
  min_hardware_version:
    description: The minimum virtual hardware version of the VMs.
    type: int
  labels:
    description: Labels of every VM, besides the cluster's own (used by VM services' selectors).
    type: dict
  annotations:
    description: Annotations of every VM.
    type: dict
  resource_pool:
    description: The name of the cluster's child resource pool; the cluster's name when not set.
    type: str
  folder:
    description: The name of the cluster's child VM folder; the cluster's name when not set.
    type: str
  reservations:
    description: CPU and memory reserved for the resource pool, for example C(cpu=2000m) and C(memory=4Gi).
    type: dict
  limits:
    description: CPU and memory limits of the resource pool.
    type: dict
  force_conflicts:
    description: Take over fields another field manager owns instead of failing.
    type: bool
    default: false
notes:
  - O(network_interfaces), O(bootstrap) and O(volumes) are those of M(pacific.supervisor.vm), given to every
    replica. Inline bootstrap data goes into one Secret, C(<name>-bootstrap), that every replica names; it is
    deleted with the cluster. Every replica attaches the same PersistentVolumeClaims, so claims that more
    than one replica attaches must allow that (C(ReadWriteMany) or O(volumes[].read_only)).
  - O(wait=true) waits until every replica is in the requested power state (with an IPv4 address when powered on)
    and every removed VM is gone; O(wait_timeout) bounds the whole wait.
seealso:
  - module: pacific.supervisor.vm
  - module: pacific.supervisor.vm_service
"""

EXAMPLES = r"""
- name: Three web servers, waiting until all have an address
  pacific.supervisor.vm_cluster:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_token }}"
    name: web
    namespace: team-a
    replicas: 3
    class_name: best-effort-small
    image_name: ubuntu-22.04
    storage_class: vsan-default-storage-policy
    labels:
      app: web
    wait: true
  register: web

- name: Their addresses
  ansible.builtin.debug:
    msg: "{{ web.vm_cluster.vms | map(attribute='ip') | list }}"

- name: Scale down to two (web-2 goes)
  pacific.supervisor.vm_cluster:
    name: web
    namespace: team-a
    replicas: 2
    class_name: best-effort-small
    image_name: ubuntu-22.04
    storage_class: vsan-default-storage-policy
    labels:
      app: web
    wait: true
"""

RETURN = r"""
vm_cluster:
  description: The cluster after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: The cluster's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    replicas:
      description: The replicas asked for.
      type: int
    ready_replicas:
      description: How many of its VMs are ready.
      type: int
    resource_policy:
      description: The name of its VirtualMachineSetResourcePolicy.
      type: str
    vms:
      description: Its VMs in ordinal order, in the shape M(pacific.supervisor.vm) returns as RV(pacific.supervisor.vm#module:vm).
      type: list
      elements: dict
  sample:
    name: web
    namespace: team-a
    replicas: 2
    ready_replicas: 2
    resource_policy: web
    vms:
      - {name: web-0, ip: 10.244.0.12, power_state: PoweredOn, ready: true}
      - {name: web-1, ip: 10.244.0.13, power_state: PoweredOn, ready: true}
bootstrap_secret:
  description: The name of the Secret with the replicas' inline bootstrap data, when O(bootstrap) has inline data.
  returned: when O(state=present) and O(bootstrap) has inline data
  type: str
  sample: web-bootstrap
created:
  description: The VMs this run created (would create, in check mode).
  returned: always
  type: list
  elements: str
deleted:
  description: The VMs this run deleted (would delete, in check mode), highest ordinal first.
  returned: always
  type: list
  elements: str
diff:
  description:
    - The resource policy and the members before and after, without server-managed fields (with O(ignore:--diff)).
  returned: when diff mode is on
  type: dict
"""

import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_cluster_manifest as clusters
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import (
    check_vm_references, namespace_exists)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.vm_manifest import (
    SECRET, VM_SPEC_ARGUMENT_SPEC)

MODES = ["Hard", "Soft", "TrySoft"]

ARGUMENT_SPEC = dict(
    replicas=dict(type="int"),
    class_name=dict(type="str"),
    image_name=dict(type="str"),
    storage_class=dict(type="str"),
    power_state=dict(type="str", choices=["PoweredOn", "PoweredOff", "Suspended"], default="PoweredOn"),
    power_off_mode=dict(type="str", choices=MODES),
    min_hardware_version=dict(type="int"),
    labels=dict(type="dict"),
    annotations=dict(type="dict"),
    resource_pool=dict(type="str"),
    folder=dict(type="str"),
    reservations=dict(type="dict"),
    limits=dict(type="dict"),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)
ARGUMENT_SPEC.update(VM_SPEC_ARGUMENT_SPEC)


class Reconcile(object):
    """One pass over a VM cluster: what it found, what it changed, and the diff of both."""

    def __init__(self, engine, params, run):
        self.engine = engine
        self.params = params
        self.run = run
        self.name, self.namespace = params["name"], params["namespace"]
        self.changed = False
        self.created, self.deleted = [], []
        self.before, self.after = {}, {}
        self.deadline = time.monotonic() + params["wait_timeout"]

    def members(self):
        """The cluster's VMs, ``{name: object}``, from one LIST by label. In a namespace these
        credentials cannot see into, none: removing is done, a check run shows what it would
        make, a real run fails (``namespace_exists``)."""
        try:
            items, _version = self.engine.list(clusters.VIRTUAL_MACHINE, self.namespace,
                                               label_selector="{0}={1}".format(clusters.CLUSTER_LABEL, self.name))
        except errors.NamespaceUnreachable as err:
            if self.params["state"] == "present" and not self.run.check_mode:
                raise
            self.engine.warn_hidden(self.namespace)
            return {}
        return dict((item["metadata"]["name"], item) for item in items)

    def converge(self, manifest, before, state="present", key=None):
        outcome = self.engine.ensure(manifest, state=state, check_mode=self.run.check_mode, before=before)
        self.changed = self.changed or outcome["changed"]
        key = key or manifest["metadata"]["name"]
        if outcome["diff"]["before"]:
            self.before[key] = outcome["diff"]["before"]
        if outcome["diff"]["after"]:
            self.after[key] = outcome["diff"]["after"]
        return outcome

    def remaining(self):
        return max(1, self.deadline - time.monotonic())

    def wait_gone(self, resource, names):
        if self.params["wait"] and not self.run.check_mode:
            for name in names:
                self.engine.wait_absent(resource, name, self.namespace, timeout=self.remaining())

    def result(self, summary):
        result = {"changed": self.changed, "vm_cluster": summary, "created": self.created, "deleted": self.deleted}
        if self.run.diff:
            result["diff"] = {"before": self.before, "after": self.after}
        return result


def handle(params, run):
    clusters.check(params)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    reconcile = Reconcile(engine, params, run)
    existing = reconcile.members()
    policy_before = engine.get(clusters.RESOURCE_POLICY, params["name"], params["namespace"])
    if params["state"] == "absent":
        return remove(reconcile, existing, policy_before)
    return present(reconcile, existing, policy_before)


def present(reconcile, existing, policy_before):
    engine, params, run = reconcile.engine, reconcile.params, reconcile.run
    name, namespace = reconcile.name, reconcile.namespace
    keep, remove_names = clusters.plan(name, params["replicas"], existing)
    # validate everything before changing anything
    manifests = [clusters.member(params, ordinal) for ordinal in range(params["replicas"])]
    secret = clusters.bootstrap_secret(params)
    policy = clusters.resource_policy(params)
    if not existing and policy_before is None:
        namespace_exists(engine, namespace)
    if manifests:
        # a member's current class and image, so that an unchanged spec needs no lookups
        current = existing.get(keep[0]) or next(iter(existing.values()), None)
        check_vm_references(engine, manifests[0], current)

    policy_after = reconcile.converge(policy, policy_before, key="resource_policy")["object"]
    if secret is not None:  # before the members, so that the VM Operator finds it
        reconcile.converge(secret, engine.get(SECRET, secret["metadata"]["name"], namespace), key="bootstrap_secret")
    after = {}
    for manifest in manifests:
        vm_name = manifest["metadata"]["name"]
        # a member powered off (or on) in vCenter: an update of it makes the VM Operator act
        vm_manifest.converge_power(manifest, existing.get(vm_name), params["power_state"])
        outcome = reconcile.converge(manifest, existing.get(vm_name))
        if vm_name not in existing:
            reconcile.created.append(vm_name)
        after[vm_name] = outcome["object"]
    for vm_name in remove_names:  # highest ordinal first
        reconcile.converge(existing[vm_name], existing[vm_name], state="absent")
        reconcile.deleted.append(vm_name)
    if params["wait"] and not run.check_mode:
        for vm_name in keep:
            after[vm_name] = engine.wait_ready(clusters.VIRTUAL_MACHINE, vm_name, namespace,
                                               timeout=reconcile.remaining())
        reconcile.wait_gone(clusters.VIRTUAL_MACHINE, remove_names)
    summary = clusters.summarize(name, namespace, params["replicas"], [after[n] for n in keep], policy_after)
    result = reconcile.result(summary)
    if secret is not None:
        result["bootstrap_secret"] = secret["metadata"]["name"]
    return result


def remove(reconcile, existing, policy_before):
    _keep, remove_names = clusters.plan(reconcile.name, 0, existing)
    for vm_name in remove_names:  # highest ordinal first
        reconcile.converge(existing[vm_name], existing[vm_name], state="absent")
        reconcile.deleted.append(vm_name)
    reconcile.wait_gone(clusters.VIRTUAL_MACHINE, remove_names)
    if policy_before is not None:
        reconcile.converge(policy_before, policy_before, state="absent", key="resource_policy")
        reconcile.wait_gone(clusters.RESOURCE_POLICY, [reconcile.name])
    secret = reconcile.engine.get(SECRET, clusters.bootstrap_secret_name(reconcile.name), reconcile.namespace)
    if secret is not None and clusters.owned_bootstrap_secret(secret, reconcile.name):
        reconcile.converge(secret, secret, state="absent", key="bootstrap_secret")
    return reconcile.result(None)


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               required_if=[("state", "present", ["replicas", "class_name", "image_name"])],
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
