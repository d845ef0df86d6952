# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading guest clusters and what belongs to them over the engine: the Supervisor's releases,
a cluster's Machines, its kubeconfig Secret; waiting until a deleted guest's Machines and VMs
are gone; asking a guest's own apiserver for its version. No Ansible here (the inventory plugin
and event sources use it too)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import time

try:
    import yaml
except ImportError:  # reported by the module through run_module's requirements
    yaml = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, waiter
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_cluster_manifest as gcm
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target, connect


def releases(engine):
    """The Supervisor's TanzuKubernetesRelease objects; None when it does not serve them (the
    controller then judges the version). Every user logged in to a Supervisor may read them
    (``kubectl get tkr``): a refusal is an error, not a reason to skip the check."""
    try:
        items, _version = engine.list(kinds.TANZU_KUBERNETES_RELEASE)
    except errors.NotFound:
        return None
    except errors.Forbidden as err:
        raise err.reworded("the version cannot be checked: these credentials may not read the Supervisor's "
                           "Tanzu Kubernetes releases ({0})".format(err.msg))
    return items


def machines(engine, namespace=None, cluster=None):
    """Machines of one cluster (or of every cluster, ``cluster`` None) in a namespace (or all)."""
    selector = "{0}={1}".format(gcm.CLUSTER_LABEL, cluster) if cluster else gcm.CLUSTER_LABEL
    try:
        items = engine.list_readable(kinds.MACHINE, namespace, label_selector=selector)
    except errors.NotFound:  # a Supervisor without Cluster API
        return []
    return items


def realising_cluster(engine, obj):
    """The Cluster API Cluster a TanzuKubernetesCluster is realised as (the Cluster of the same name
    it owns, on vSphere 8); None for a Cluster itself, or when there is none (yet) or it may not be read."""
    if (obj or {}).get("kind") != "TanzuKubernetesCluster":
        return None
    metadata = obj.get("metadata") or {}
    try:
        cluster = engine.get(kinds.CAPI_CLUSTER, metadata.get("name"), metadata.get("namespace"))
    except (errors.NotFound, errors.Forbidden):  # a Supervisor without Cluster API, or no read access
        return None
    owners = ((cluster or {}).get("metadata") or {}).get("ownerReferences") or []
    return cluster if any(owner.get("uid") == metadata.get("uid") for owner in owners) else None


def machines_by_cluster(items):
    grouped = {}
    for machine in items:
        metadata = machine.get("metadata") or {}
        key = (metadata.get("namespace"), (metadata.get("labels") or {}).get(gcm.CLUSTER_LABEL))
        grouped.setdefault(key, []).append(machine)
    return grouped


def wait_guest_gone(client, namespace, cluster, timeout, clock=time.monotonic):
    """After the cluster object is gone: watch until its Machines and their VirtualMachines are
    deleted too, within ``timeout`` seconds in all."""
    deadline = clock() + timeout
    selector = "{0}={1}".format(gcm.CLUSTER_LABEL, cluster)
    for resource in (kinds.MACHINE, kinds.VIRTUAL_MACHINE):
        left = None
        for current in waiter.snapshots(client, resource, namespace, label_selector=selector, deadline=deadline,
                                        clock=clock):
            left = sorted(current)
            if not left:
                break
        if left:
            raise errors.WaitTimeout("guest cluster {0} in namespace {1} was deleted, but within {2} seconds its "
                                     "{3} objects were not: {4}".format(cluster, namespace, timeout, resource.kind,
                                                                        ", ".join(left)))


def kubeconfig_text(engine, namespace, cluster):
    """The admin kubeconfig of a guest cluster (a secret), from its Secret ``<cluster>-kubeconfig``."""
    name = gcm.kubeconfig_secret_name(cluster)
    secret = engine.get(kinds.SECRET, name, namespace)
    if secret is None and engine.known_hidden(namespace):
        raise engine.hidden_error(namespace)
    if secret is None:
        raise errors.NotFound("guest cluster {0} in namespace {1} has no kubeconfig yet (Secret {2} does not exist; "
                              "is the cluster there and its control plane up?)".format(cluster, namespace, name))
    encoded = (secret.get("data") or {}).get(gcm.KUBECONFIG_KEY)
    if not encoded:
        raise errors.NotFound("Secret {0} in namespace {1} has no key {2!r}".format(
            name, namespace, gcm.KUBECONFIG_KEY))
    try:
        return base64.b64decode(encoded).decode("utf-8")
    except (TypeError, ValueError):
        raise errors.ServerError("Secret {0} in namespace {1} does not hold a readable kubeconfig".format(
            name, namespace))


def parse_kubeconfig(text, cluster):
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    if not isinstance(document, dict) or not document.get("clusters"):
        raise errors.ServerError("the kubeconfig of guest cluster {0} is not a kubeconfig document".format(cluster))
    return document


def guest_version(document, cluster, timeout=30):
    """``/version`` of the guest's own kube-apiserver, reached with its kubeconfig."""
    client = connect({"kubeconfig": document})
    try:
        answer = client.request("GET", "/version", Target("read the version of guest cluster " + cluster),
                                timeout=timeout)
    except errors.PacificError as err:
        raise err.prefixed("the kubeconfig of guest cluster {0} does not reach its apiserver at {1}".format(
            cluster, client.server))
    finally:
        client.close()
    return {"server": client.server, "git_version": answer.get("gitVersion"), "major": answer.get("major"),
            "minor": answer.get("minor")}
