#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: guest_cluster
short_description: Manage a Tanzu Kubernetes (guest) cluster on a vSphere Supervisor
version_added: 0.1.0
description:
  - Creates, scales, upgrades and deletes a guest Kubernetes cluster in a vSphere Namespace through the
    Supervisor's Kubernetes API, either as a C(TanzuKubernetesCluster) (C(run.tanzu.vmware.com/v1alpha3))
    or as a Cluster API C(Cluster) (C(cluster.x-k8s.io/v1beta1)) with a C(spec.topology) of a ClusterClass.
  - Changes are made with server-side apply under the field manager C(pacific.supervisor). Options left out
    keep what the cluster has, so a task may change only the replicas of one node pool.
  - Before anything is sent, the options are checked (names, replicas), the Kubernetes version is looked up
    among the Supervisor's Tanzu Kubernetes releases, and the VM classes are checked to be bound to the
    namespace, so that bad input changes nothing.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
attributes:
  check_mode:
    support: full
    description: A server-side dry run; the server validates the change without making it.
  diff_mode:
    support: full
    description: Shows the cluster object before and after, without server-managed fields.
options:
  name:
    description: The guest cluster's name, a DNS-1123 label.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace the cluster lives in.
    type: str
    required: true
  state:
    description:
      - Whether the cluster should exist.
      - With O(wait=true), V(absent) waits until the cluster object, its Machines and their VMs are gone.
    type: str
    choices: [present, absent]
    default: present
  api:
    description:
      - Which API describes the cluster. V(tkc) is a C(TanzuKubernetesCluster), V(capi) a Cluster API
        C(Cluster) with a topology.
    type: str
    choices: [tkc, capi]
    default: tkc
  version:
    description:
      - The Kubernetes release the cluster runs, looked up among the Supervisor's Tanzu Kubernetes releases
        (C(TanzuKubernetesRelease) objects).
      - A release name (V(v1.35.4---vmware.1-fips-vkr.1)), a release version (V(v1.35.4+vmware.1-fips-vkr.1)) or
        a Kubernetes version (V(v1.35), V(1.35.4)); a Kubernetes version takes the newest matching release unless
        the cluster already runs one of them.
      - A C(TanzuKubernetesCluster) names the release (C(tkr.reference.name)) for its control plane and every node
        pool; a C(Cluster) names its version (C(spec.topology.version)).
      - Changing it upgrades the cluster; every node is replaced. An older release than the cluster runs is refused.
      - Required to create a cluster with O(api=capi); a C(TanzuKubernetesCluster) without it gets the
        Supervisor's default release.
    type: str
  control_plane_replicas:
    description:
      - The number of control plane nodes; 1 or 3 for a C(TanzuKubernetesCluster), an odd number for a C(Cluster).
      - Defaults to 1 when creating; otherwise the cluster keeps its count.
    type: int
  vm_class:
    description:
      - The VirtualMachineClass of the control plane nodes, and of node pools that name none. It must be bound
        to the namespace. Required to create a cluster.
    type: str
  storage_class:
    description:
      - The storage class of the nodes' disks (and of node pools that name none). Required to create a cluster.
    type: str
  cluster_class:
    description:
      - The ClusterClass of a C(Cluster) (O(api=capi)); ignored for a C(TanzuKubernetesCluster).
      - Defaults to V(tanzukubernetescluster), the class a Supervisor provides.
    type: str
  node_pools:
    description:
      - The worker node pools (C(nodePools) of a C(TanzuKubernetesCluster), C(workers.machineDeployments) of a
        C(Cluster)). When given, this is the whole list; pools not in it are removed. When left out, the pools stay
        as they are.
    type: list
    elements: dict
    suboptions:
      name:
        description: The pool's name, a DNS-1123 label.
        type: str
        required: true
      replicas:
        description:
          - The number of worker nodes in the pool, 0 or more. Defaults to what the pool has, or 1 for a new pool.
          - Scaling down removes the newest nodes first.
        type: int
      vm_class:
        description: The VirtualMachineClass of the pool's nodes; O(vm_class) when not set.
        type: str
      storage_class:
        description: The storage class of the pool's nodes; O(storage_class) when not set.
        type: str
      worker_class:
        description: The ClusterClass worker class of the pool (O(api=capi) only).
        type: str
        default: node-pool
  force_conflicts:
    description:
      - Take over fields another field manager (kubectl, a controller) owns instead of failing.
    type: bool
    default: false
