"""The inventory's pure logic: property names, paths, the merge of both faces, groups, names."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import hosts
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.bulk import inventory_paths

PARENTS = {
    "datacenter-2": ("Datacenter", "DC0", "group-d1"),
    "group-v3": ("Folder", "vm", "datacenter-2"),
    "group-h4": ("Folder", "host", "datacenter-2"),
    "group-v10": ("Folder", "Namespaces", "group-v3"),
    "group-v11": ("Folder", "team-a", "group-v10"),
    "domain-c7": ("ClusterComputeResource", "DC0_C0", "group-h4"),
    "resgroup-8": ("ResourcePool", "Resources", "domain-c7"),
    "resgroup-12": ("ResourcePool", "team-a", "resgroup-8"),
}


def test_paths_resolve_through_folders_datacenter_and_cluster():
    resolve = inventory_paths(PARENTS)
    assert resolve("group-v11") == ("/DC0/vm/Namespaces/team-a", "DC0")
    assert resolve("resgroup-12") == ("/DC0/host/DC0_C0/Resources/team-a", "DC0")
    assert resolve("group-v3") == ("/DC0/vm", "DC0")
    assert resolve("unknown") == ("", None)
    assert resolve(None) == ("", None)


@pytest.mark.parametrize(("path", "var"), [
    ("name", "vsphere_name"),
    ("config.hardware.numCPU", "vsphere_num_cpu"),
    ("summary.quickStats.overallCpuUsage", "vsphere_summary_quick_stats_overall_cpu_usage"),
    ("config.annotation", "vsphere_config_annotation"),
    ("guest.net", "vsphere_guest_net"),
])
def test_property_paths_become_vsphere_host_variables(path, var):
    assert hosts.hostvar_for(path) == var


def _vm(moid, name, pool="resgroup-12", folder="group-v11", guest="ubuntu64Guest", bios=None, power="poweredOn"):
    return {"moid": moid, "name": name, "runtime.powerState": power, "config.guestId": guest,
            "config.uuid": bios or f"bios-{moid}", "parent": folder, "resourcePool": pool}


def _vsphere(*vms):
    return hosts.vcenter_hosts(list(vms), inventory_paths(PARENTS), hosts.DEFAULT_PROPERTIES)


def _virtual_machine(name, moid=None, bios=None, labels=None, namespace="team-a"):
    status = {"powerState": "PoweredOn", "network": {"primaryIP4": "10.244.0.9"}}
    if moid:
        status["uniqueID"] = moid
    if bios:
        status["biosUUID"] = bios
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels or {}},
            "spec": {"className": "small", "imageName": "ubuntu-22.04", "powerState": "PoweredOn"},
            "status": status}


def _pod(name, annotations=None, namespace="team-a"):
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "annotations": annotations or {}},
            "spec": {"nodeName": "esx-1", "containers": [{"name": "c", "image": "pacific/echo"}]},
            "status": {"phase": "Running", "podIP": "127.1.0.1"}}


def test_vcenter_hosts_carry_paths_and_only_what_was_read_with_a_value():
    found = hosts.vcenter_hosts([{"moid": "vm-1", "name": "a", "parent": "group-v11", "guest.hostName": None,
                                  "resourcePool": None}],
                                inventory_paths(PARENTS), ["name", "parent", "guest.ipAddress", "guest.hostName",
                                                           "resourcePool"])
    assert found == {"vm-1": {"vsphere_moid": "vm-1", "vsphere_name": "a",
                              "vsphere_folder": "/DC0/vm/Namespaces/team-a", "vsphere_datacenter": "DC0"}}


def test_custom_attributes_are_named_by_their_field_definitions():
    found = hosts.vcenter_hosts([{"moid": "vm-1", "customValue": [{"key": 201, "value": "blue"}, {"key": 9, "value": "x"}]}],
                                inventory_paths(PARENTS), ["customValue"], {201: "colour"})
    assert found["vm-1"]["vsphere_custom_attributes"] == {"colour": "blue", "9": "x"}


def test_a_virtual_machine_merges_with_its_vm_by_moid_and_is_one_host():
    merged = hosts.merge(_vsphere(_vm("vm-1", "web-1"), _vm("vm-2", "other")), [_virtual_machine("web-1", moid="vm-1")])
    assert len(merged) == 2
    web = next(h for h in merged if h["vsphere_moid"] == "vm-1")
    assert web["supervisor_qualified_name"] == "team-a/web-1"
    assert web["supervisor_workload_kind"] == "vm"
    assert web["vsphere_resource_pool"] == "/DC0/host/DC0_C0/Resources/team-a"
    other = next(h for h in merged if h["vsphere_moid"] == "vm-2")
    assert other["supervisor_workload_kind"] == "plain_vm" and "supervisor_name" not in other


def test_a_virtual_machine_names_its_esxi_host_at_either_api_version():
    old, new = _virtual_machine("web-1", moid="vm-1"), _virtual_machine("web-2", moid="vm-2")
    old["status"]["host"] = "esx-1"  # v1alpha3
    new["status"]["nodeName"] = "esx-2"  # v1alpha5
    merged = hosts.merge(_vsphere(_vm("vm-1", "web-1"), _vm("vm-2", "web-2")), [old, new, _virtual_machine("web-3")])
    assert {h["supervisor_name"]: h.get("supervisor_node_name") for h in merged} == {
        "web-1": "esx-1", "web-2": "esx-2", "web-3": None}


def test_a_virtual_machine_falls_back_to_the_bios_uuid():
    merged = hosts.merge(_vsphere(_vm("vm-1", "web-1", bios="4201")), [_virtual_machine("web-1", moid="vm-99", bios="4201")])
    assert len(merged) == 1 and merged[0]["supervisor_name"] == "web-1"


def test_a_virtual_machine_not_created_yet_stands_alone_with_the_supervisor_view():
    merged = hosts.merge({}, [_virtual_machine("pending")])
    assert len(merged) == 1
    assert "vsphere_moid" not in merged[0] and merged[0]["supervisor_workload_kind"] == "vm"
    assert merged[0]["supervisor_primary_ip4"] == "10.244.0.9" and "supervisor_unique_id" not in merged[0]


def test_guest_cluster_nodes_get_the_cluster_and_its_endpoint():
    clusters = hosts.guest_clusters(
        [{"metadata": {"name": "tkc", "namespace": "team-a"},
          "status": {"phase": "running", "apiEndpoints": [{"host": "127.0.0.1", "port": 27440}],
                     "conditions": [{"type": "Ready", "status": "True"}]}}],
        [{"metadata": {"name": "tkc", "namespace": "team-a"},
          "spec": {"controlPlaneEndpoint": {"host": "127.0.0.1", "port": 27440}}}])
    assert list(clusters) == [("team-a", "tkc")]
    facts = clusters[("team-a", "tkc")]
    assert facts["supervisor_guest_cluster_kind"] == "TanzuKubernetesCluster"
    assert facts["supervisor_guest_cluster_endpoint"] == "127.0.0.1:27440"
    assert facts["supervisor_guest_cluster_ready"] is True
    node = _virtual_machine("tkc-control-plane-abcde-0", moid="vm-1",
                            labels={"cluster.x-k8s.io/cluster-name": "tkc", "cluster.x-k8s.io/control-plane": ""})
    merged = hosts.merge(_vsphere(_vm("vm-1", "tkc-control-plane-abcde-0")), [node], [], clusters)
    assert merged[0]["supervisor_workload_kind"] == "guest_cluster_node"
    assert merged[0]["supervisor_guest_cluster_role"] == "control_plane"
    assert merged[0]["supervisor_guest_cluster_endpoint"] == "127.0.0.1:27440"
    assert hosts.default_groups(merged[0]) == ["namespace_team_a", "guest_cluster_node", "powered_on",
                                               "guest_cluster_team_a_tkc"]


def _capi_cluster(name, conditions, owner=None, **status):
    meta = {"name": name, "namespace": "team-a"}
    if owner:
        meta["ownerReferences"] = [{"kind": "TanzuKubernetesCluster", "name": owner}]
    return {"metadata": meta,
            "spec": {"topology": {"class": "tanzukubernetescluster", "version": "v1.35.4+vmware.1-fips"},
                     "controlPlaneEndpoint": {"host": "10.0.0.5", "port": 6443}},
            "status": dict(status, conditions=[{"type": t, "status": s} for t, s in conditions.items()])}


def test_a_tkc_is_one_guest_cluster_with_its_cluster_api_cluster_whose_conditions_fill_what_it_lacks():
    tkc = {"metadata": {"name": "tkc", "namespace": "team-a"}, "status": {}}
    cluster = _capi_cluster("tkc", {"ControlPlaneReady": "True", "InfrastructureReady": "True"}, owner="tkc",
                            phase="Provisioned")
    facts = hosts.guest_clusters([tkc], [cluster])[("team-a", "tkc")]
    assert facts["supervisor_guest_cluster_kind"] == "TanzuKubernetesCluster"
    assert facts["supervisor_guest_cluster_ready"] is True and facts["supervisor_guest_cluster_phase"] == "Provisioned"
    assert facts["supervisor_guest_cluster_capi_cluster"] == "tkc"
    assert facts["supervisor_guest_cluster_class"] == "tanzukubernetescluster"
    assert facts["supervisor_guest_cluster_version"] == "v1.35.4+vmware.1-fips"
    assert facts["supervisor_guest_cluster_endpoint"] == "10.0.0.5:6443"
    # the TKC's own Ready condition wins over its Cluster's
    tkc["status"] = {"phase": "updating", "conditions": [{"type": "Ready", "status": "False"}]}
    facts = hosts.guest_clusters([tkc], [cluster])[("team-a", "tkc")]
    assert facts["supervisor_guest_cluster_ready"] is False and facts["supervisor_guest_cluster_phase"] == "updating"


def test_a_cluster_made_directly_is_a_guest_cluster_of_kind_cluster():
    clusters = hosts.guest_clusters([], [_capi_cluster("capi-a", {"ControlPlaneReady": "True",
                                                                  "InfrastructureReady": "False"})])
    facts = clusters[("team-a", "capi-a")]
    assert facts["supervisor_guest_cluster_kind"] == "Cluster" and facts["supervisor_guest_cluster_ready"] is False
    assert hosts.guest_clusters([], [_capi_cluster("capi-b", {})])[("team-a", "capi-b")][
        "supervisor_guest_cluster_ready"] is None


def test_a_node_vm_says_its_role_with_capv_labels():
    """CAPV labels a node's VirtualMachine with its cluster and role; Cluster API's control-plane
    label is on the Machine, not on the VirtualMachine."""
    labels = {"cluster.x-k8s.io/cluster-name": "tkc", "capv.vmware.com/cluster.name": "tkc"}
    plane = _virtual_machine("tkc-a", moid="vm-1", labels=dict(labels, **{"capv.vmware.com/cluster.role": "controlplane"}))
    worker = _virtual_machine("tkc-b", moid="vm-2", labels=dict(labels, **{"capv.vmware.com/cluster.role": "node"}))
    merged = hosts.merge(_vsphere(_vm("vm-1", "tkc-a"), _vm("vm-2", "tkc-b", bios="b2")), [plane, worker])
    assert sorted(h["supervisor_guest_cluster_role"] for h in merged) == ["control_plane", "worker"]


def test_a_pod_matches_its_pod_vm_by_annotation_else_by_name_in_its_namespace_pool():
    vsphere = _vsphere(_vm("vm-5", "echo", guest="crxPod1Guest"), _vm("vm-6", "other", guest="crxPod1Guest", bios="b6"))
    merged = hosts.merge(vsphere, [], [_pod("echo"), _pod("renamed", {"vmware-system-vm-uuid": "b6"})])
    assert len(merged) == 2
    by_moid = {h["vsphere_moid"]: h for h in merged}
    assert by_moid["vm-5"]["supervisor_name"] == "echo" and by_moid["vm-5"]["supervisor_pod_ip"] == "127.1.0.1"
    assert by_moid["vm-6"]["supervisor_name"] == "renamed"
    assert all(h["supervisor_workload_kind"] == "pod_vm" for h in merged)


def test_a_pod_does_not_claim_a_vm_of_another_kind_or_namespace():
    vsphere = _vsphere(_vm("vm-5", "echo"), _vm("vm-7", "echo", guest="crxPod1Guest", pool="resgroup-8"))
    merged = hosts.merge(vsphere, [], [_pod("echo")])
    assert len(merged) == 3
    assert [h for h in merged if "vsphere_moid" not in h][0]["supervisor_kind"] == "Pod"


def test_without_the_supervisor_pod_vms_are_told_by_guest_id_and_namespace_by_folder():
    merged = hosts.merge(_vsphere(_vm("vm-5", "echo", guest="crxPod1Guest"), _vm("vm-6", "db", folder="group-v3")))
    groups = {h["vsphere_name"]: hosts.default_groups(h) for h in merged}
    assert groups == {"echo": ["namespace_team_a", "pod_vm", "powered_on"], "db": ["plain_vm", "powered_on"]}


def test_power_groups_and_prefix():
    assert hosts.default_groups({"vsphere_power_state": "poweredOff", "supervisor_workload_kind": "plain_vm"},
                                prefix="vc") == ["vc_plain_vm", "vc_powered_off"]
    assert hosts.default_groups({"supervisor_power_state": "Suspended"}) == ["suspended"]


def test_ansible_host_follows_the_preference():
    preference = hosts.DEFAULT_ANSIBLE_HOST_PREFERENCE
    assert hosts.ansible_host({"vsphere_guest_ip": "10.0.0.1", "supervisor_primary_ip4": "10.0.0.2"}, preference) == "10.0.0.1"
    assert hosts.ansible_host({"supervisor_primary_ip4": "10.0.0.2"}, preference) == "10.0.0.2"
    assert hosts.ansible_host({"supervisor_pod_ip": "127.1.0.1"}, preference) == "127.1.0.1"
    assert hosts.ansible_host({}, preference) is None
    assert hosts.ansible_host({"ips": ["", "10.0.0.3"]}, ["ips"]) == "10.0.0.3"


def test_host_names_are_unique():
    listed = [{"supervisor_qualified_name": "team-a/web-1", "vsphere_name": "web-1", "vsphere_moid": "vm-1"},
              {"vsphere_name": "web-1", "vsphere_moid": "vm-2"},
              {"vsphere_name": "web-1", "vsphere_moid": "vm-3"},
              {"vsphere_moid": "vm-4"}]
    assert hosts.host_names(listed, hosts.DEFAULT_HOSTNAMES) == ["team-a/web-1", "web-1", "web-1_vm-3", "vm-4"]


def test_group_names_are_valid_ansible_names():
    assert hosts.group_name("namespace", "team-a.b") == "namespace_team_a_b"
    assert hosts.group_name("", "9lives") == "_9lives"


def test_tags_by_name_and_by_category():
    tags = {"vm-1": [("env", "prod"), ("team", "a"), ("env", "eu")]}
    found = hosts.vcenter_hosts([{"moid": "vm-1"}, {"moid": "vm-2"}], inventory_paths(PARENTS), ["name"], tags=tags)
    assert found["vm-1"]["vsphere_tags"] == ["eu", "prod", "a"]
    assert found["vm-1"]["vsphere_tag_categories"] == {"env": ["eu", "prod"], "team": ["a"]}
    assert found["vm-2"]["vsphere_tags"] == [] and found["vm-2"]["vsphere_tag_categories"] == {}


@pytest.mark.parametrize(("path", "why"), [
    ("config.noSuchProperty", "config has no property 'noSuchProperty'"),
    ("config.hardware.device.key", "config.hardware.device is not a data object"),
    ("parent.name", "parent is not a data object"),
])
def test_unknown_property_paths_are_refused_before_any_request(path, why):
    from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
    from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import bulk

    bulk.check_properties(hosts.DEFAULT_PROPERTIES + ["summary.quickStats.overallCpuUsage", "customValue", "guest.net"])
    with pytest.raises(InvalidArgument, match=why):
        bulk.check_properties(["name", path])


def test_supervisor_connection_needs_a_token_or_a_kubeconfig(tmp_path):
    from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
    from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import supervisor

    with pytest.raises(InvalidArgument, match="set supervisor_token, supervisor_username .*supervisor_kubeconfig"):
        supervisor.connect({})
    with pytest.raises(InvalidArgument, match="supervisor_server is required with supervisor_token"):
        supervisor.connect({"token": "t"})
    with pytest.raises(InvalidArgument, match="cannot use the kubeconfig /nonexistent/kubeconfig"):
        supervisor.connect({"kubeconfig": "/nonexistent/kubeconfig"})
    with pytest.raises(InvalidArgument, match="unknown Supervisor kinds Deployment"):
        supervisor.list_workloads({}, ["Deployment", "Pod"])
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    api = supervisor.connect({"server": "https://127.0.0.1:6443/", "token": "t", "ca_cert": str(ca)})
    assert api.server == "https://127.0.0.1:6443" and api.configuration.ssl_ca_cert == str(ca)


def test_default_properties_are_the_documented_default_of_the_inventory():
    import pathlib
    import re

    import yaml

    source = (pathlib.Path(__file__).resolve().parents[2] / "plugins" / "inventory" / "workloads.py").read_text()
    documented = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source, re.S).group(1))
    assert documented["options"]["properties"]["default"] == hosts.DEFAULT_PROPERTIES


def test_the_inventory_checks_its_properties_once(monkeypatch):
    from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import bulk

    checked = []
    monkeypatch.setattr(bulk, "check_properties", checked.append)

    class Stop(Exception):
        pass

    class ServiceInstance(object):
        def RetrieveContent(self):  # noqa: N802 - pyVmomi's name
            raise Stop()

    with pytest.raises(Stop):
        bulk.fetch_vms(ServiceInstance(), ["name"], checked=True)
    assert checked == []
    with pytest.raises(Stop):
        bulk.fetch_vms(ServiceInstance(), ["name"])
    assert checked == [["name"]]
