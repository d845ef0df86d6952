# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vCenter objects the admin face converges: how each is read and written, and when it is ready.

The vCenter counterpart of ``_supervisor/kinds.py``: readiness is data here, not loops in
modules. A ``Kind`` says, for one resource of vCenter's REST API,

- how to reach it (``api``: a wrapper of ``resources.py``) and how messages name one (``describe``);
- whether an answer counts as the object being there (``exists``: a Supervisor being removed does
  not) and its managed fields in a stable shape (``normalise``; with None, what "not there" shows);
- how to plan a write from what the module wants (``plan_create``, ``plan_update``: the body to
  send and the object as it will be) and how to send it (``create``, ``update``, ``delete``);
- when it is ready (``ready``) or gone (``gone``): predicates over one GET answer that say
  ``READY``, ``PENDING`` (with the state a timeout reports) or ``FAILED`` (with the reason), the
  verdicts of ``_common/readiness.py`` the Supervisor face uses too.

The REST API has no watch, so ``engine.py`` polls (``poll.until``) every ``interval`` seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import (
    FAILED, PENDING, READY, Verdict)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import namespace_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import vm_class_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import (
    Clusters, Namespaces, VmClasses)


class Kind(object):
    """One kind of vCenter object: its API, its shape, its writes and its readiness (see the module doc)."""

    def __init__(self, what, api, normalise, plan_create, plan_update, create=None, update=None, delete=None,
                 exists=None, ready=None, gone=None, awaited=None, failed="{0} failed: {1}", interval=0.5,
                 settle_unchanged=False, preview=None, read_back=False):
        """``awaited(ident, present)``: what a wait waits for, as its timeout names it; ``failed``: the
        message of a FAILED verdict (``{0}`` the object, ``{1}`` the verdict's reason); ``gone`` None:
        a deletion is not waited for. ``settle_unchanged``: a wait happens also when nothing was
        changed but the object is there (still configuring or being removed). ``preview(found, ident,
        planned)``: what check mode shows as the object. ``read_back``: the diff's after and, after a
        deletion, the object shown are read from the server rather than planned. ``create``,
        ``update`` and ``delete`` default to the REST resource's own calls of those names."""
        self.what = what
        self.api = api
        self.normalise = normalise
        self.plan_create = plan_create
        self.plan_update = plan_update
        self.create = create or (lambda api, ident, body: api.create(body))
        self.update = update or (lambda api, ident, body: api.update(ident, body))
        self.delete = delete or (lambda api, ident: api.delete(ident))
        self.exists = exists or _found
        self.ready = ready or _there
        self.gone = gone
        self.awaited = awaited or (lambda ident, present: "{0} {1} to be {2}".format(
            what, ident, "ready" if present else "removed"))
        self.failed = failed
        self.interval = interval
        self.settle_unchanged = settle_unchanged
        self.preview = preview or (lambda found, ident, planned: dict(found or {}, **planned))
        self.read_back = read_back

    def describe(self, ident):
        """How messages and ``changed_objects`` name one object of this kind."""
        return "{0} {1}".format(self.what, ident)

    def __repr__(self):
        return "Kind({0})".format(self.what)


# --- predicates over one GET answer (None: not there) -----------------------------------------
def _found(found):
    return found is not None


def _there(found):
    """Objects without a notion of readiness are ready once they exist."""
    return Verdict(READY) if found is not None else Verdict(PENDING, "not there yet")


def missing(found):
    """Gone is when a GET finds nothing; until then the state is the object's config_status."""
    if found is None:
        return Verdict(READY)
    return Verdict(PENDING, found.get("config_status") or "DISABLED")


def _running(found, messages_of):
    status = (found or {}).get("config_status")
    if status == "RUNNING":
        return Verdict(READY)
    if status == "ERROR":
        return Verdict(FAILED, messages_of(found))
    return Verdict(PENDING, status)


def namespace_configured(found):
    """A namespace is ready when vCenter says its Kubernetes side is configured (RUNNING); ERROR is
    terminal, with vCenter's messages. The state a timeout reports is config_status (None while
    the namespace cannot be read)."""
    return _running(found, lambda info: "; ".join(
        m.get("details", {}).get("default_message", "") for m in info.get("messages") or []) or "no reason given")


