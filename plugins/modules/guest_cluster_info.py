#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: guest_cluster_info
short_description: List guest Kubernetes clusters on a vSphere Supervisor, with their status
version_added: 0.1.0
description:
  - Lists C(TanzuKubernetesCluster) objects and Cluster API C(Cluster) objects with a topology in one vSphere
    Namespace, or in every namespace the credentials may read, and summarizes each (phase, readiness, conditions,
    control plane endpoint, version, and its control plane and node pools with the number of running Machines).
  - One LIST per kind and one LIST of Machines, whatever the number of clusters.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: Reads only.
options:
  namespace:
    description:
      - The vSphere Namespace to look in; every namespace the credentials may read when not set.
      - Without it, a caller who may list across namespaces (an admin) reads them all at once; a namespace
        developer may not, and reads the namespaces of its WCP login one by one (the Supervisor's
        C(/wcp/workloads), as C(kubectl vsphere login) reads them), which needs O(username) and O(password);
        with only a token, leaving O(namespace) out is an error that says so. A namespace listed but refused
        is left out with a warning.
      - A namespace a developer has no access to (or that does not exist) is an error
        (a Supervisor answers both with 403), and the message says so.
    type: str
  name:
    description: Only the cluster of this name.
    type: str
  api:
    description: Which kinds to list; V(all) lists both.
    type: str
    choices: [tkc, capi, all]
    default: all
seealso:
  - module: pacific.supervisor.guest_cluster
"""

EXAMPLES = r"""
- name: The guest clusters of a namespace
  pacific.supervisor.guest_cluster_info:
    namespace: team-a
  register: guests

- name: Those not ready
  ansible.builtin.debug:
    msg: "{{ guests.clusters | rejectattr('ready') | map(attribute='name') | list }}"

- name: One cluster's endpoint
  pacific.supervisor.guest_cluster_info:
    namespace: team-a
    name: tkc-1
  register: tkc
"""

RETURN = r"""
clusters:
  description:
    - The clusters found, sorted by namespace, then name; the same summary M(pacific.supervisor.guest_cluster)
      returns as RV(ignore:cluster) (see there for every field).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The cluster's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    api:
      description: V(tkc) or V(capi).
      type: str
    version:
      description: The release of its spec.
      type: str
    phase:
      description: The phase the controller reports.
      type: str
    ready:
      description:
        - Whether the cluster is Ready; of a TanzuKubernetesCluster that reports no Ready condition, whether the
          Cluster API Cluster it is realised as is (C(ControlPlaneReady) and C(InfrastructureReady)).
      type: bool
    capi_cluster:
      description:
        - The Cluster API Cluster that realises the cluster (on vSphere 8 a TanzuKubernetesCluster is realised as
          the Cluster of the same name, of the C(tanzukubernetescluster) ClusterClass), if there is one.
      type: str
    conditions:
      description: The controller's conditions.
      type: list
      elements: dict
    control_plane_endpoint:
      description: The guest's API endpoint (C(host), C(port)), once known.
      type: dict
    control_plane:
      description: C(replicas), C(ready_replicas), C(vm_class), C(storage_class).
      type: dict
    node_pools:
      description: Each pool's C(name), C(replicas), C(ready_replicas), C(vm_class), C(storage_class).
      type: list
      elements: dict
    machines:
      description:
        - Its Cluster API Machines (the nodes), sorted by name, each with C(name), C(pool) (C(control-plane)
          or the node pool), C(phase), C(running), C(failed) (phase C(Failed), such as a node whose VM
          stopped; Cluster API leaves it for remediation - delete the Machine and a new one replaces it),
          C(deleting), C(reason) and C(message) (why it is not Ready) and C(node).
      type: list
      elements: dict
  sample:
    - name: tkc-1
      namespace: team-a
      api: tkc
      phase: running
      ready: true
      node_pools:
        - {name: workers, replicas: 1, ready_replicas: 1, vm_class: best-effort-small, storage_class: vsan-default-storage-policy}
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_clusters
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_cluster_manifest as gcm
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name

ARGUMENT_SPEC = dict(
    namespace=dict(type="str"),
    name=dict(type="str"),
    api=dict(type="str", choices=[gcm.TKC, gcm.CAPI, "all"], default="all"),
)


def _listed(engine, resource, namespace, name):
    """The clusters of one kind; none when the Supervisor does not serve the kind."""
    selector = "metadata.name=" + name if name else None
    try:
        return engine.list_readable(resource, namespace, field_selector=selector)
    except errors.NamespaceMissing:
        raise
    except errors.NotFound:
        return []


def _realises_a_tkc(cluster):
    return any(owner.get("kind") == "TanzuKubernetesCluster"
               for owner in (cluster.get("metadata") or {}).get("ownerReferences") or [])


def _key(obj):
    return (obj["metadata"].get("namespace"), obj["metadata"]["name"])


def handle(params, run):
    namespace, name = params.get("namespace"), params.get("name")
    if namespace:
        check_name(namespace, "namespace", label=True)
    if name:
        check_name(name, "guest cluster name", label=True)
    engine = Engine(connect(params), run=run)
    apis = [gcm.TKC, gcm.CAPI] if params["api"] == "all" else [params["api"]]
    tkcs = _listed(engine, gcm.RESOURCES[gcm.TKC], namespace, name) if gcm.TKC in apis else []
    # a Cluster without topology is not a guest cluster we describe; one a TanzuKubernetesCluster
    # owns (how a Supervisor of vSphere 8 realises a TKC) is described with that TKC
    capi = _listed(engine, gcm.RESOURCES[gcm.CAPI], namespace, name)
    realising = dict((_key(item), item) for item in capi if _realises_a_tkc(item))
    clusters = tkcs + [item for item in capi if gcm.CAPI in apis and (item.get("spec") or {}).get("topology")
                       and not _realises_a_tkc(item)]
    machines = guest_clusters.machines_by_cluster(guest_clusters.machines(engine, namespace, name)) if clusters else {}
    summaries = [gcm.summarize(obj, machines.get(_key(obj), []), realising.get(_key(obj)) if obj in tkcs else None)
                 for obj in clusters]
    summaries.sort(key=lambda summary: (summary["namespace"], summary["name"], summary["api"]))
    return {"changed": False, "clusters": summaries}


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
