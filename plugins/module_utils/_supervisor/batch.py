# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge many manifests in one pass: what ``apply`` does.

1. Check everything first (kinds known to the server, names, namespaces, duplicates): bad
   input fails before anything is sent.
2. One LIST per kind and namespace; ``drift.drifts`` tells from it which objects need an apply.
3. Server-side apply only those: all as a dry run first (the server's own validation of the
   whole batch), then for real unless in check mode; deletes for ``absent``.
4. Prune: objects carrying the batch's label, of the kinds in the batch, that the batch no
   longer names, are deleted.
5. Wait for all of them at once: one watch per kind and namespace, not one per object.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import threading
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import drift, waiter
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import (
    diff_of, is_changed, redact, reporting_change)


class Item(object):
    """One manifest of the batch with what the batch learns of it."""

    __slots__ = ("desired", "origin", "resource", "name", "namespace", "before", "after", "action")

    def __init__(self, desired, origin, resource):
        self.desired = desired
        self.origin = origin
        self.resource = resource
        self.name = desired["metadata"]["name"]
        self.namespace = desired["metadata"].get("namespace")
        self.before = None
        self.after = None
        self.action = None

    @property
    def group(self):
        return (self.resource.api_version, self.resource.kind, self.namespace)

    def summary(self):
        return {"api_version": self.resource.api_version, "kind": self.resource.kind, "name": self.name,
                "namespace": self.namespace, "action": self.action}


def parse_label(label):
    """``key=value`` -> (key, value); the prune label must be one exact label."""
    key, sep, value = (label or "").partition("=")
    if not sep or not key or "," in label or "!" in key:
        raise errors.InvalidArgument("prune_label must be one label as key=value, not {0!r}".format(label))
    return key.strip(), value.strip()


def prepare(engine, loaded, default_namespace=None, label=None):
    """Items from ``[(manifest, origin)]``, every one checked; None of them sent yet."""
    items, seen = [], {}
    for manifest, origin in loaded:
        desired = copy.deepcopy(manifest)
        metadata = desired.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise errors.InvalidArgument("{0}: metadata must be a mapping".format(origin))
        try:
            resource = engine.resource(desired.get("apiVersion"), desired.get("kind"))
            if resource.namespaced and not metadata.get("namespace"):
                if not default_namespace:
                    raise errors.InvalidArgument("{0} {1} has no namespace; set namespace".format(
                        resource.kind, metadata.get("name")))
                metadata["namespace"] = default_namespace
            engine.resource_of(desired)
        except errors.PacificError as err:
            raise err.prefixed(origin)
        if label is not None:
            metadata.setdefault("labels", {})[label[0]] = label[1]
        item = Item(desired, origin, resource)
        identity = item.group + (item.name,)
        if identity in seen:
            raise errors.InvalidArgument("{0} and {1} both define {2}".format(
                seen[identity], origin, resource.describe(item.name, item.namespace)))
        seen[identity] = origin
        items.append(item)
    return items


def _groups(items):
    grouped = {}
    for item in items:
        grouped.setdefault(item.group, []).append(item)
    return grouped


def _listed(engine, resource, namespace, label_selector=None):
    """``{name: object}`` of one LIST, each with apiVersion and kind (LISTs leave them out)."""
    objects = engine.list(resource, namespace, label_selector=label_selector)[0]
    for obj in objects:
        obj.setdefault("apiVersion", resource.api_version)
        obj.setdefault("kind", resource.kind)
    return dict(((obj.get("metadata") or {}).get("name"), obj) for obj in objects)


def read_live(engine, items, state="present"):
    """Fill ``before`` of every item from one LIST per kind and namespace. A namespace these
    credentials cannot see into holds nothing of theirs: done for ``absent``, what would be made
    for a check run, an error for a real one."""
    for group_items in _groups(items).values():
        first = group_items[0]
        try:
            live = _listed(engine, first.resource, first.namespace)
        except errors.NamespaceUnreachable:
            if state == "present" and not engine.check_mode:
                raise
            engine.warn_hidden(first.namespace)
            if state == "present":
                engine.warn("check mode shows what would be made in namespace {0}, not checked by the server".format(
                    first.namespace))
            live = {}
        for item in group_items:
            item.before = live.get(item.name)


def _diff_pair(item, after):
    pair = diff_of(item.before, after, None if after is None else item.desired)
    header = item.resource.describe(item.name, item.namespace)
    pair.update(before_header=header, after_header=header)
    return pair


def _record(engine, item, after):
    """A real write changed ``item``: a failure later in the batch still reports it."""
    engine.changes.record(item.resource.describe(item.name, item.namespace), _diff_pair(item, after))


def converge_present(engine, items, check_mode):
    drifting = []
    for item in items:
        if drift.drifts(item.before, item.desired, engine.field_manager):
            drifting.append(item)
        else:
            item.after, item.action = item.before, "unchanged"
    # every write is first tried as a dry run, so a manifest the server refuses (schema,
    # admission, a missing namespace, RBAC) stops the batch before anything is written
    for item in drifting:
        if check_mode and engine.known_hidden(item.namespace):
            item.after = item.desired  # what would be made where the server cannot be asked (read_live warned)
            continue
        item.after = engine.apply(item.desired, dry_run=True, resource=item.resource)
    for item in drifting:
        if not check_mode:
            item.after = engine.apply(item.desired, resource=item.resource)
        if item.before is None:
            item.action = "created"
        else:
            item.action = "updated" if is_changed(item.before, item.after) else "unchanged"
        if not check_mode and item.action != "unchanged":
            _record(engine, item, item.after)


