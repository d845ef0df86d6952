# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin wrappers over the namespace-management resources of the vSphere Automation API.

Each method is one HTTP call on a ``VcenterSession``; none decides anything. ``get`` returns
None for an object that does not exist so that callers can tell "absent" from "failed".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import quoted

NAMESPACES = "/api/vcenter/namespaces/instances"
CLUSTERS = "/api/vcenter/namespace-management/clusters"
VM_CLASSES = "/api/vcenter/namespace-management/virtual-machine-classes"
SUPERVISOR_SUMMARIES = "/api/vcenter/namespace-management/supervisors/summaries"
SOFTWARE_CLUSTERS = "/api/vcenter/namespace-management/software/clusters"


class Namespaces(object):
    """vSphere Namespaces (``/api/vcenter/namespaces/instances``)."""

    def __init__(self, session):
        self.session = session

    def list(self):
        return self.session.get(NAMESPACES) or []

    def get(self, name):
        return self.session.get_or_none(NAMESPACES + "/" + quoted(name))

    def create(self, create_spec):
        self.session.call("POST", NAMESPACES, body=create_spec)

    def update(self, name, update_spec):
        """PATCH: only the fields in ``update_spec`` change."""
        self.session.call("PATCH", NAMESPACES + "/" + quoted(name), body=update_spec)

    def delete(self, name):
        self.session.call("DELETE", NAMESPACES + "/" + quoted(name))


class Clusters(object):
    """Clusters with workload management (``/api/vcenter/namespace-management/clusters``)."""

    def __init__(self, session):
        self.session = session

    def list(self):
        return self.session.get(CLUSTERS) or []

    def get(self, cluster_id):
        """The cluster's Supervisor, or None when workload management is not enabled on it."""
        return self.session.get_or_none(CLUSTERS + "/" + quoted(cluster_id))

    def enable(self, cluster_id, enable_spec):
        self.session.call("POST", CLUSTERS + "/" + quoted(cluster_id), body=enable_spec,
                          query={"action": "enable"})

    def disable(self, cluster_id):
        self.session.call("POST", CLUSTERS + "/" + quoted(cluster_id), query={"action": "disable"})

    def update(self, cluster_id, update_spec):
        """PATCH: only the fields in ``update_spec`` change on the running Supervisor."""
        self.session.call("PATCH", CLUSTERS + "/" + quoted(cluster_id), body=update_spec)

    def software(self, cluster_id):
        """The Supervisor's versions (current, available upgrades, upgrade state), or None without one."""
        return self.session.get_or_none(SOFTWARE_CLUSTERS + "/" + quoted(cluster_id))


class VmClasses(object):
    """VM classes (``/api/vcenter/namespace-management/virtual-machine-classes``)."""

    def __init__(self, session):
        self.session = session

    def list(self):
        return self.session.get(VM_CLASSES) or []

    def get(self, name):
        return self.session.get_or_none(VM_CLASSES + "/" + quoted(name))

    def create(self, create_spec):
        self.session.call("POST", VM_CLASSES, body=create_spec)

    def update(self, name, update_spec):
        self.session.call("PATCH", VM_CLASSES + "/" + quoted(name), body=update_spec)

    def delete(self, name):
        self.session.call("DELETE", VM_CLASSES + "/" + quoted(name))


def supervisor_summaries(session):
    """``[{"supervisor": id, "info": {"name", "config_status", "kubernetes_status"}}]``."""
    answer = session.get(SUPERVISOR_SUMMARIES) or {}
    return answer.get("items", []) if isinstance(answer, dict) else answer