notes:
  - O(wait=true) waits until the cluster is Ready (a C(TanzuKubernetesCluster) its C(Ready) condition, a C(Cluster)
    C(ControlPlaneReady), C(InfrastructureReady) and C(Ready)); a release the Supervisor cannot run fails at once
    with the controller's message. Creating a cluster takes minutes on a real Supervisor; set O(wait_timeout).
seealso:
  - module: pacific.supervisor.guest_cluster_info
  - module: pacific.supervisor.guest_cluster_kubeconfig
"""

EXAMPLES = r"""
- name: A cluster with one worker, waiting until it is Ready
  pacific.supervisor.guest_cluster:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_token }}"
    name: tkc-1
    namespace: team-a
    version: v1.34
    vm_class: best-effort-small
    storage_class: vsan-default-storage-policy
    node_pools:
      - name: workers
        replicas: 1
    wait: true
    wait_timeout: 1800

- name: Scale its workers to 3 (everything else stays)
  pacific.supervisor.guest_cluster:
    name: tkc-1
    namespace: team-a
    node_pools:
      - name: workers
        replicas: 3
    wait: true

- name: Upgrade it
  pacific.supervisor.guest_cluster:
    name: tkc-1
    namespace: team-a
    version: v1.35
    wait: true

- name: The same kind of cluster through Cluster API
  pacific.supervisor.guest_cluster:
    name: capi-1
    namespace: team-a
    api: capi
    version: v1.35
    vm_class: best-effort-small
    storage_class: vsan-default-storage-policy
    node_pools:
      - {name: md-0, replicas: 2}
    wait: true

- name: Delete it and wait until its nodes are gone
  pacific.supervisor.guest_cluster:
    name: tkc-1
    namespace: team-a
    state: absent
    wait: true
"""

RETURN = r"""
cluster:
  description: The cluster after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
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
    kind:
      description: C(TanzuKubernetesCluster) or C(Cluster).
      type: str
    version:
      description: The release of its spec (a release name for V(tkc), a release version for V(capi)).
      type: str
    kubernetes_version:
      description: The Kubernetes version the cluster reports running (C(TanzuKubernetesCluster) only).
      type: str
    phase:
      description: The phase the controller reports, for example C(running) or C(Provisioned).
      type: str
    ready:
      description:
        - Whether the cluster is Ready; of a TanzuKubernetesCluster that reports no Ready condition, whether the
          Cluster API Cluster it is realised as is (C(ControlPlaneReady) and C(InfrastructureReady)).
      type: bool
    capi_cluster:
      description:
        - The Cluster API Cluster that realises the cluster (on vSphere 8 a TanzuKubernetesCluster is realised as
          the Cluster of the same name, of the C(tanzukubernetescluster) ClusterClass), once there is one.
      type: str
    state_message:
      description: Why it is not ready yet, or why it failed.
      type: str
    conditions:
      description: The controller's conditions.
      type: list
      elements: dict
    control_plane_endpoint:
      description: The guest's API endpoint (C(host), C(port)), once known.
      type: dict
    cluster_class:
      description: The ClusterClass of a C(Cluster); null for a C(TanzuKubernetesCluster).
      type: str
    control_plane:
      description: C(replicas), C(ready_replicas) (Machines running), C(vm_class) and C(storage_class).
      type: dict
    node_pools:
      description: Each pool's C(name), C(replicas), C(ready_replicas), C(vm_class) and C(storage_class).
      type: list
      elements: dict
    machines:
      description:
        - Its Cluster API Machines (the nodes), sorted by name, each with C(name), C(pool) (C(control-plane)
          or the node pool), C(phase), C(running), C(failed) (phase C(Failed), such as a node whose VM
          stopped; Cluster API leaves it for remediation - delete the Machine and a new one replaces it),
          C(deleting), C(reason) and C(message) (why it is not Ready) and C(node).
        - Empty in check mode.
      type: list
      elements: dict
    kubeconfig_secret:
      description: The Secret in the namespace that holds the guest's admin kubeconfig (key C(value)).
      type: str
    resource:
      description: The whole cluster object.
      type: dict
  sample:
    name: tkc-1
    namespace: team-a
    api: tkc
    version: v1.35.4---vmware.1-fips-vkr.1
    phase: running
    ready: true
    control_plane_endpoint: {host: 10.0.0.20, port: 6443}
    node_pools:
      - {name: workers, replicas: 3, ready_replicas: 3, vm_class: best-effort-small, storage_class: vsan-default-storage-policy}