def supervisor_running(found):
    """A Supervisor is ready when RUNNING; ERROR is terminal, with vCenter's messages. The state a
    timeout reports is config_status, DISABLED while there is none."""
    verdict = _running(found, lambda info: "; ".join(m.get("default_message", "") for m in info.get("messages") or []))
    if verdict.state == PENDING and not verdict.message:
        return Verdict(PENDING, "DISABLED")
    return verdict


# --- vSphere Namespaces -------------------------------------------------------------------------
def only_supervisor(session):
    """The one cluster running a Supervisor, for a namespace created without ``cluster``."""
    enabled = [found["cluster"] for found in Clusters(session).list() if found.get("config_status") == "RUNNING"]
    if len(enabled) != 1:
        raise InvalidArgument("set cluster: {0} clusters run a Supervisor ({1})".format(
            len(enabled), ", ".join(enabled) or "none"))
    return enabled[0]


def _plan_namespace(session, name, settings, before):
    if "cluster" not in settings:
        settings = dict(settings, cluster=only_supervisor(session))
    create = namespace_spec.create_spec(name, namespace_spec.desired_fields(settings))
    return create, namespace_spec.normalized(create)


def _plan_namespace_update(name, settings, found, before):
    patch = namespace_spec.update_spec(before, namespace_spec.desired_fields(settings, before))
    return namespace_spec.api_patch(patch) if patch else {}, namespace_spec.after(before, patch)


NAMESPACE = Kind(
    "namespace", Namespaces,
    normalise=lambda found, wish: namespace_spec.normalized(found) if found is not None else {},
    plan_create=_plan_namespace, plan_update=_plan_namespace_update,
    ready=namespace_configured,
    awaited=lambda name, present: "namespace {0} to be configured (RUNNING)".format(name),
    failed="namespace {0} failed to configure: {1}")


# --- VM classes ---------------------------------------------------------------------------------
def _plan_vm_class(session, name, params, before):
    create = vm_class_spec.create_spec(name, vm_class_spec.desired_fields(params))
    return create, vm_class_spec.normalized(create)


def _plan_vm_class_update(name, params, found, before):
    patch = vm_class_spec.update_spec(before, vm_class_spec.desired_fields(params))
    return patch, vm_class_spec.after(before, patch)


VM_CLASS = Kind(
    "VM class", VmClasses,
    normalise=lambda found, wish: vm_class_spec.normalized(found) if found is not None else {},
    plan_create=_plan_vm_class, plan_update=_plan_vm_class_update,
    preview=lambda found, name, planned: dict(found or {}, id=name, **planned))


# --- a cluster's Supervisor (workload management) -------------------------------------------------
def _plan_enable(session, cluster_id, wish, before):
    body = supervisor_spec.enable_spec(wish.params, wish.lookup)
    return body, supervisor_spec.planned_settings(before, body, wish.lookup)


def _plan_supervisor_update(cluster_id, wish, found, before):
    body = supervisor_spec.update_spec(wish.params, found, wish.lookup)
    return body, supervisor_spec.planned_settings(before, body, wish.lookup)


SUPERVISOR = Kind(
    "the Supervisor of", Clusters,
    # a Supervisor being removed is not there: enabling it again is a change, disabling it is not
    exists=lambda found: found is not None and found.get("config_status") != supervisor_spec.GONE,
    normalise=lambda found, wish: supervisor_spec.settings_of(found, wish.lookup),
    plan_create=_plan_enable, plan_update=_plan_supervisor_update,
    create=lambda api, cluster_id, body: api.enable(cluster_id, body),
    update=lambda api, cluster_id, body: api.update(cluster_id, body),
    delete=lambda api, cluster_id: api.disable(cluster_id),
    ready=supervisor_running, gone=missing,
    awaited=lambda cluster_id, present: "the Supervisor of {0} to be {1}".format(
        cluster_id, "RUNNING" if present else "removed"),
    failed="configuring workload management on {0} failed: {1}",
    interval=1.0, settle_unchanged=True,
    preview=lambda found, cluster_id, planned: found, read_back=True)
