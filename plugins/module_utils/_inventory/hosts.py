# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory's hosts from what vCenter and the Supervisor report: pure data, no I/O.

``build`` merges the vCenter VMs (``_vcenter.bulk.fetch_vms``) with the Supervisor's
VirtualMachines, pods and guest clusters (``_inventory.supervisor.list_workloads``) so that a VM
the Supervisor realises is one host with both views: a VirtualMachine matches the vCenter VM
whose moid is its ``status.uniqueID`` (else whose BIOS UUID is its ``status.biosUUID``); a pod
matches its pod VM by the ``vmware-system-vm-uuid`` annotation, else by name in its namespace's
resource pool. The result is JSON-able, so it is also what the inventory cache holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# vSphere property path -> host variable; other paths asked for become vsphere_<snake_case_path>
KNOWN_PROPERTIES = {
    "name": "vsphere_name",
    "runtime.powerState": "vsphere_power_state",
    "guest.ipAddress": "vsphere_guest_ip",
    "guest.hostName": "vsphere_guest_hostname",
    "config.guestId": "vsphere_guest_id",
    "config.guestFullName": "vsphere_guest_full_name",
    "config.hardware.numCPU": "vsphere_num_cpu",
    "config.hardware.memoryMB": "vsphere_memory_mb",
    "config.uuid": "vsphere_bios_uuid",
    "config.instanceUuid": "vsphere_instance_uuid",
    "parent": "vsphere_folder",
    "resourcePool": "vsphere_resource_pool",
    "customValue": "vsphere_custom_attributes",
}
# the default of the inventory's option ``properties`` as its DOCUMENTATION states it (which is
# what ansible-core gives the plugin); tests/unit/test_inventory_hosts.py holds the two to agreeing
DEFAULT_PROPERTIES = [
    "name", "runtime.powerState", "guest.ipAddress", "guest.hostName", "config.guestId", "config.guestFullName",
    "config.hardware.numCPU", "config.hardware.memoryMB", "config.uuid", "config.instanceUuid", "parent",
    "resourcePool",
]
DEFAULT_HOSTNAMES = ["supervisor_qualified_name", "vsphere_name", "vsphere_moid"]
DEFAULT_ANSIBLE_HOST_PREFERENCE = ["vsphere_guest_ip", "supervisor_primary_ip4", "supervisor_pod_ip"]
KINDS = ("vm", "pod_vm", "guest_cluster_node", "plain_vm")
POWER_GROUPS = {"poweredon": "powered_on", "poweredoff": "powered_off", "suspended": "suspended"}
GUEST_CLUSTER_LABELS = ("cluster.x-k8s.io/cluster-name", "capw.vmware.com/cluster.name", "capv.vmware.com/cluster.name")
CONTROL_PLANE_LABEL = "cluster.x-k8s.io/control-plane"
# what CAPV (supervisor mode) labels a guest cluster node's VirtualMachine with: controlplane or node
GUEST_CLUSTER_ROLE_LABELS = ("capv.vmware.com/cluster.role", "capw.vmware.com/cluster.role")
POD_VM_UUID_ANNOTATION = "vmware-system-vm-uuid"
POD_VM_GUEST_PREFIX = "crxPod"
NAMESPACES_FOLDER = "Namespaces"


def hostvar_for(path):
    """The host variable of a vSphere property path: ``summary.quickStats.overallCpuUsage`` ->
    ``vsphere_summary_quick_stats_overall_cpu_usage``."""
    if path in KNOWN_PROPERTIES:
        return KNOWN_PROPERTIES[path]
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", path).replace(".", "_").lower()
    return "vsphere_" + re.sub(r"[^a-z0-9_]", "_", snake)


def group_name(*parts):
    """A group name Ansible accepts without a warning: letters, digits and underscores."""
    name = "_".join(str(part) for part in parts if part not in (None, ""))
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + name if name[:1].isdigit() else name


