"""VM cluster members and resource policy, the scaling plan, and the VM service builder."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_cluster_manifest as clusters
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_service_manifest as services

CLUSTER = {
    "name": "web", "namespace": "team-a", "state": "present", "replicas": 3, "class_name": "small",
    "image_name": "ubuntu-22.04", "storage_class": "vsan-default-storage-policy", "power_state": "PoweredOn",
    "power_off_mode": None, "min_hardware_version": None, "labels": {"app": "web"}, "annotations": None,
    "resource_pool": None, "folder": None, "reservations": None, "limits": {"cpu": "4", "memory": "8Gi"},
}


def cluster(**changes):
    return dict(CLUSTER, **changes)


def test_a_member_is_the_vm_builders_manifest_named_labelled_and_placed():
    member = clusters.member(cluster(), 2)
    single, _secret = vm_manifest.build(dict(cluster(), name="web-2", resource_policy_name="web", labels={
        "app": "web", clusters.CLUSTER_LABEL: "web", clusters.ORDINAL_LABEL: "2"}))
    assert member == single
    assert member["metadata"]["name"] == "web-2"
    assert member["metadata"]["labels"] == {"app": "web", clusters.CLUSTER_LABEL: "web", clusters.ORDINAL_LABEL: "2"}
    assert member["spec"]["reserved"] == {"resourcePolicyName": "web"}
    assert member["spec"]["className"] == "small"
    assert CLUSTER["labels"] == {"app": "web"}  # the options are not modified


def test_the_resource_policy_is_named_after_the_cluster():
    assert clusters.resource_policy(cluster()) == {
        "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachineSetResourcePolicy",
        "metadata": {"name": "web", "namespace": "team-a", "labels": {clusters.CLUSTER_LABEL: "web"}},
        "spec": {"resourcePool": {"name": "web", "limits": {"cpu": "4", "memory": "8Gi"}}, "folder": "web"},
    }
    custom = clusters.resource_policy(cluster(resource_pool="pool", folder="vms", limits=None,
                                              reservations={"cpu": "1000m"}))
    assert custom["spec"] == {"resourcePool": {"name": "pool", "reservations": {"cpu": "1000m"}}, "folder": "vms"}


def test_unknown_resource_amounts_are_refused():
    with pytest.raises(errors.InvalidArgument, match="limits takes cpu and memory, not 'gpu'"):
        clusters.resource_policy(cluster(limits={"gpu": 1}))
    with pytest.raises(errors.InvalidArgument, match="reservations.memory 'much' is not a Kubernetes quantity"):
        clusters.resource_policy(cluster(reservations={"memory": "much"}))


@pytest.mark.parametrize("changes, message", [
    ({"replicas": -1}, "replicas must be a whole number of 0 or more, not -1"),
    ({"replicas": None}, "replicas must be a whole number of 0 or more, not None"),
    ({"replicas": 1001}, "replicas must be at most 1000, not 1001"),
    ({"name": "Web"}, "VM cluster name 'Web' is not a valid DNS-1123 label"),
    ({"name": "w" * 62, "replicas": 11}, "VM name of replica 10 '" + "w" * 62 + "-10' is not a valid DNS-1123 label"),
    ({"namespace": "no_such"}, "namespace 'no_such' is not a valid DNS-1123 label"),
])
def test_bad_input_is_refused_before_any_request(changes, message):
    with pytest.raises(errors.InvalidArgument) as raised:
        clusters.check(cluster(**changes))
    assert str(raised.value).startswith(message)


def test_absent_needs_no_replicas_and_zero_replicas_is_fine():
    assert clusters.check(cluster(state="absent", replicas=None)) == "web"
    assert clusters.check(cluster(replicas=0)) == "web"


def test_ordinals_are_read_from_names_only_of_the_clusters_shape():
    assert clusters.ordinal_of("web", "web-12") == 12
    assert clusters.ordinal_of("web", "web-0") == 0
    assert clusters.ordinal_of("web", "web-01") is None
    assert clusters.ordinal_of("web", "web-db-1") is None
    assert clusters.ordinal_of("web", "webx-1") is None


def members(*names):
    return dict((name, {"metadata": {"name": name}}) for name in names)


def test_scaling_up_adds_the_missing_ordinals_and_removes_nothing():
    assert clusters.plan("web", 5, members("web-0", "web-1", "web-2")) == (
        ["web-0", "web-1", "web-2", "web-3", "web-4"], [])


def test_scaling_down_removes_the_highest_ordinals_first():
    assert clusters.plan("web", 2, members("web-0", "web-3", "web-1", "web-10", "web-2", "web-4")) == (
        ["web-0", "web-1"], ["web-10", "web-4", "web-3", "web-2"])


def test_a_gap_is_filled_and_strays_with_the_label_go_last():
    assert clusters.plan("web", 3, members("web-0", "web-2", "web-3", "handmade")) == (
        ["web-0", "web-1", "web-2"], ["web-3", "handmade"])
    assert clusters.plan("web", 0, members("web-0", "web-1")) == ([], ["web-1", "web-0"])


def test_the_summary_lists_members_in_ordinal_order_and_counts_the_ready():
    ready = {"spec": {"powerState": "PoweredOn", "className": "small"},
             "status": {"powerState": "PoweredOn", "network": {"primaryIP4": "10.0.0.2"},
                        "conditions": [{"type": "VirtualMachineCreated", "status": "True"}]}}
    objs = [dict(ready, metadata={"name": "web-10", "namespace": "team-a"}),
            {"metadata": {"name": "web-2", "namespace": "team-a"}, "spec": {}},
            dict(ready, metadata={"name": "web-0", "namespace": "team-a"})]
    summary = clusters.summarize("web", "team-a", 3, objs, {"metadata": {"name": "web"}})
    assert [vm["name"] for vm in summary["vms"]] == ["web-0", "web-2", "web-10"]
    assert summary["ready_replicas"] == 2
    assert summary["resource_policy"] == "web"
    assert summary["replicas"] == 3


SERVICE = {"name": "web", "namespace": "team-a", "state": "present", "type": "LoadBalancer",
           "selector": {"app": "web"}, "ports": [{"port": 80, "target_port": 8080, "name": "http", "protocol": "TCP"},
                                                 {"port": 443, "target_port": None, "name": None, "protocol": None}],
           "labels": None, "annotations": None, "load_balancer_ip": None, "load_balancer_source_ranges": ["10.0.0.0/8"]}


def service(**changes):
    return dict(SERVICE, **changes)


def test_a_vm_service_has_named_ports_with_target_ports():
    assert services.build(service()) == {
        "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachineService",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "loadBalancerSourceRanges": ["10.0.0.0/8"],
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                           {"name": "port-443", "port": 443, "protocol": "TCP", "targetPort": 443}]},
    }


@pytest.mark.parametrize("changes, message", [
    ({"name": "Web"}, "VM service name 'Web' is not a valid DNS-1123 label"),
    ({"type": "NodePort"}, "type must be one of LoadBalancer, ClusterIP, not 'NodePort'"),
    ({"ports": []}, "a VM service needs at least one port"),
    ({"selector": {}}, "a VM service needs a selector"),
    ({"ports": [{"port": 0}]}, "port must be between 1 and 65535, not 0"),
    ({"ports": [{"port": 80, "target_port": 70000}]}, "target_port must be between 1 and 65535, not 70000"),
    ({"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]}, "port name 'a' is used twice"),
    ({"type": "ClusterIP", "load_balancer_source_ranges": None, "load_balancer_ip": "10.1.1.1"},
     "load_balancer_ip needs type LoadBalancer"),
    ({"type": "ClusterIP"}, "load_balancer_source_ranges needs type LoadBalancer"),
])
def test_bad_vm_service_input_is_refused(changes, message):
    with pytest.raises(errors.InvalidArgument) as raised:
        services.build(service(**changes))
    assert str(raised.value).startswith(message)


def test_a_vm_service_summary_gives_the_load_balancer_address():
    obj = services.build(service())
    assert services.summarize(obj)["address"] is None
    assert not services.summarize(obj)["ready"]
    obj["status"] = {"loadBalancer": {"ingress": [{"ip": "10.245.1.7"}]}}
    summary = services.summarize(obj)
    assert (summary["address"], summary["ready"], summary["type"]) == ("10.245.1.7", True, "LoadBalancer")
    assert services.summarize(services.build(service(type="ClusterIP", load_balancer_source_ranges=None)))["ready"]


def test_members_share_one_bootstrap_secret_named_after_the_cluster():
    bootstrap = {"cloud_init": {"user_data": "#cloud-config\n", "secret_name": None, "secret_key": "user-data",
                                "ssh_authorized_keys": ["ssh-ed25519 AAAA"], "instance_id": None}, "sysprep": None}
    params = cluster(bootstrap=bootstrap)
    members = [clusters.member(params, ordinal) for ordinal in range(3)]
    assert {m["spec"]["bootstrap"]["cloudInit"]["rawCloudConfig"]["name"] for m in members} == {"web-bootstrap"}
    assert members[1]["spec"]["bootstrap"]["cloudInit"]["sshAuthorizedKeys"] == ["ssh-ed25519 AAAA"]
    secret = clusters.bootstrap_secret(params)
    assert secret["metadata"]["name"] == "web-bootstrap"
    assert clusters.owned_bootstrap_secret(secret, "web") and not clusters.owned_bootstrap_secret(secret, "db")
    assert not vm_manifest.owned_bootstrap_secret(secret, "web-0")
    assert clusters.bootstrap_secret(cluster()) is None


def test_members_take_an_existing_secret_network_interfaces_and_volumes_as_vm_does():
    params = cluster(
        bootstrap={"cloud_init": {"user_data": None, "secret_name": "shared", "secret_key": "config",
                                  "ssh_authorized_keys": None, "instance_id": None}, "sysprep": None},
        network_interfaces=[{"name": "eth0", "network": "primary", "network_kind": "Network", "dhcp4": True}],
        volumes=[{"name": "data", "claim_name": "shared-data", "read_only": True}])
    member = clusters.member(params, 1)
    assert member["spec"]["bootstrap"] == {"cloudInit": {"rawCloudConfig": {"name": "shared", "key": "config"}}}
    assert member["spec"]["network"] == {"interfaces": [{"name": "eth0", "network": {"name": "primary", "kind": "Network"},
                                                         "dhcp4": True}]}
    assert member["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "shared-data",
                                                                                    "readOnly": True}}]
    assert clusters.bootstrap_secret(params) is None
