# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest cluster manifests from module options, and the summary the modules return of one.
Pure functions, shared by ``guest_cluster``, ``guest_cluster_info`` and
``guest_cluster_kubeconfig``.

Two APIs describe the same thing, a Kubernetes cluster of VMs in a vSphere Namespace:

- ``tkc``: a TanzuKubernetesCluster (``run.tanzu.vmware.com/v1alpha3``): ``spec.topology``
  with ``controlPlane`` and ``nodePools``, each with ``vmClass``, ``storageClass`` and a
  Tanzu Kubernetes release (``tkr.reference.name``, the release's object name).
- ``capi``: a Cluster API Cluster (``cluster.x-k8s.io/v1beta1``) with ``spec.topology``:
  ``class`` (the ClusterClass, ``tanzukubernetescluster`` on a Supervisor), ``version`` (the
  release's ``spec.version``), ``controlPlane.replicas``, ``workers.machineDeployments`` and the
  ClusterClass variables ``vmClass`` and ``storageClass`` (per pool as variable overrides).

Options not given keep what the cluster has (server-side apply would otherwise drop fields we
applied before), so a task may change only what it names, e.g. one pool's replicas.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name, metadata as object_metadata

TKC, CAPI = "tkc", "capi"
RESOURCES = {TKC: kinds.TANZU_KUBERNETES_CLUSTER, CAPI: kinds.CAPI_CLUSTER}
DEFAULT_CLUSTER_CLASS = "tanzukubernetescluster"
DEFAULT_WORKER_CLASS = "node-pool"
CLUSTER_LABEL = "cluster.x-k8s.io/cluster-name"
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
DEPLOYMENT_LABEL = "topology.cluster.x-k8s.io/deployment-name"
KUBECONFIG_SUFFIX = "-kubeconfig"
KUBECONFIG_KEY = "value"
CONTROL_PLANE = "control-plane"

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$")


def kubeconfig_secret_name(cluster):
    return cluster + KUBECONFIG_SUFFIX


# --- releases ---------------------------------------------------------------------------------
class Release(object):
    """One Kubernetes release a guest cluster can run: the TKR's object name (what a
    TanzuKubernetesCluster names) and its version (what a topology Cluster names)."""

    __slots__ = ("name", "version", "kubernetes_version")

    def __init__(self, name, version, kubernetes_version=None):
        self.name = name
        self.version = version
        self.kubernetes_version = kubernetes_version or version

    def numbers(self):
        return _numbers(self.kubernetes_version) or _numbers(self.version) or ()

    def __eq__(self, other):
        return isinstance(other, Release) and (self.name, self.version) == (other.name, other.version)

    def __repr__(self):
        return "Release({0!r}, {1!r})".format(self.name, self.version)


def _numbers(version):
    """(major, minor[, patch]) of a version string, None when it is not one."""
    match = _VERSION.match(version or "")
    if not match:
        return None
    return tuple(int(part) for part in match.groups()[:3] if part is not None)


def release_of(tkr):
    """A Release of a TanzuKubernetesRelease object, None when it is not Ready."""
    for condition in ((tkr.get("status") or {}).get("conditions") or []):
        if condition.get("type") == "Ready" and condition.get("status") == "False":
            return None
    spec = tkr.get("spec") or {}
    name = (tkr.get("metadata") or {}).get("name")
    return Release(name, spec.get("version") or name.replace("---", "+"),
                   (spec.get("kubernetes") or {}).get("version"))


def check_version(requested):
    """Raise InvalidArgument unless ``requested`` looks like a Kubernetes version or release name."""
    if not isinstance(requested, str) or _numbers(requested) is None:
        raise errors.InvalidArgument(
            "version {0!r} is not a Kubernetes version: give a release such as v1.35 or v1.35.4, or a "
            "Tanzu Kubernetes release name such as v1.35.4---vmware.1-fips-vkr.1".format(requested))
    return requested


def resolve_release(requested, tkrs, current=None):
    """The Release ``requested`` names among the Supervisor's TanzuKubernetesReleases ``tkrs``:
    a release name or version exactly, or a Kubernetes version (``v1.35``, ``1.35.4``) whose
    newest release is taken, unless ``current`` (the cluster's release name or version) already
    is one of them. ``tkrs`` None means the Supervisor does not list its releases: a complete
    version is then taken as it is."""
    check_version(requested)
    if tkrs is None:
        if len(_numbers(requested)) < 3:
            raise errors.InvalidArgument(
                "version {0!r} is incomplete and the Supervisor lists no Tanzu Kubernetes releases to complete it "
                "from: give the full release name".format(requested))
        return Release(requested.replace("+", "---"), requested.replace("---", "+"))
    offered = [release for release in (release_of(tkr) for tkr in tkrs) if release is not None]
    for release in offered:
        if requested in (release.name, release.version):
            return release
    wanted = _numbers(requested)
    suffix = _VERSION.match(requested).group(4)
    matching = [] if suffix else [release for release in offered if release.numbers()[:len(wanted)] == wanted]
    for release in matching:
        if current in (release.name, release.version):
            return release
    if matching:
        return max(matching, key=lambda release: (release.numbers(), release.name))
    raise errors.InvalidArgument("Kubernetes version {0!r} is not offered by this Supervisor (offered: {1})".format(
        requested, ", ".join(sorted(release.name for release in offered)) or "none"))


def check_no_downgrade(current, release, cluster):
    """Raise InvalidArgument when ``release`` is older than the ``current`` release name or
    version of an existing cluster: a Supervisor upgrades guest clusters, it never downgrades them."""
    before = _numbers(current) if current else None
    if before and release.numbers() and release.numbers()[:len(before)] < before[:len(release.numbers())]:
        raise errors.InvalidArgument("guest cluster {0} runs {1}; it cannot be downgraded to {2}".format(
            cluster, current, release.name))


# --- manifests --------------------------------------------------------------------------------
def _positive_odd(value, what):
    if value is None:
        return None
    if value < 1 or value % 2 == 0:
        raise errors.InvalidArgument("{0} must be a positive odd number (1 or 3), not {1}".format(what, value))
    return value


def validate(params):
    """Check the options alone (no API needed); raise InvalidArgument on the first problem."""
    check_name(params.get("name"), "guest cluster name", label=True)
    check_name(params.get("namespace"), "namespace", label=True)
    if params.get("state", "present") == "absent":
        return
    if params.get("version") is not None:
        check_version(params["version"])
    replicas = params.get("control_plane_replicas")
    _positive_odd(replicas, "control_plane_replicas")
    if replicas is not None and params.get("api", TKC) == TKC and replicas not in (1, 3):
        raise errors.InvalidArgument("control_plane_replicas of a TanzuKubernetesCluster must be 1 or 3, not {0}"
                                     .format(replicas))
    seen = set()
    for pool in params.get("node_pools") or []:
        name = check_name(pool.get("name"), "node pool name", label=True)
        if name in seen:
            raise errors.InvalidArgument("node pool {0!r} is given twice".format(name))
        seen.add(name)
        if pool.get("replicas") is not None and pool["replicas"] < 0:
            raise errors.InvalidArgument("replicas of node pool {0!r} must be 0 or more, not {1}".format(
                name, pool["replicas"]))
    for option in ("vm_class", "storage_class", "cluster_class"):
        if params.get(option) is not None and not params[option]:
            raise errors.InvalidArgument("{0} must not be empty".format(option))


def current_options(obj, api):
    """The module options that describe an existing cluster (what ``build`` keeps by default)."""
    if obj is None:
        return None
    topology = (obj.get("spec") or {}).get("topology") or {}
    plane = topology.get("controlPlane") or {}
    if api == TKC:
        pools = [{"name": pool.get("name"), "replicas": pool.get("replicas"), "vm_class": pool.get("vmClass"),
                  "storage_class": pool.get("storageClass")} for pool in topology.get("nodePools") or []]
        return {"version": ((plane.get("tkr") or {}).get("reference") or {}).get("name"),
                "control_plane_replicas": plane.get("replicas"), "vm_class": plane.get("vmClass"),
                "storage_class": plane.get("storageClass"), "node_pools": pools, "cluster_class": None}
    variables = _variables(topology.get("variables"))
    pools = []
    for deployment in (topology.get("workers") or {}).get("machineDeployments") or []:
        overrides = _variables(((deployment.get("variables") or {}).get("overrides")))
        pools.append({"name": deployment.get("name"), "replicas": deployment.get("replicas"),
                      "vm_class": overrides.get("vmClass", variables.get("vmClass")),
                      "storage_class": overrides.get("storageClass", variables.get("storageClass")),
                      "worker_class": deployment.get("class")})
    return {"version": topology.get("version"), "control_plane_replicas": plane.get("replicas"),
            "vm_class": variables.get("vmClass"), "storage_class": variables.get("storageClass"),
            "node_pools": pools, "cluster_class": topology.get("class")}


def _variables(entries):
    return dict((entry.get("name"), entry.get("value")) for entry in entries or [])


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def desired_options(params, current, release=None):
    """The options to apply: those given (``release``: what ``version`` resolved to), else the
    cluster's current ones, else defaults. Raises InvalidArgument when a cluster to create
    lacks what it needs."""
    current = current or {}
    api = params.get("api", TKC)
    resolved = None if release is None else (release.name if api == TKC else release.version)
    wanted = {
        "version": _first(resolved, params.get("version"), current.get("version")),
        "control_plane_replicas": _first(params.get("control_plane_replicas"), current.get("control_plane_replicas"), 1),
        "vm_class": _first(params.get("vm_class"), current.get("vm_class")),
        "storage_class": _first(params.get("storage_class"), current.get("storage_class")),
        "cluster_class": _first(params.get("cluster_class"), current.get("cluster_class"),
                                DEFAULT_CLUSTER_CLASS if api == CAPI else None),
    }
    missing = [option for option in ("vm_class", "storage_class") if not wanted[option]]
    if api == CAPI and not wanted["version"]:
        missing.append("version")
    if missing:
        raise errors.InvalidArgument("creating guest cluster {0} needs {1}".format(params["name"], " and ".join(missing)))
    existing = dict((pool["name"], pool) for pool in current.get("node_pools") or [])
    given = params.get("node_pools")
    pools = []
    for pool in (given if given is not None else current.get("node_pools") or []):
        before = existing.get(pool["name"]) or {}
        pools.append({
            "name": pool["name"],
            "replicas": _first(pool.get("replicas"), before.get("replicas"), 1),
            "vm_class": _first(pool.get("vm_class"), before.get("vm_class"), wanted["vm_class"]),
            "storage_class": _first(pool.get("storage_class"), before.get("storage_class"), wanted["storage_class"]),
            "worker_class": _first(pool.get("worker_class"), before.get("worker_class"), DEFAULT_WORKER_CLASS),
        })
    wanted["node_pools"] = pools
    return wanted


def build(params, current=None, release=None):
    """The manifest of the guest cluster the options describe. ``current`` is the existing
    object (or None), ``release`` the Release ``params['version']`` resolved to (or None to keep
    the cluster's)."""
    validate(params)
    api = params.get("api", TKC)
    wanted = desired_options(params, current_options(current, api), release)
    metadata = object_metadata(params["name"], params["namespace"])
    if api == TKC:
        return {"apiVersion": RESOURCES[TKC].api_version, "kind": RESOURCES[TKC].kind, "metadata": metadata,
                "spec": {"topology": _tkc_topology(wanted)}}
    return {"apiVersion": RESOURCES[CAPI].api_version, "kind": RESOURCES[CAPI].kind, "metadata": metadata,
            "spec": {"topology": _capi_topology(wanted)}}


def _tkc_topology(wanted):
    plane = {"replicas": wanted["control_plane_replicas"], "vmClass": wanted["vm_class"],
             "storageClass": wanted["storage_class"]}
    if wanted["version"]:
        plane["tkr"] = {"reference": {"name": wanted["version"]}}
    topology = {"controlPlane": plane}
    if wanted["node_pools"]:
        topology["nodePools"] = []
        for pool in wanted["node_pools"]:
            entry = {"name": pool["name"], "replicas": pool["replicas"], "vmClass": pool["vm_class"],
                     "storageClass": pool["storage_class"]}
            if wanted["version"]:  # every pool runs the cluster's release: an upgrade rolls them all
                entry["tkr"] = {"reference": {"name": wanted["version"]}}
            topology["nodePools"].append(entry)
    return topology


def _capi_topology(wanted):
    topology = {
        "class": wanted["cluster_class"],
        "version": wanted["version"],
        "controlPlane": {"replicas": wanted["control_plane_replicas"]},
        "variables": [{"name": "vmClass", "value": wanted["vm_class"]},
                      {"name": "storageClass", "value": wanted["storage_class"]}],
    }
    deployments = []
    for pool in wanted["node_pools"]:
        entry = {"class": pool["worker_class"], "name": pool["name"], "replicas": pool["replicas"]}
        overrides = [{"name": variable, "value": pool[option]}
                     for option, variable in (("vm_class", "vmClass"), ("storage_class", "storageClass"))
                     if pool[option] != wanted[option]]
        if overrides:
            entry["variables"] = {"overrides": overrides}
        deployments.append(entry)
    if deployments:
        topology["workers"] = {"machineDeployments": deployments}
    return topology


# --- summaries --------------------------------------------------------------------------------
def api_of(obj):
    return TKC if (obj or {}).get("kind") == "TanzuKubernetesCluster" else CAPI


def readiness(obj):
    return kinds.tanzu_kubernetes_cluster(obj) if api_of(obj) == TKC else kinds.cluster(obj)


def machine_pool(machine):
    """The pool a Machine belongs to: ``control-plane`` or its MachineDeployment's topology name."""
    labels = (machine.get("metadata") or {}).get("labels") or {}
    if CONTROL_PLANE_LABEL in labels:
        return CONTROL_PLANE
    return labels.get(DEPLOYMENT_LABEL)


def machine_running(machine):
    if (machine.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return ((machine.get("status") or {}).get("phase") or "").lower() == "running"


def machine_summary(machine):
    """One Machine as the modules return it: its pool, phase, whether it runs, and - for one that
    does not - why (the reason of its false Ready condition, the first message a false condition
    gives)."""
    metadata, status = machine.get("metadata") or {}, machine.get("status") or {}
    false = [c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("status") == "False"]
    ready = [c for c in false if c.get("type") == "Ready"]
    reason = (ready or false or [{}])[0].get("reason")
    message = next((c["message"] for c in false if c.get("message")), None)
    return {
        "name": metadata.get("name"),
        "pool": machine_pool(machine),
        "phase": status.get("phase"),
        "running": machine_running(machine),
        "failed": (status.get("phase") or "").lower() == "failed",
        "deleting": bool(metadata.get("deletionTimestamp")),
        "reason": reason,
        "message": message,
        "node": (status.get("nodeRef") or {}).get("name"),
    }


def _endpoint(obj):
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if api_of(obj) == TKC:
        endpoints = status.get("apiEndpoints") or []
        endpoint = endpoints[0] if endpoints else None
    else:
        endpoint = spec.get("controlPlaneEndpoint")
    if not endpoint or not endpoint.get("host"):
        return None
    return {"host": endpoint["host"], "port": endpoint.get("port")}


def realised_by_capi(obj, realising):
    """Of a TanzuKubernetesCluster's readiness where it reports none (no Ready condition): its
    Cluster API Cluster's (``realising``, the Cluster of the same name it owns on vSphere 8)."""
    has_ready = any(c.get("type") == "Ready" for c in (obj.get("status") or {}).get("conditions") or [])
    if api_of(obj) == TKC and not has_ready and realising is not None:
        return kinds.cluster(realising)
    return readiness(obj)


def summarize(obj, machines=(), realising=None):
    """What the modules return of one guest cluster: the facts most playbooks need, flat, with
    node pools counted from its ``machines``, and the whole object under ``resource``; of a
    TanzuKubernetesCluster, ``realising`` is the Cluster API Cluster a Supervisor realises it as
    (named under ``capi_cluster``; its readiness and phase stand in where the TKC reports none)."""
    if obj is None:
        return None
    api = api_of(obj)
    metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
    if api == CAPI:
        realising = obj
    options = current_options(obj, api)
    running = {}
    for machine in machines or ():
        if machine_running(machine):
            pool = machine_pool(machine)
            running[pool] = running.get(pool, 0) + 1
    verdict = realised_by_capi(obj, realising)
    realising_status = (realising or {}).get("status") or {}
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "api": api,
        "kind": obj.get("kind"),
        "version": options["version"],
        "kubernetes_version": status.get("version"),
        "phase": status.get("phase") or realising_status.get("phase"),
        "ready": verdict.state == kinds.READY,
        "capi_cluster": ((realising or {}).get("metadata") or {}).get("name"),
        "state_message": verdict.message,
        "conditions": status.get("conditions") or [],
        "control_plane_endpoint": _endpoint(obj),
        "cluster_class": options["cluster_class"],
        "control_plane": {"replicas": options["control_plane_replicas"],
                          "ready_replicas": running.get(CONTROL_PLANE, 0),
                          "vm_class": options["vm_class"], "storage_class": options["storage_class"]},
        "node_pools": [{"name": pool["name"], "replicas": pool["replicas"],
                        "ready_replicas": running.get(pool["name"], 0),
                        "vm_class": pool["vm_class"], "storage_class": pool["storage_class"]}
                       for pool in options["node_pools"]],
        "machines": sorted((machine_summary(machine) for machine in machines or ()), key=lambda m: m["name"] or ""),
        "kubeconfig_secret": kubeconfig_secret_name(metadata.get("name") or ""),
        "resource": obj,
    }
