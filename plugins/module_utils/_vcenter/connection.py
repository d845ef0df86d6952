# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sessions from the admin face's connection settings, and names resolved through them.

``params`` is any mapping with the connection keys of ``VCENTER_ARGUMENT_SPEC`` (hostname, port,
username, password, validate_certs, ca_cert): module parameters, inventory options or an event
source's arguments alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors, settings
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import names, vsphere_pods
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.libraries import content_libraries
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import VcenterSession
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.soap import VcenterInventory

CONNECTION_KEYS = ("hostname", "port", "username", "password", "validate_certs", "ca_cert")


def connection_args(params):
    return dict((key, params.get(key)) for key in CONNECTION_KEYS if params.get(key) is not None)


def rest_session(params, flavour="api"):
    return VcenterSession(flavour=flavour, **connection_args(params))


# the option ``vcenter`` of a developer-face module that may ask vCenter (doc fragment vsphere_pods)
VCENTER_LOOKUP_SPEC = dict(vcenter=dict(type="dict", options=dict(
    hostname=dict(type="str", required=True),
    port=dict(type="int", default=443),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", default=True),
    ca_cert=dict(type="path"),
), required_together=[("username", "password")]))  # never one user's password sent as another's


def lookup_settings(params):
    """The vCenter settings of a developer-face task's ``vcenter`` option, or None when it has none:
    its user and password are the task's own (the Supervisor login's SSO user) unless it names others.
    Only what the task gives is used (no environment)."""
    given = dict(params.get("vcenter") or {})
    if not given:
        return None
    for key in ("username", "password"):
        if not given.get(key):
            given[key] = params.get(key)
    missing = [key for key in ("username", "password") if not given.get(key)]
    if missing:
        raise errors.InvalidArgument(
            "vcenter needs {0}: give them in vcenter, or log in to the Supervisor with username and password "
            "(the same SSO user asks vCenter)".format(" and ".join(missing)))
    resolved = settings.resolve(settings.VCENTER, given, {})
    resolved.pop("source")
    return resolved


def vsphere_pod_support(params, namespace=None):
    """``vsphere_pods.facts`` of ``namespace`` (a dict), or of every vSphere Namespace (name -> facts),
    asked of the vCenter of the task's ``vcenter`` option; None when the task gives none. A namespace
    vCenter does not know has no facts (None): the Supervisor alone decides there."""
    found = lookup_settings(params)
    if found is None:
        return None
    with rest_session(found) as session:
        if namespace is None:
            return vsphere_pods.support_by_namespace(session)
        try:
            return vsphere_pods.support(session, namespace)
        except errors.NotFound:
            return None


class Lookup(object):
    """Names -> identifiers. Each kind is read from vCenter once, on first use; use as a context manager."""

    def __init__(self, params):
        self._params = params
        self._inventory = None
        self._cache = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._inventory is not None:
            self._inventory.close()
            self._inventory = None

    def _known(self, kind):
        if kind not in self._cache:
            if kind in ("cluster", "network", "datastore"):
                self._cache.update(self._soap().names())
            elif kind == "storage policy":
                self._cache[kind] = self._soap().storage_policies()
            elif kind == "content library":
                with rest_session(self._params, flavour="rest") as session:
                    self._cache[kind] = content_libraries(session)
        return self._cache[kind]

    def _soap(self):
        if self._inventory is None:
            self._inventory = VcenterInventory(**connection_args(self._params))
        return self._inventory

    def one(self, kind, name):
        return names.resolve(kind, name, self._known(kind))

    def all(self, kind, given):
        return names.resolve_all(kind, given, self._known(kind))

    def name_of(self, kind, identifier):
        return names.name_of(identifier, self._known(kind))
