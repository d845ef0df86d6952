# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one Kubernetes object on a desired manifest: the engine every module uses.

``Engine(client).ensure(desired, state, check_mode, wait, wait_timeout)``:

- ``present``: server-side apply under the field manager ``pacific.supervisor`` (conflicts with
  other managers are errors unless ``force_conflicts``); in check mode the same request with
  ``dryRun=All``, so the server validates and defaults exactly as it would for real.
- ``absent``: delete (a dry-run delete in check mode), optionally waiting until finalizers are
  done; an object already being deleted is not deleted again.
- ``changed`` compares the object before and after with server-managed fields stripped
  (``strip``), so a re-apply that changes nothing is not a change; ``diff`` is that same
  before/after pair cut to the fields the manifest sets (``shown_as_set``: not the defaults the
  server fills in), Secret values redacted.
- ``wait`` (never in check mode) watches the object until its kind's readiness predicate
  (``kinds.py``) says ready, failing fast on a terminal condition.

Every real write that changed something is recorded in ``changes`` (``_common/changes.py``), so that
a failure after it (the wait, a later write) is still reported as a change.

Batches (``apply``) can pass ``before`` from one LIST per kind (``Engine.list``) instead of a
GET per object.

A namespace the credentials cannot see into (``reach.HIDDEN``: it does not exist, or it is not
theirs; a Supervisor answers a developer 403 for both) holds nothing of theirs: ``get`` finds
nothing there, ``absent`` is done (with a warning), ``present`` fails with that message, and a
check run reports what would be made (with a warning that the server did not check it), so that
check mode on an estate whose namespace is made by an earlier task shows the whole plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import drift, reach
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import waiter
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target

FIELD_MANAGER = "pacific.supervisor"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
# metadata the server writes; it says nothing about what the object is
SERVER_METADATA = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
# annotations the server side writes: kubectl's last applied configuration, and where VM Operator's
# conversion webhook keeps the stored (hub) version's data, status included, when it serves an older
# version. Copied into a new object, the latter would give it the old object's status.
SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "vmoperator.vmware.com/conversion")
REDACTED = "VALUE_REDACTED"
_MISSING = object()


def strip(obj):
    """A copy of ``obj`` without what the server manages (status, resourceVersion, uid, ...);
    None stays None. What ``changed`` and ``diff`` compare."""
    if obj is None:
        return None
    stripped = copy.deepcopy(obj)
    stripped.pop("status", None)
    metadata = stripped.get("metadata") or {}
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    annotations = metadata.get("annotations") or {}
    for key in SERVER_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in metadata and not annotations:
        metadata.pop("annotations")
    return stripped


def redact(obj):
    """A copy of ``obj`` fit to show: a Secret's values replaced (its keys kept), managed
    fields dropped. None stays None."""
    if obj is None:
        return None
    shown = copy.deepcopy(obj)
    (shown.get("metadata") or {}).pop("managedFields", None)
    if shown.get("kind") == "Secret" and shown.get("apiVersion") == "v1":
        for field in ("data", "stringData"):
            if isinstance(shown.get(field), dict):
                shown[field] = dict((key, REDACTED) for key in shown[field])
    return shown


def is_changed(before, after):
    return strip(before) != strip(after)


def shown_as_set(obj, desired):
    """``obj`` cut to the fields ``desired`` sets: what the user asked for, without the defaults the
    server filled in (a pod's dnsPolicy, a container's terminationMessagePath, ...). Lists are
    matched item by item; items beyond the manifest's are kept whole, so a removal shows."""
    if isinstance(desired, dict) and isinstance(obj, dict):
        return dict((key, shown_as_set(obj[key], desired[key])) for key in desired if key in obj)
    if isinstance(desired, list) and isinstance(obj, list):
        return [shown_as_set(item, desired[index]) if index < len(desired) else item
                for index, item in enumerate(obj)]
    return obj


def diff_of(before, after, desired=None):
    """The before/after pair Ansible shows with ``--diff``; with ``desired`` (the manifest applied),
    only the fields it sets."""
    before, after = redact(strip(before)) or {}, redact(strip(after)) or {}
    if desired is not None:
        shape = strip(desired)
        before = shown_as_set(before, shape) if before else {}
        after = shown_as_set(after, shape) if after else {}
    return {"before": before, "after": after}


