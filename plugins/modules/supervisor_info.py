#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: supervisor_info
short_description: The Supervisors of vCenter's clusters, with their status and endpoints
version_added: 0.1.0
description:
  - Reads the clusters with workload management enabled through vCenter's namespace-management API, with their
    configuration and Kubernetes status, Kubernetes API server endpoint and certificate, size,
    network provider and control plane storage policy.
  - Adds each Supervisor's versions from the namespace-management software API (the Supervisor
    release it runs, the Kubernetes version of its API server, and the releases it can be upgraded to).
author:
  - pacific.supervisor contributors (@pacific)
options:
  cluster:
    description:
      - Only the Supervisor of this cluster, by name (or managed object identifier).
      - A cluster without a Supervisor gives an empty list, not a failure.
    type: str
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing changes.
"""

EXAMPLES = r"""
- name: Every Supervisor
  pacific.supervisor.supervisor_info:
  register: found

- name: Point the developer face at the first one
  ansible.builtin.set_fact:
    sv_server: "https://{{ found.supervisors[0].api_server_cluster_endpoint }}:6443"
"""

RETURN = r"""
supervisors:
  description: One entry per cluster with a Supervisor, sorted by cluster name.
  returned: always
  type: list
  elements: dict
  contains:
    cluster:
      description: The cluster's managed object identifier.
      type: str
      sample: domain-c8
    cluster_name:
      description: The cluster's name.
      type: str
      sample: Cluster-1
    config_status:
      description: V(CONFIGURING), V(RUNNING), V(REMOVING) or V(ERROR).
      type: str
      sample: RUNNING
    kubernetes_status:
      description: V(READY), V(WARNING) or V(ERROR).
      type: str
      sample: READY
    kubernetes_status_messages:
      description: Why the Kubernetes status is not V(READY) (empty when it is).
      type: list
      elements: dict
      sample: []
    kubernetes_version:
      description:
        - The Kubernetes version of the Supervisor's API server, the part of RV(supervisors[].current_version)
          before C(+). Empty when vCenter reports no software version.
      type: str
      sample: v1.30.1
    current_version:
      description: The Supervisor release the cluster runs.
      type: str
      sample: v1.30.1+vmware.wcp.1-vsc0.1.2-24000000
    available_versions:
      description: The Supervisor releases the cluster can be upgraded to (empty when it is up to date).
      type: list
      elements: str
      sample: []
    upgrade_state:
      description: V(READY) (no upgrade under way, or it completed), V(PENDING) (upgrading) or V(ERROR).
      type: str
      sample: READY
    api_server_cluster_endpoint:
      description:
        - The Supervisor's control plane address, as vCenter reports it (no port). Its Kubernetes API
          is on port 6443 there, its C(/wcp/login) on port 443.
      type: str
      sample: 192.168.10.2
    supervisor:
      description: The Supervisor's identifier and name, when vCenter reports Supervisor summaries.
      type: dict
      sample: {id: supervisor-domain-c8, name: supervisor-cluster-1}
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import (
    Clusters, supervisor_summaries)

ARGUMENT_SPEC = dict(cluster=dict(type="str"))


def handle(params, run):
    wanted = params["cluster"]
    supervisors = []
    with rest_session(params) as session:
        clusters = Clusters(session)
        summaries = supervisor_summaries(session)
        for summary in clusters.list():
            if wanted is not None and wanted not in (summary.get("cluster"), summary.get("cluster_name")):
                continue
            detail = clusters.get(summary["cluster"])
            if detail is not None:  # else disabled between the list and the read
                found = dict(summary)
                found.update(detail)
                found["supervisor"] = _supervisor_of(summary["cluster"], summaries)
                found.update(versions_of(clusters.software(summary["cluster"])))
                supervisors.append(found)
    return {"changed": False, "supervisors": sorted(supervisors, key=lambda found: found.get("cluster_name", ""))}


def versions_of(software):
    """The version fields of one Supervisor from its software info (None: disabled meanwhile)."""
    software = software or {}
    current = software.get("current_version") or ""
    return {"current_version": current, "kubernetes_version": current.split("+", 1)[0],
            "available_versions": list(software.get("available_versions") or []),
            "upgrade_state": software.get("state") or ""}


def _supervisor_of(cluster, summaries):
    """The Supervisor summary whose identifier names ``cluster`` (empty when none does)."""
    for summary in summaries:
        if summary.get("supervisor", "").endswith(cluster):
            return dict(summary.get("info") or {}, id=summary["supervisor"])
    return {}


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle)


if __name__ == "__main__":
    main()
