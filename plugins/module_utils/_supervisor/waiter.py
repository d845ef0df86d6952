# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One watch-based waiter for every kind.

``snapshots`` yields the current objects after the LIST and after every change, over the
collection's one list-then-watch (``informer.py``: resume after a dropped connection, relist on
410 Gone). ``wait_ready`` and
``wait_absent`` consume it: the first until the kind's readiness predicate (``kinds.py``) says
READY, failing fast with the predicate's message when it says FAILED; the second until the
object is gone. Both stop at a deadline with ``WaitTimeout``, whose details carry the last
status seen. Nothing here polls.

A watch that breaks (the apiserver restarted, a connection reset) is resumed: the watch (or relist) is tried
again with bounded backoff until the deadline, not only as often as one request is retried. A
kube-apiserver that has just started serves requests before its RBAC caches are filled and
refuses them with 403 meanwhile, so while resuming a 403 is also tried again, for at most
``REJOIN_GRACE`` seconds; a 403 on the first LIST is the user's at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import DEFAULT_TIMEOUT
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import informer, kinds

REJOIN_GRACE = 60  # seconds a resumed watch accepts 403s from an apiserver still filling its caches


def _name_of(obj):
    return (obj.get("metadata") or {}).get("name")


def snapshots(client, resource, namespace=None, field_selector=None, label_selector=None, deadline=None,
              clock=time.monotonic, sleep=time.sleep):
    """Yield ``{name: object}`` of the selected objects: once after the LIST, then after each
    watch event that changes them, until ``deadline`` (a ``clock`` value) passes."""
    selectors = []
    if field_selector:
        selectors.append(("fieldSelector", field_selector))
    if label_selector:
        selectors.append(("labelSelector", label_selector))
    current = {}
    watched = informer.Informer(client, resource, namespace, selectors)
    for changes in watched.changes(deadline, _transient_since(clock), clock=clock, sleep=sleep):
        for kind, obj in changes:
            if kind == "DELETED":
                current.pop(_name_of(obj), None)
            else:
                current[_name_of(obj)] = obj
        yield current


def _transient_since(clock):
    def transient(err, broken_at):
        """Whether ``err`` may pass once the apiserver is back: a retryable failure, or a 403 soon
        after the watch broke (an apiserver just started refuses until its RBAC caches are filled)."""
        if err.retryable:
            return True
        return isinstance(err, errors.Forbidden) and broken_at is not None and clock() - broken_at < REJOIN_GRACE

    return transient


def _summary(obj):
    """What a timeout reports of the object: its status, without secrets (status holds none)."""
    return (obj or {}).get("status") or {}


def wait_ready(client, resource, name, namespace=None, timeout=DEFAULT_TIMEOUT, readiness=None,
               clock=time.monotonic, sleep=time.sleep):
    """Watch one object until ``readiness`` (default: its kind's) says READY; answer the object.
    FAILED raises WaitFailed with the predicate's message at once; a deleted object raises
    WaitFailed; the deadline raises WaitTimeout with ``last_status``."""
    readiness = readiness or resource.readiness
    what = resource.describe(name, namespace)
    verdict, last = kinds.Verdict(kinds.PENDING, "not observed yet"), None
    deadline = clock() + timeout
    for current in snapshots(client, resource, namespace, field_selector="metadata.name=" + name,
                             deadline=deadline, clock=clock, sleep=sleep):
        obj = current.get(name)
        if obj is None and last is not None:
            raise errors.WaitFailed("{0} was deleted while waiting for it to be ready".format(what))
        verdict = _verdict(readiness, obj)
        if obj is None:
            continue
        last = obj
        if verdict.state == kinds.READY:
            return obj
        if verdict.state == kinds.FAILED:
            raise errors.WaitFailed("{0} failed: {1}".format(what, verdict.message), last_status=_summary(obj))
    raise errors.WaitTimeout("{0} was not ready within {1} seconds: {2}".format(what, timeout, verdict.message),
                             last_status=_summary(last))


def wait_group(client, resource, names, namespace, state, deadline, clock=time.monotonic, sleep=time.sleep):
    """Watch several objects of one kind in one namespace at once (one watch, not one per object)
    until each is READY (``state`` present) or gone (absent), or ``deadline`` passes; answer
    ``{name: ready object}``. FAILED raises WaitFailed at once; the deadline raises WaitTimeout
    naming every object left and why."""
    pending, verdicts, ready = set(names), {}, {}
    for current in snapshots(client, resource, namespace, deadline=deadline, clock=clock, sleep=sleep):
        for name in sorted(pending):
            obj = current.get(name)
            if state == "absent":
                if obj is None:
                    pending.discard(name)
                continue
            verdict = verdicts[name] = _verdict(resource.readiness, obj)
            if verdict.state == kinds.READY:
                ready[name] = obj
                pending.discard(name)
            elif verdict.state == kinds.FAILED:
                raise errors.WaitFailed("{0} failed: {1}".format(resource.describe(name, namespace), verdict.message))
        if not pending:
            return ready
    raise errors.WaitTimeout("not {0} in time: {1}".format(
        "ready" if state == "present" else "deleted",
        "; ".join("{0} ({1})".format(resource.describe(name, namespace),
                                     verdicts[name].message if name in verdicts else "not observed")
                  for name in sorted(pending))))


def _verdict(readiness, obj):
    if obj is None:
        return kinds.Verdict(kinds.PENDING, "does not exist yet")
    return readiness(obj)


def wait_absent(client, resource, name, namespace=None, timeout=DEFAULT_TIMEOUT, clock=time.monotonic):
    """Watch one object until it is gone (finalizers done)."""
    last = None
    deadline = clock() + timeout
    for current in snapshots(client, resource, namespace, field_selector="metadata.name=" + name,
                             deadline=deadline, clock=clock):
        if name not in current:
            return
        last = current[name]
    finalizers = (last or {}).get("metadata", {}).get("finalizers") or []
    raise errors.WaitTimeout("{0} was not deleted within {1} seconds{2}".format(
        resource.describe(name, namespace), timeout,
        " (finalizers left: {0})".format(", ".join(finalizers)) if finalizers else ""), last_status=_summary(last))


# The options of doc fragment pacific.supervisor.wait, for modules' argument specs.