def _identity(desired):
    if not isinstance(desired, dict):
        raise errors.InvalidArgument("a manifest must be a mapping, not {0}".format(type(desired).__name__))
    metadata = desired.get("metadata") or {}
    return desired.get("apiVersion"), desired.get("kind"), metadata.get("name"), metadata.get("namespace")


@contextlib.contextmanager
def reporting_change(changed):
    """A failure of what follows a write (a wait) still says the write changed something: the
    module fails with ``changed: true``, and the user knows the object is there."""
    try:
        yield
    except errors.PacificError as err:
        if changed:
            err.details["changed"] = True
        raise


class Engine(object):
    """Server-side apply, delete, get, list and wait over one SupervisorClient."""

    def __init__(self, client, field_manager=FIELD_MANAGER, force_conflicts=False, run=None):
        """``run``: what the engine may know of the run (``check_mode``, ``warn``, ``changes``, where
        the real writes are recorded so that a later failure still says changed), or None."""
        self.client = client
        self.field_manager = field_manager
        self.force_conflicts = force_conflicts
        recorded = getattr(run, "changes", None)  # an empty Changes is falsy: test for None
        self.changes = recorded if recorded is not None else Changes()
        self.check_mode = bool(run and run.check_mode)
        self._warn = run.warn if run else None
        self._warned, self._warned_hidden = set(), set()
        self._namespaces = {}

    def warn(self, message):
        """Tell the run once (no-op without a run)."""
        if self._warn is not None and message not in self._warned:
            self._warned.add(message)
            self._warn(message)

    # --- what the credentials reach ----------------------------------------------------------
    def namespace_state(self, namespace):
        """``reach.THERE``, ``MISSING`` or ``HIDDEN`` for ``namespace``, asked once per engine."""
        if namespace not in self._namespaces:
            self._namespaces[namespace] = reach.namespace_state(self.client, namespace)
        return self._namespaces[namespace][0]

    def warn_hidden(self, namespace, refusal=None):
        """Tell the run, once per namespace, that ``namespace`` is hidden from these credentials."""
        if namespace not in self._warned_hidden:
            self._warned_hidden.add(namespace)
            self.warn(self.hidden_error(namespace, refusal).msg)

    def hidden_error(self, namespace, refusal=None):
        """NamespaceUnreachable for ``namespace``, with the Supervisor's refusal (``refusal``, or
        the one of its Namespace object)."""
        known = self._namespaces.get(namespace, (None, None))[1]
        return errors.NamespaceUnreachable(reach.hidden_message(namespace, refusal or known))

    def _hidden(self, err, namespace):
        """``err`` (a 403 about something in ``namespace``) as NamespaceUnreachable when the
        namespace is hidden from these credentials; None when it is a refusal in a namespace
        they see (the caller raises ``err`` itself)."""
        if not namespace or not isinstance(err, errors.Forbidden):
            return None
        if isinstance(err, errors.NamespaceUnreachable):
            return err
        if self.namespace_state(namespace) != reach.HIDDEN:
            return None
        return self.hidden_error(namespace, err.msg)

    def list_readable(self, resource, namespace=None, label_selector=None, field_selector=None):
        """The items of a kind in ``namespace``, or (None) in every namespace the credentials may
        read: one LIST across namespaces, or, when that is forbidden (as it is for a developer),
        one per namespace of ``reach.readable_namespaces``; a namespace whose LIST is refused is
        left out with a warning."""
        if namespace or not resource.namespaced:
            return self.list(resource, namespace, label_selector, field_selector)[0]
        try:
            return self.list(resource, label_selector=label_selector, field_selector=field_selector)[0]
        except errors.Forbidden:
            namespaces = reach.readable_namespaces(self.client)
        items = []
        for each in namespaces:
            try:
                items.extend(self.list(resource, each, label_selector, field_selector)[0])
            except (errors.Forbidden, errors.NotFound) as err:
                self.warn("left out namespace {0}: {1}".format(each, err.msg))
        return items

    def known_hidden(self, namespace):
        """Whether ``namespace`` was found hidden from these credentials (asks nothing)."""
        return self._namespaces.get(namespace, (None, None))[0] == reach.HIDDEN

    # --- reading -------------------------------------------------------------------------
    def resource_of(self, desired):
        """The Resource of a manifest, its name and namespace checked."""
        api_version, kind, name, namespace = _identity(desired)
        if not api_version or not kind:
            raise errors.InvalidArgument("a manifest needs apiVersion and kind")
        resource = self.client.resource(api_version, kind)
        check_name(name, "{0} name".format(kind))
        if resource.namespaced:
            check_name(namespace, "namespace of {0} {1}".format(kind, name), label=True)
        elif namespace:
            raise errors.InvalidArgument("{0} is not namespaced; remove metadata.namespace".format(kind))
        return resource

    def get(self, resource, name, namespace=None):
        """The object, or None when it does not exist (nor does its namespace)."""
        try:
            return self.client.request("GET", resource.path(namespace, name), Target("get", resource, name, namespace))
        except errors.NotFound:
            return None
        except errors.Forbidden as err:
            hidden = self._hidden(err, namespace if resource.namespaced else None)
            if hidden is None:
                raise
            self.warn_hidden(namespace, err.msg)
            return None  # nothing these credentials may see is there

    def list(self, resource, namespace=None, label_selector=None, field_selector=None):
        """``(items, resourceVersion)`` of one LIST of a kind (in a namespace, or everywhere)."""
        query = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        try:
            answer = self.client.request("GET", resource.path(namespace), Target("list", resource, None, namespace),
                                         query=query)
        except errors.Forbidden as err:
            hidden = self._hidden(err, namespace)
            if hidden is None:
                raise
            raise hidden
        return answer.get("items") or [], (answer.get("metadata") or {}).get("resourceVersion")

    def resource(self, api_version, kind):
        """The Resource of apiVersion/kind (``kinds.py``, else API discovery)."""
        return self.client.resource(api_version, kind)

    def api_group(self, group):
        """The discovery document of an API group (its versions, the preferred one); NotFound when
        the Supervisor does not serve it."""
        return self.client.request("GET", "/apis/" + group, Target("discover"))

    # --- waiting -------------------------------------------------------------------------
    def wait_ready(self, resource, name, namespace=None, timeout=waiter.DEFAULT_TIMEOUT, readiness=None):
        """The object once its kind's readiness (or ``readiness``) says ready (``waiter.wait_ready``)."""
        return waiter.wait_ready(self.client, resource, name, namespace, timeout=timeout, readiness=readiness)

    def wait_absent(self, resource, name, namespace=None, timeout=waiter.DEFAULT_TIMEOUT):
        """Return once the object is gone, its finalizers done (``waiter.wait_absent``)."""
        waiter.wait_absent(self.client, resource, name, namespace, timeout=timeout)

    def wait_guest_gone(self, namespace, cluster, timeout):
        """Return once a deleted guest cluster's Machines and VMs are gone (``guest_clusters``)."""
        # imported here: guest_clusters reads through engines
        from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_clusters
        guest_clusters.wait_guest_gone(self.client, namespace, cluster, timeout)

    # --- writing -------------------------------------------------------------------------
    def apply(self, desired, dry_run=False, resource=None):
        """Server-side apply of ``desired``; the object as the server has it (or would)."""
        resource = resource or self.resource_of(desired)
        metadata = desired["metadata"]
        query = [("fieldManager", self.field_manager), ("force", "true" if self.force_conflicts else "false"),
                 ("fieldValidation", "Strict")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.client.request(
            "PATCH", resource.path(metadata.get("namespace"), metadata["name"]),
            Target("apply", resource, metadata["name"], metadata.get("namespace")),
            body=desired, query=query, content_type=APPLY_CONTENT_TYPE)

    def create(self, desired, dry_run=False, resource=None, generate_name=False):
        """Create ``desired``; the object as the server made it (with ``dry_run``: would make it).
        ``generate_name``: the server names it after ``metadata.name`` instead (what a dry run of
        a replacement needs while the name is still taken); the answer keeps the manifest's name."""
        resource = resource or self.resource_of(desired)
        metadata = dict(desired["metadata"])
        name, namespace = metadata["name"], metadata.get("namespace")
        if generate_name:
            metadata["generateName"] = metadata.pop("name")[:50] + "-"
        query = [("fieldManager", self.field_manager), ("fieldValidation", "Strict")]
        if dry_run:
            query.append(("dryRun", "All"))
        created = self.client.request("POST", resource.path(namespace if resource.namespaced else None),
                                      Target("create", resource, name, namespace),
                                      body=dict(desired, metadata=metadata), query=query)
        if generate_name:
            created.setdefault("metadata", {})["name"] = name
            created["metadata"].pop("generateName", None)
        return created

    def delete(self, resource, name, namespace=None, dry_run=False, uid=None, propagation="Background"):
        """Delete one object (only the one with ``uid``, when given); False when it was not there."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
        if uid:
            body["preconditions"] = {"uid": uid}
        if dry_run:
            body["dryRun"] = ["All"]
        try:
            self.client.request("DELETE", resource.path(namespace, name), Target("delete", resource, name, namespace),
                                body=body)
        except errors.NotFound:
            return False
        return True

    def scale(self, resource, name, namespace, replicas, dry_run=False):
        """Set ``spec.replicas`` through the scale subresource (a merge patch, not an apply: it
        takes the field from whoever held it without a conflict, as ``kubectl scale`` does); the
        Scale object as the server has it (or would)."""
        query = [("fieldManager", self.field_manager)]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.client.request("PATCH", resource.path(namespace, name) + "/scale",
                                   Target("scale", resource, name, namespace),
                                   body={"spec": {"replicas": replicas}}, query=query,
                                   content_type="application/merge-patch+json")

    # --- converging ----------------------------------------------------------------------
    def ensure(self, desired, state="present", check_mode=False, wait=False, wait_timeout=waiter.DEFAULT_TIMEOUT,
               before=_MISSING, readiness=None):
        """Converge one object on ``desired`` (a full manifest; for ``absent`` apiVersion, kind
        and metadata name/namespace suffice). Answers ``{"changed", "object", "diff"}``:
        ``object`` is the object after (managed fields dropped, Secret values redacted; None
        when absent), ``diff`` the stripped before/after. ``before`` skips the GET when the
        caller already listed the kind. ``readiness`` overrides the kind's predicate. Fields an
        earlier apply of ours set and ``desired`` leaves out are kept (``drift.carry_over``)."""
        if state not in ("present", "absent"):
            raise errors.InvalidArgument("state must be present or absent, not {0!r}".format(state))
        resource = self.resource_of(desired)
        metadata = desired["metadata"]
        name, namespace = metadata["name"], metadata.get("namespace")
        if before is _MISSING:
            before = self.get(resource, name, namespace)
        if state == "absent":
            return self._ensure_absent(resource, name, namespace, before, check_mode, wait, wait_timeout)
        # an option left unset keeps what an earlier run of ours set, instead of dropping it
        desired = drift.carry_over(before, desired, self.field_manager)
        try:
            after = self.apply(desired, dry_run=check_mode, resource=resource)
        except errors.Forbidden as err:
            hidden = self._hidden(err, namespace if resource.namespaced else None)
            if hidden is None:
                raise
            if not check_mode:
                raise hidden
            # a check run before the namespace is made: what would be made, unchecked by the server
            self.warn_hidden(namespace, err.msg)
            self.warn("check mode shows what would be made in namespace {0}, not checked by the server".format(
                namespace))
            return {"changed": True, "diff": diff_of(None, desired), "object": redact(desired)}
        outcome = {"changed": is_changed(before, after), "diff": diff_of(before, after, desired)}
        if outcome["changed"] and not check_mode:
            self.changes.record(resource.describe(name, namespace), outcome["diff"])
        if wait and not check_mode:
            with reporting_change(outcome["changed"]):
                after = self.wait_ready(resource, name, namespace, timeout=wait_timeout, readiness=readiness)
        outcome["object"] = redact(after)
        return outcome

    def _ensure_absent(self, resource, name, namespace, before, check_mode, wait, wait_timeout):
        outcome = {"changed": False, "object": None, "diff": diff_of(before, None)}
        if before is None:
            outcome["diff"] = diff_of(None, None)
            return outcome
        if not (before.get("metadata") or {}).get("deletionTimestamp"):
            # the uid precondition keeps us from deleting a namesake made meanwhile
            outcome["changed"] = self.delete(resource, name, namespace, dry_run=check_mode,
                                             uid=before["metadata"].get("uid"))
            if outcome["changed"] and not check_mode:
                self.changes.record(resource.describe(name, namespace), outcome["diff"])
        else:
            outcome["diff"] = diff_of(None, None)  # already going: nothing for us to change
        if wait and not check_mode:
            with reporting_change(outcome["changed"]):
                self.wait_absent(resource, name, namespace, timeout=wait_timeout)
        return outcome
