# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Supervisor runs, for the inventory: one LIST per kind across namespaces.

A thin adapter over the collection's one Kubernetes client (``_supervisor/client.py``): it
connects from the inventory's options, lists across namespaces (``list_across``) and words
failures with the inventory's own words from the fields of the client's errors (``status``,
``reason``; ``PacificError.reworded``). Nothing here knows Ansible; failures are
``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client, informer, kinds, reach

# the kinds the inventory can list (its option supervisor_kinds)
KINDS = dict((resource.kind, resource) for resource in (
    kinds.VIRTUAL_MACHINE, kinds.TANZU_KUBERNETES_CLUSTER, kinds.CAPI_CLUSTER, kinds.POD))


def connect(settings):
    """A SupervisorClient from the inventory's Supervisor settings (already chosen by the one rule)."""
    return client.connect(settings, option_prefix="supervisor_")


def list_across(supervisor, resource, namespaces=None):
    """The items of ``resource`` in ``namespaces`` (all when None): one request across
    namespaces; when that is forbidden (a developer), one per namespace named, or (None) per
    namespace the credentials may read (``reach.readable_namespaces``). A kind the
    Supervisor does not serve, or a namespace that is not there, lists as empty."""
    try:
        items = informer.list_all(supervisor, resource)[0]
    except errors.NotFound:
        return []
    except errors.Forbidden:
        if not namespaces:
            namespaces = reach.readable_namespaces(supervisor)
        items = []
        for namespace in namespaces:
            try:
                items.extend(informer.list_all(supervisor, resource, namespace)[0])
            except errors.NotFound:
                continue
    if namespaces:
        wanted = set(namespaces)
        items = [item for item in items if (item.get("metadata") or {}).get("namespace") in wanted]
    return items


def _reworded(err, kind, server):
    """``err`` in the inventory's words, from its fields; unchanged when the client's own words
    serve (a failure before any request, such as a kubeconfig that cannot be used)."""
    what = "%ss" % kind
    if isinstance(err, errors.TlsError):
        message = "the Supervisor's certificate at %s is not trusted (%s): set its CA file" % (
            server, err.reason or err.msg)
    elif isinstance(err, errors.Unreachable):
        message = "cannot reach the Supervisor at %s: %s" % (server, err.reason or err.msg)
    elif err.status == 401:
        message = "the Supervisor at %s refused the credentials (401 Unauthorized) listing %s" % (server, what)
    elif err.status is not None:
        message = "listing %s on the Supervisor at %s failed (%s): %s" % (what, server, err.status, err.reason)
    else:
        return err
    return err.reworded(message)


def list_workloads(settings, kind_names, namespaces=None):
    """``{kind: [items]}`` for each kind asked, with the connection ``settings`` of ``connect``."""
    unknown = sorted(set(kind_names) - set(KINDS))
    if unknown:
        raise errors.InvalidArgument("unknown Supervisor kinds %s; known: %s" % (
            ", ".join(unknown), ", ".join(sorted(KINDS))))
    supervisor = connect(settings)
    listed = {}
    try:
        for kind in kind_names:
            try:
                listed[kind] = list_across(supervisor, KINDS[kind], namespaces)
            except errors.PacificError as err:
                raise _reworded(err, kind, supervisor.server)
    finally:
        supervisor.close()
    return listed
