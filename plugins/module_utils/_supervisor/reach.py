# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the credentials reach: whether a namespace is there for them, and which namespaces they
may read.

A Supervisor authorizes before it looks up: a developer asking for anything in a namespace that
does not exist gets 403, as for a namespace that exists but is not theirs; only a caller who may
read every namespace (the admin) gets 404. The Namespace object itself tells the cases a
developer can tell apart: the roles a namespace's access list binds (view, edit, admin) may get
their own Namespace, so 200 means there and ours, 404 not there, 403 not there or not ours -
nobody but an admin can say which. Across namespaces, a developer may not list Namespaces; the
namespaces of a login are what the Supervisor's ``/wcp/workloads`` answers (``kubectl vsphere
login`` makes its contexts from it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import informer, kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target

THERE = "there"
MISSING = "missing"
HIDDEN = "hidden"  # not there, or not ours


def namespace_state(client, namespace):
    """``(state, refusal)``: THERE, MISSING or HIDDEN (see the module docstring), and for HIDDEN
    the Supervisor's 403 message."""
    try:
        client.request("GET", kinds.NAMESPACE.path(None, namespace), Target("get", kinds.NAMESPACE, namespace))
    except errors.NotFound:
        return MISSING, None
    except errors.Forbidden as err:
        return HIDDEN, err.msg
    return THERE, None


def hidden_message(namespace, refusal=None):
    """What is known of a namespace hidden from the credentials; ``refusal`` the Supervisor's
    own 403 message (it names who asked)."""
    return ("namespace {0} does not exist, or these credentials have no access to it (a Supervisor answers both "
            "with 403 Forbidden; its access list must name the user with VIEW, EDIT or OWNER){1}".format(
                namespace, ": " + refusal if refusal else ""))


def readable_namespaces(client):
    """The names of the namespaces the credentials may read: every namespace for a caller who may
    list them, else those of the WCP login (``client.login_namespaces``). Raises Forbidden, with
    what to do, when neither is possible (a bare token of a developer)."""
    try:
        items = informer.list_all(client, kinds.NAMESPACE)[0]
        return sorted((item.get("metadata") or {}).get("name") for item in items)
    except errors.Forbidden as err:
        refusal = err
    listing = getattr(client, "login_namespaces", None)
    if listing is None:
        raise errors.Forbidden(
            "these credentials may not list namespaces ({0}), and which namespaces they may read is only known "
            "to a WCP login: give namespace, or username and password instead of a token".format(refusal.msg))
    return sorted(set(listing()))
