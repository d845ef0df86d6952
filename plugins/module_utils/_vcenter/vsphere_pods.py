# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a vSphere Namespace can run vSphere Pods, from vCenter's own facts.

VMware's Supervisor Services docs: since vSphere 8 Update 1 a Supervisor on vSphere Distributed
Switch (VDS) networking runs vSphere Pods, but only those of Supervisor Services; "deploying
vSphere Pods for generic use is supported only on Supervisors configured with the NSX networking
stack". The facts: the namespace's cluster (``Instances.Info.cluster``) and that cluster's
``Clusters.Info.network_provider``. Nothing here knows Ansible; ``support`` raises the REST
client's ``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import quoted

VDS = "VSPHERE_NETWORK"
NETWORKING = {
    "VSPHERE_NETWORK": "vSphere Distributed Switch (VDS) networking",
    "NSXT_CONTAINER_PLUGIN": "NSX networking",
    "NSX_VPC": "NSX VPC networking",
}
WHAT_TO_DO = ("run the workload as a VM (pacific.supervisor.vm) or in a TKG cluster "
              "(pacific.supervisor.guest_cluster) there, or use a vSphere Namespace of a Supervisor with NSX networking")


def unavailable_reason(namespace, cluster, network_provider):
    """Why ``namespace`` (on ``cluster``, whose Supervisor uses ``network_provider``) runs no
    vSphere Pod of a user, or None when it can."""
    if network_provider != VDS:
        return None
    return ("vSphere Pods are not available in vSphere Namespace {0}: its Supervisor (cluster {1}) uses {2}, "
            "where only Supervisor Services run vSphere Pods; vSphere Pods for generic use need a Supervisor with "
            "NSX networking. Instead, {3}".format(namespace, cluster, NETWORKING[VDS], WHAT_TO_DO))


def facts(namespace, cluster, network_provider):
    """What pod_info and the inventory report of a namespace (pure)."""
    reason = unavailable_reason(namespace, cluster, network_provider)
    return {"namespace": namespace, "cluster": cluster, "network_provider": network_provider,
            "networking": NETWORKING.get(network_provider, network_provider),
            "available": reason is None, "reason": reason}


def support(session, namespace):
    """``facts`` of ``namespace``, asked of vCenter through ``session`` (a VcenterSession)."""
    info = session.get("/api/vcenter/namespaces/instances/" + quoted(namespace))
    return facts(namespace, info.get("cluster"), _network_provider(session, info.get("cluster")))


def _network_provider(session, cluster):
    """The ``network_provider`` of the Supervisor on ``cluster``; None (not known: the Supervisor
    alone decides) for a namespace vCenter names no cluster of, such as one of a Supervisor
    spanning vSphere Zones, or a cluster that is no Supervisor any more."""
    if not cluster:
        return None
    return (session.get_or_none("/api/vcenter/namespace-management/clusters/" + quoted(cluster)) or {}).get(
        "network_provider")


def support_by_namespace(session):
    """``facts`` of every vSphere Namespace vCenter lists: one GET per Supervisor cluster."""
    providers = {}
    found = {}
    for summary in session.get("/api/vcenter/namespaces/instances") or []:
        cluster = summary.get("cluster")
        if cluster not in providers:
            providers[cluster] = _network_provider(session, cluster)
        found[summary["namespace"]] = facts(summary["namespace"], cluster, providers[cluster])
    return found