diff:
  description: The cluster object before and after, without server-managed fields (with O(ignore:--diff)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_clusters, names, preflight
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_cluster_manifest as gcm
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC

ARGUMENT_SPEC = dict(
    api=dict(type="str", choices=[gcm.TKC, gcm.CAPI], default=gcm.TKC),
    version=dict(type="str"),
    control_plane_replicas=dict(type="int"),
    vm_class=dict(type="str"),
    storage_class=dict(type="str"),
    cluster_class=dict(type="str"),
    node_pools=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        replicas=dict(type="int"),
        vm_class=dict(type="str"),
        storage_class=dict(type="str"),
        worker_class=dict(type="str", default=gcm.DEFAULT_WORKER_CLASS),
    )),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)


def handle(params, run):
    gcm.validate(params)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    resource = gcm.RESOURCES[params["api"]]
    identity = {"apiVersion": resource.api_version, "kind": resource.kind,
                "metadata": names.metadata(params["name"], params["namespace"])}
    if params["state"] == "absent":
        return remove(engine, identity, run, params)
    before = engine.get(resource, params["name"], params["namespace"])
    if before is None:
        preflight.namespace_exists(engine, params["namespace"])
    release = None
    if params.get("version"):
        current = (gcm.current_options(before, params["api"]) or {}).get("version")
        release = gcm.resolve_release(params["version"], guest_clusters.releases(engine), current=current)
        gcm.check_no_downgrade(current, release, params["name"])
    manifest = gcm.build(params, before, release)
    check_vm_classes(engine, manifest, before, params["api"])
    outcome = engine.ensure(manifest, check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"], before=before, readiness=gcm.readiness)
    obj = outcome["object"]
    # in check mode a cluster that exists still reports its machines and realising Cluster as they are
    live = not run.check_mode or before is not None
    machines = guest_clusters.machines(engine, params["namespace"], params["name"]) if live else []
    realising = guest_clusters.realising_cluster(engine, obj) if live else None
    result = {"changed": outcome["changed"], "cluster": gcm.summarize(obj, machines, realising)}
    if run.diff:
        result["diff"] = outcome["diff"]
    return result


def check_vm_classes(engine, manifest, before, api):
    """Every VM class the cluster would use that it does not use yet is bound to the namespace."""
    wanted = gcm.current_options(manifest, api)
    used = gcm.current_options(before, api) or {"vm_class": None, "node_pools": []}
    known = set([used["vm_class"]] + [pool["vm_class"] for pool in used["node_pools"]])
    for vm_class in [wanted["vm_class"]] + [pool["vm_class"] for pool in wanted["node_pools"]]:
        if vm_class not in known:
            preflight.vm_class_bound(engine, manifest["metadata"]["namespace"], vm_class)
            known.add(vm_class)


def remove(engine, identity, run, params):
    outcome = engine.ensure(identity, state="absent", check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"])
    if params["wait"] and not run.check_mode and not engine.known_hidden(params["namespace"]):
        engine.wait_guest_gone(params["namespace"], params["name"], params["wait_timeout"])
    result = {"changed": outcome["changed"], "cluster": None}
    if run.diff:
        result["diff"] = outcome["diff"]
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