def vcenter_hosts(vms, paths, properties, custom_fields=None, tags=None):
    """``{moid: hostvars}`` of the vCenter VMs. ``paths`` is ``bulk.inventory_paths(parents)``;
    ``tags`` (when asked for) maps a moid to its ``(category, tag)`` pairs. ``vms`` is consumed
    (its items are released as they are converted), so that a large estate is held once, not twice."""
    hosts = {}
    names = [(path, hostvar_for(path)) for path in properties if path not in ("parent", "resourcePool", "customValue")]
    for index, vm in enumerate(vms):
        vms[index] = None
        hostvars = {"vsphere_moid": vm["moid"]}
        # unset is absent, whichever way the server says it: vCenter leaves the property out,
        # vcsim sends it without a value on every page but the first
        for path, var in names:
            value = vm.get(path)
            if value is not None:
                hostvars[var] = value
        if vm.get("parent") is not None:
            hostvars["vsphere_folder"], hostvars["vsphere_datacenter"] = paths(vm["parent"])
        if vm.get("resourcePool") is not None:  # a template has none
            hostvars["vsphere_resource_pool"] = paths(vm["resourcePool"])[0]
        if vm.get("customValue") is not None:
            fields = custom_fields or {}
            hostvars["vsphere_custom_attributes"] = dict(
                (fields.get(value.get("key"), str(value.get("key"))), value.get("value"))
                for value in vm["customValue"] or [])
        if tags is not None:
            attached = sorted(tags.get(vm["moid"], []))
            hostvars["vsphere_tags"] = [tag for _category, tag in attached]
            by_category = {}
            for category, tag in attached:
                by_category.setdefault(category, []).append(tag)
            hostvars["vsphere_tag_categories"] = by_category
        hosts[vm["moid"]] = hostvars
    return hosts


def _namespace_from_folder(folder):
    """``team-a`` for a VM in ``/DC0/vm/Namespaces/team-a[/...]``, as the Supervisor places them."""
    parts = (folder or "").split("/")
    if NAMESPACES_FOLDER in parts:
        at = parts.index(NAMESPACES_FOLDER)
        if at + 1 < len(parts):
            return parts[at + 1]
    return None


def _condition(obj, kind):
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition.get("status") == "True"
    return None


def _ready(obj):
    return _condition(obj, "Ready")


def _cluster_ready(obj):
    """A Cluster API Cluster's readiness: its Ready condition, else ControlPlaneReady and
    InfrastructureReady together (None while it reports none of them)."""
    ready = _condition(obj, "Ready")
    if ready is not None:
        return ready
    parts = [_condition(obj, kind) for kind in ("ControlPlaneReady", "InfrastructureReady")]
    if False in parts:
        return False
    return True if parts == [True, True] else None


def _endpoint_facts(facts, endpoint):
    if endpoint.get("host"):
        facts["supervisor_guest_cluster_endpoint"] = "%s:%s" % (endpoint["host"], endpoint.get("port", 6443))
        facts["supervisor_guest_cluster_server"] = "https://%s:%s" % (endpoint["host"], endpoint.get("port", 6443))


def guest_clusters(tkcs, clusters):
    """``{(namespace, name): facts}`` of the guest clusters. On vSphere 8 a TanzuKubernetesCluster
    is realised as the Cluster API Cluster of the same name (of the ``tanzukubernetescluster``
    ClusterClass): the two are one guest cluster, of kind TanzuKubernetesCluster, whose facts
    come from the TKC where it reports them and from its Cluster where it does not (readiness,
    phase, endpoint, version). A Cluster made directly is a guest cluster of kind Cluster."""
    found = {}
    for obj in clusters or []:
        meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
        topology = spec.get("topology") or {}
        facts = found.setdefault((meta["namespace"], meta["name"]), {})
        _endpoint_facts(facts, spec.get("controlPlaneEndpoint") or {})
        facts.update({
            "supervisor_guest_cluster": meta["name"],
            "supervisor_guest_cluster_kind": "Cluster",
            "supervisor_namespace": meta["namespace"],
            "supervisor_guest_cluster_phase": status.get("phase"),
            "supervisor_guest_cluster_ready": _cluster_ready(obj),
            "supervisor_guest_cluster_version": topology.get("version"),
            "supervisor_guest_cluster_capi_cluster": meta["name"],
            "supervisor_guest_cluster_class": topology.get("class"),
        })
    for obj in tkcs or []:
        meta, status = obj["metadata"], obj.get("status") or {}
        facts = found.setdefault((meta["namespace"], meta["name"]), {})
        _endpoint_facts(facts, next(iter(status.get("apiEndpoints") or []), {}))
        ready = _ready(obj)
        facts.update({
            "supervisor_guest_cluster": meta["name"],
            "supervisor_guest_cluster_kind": "TanzuKubernetesCluster",
            "supervisor_namespace": meta["namespace"],
            "supervisor_guest_cluster_phase": status.get("phase") or facts.get("supervisor_guest_cluster_phase"),
            "supervisor_guest_cluster_ready": ready if ready is not None else facts.get("supervisor_guest_cluster_ready"),
            "supervisor_guest_cluster_version": status.get("version") or facts.get("supervisor_guest_cluster_version"),
        })
    return found


