# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Supervisor runs, for the inventory: one LIST per kind across namespaces.

A thin adapter over the collection's one Kubernetes client (``_supervisor/client.py``): it
connects from the inventory's options and words failures with the inventory's option names
(``supervisor_token``, ``supervisor_ca_cert``...). Nothing here knows Ansible; failures are
``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client, kinds

# the kinds the inventory can list (its option supervisor_kinds)
KINDS = dict((resource.kind, resource) for resource in (
    kinds.VIRTUAL_MACHINE, kinds.TANZU_KUBERNETES_CLUSTER, kinds.CAPI_CLUSTER, kinds.POD))


def connect(settings):
    """A SupervisorClient from the inventory's Supervisor settings (already chosen by the one rule)."""
    return client.connect(settings, option_prefix="supervisor_")


def _restated(err, kind, server):
    what = "%ss" % kind
    status = getattr(err, "status", None)
    if isinstance(err, errors.TlsError):
        message = "the Supervisor's certificate at %s is not trusted (%s): set its CA file" % (server, err.reason)
    elif isinstance(err, errors.Unreachable):
        message = "cannot reach the Supervisor at %s: %s" % (server, err.reason)
    elif status == 401:
        message = "the Supervisor at %s refused the credentials (401 Unauthorized) listing %s" % (server, what)
    elif status is not None:
        message = "listing %s on the Supervisor at %s failed (%s): %s" % (what, server, status, err.reason)
    else:
        return err
    return client.restate(err, message)


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
                listed[kind] = supervisor.list_across(KINDS[kind], namespaces)
            except errors.PacificError as err:
                raise _restated(err, kind, supervisor.server)
    finally:
        supervisor.close()
    return listed
