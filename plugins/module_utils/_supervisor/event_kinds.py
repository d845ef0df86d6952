# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds the supervisor event source can watch, and which of their fields make a transition.

A kind is data: its ``kinds.py`` Resource (API version, plural, scope) and the facets whose changes are worth an event (phase, power
state, conditions, container states, exhausted quota). ``events.py`` watches what ``resolve``
returns; ``transitions.py`` reads the facets named here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds as resources
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.kinds import Resource


class WatchedKind(object):
    """One kind of ``kinds.py`` (its API version, plural and scope), and the facets of its objects
    that are compared."""

    def __init__(self, resource, phase=None, power_state=None, conditions=True, containers=False, quota=False,
                 is_event=False):
        self.resource = resource          # the kinds.Resource watched
        self.phase = phase                # a path (tuple of keys) to the phase, or None
        self.power_state = power_state    # a path to the observed power state, or None
        self.conditions = conditions      # compare status.conditions
        self.containers = containers      # compare each container's state (pods)
        self.quota = quota                # compare which resources are used up (quotas)
        self.is_event = is_event          # core Events: occurrences, not transitions

    kind = property(lambda self: self.resource.kind)
    api_version = property(lambda self: self.resource.api_version)
    plural = property(lambda self: self.resource.plural)
    namespaced = property(lambda self: self.resource.namespaced)

    def with_version(self, api_version):
        other = copy.copy(self)
        other.resource = Resource(api_version, self.kind, self.plural, namespaced=self.namespaced)
        return other

    def __repr__(self):
        return "{0} ({1})".format(self.kind, self.api_version)


_STATUS_PHASE = ("status", "phase")

KINDS = (
    WatchedKind(resources.VIRTUAL_MACHINE, power_state=("status", "powerState")),
    WatchedKind(resources.TANZU_KUBERNETES_CLUSTER, phase=_STATUS_PHASE),
    WatchedKind(resources.CAPI_CLUSTER, phase=_STATUS_PHASE),
    WatchedKind(resources.MACHINE, phase=_STATUS_PHASE),
    WatchedKind(resources.POD, phase=_STATUS_PHASE, containers=True),
    WatchedKind(resources.NAMESPACE, phase=_STATUS_PHASE),
    WatchedKind(resources.RESOURCE_QUOTA, conditions=False, quota=True),
    WatchedKind(resources.EVENT, conditions=False, is_event=True),
)


def known_kind_names():
    return [kind.kind for kind in KINDS]


def _lookup(name):
    wanted = str(name).strip().lower()
    for kind in KINDS:
        if wanted in (kind.kind.lower(), kind.plural):
            return kind
    raise InvalidArgument("unknown kind {0!r}; the supervisor event source watches {1}".format(
        name, ", ".join(known_kind_names())))


def resolve(kinds):
    """The ``WatchedKind``s a list of names (or ``{kind, api_version}`` dicts) asks for, in order,
    each once. Raises ``InvalidArgument`` naming the first unknown kind."""
    if not kinds:
        raise InvalidArgument("kinds: name at least one of " + ", ".join(known_kind_names()))
    if isinstance(kinds, (str, dict)):
        kinds = [kinds]
    chosen = []
    for entry in kinds:
        if isinstance(entry, dict):
            unknown = set(entry) - set(("kind", "api_version"))
            if unknown or "kind" not in entry:
                raise InvalidArgument("kinds: an entry as a dictionary has the keys kind and api_version "
                                      "(optional), not {0}".format(", ".join(sorted(entry))))
            kind = _lookup(entry["kind"])
            if entry.get("api_version"):
                kind = kind.with_version(str(entry["api_version"]))
        else:
            kind = _lookup(entry)
        if all(kind.kind != other.kind for other in chosen):
            chosen.append(kind)
    return chosen