def _conditions(status):
    return dict((c.get("type"), c.get("status") == "True") for c in status.get("conditions") or [])


def _guest_cluster_of(labels):
    return next((labels[label] for label in GUEST_CLUSTER_LABELS if labels.get(label)), None)


def _guest_cluster_role(labels):
    role = next((labels[label] for label in GUEST_CLUSTER_ROLE_LABELS if labels.get(label)), None)
    return "control_plane" if CONTROL_PLANE_LABEL in labels or role == "controlplane" else "worker"


def _virtual_machine_vars(obj):
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    labels = meta.get("labels") or {}
    cluster = _guest_cluster_of(labels)
    hostvars = {
        "supervisor_kind": "VirtualMachine",
        "supervisor_namespace": meta["namespace"],
        "supervisor_name": meta["name"],
        "supervisor_qualified_name": "%s/%s" % (meta["namespace"], meta["name"]),
        "supervisor_uid": meta.get("uid"),
        "supervisor_labels": labels,
        "supervisor_class": spec.get("className"),
        "supervisor_image": spec.get("imageName"),
        "supervisor_storage_class": spec.get("storageClass"),
        "supervisor_power_state": status.get("powerState"),
        "supervisor_desired_power_state": spec.get("powerState"),
        "supervisor_primary_ip4": (status.get("network") or {}).get("primaryIP4"),
        "supervisor_unique_id": status.get("uniqueID"),
        "supervisor_bios_uuid": status.get("biosUUID"),
        # the ESXi host it runs on, by its vCenter name, as VM Operator reports it (v1alpha3: host; v1alpha5: nodeName)
        "supervisor_node_name": status.get("host") or status.get("nodeName"),
        "supervisor_conditions": _conditions(status),
        "supervisor_workload_kind": "guest_cluster_node" if cluster else "vm",
    }
    if cluster:
        hostvars["supervisor_guest_cluster"] = cluster
        hostvars["supervisor_guest_cluster_role"] = _guest_cluster_role(labels)
    return hostvars


def _pod_vars(obj):
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    return {
        "supervisor_kind": "Pod",
        "supervisor_namespace": meta["namespace"],
        "supervisor_name": meta["name"],
        "supervisor_qualified_name": "%s/%s" % (meta["namespace"], meta["name"]),
        "supervisor_uid": meta.get("uid"),
        "supervisor_labels": meta.get("labels") or {},
        "supervisor_pod_phase": status.get("phase"),
        "supervisor_pod_ip": status.get("podIP"),
        "supervisor_node_name": spec.get("nodeName"),
        "supervisor_containers": [c.get("image") for c in spec.get("containers") or []],
        "supervisor_conditions": _conditions(status),
        "supervisor_workload_kind": "pod_vm",
    }


def _without_none(hostvars):
    return dict((key, value) for key, value in hostvars.items() if value is not None)


