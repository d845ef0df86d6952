#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: apply
short_description: Converge a batch of manifests on a vSphere Supervisor in one pass
version_added: 0.1.0
description:
  - Converges many Kubernetes manifests of any kind the Supervisor serves (VirtualMachines, VM services,
    guest clusters, pods, Services, ConfigMaps, ...) at once.
  - Everything is checked before anything is sent (kinds the server knows, names, namespaces, duplicates),
    so bad input changes nothing.
  - Reads the live objects with one LIST per kind and namespace and server-side applies only the manifests
    that drift from them (field manager C(pacific.supervisor)); a batch that is already converged sends no
    write at all.
  - With O(prune_label), objects that carry that label, of the kinds and namespaces of the batch, but are no
    longer in it, are deleted.
  - With O(wait), waits for all objects together (one watch per kind and namespace), each by its kind's
    notion of ready, and fails fast when one fails.
author: pacific.supervisor contributors (@pacific-supervisor)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
attributes:
  check_mode:
    support: full
    description: Drifting objects are applied as a server-side dry run; deletions are dry runs too.
  diff_mode:
    support: full
    description: One before/after pair per object that changes, without server-managed fields.
options:
  definition:
    description:
      - The manifests, as a list of mappings, one mapping, or YAML text with one or more documents.
      - "A C(v1) C(List) (C(kind: List) with C(items)) is unfolded."
      - Mutually exclusive with O(src).
    type: raw
  src:
    description:
      - A manifest file, or a directory whose C(.yml), C(.yaml) and C(.json) files (recursively, in name
        order) hold the manifests. Mutually exclusive with O(definition).
    type: path
  namespace:
    description: The namespace of namespaced manifests that name none.
    type: str
  state:
    description: Whether the objects should exist.
    type: str
    choices: [present, absent]
    default: present
  prune_label:
    description:
      - One label, C(key=value), put on every object of the batch; objects with that label of the same kinds
        and namespaces that the batch no longer holds are deleted. Only with O(state=present).
    type: str
  force_conflicts:
    description: Take over fields another field manager owns instead of failing.
    type: bool
    default: false
seealso:
  - module: pacific.supervisor.vm
  - module: pacific.supervisor.pod
"""

EXAMPLES = r"""
- name: Converge everything under manifests/team-a, pruning what was removed from it
  pacific.supervisor.apply:
    src: manifests/team-a
    namespace: team-a
    prune_label: app.kubernetes.io/part-of=shop
    wait: true

- name: Two VMs and a ConfigMap given inline
  pacific.supervisor.apply:
    namespace: team-a
    definition:
      - apiVersion: vmoperator.vmware.com/v1alpha3
        kind: VirtualMachine
        metadata:
          name: db-1
        spec:
          className: best-effort-small
          imageName: ubuntu-22.04
          storageClass: vsan-default-storage-policy
          powerState: PoweredOn
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: shop-settings
        data:
          mode: production

- name: Remove the same objects
  pacific.supervisor.apply:
    src: manifests/team-a
    namespace: team-a
    state: absent
    wait: true
"""

RETURN = r"""
results:
  description: One entry per object of the batch (and per pruned object), in the batch's order.
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: The object's apiVersion.
      type: str
    kind:
      description: The object's kind.
      type: str
    name:
      description: The object's name.
      type: str
    namespace:
      description: The object's namespace (null for cluster-scoped kinds).
      type: str
    action:
      description:
        - C(created), C(updated), C(unchanged), C(deleted), C(deleting) (already being deleted),
          C(absent) (nothing to delete) or C(pruned).
      type: str
    object:
      description: The object as the server has it (or would, in check mode); Secret values redacted.
      type: dict
diff:
  description:
    - With O(ignore:--diff), one before/after pair per object created, updated, deleted or pruned, in
      the order of RV(results); each is cut to the fields its manifest sets (not the defaults the
      server fills in); a deleted or pruned object is shown as it was. Secret values are redacted.
    - C(before_header) and C(after_header) name the object.
  returned: when diff mode is on
  type: list
  elements: dict
  sample:
    - before: {}
      after: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team-a}, data: {mode: fast}}
      before_header: ConfigMap settings in namespace team-a
      after_header: ConfigMap settings in namespace team-a
summary:
  description: How many objects took each action.
  returned: always
  type: dict
  sample: {"created": 2, "unchanged": 198}
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch, manifests
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC

try:
    import yaml  # noqa: F401  pylint: disable=unused-import
    YAML_IMPORT_ERROR = None
except ImportError as import_error:
    YAML_IMPORT_ERROR = import_error

ARGUMENT_SPEC = dict(
    definition=dict(type="raw"),
    src=dict(type="path"),
    namespace=dict(type="str"),
    prune_label=dict(type="str"),
    force_conflicts=dict(type="bool", default=False),
    **WAIT_ARGUMENT_SPEC
)


def handle(params, run):
    if params["definition"] is None and params["src"] is None:
        raise errors.InvalidArgument("one of definition or src is required")
    if params["prune_label"] and params["state"] == "absent":
        raise errors.InvalidArgument("prune_label only goes with state=present")
    label = batch.parse_label(params["prune_label"]) if params["prune_label"] else None
    loaded = manifests.load(definition=params["definition"], src=params["src"])
    run.conceal(manifests.secret_values(loaded))
    if not loaded:
        raise errors.InvalidArgument("no manifests given")
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    items = batch.prepare(engine, loaded, default_namespace=params["namespace"], label=label)
    changed, results, diffs = batch.converge(engine, items, state=params["state"], check_mode=run.check_mode,
                                             label=label, wait=params["wait"], wait_timeout=params["wait_timeout"])
    summary = {}
    for result in results:
        summary[result["action"]] = summary.get(result["action"], 0) + 1
    outcome = {"changed": changed, "results": results, "summary": summary}
    if run.diff:
        outcome["diff"] = diffs
    return outcome


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, STATE_SPEC), handle,
               requirements=REQUIREMENTS + (("PyYAML", YAML_IMPORT_ERROR),),
               mutually_exclusive=[("definition", "src")])


if __name__ == "__main__":
    main()