def converge_absent(engine, items, check_mode):
    for item in items:
        going = item.before is not None and (item.before.get("metadata") or {}).get("deletionTimestamp")
        if item.before is None or going:
            item.action = "absent" if item.before is None else "deleting"
            continue
        deleted = engine.delete(item.resource, item.name, item.namespace, dry_run=check_mode,
                                uid=item.before["metadata"].get("uid"))
        item.action = "deleted" if deleted else "absent"
        if deleted and not check_mode:
            _record(engine, item, None)


def prune(engine, items, label, check_mode):
    """Delete what carries the batch's label, of its kinds and namespaces, but is no longer named.
    An object a controller made (a Deployment's pods carry its template's labels) is its owner's,
    not the batch's: kubectl's prune leaves objects with owner references alone too."""
    selector = "{0}={1}".format(*label)
    named = set(item.group + (item.name,) for item in items)
    pruned = []
    for group_items in _groups(items).values():
        first = group_items[0]
        if engine.known_hidden(first.namespace):
            continue  # nothing of ours can be there (read_live warned)
        for name, obj in sorted(_listed(engine, first.resource, first.namespace, selector).items()):
            metadata = obj.get("metadata") or {}
            if first.group + (name,) in named or metadata.get("deletionTimestamp") or any(
                    owner.get("controller") for owner in metadata.get("ownerReferences") or []):
                continue
            engine.delete(first.resource, name, first.namespace, dry_run=check_mode,
                          uid=obj["metadata"].get("uid"))
            gone = Item(obj, "prune", first.resource)
            gone.before, gone.action = obj, "pruned"
            pruned.append(gone)
            if not check_mode:
                _record(engine, gone, None)
    return pruned


def _wait_group(engine, group_items, state, deadline, outcome):
    first = group_items[0]
    try:
        ready = waiter.wait_group(engine.client, first.resource, [item.name for item in group_items], first.namespace,
                                  state, deadline)
    except errors.PacificError as err:
        outcome.append(err)
        return
    for item in group_items:
        if item.name in ready:
            item.after = ready[item.name]


def wait_all(engine, items, state, timeout):
    """Wait until every item is ready (present) or gone (absent): one watch per kind and
    namespace, all at once. The first failure or the timeout is raised after all have ended."""
    deadline = time.monotonic() + timeout
    outcome, threads = [], []
    for group_items in _groups(items).values():
        thread = threading.Thread(target=_wait_group, args=(engine, group_items, state, deadline, outcome))
        thread.daemon = True
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    if outcome:
        failures = [err for err in outcome if isinstance(err, errors.WaitFailed)]
        raise (failures or outcome)[0]


CHANGED_ACTIONS = ("created", "updated", "deleted", "pruned")


def converge(engine, items, state="present", check_mode=False, label=None, wait=False,
             wait_timeout=waiter.DEFAULT_TIMEOUT):
    """Converge ``items`` (from ``prepare``); answers ``(changed, results, diffs)``."""
    read_live(engine, items, state)
    if state == "present":
        converge_present(engine, items, check_mode)
    else:
        converge_absent(engine, items, check_mode)
    pruned = prune(engine, items, label, check_mode) if label is not None and state == "present" else []
    if wait and not check_mode:
        waited = [item for item in items if item.action not in ("absent",)]
        if waited:
            with reporting_change(any(item.action in CHANGED_ACTIONS for item in items + pruned)):
                wait_all(engine, waited, state, wait_timeout)
    return _outcome(items + pruned)


def converge_waves(engine, waves, check_mode=False, label=None, wait=False, wait_timeout=waiter.DEFAULT_TIMEOUT):
    """Converge ``waves`` (lists of items) present, one after another: each wave but the last is
    waited for (ready) before the next is written - what depends on it starts after it is up;
    the last is waited for only with ``wait``. In check mode nothing is waited for (nothing
    runs). What carries ``label`` but no wave names is pruned once, after all waves."""
    every = [item for wave in waves for item in wave]
    deadline = time.monotonic() + wait_timeout
    for number, wave in enumerate(waves):
        read_live(engine, wave, "present")
        converge_present(engine, wave, check_mode)
        if check_mode or not (wait or number < len(waves) - 1):
            continue
        with reporting_change(any(item.action in CHANGED_ACTIONS for item in every)):
            wait_all(engine, wave, "present", max(1, deadline - time.monotonic()))
    pruned = prune(engine, every, label, check_mode) if label is not None else []
    return _outcome(every + pruned)


def _outcome(every):
    """``(changed, results, diffs)`` of converged and pruned items."""
    changed_actions = CHANGED_ACTIONS
    diffs = []
    for item in every:
        if item.action in changed_actions:
            after = None if item.action in ("deleted", "pruned") else item.after
            diffs.append(_diff_pair(item, after))
    results = []
    for item in every:
        result = item.summary()
        result["object"] = redact(item.after) if item.action not in ("deleted", "pruned", "absent") else None
        results.append(result)
    return any(item.action in changed_actions for item in every), results, diffs