def merge(vsphere, virtual_machines=(), pods=(), clusters=None):
    """One list of hostvars per workload: each vCenter VM (``vsphere``, by moid), merged with the
    VirtualMachine or pod it realises (``clusters`` from ``guest_clusters``); Supervisor objects
    with no VM (yet) stand alone, with the Supervisor's view only. The dicts of ``vsphere`` are
    updated in place rather than copied."""
    clusters = clusters or {}
    by_moid = vsphere
    by_bios = dict((hostvars["vsphere_bios_uuid"], moid) for moid, hostvars in by_moid.items()
                   if hostvars.get("vsphere_bios_uuid"))
    by_pool_and_name = {}
    for moid, hostvars in by_moid.items():
        pool = (hostvars.get("vsphere_resource_pool") or "").rsplit("/", 1)[-1]
        if pool and hostvars.get("vsphere_name"):
            by_pool_and_name.setdefault((pool, hostvars["vsphere_name"]), []).append(moid)
    claimed, alone = set(), []

    def attach(moid, supervisor_vars):
        if moid is None or moid not in by_moid or moid in claimed:
            alone.append(supervisor_vars)
            return
        claimed.add(moid)
        by_moid[moid].update(supervisor_vars)

    for obj in virtual_machines or []:
        hostvars = _virtual_machine_vars(obj)
        cluster = clusters.get((hostvars["supervisor_namespace"], hostvars.get("supervisor_guest_cluster")))
        if cluster:
            hostvars.update(dict((k, v) for k, v in cluster.items() if k.startswith("supervisor_guest_cluster")))
        moid = hostvars.get("supervisor_unique_id")
        if moid not in by_moid:
            moid = by_bios.get(hostvars.get("supervisor_bios_uuid"))
        attach(moid, _without_none(hostvars))

    for obj in pods or []:
        hostvars = _pod_vars(obj)
        annotations = obj["metadata"].get("annotations") or {}
        moid = by_bios.get(annotations.get(POD_VM_UUID_ANNOTATION))
        if moid is None:
            candidates = [m for m in by_pool_and_name.get((hostvars["supervisor_namespace"], hostvars["supervisor_name"]), [])
                          if m not in claimed and _is_pod_vm(by_moid[m]) is not False]
            moid = candidates[0] if candidates else None
        attach(moid, _without_none(hostvars))

    hosts = []
    for moid, hostvars in by_moid.items():
        if moid not in claimed:
            hostvars["supervisor_workload_kind"] = "pod_vm" if _is_pod_vm(hostvars) else "plain_vm"
        hosts.append(hostvars)
    return hosts + alone


def _is_pod_vm(hostvars):
    """True/False from the guest OS id when it was read, else None."""
    guest = hostvars.get("vsphere_guest_id")
    return None if guest is None else guest.startswith(POD_VM_GUEST_PREFIX)


def namespace_of(hostvars):
    return hostvars.get("supervisor_namespace") or _namespace_from_folder(hostvars.get("vsphere_folder"))


def power_state_of(hostvars):
    state = hostvars.get("vsphere_power_state") or hostvars.get("supervisor_power_state")
    return POWER_GROUPS.get(str(state).lower()) if state else None


def default_groups(hostvars, prefix=""):
    """The groups a host belongs to out of the box: its namespace, workload kind, power state
    and guest cluster."""
    groups = []
    namespace = namespace_of(hostvars)
    if namespace:
        groups.append(group_name(prefix, "namespace", namespace))
    kind = hostvars.get("supervisor_workload_kind")
    if kind:
        groups.append(group_name(prefix, kind))
    power = power_state_of(hostvars)
    if power:
        groups.append(group_name(prefix, power))
    if hostvars.get("supervisor_guest_cluster"):
        groups.append(guest_cluster_group(hostvars["supervisor_namespace"], hostvars["supervisor_guest_cluster"], prefix))
    return groups


def namespace_vars(facts):
    """The group variables of a namespace group, from its ``vsphere_pods.facts``."""
    return {"supervisor_network_provider": facts["network_provider"],
            "supervisor_vsphere_pods": facts["available"],
            "supervisor_vsphere_pods_reason": facts["reason"]}


def guest_cluster_group(namespace, name, prefix=""):
    return group_name(prefix, "guest_cluster", namespace, name)


def ansible_host(hostvars, preference):
    """The first address among the host variables named in ``preference`` that has a value."""
    for var in preference:
        value = hostvars.get(var)
        if isinstance(value, list):
            value = next((item for item in value if item), None)
        if value:
            return value
    return None


def host_names(hosts, preference):
    """A unique inventory host name per host: the first variable of ``preference`` that has a
    value; a name already taken gets the VM's moid (or the object's uid) appended."""
    taken, names = set(), []
    for hostvars in hosts:
        name = next((str(hostvars[var]) for var in preference if hostvars.get(var)), None)
        if name is None or name in taken:
            suffix = hostvars.get("vsphere_moid") or hostvars.get("supervisor_uid") or str(len(names))
            name = "%s_%s" % (name, suffix) if name else suffix
        taken.add(name)
        names.append(name)
    return names
