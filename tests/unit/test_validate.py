"""Value checks no argument spec can make: IP addresses, networks, bounds (pure, no server)."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import validate
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import vm_manifest, vm_service_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import namespace_spec


def test_the_mib_bound_is_the_most_bytes_an_int64_quantity_holds():
    assert validate.MIB_LIMIT_MAX * 2 ** 20 <= 2 ** 63 - 1 < (validate.MIB_LIMIT_MAX + 1) * 2 ** 20


@pytest.mark.parametrize(("interface", "message"), [
    ({"addresses": ["not-an-ip"]}, "address 'not-an-ip' is not an IP address with its prefix length"),
    ({"addresses": ["192.168.0.10"]}, "address '192.168.0.10' is not an IP address with its prefix length"),
    ({"addresses": ["192.168.0.10/33"]}, "address '192.168.0.10/33' is not"),
    ({"addresses": ["192.168.0.10/24"], "gateway4": "2001:db8::1"}, "gateway4 '2001:db8::1' is not an IPv4 address"),
    ({"addresses": ["2001:db8::a/64"], "gateway4": "192.168.0.1"}, "gateway4 '192.168.0.1' needs an IPv4 address"),
    ({"addresses": ["2001:db8::a/64"], "gateway6": "192.168.0.1"}, "gateway6 '192.168.0.1' is not an IPv6 address"),
    ({"addresses": ["192.168.0.10/24"], "dhcp4": True}, "dhcp4 cannot go with IPv4 addresses"),
    ({"dhcp6": True, "gateway6": "None"}, "dhcp6 cannot go with gateway6"),
    ({"nameservers": ["dns.example.com"]}, "nameserver 'dns.example.com' is not an IPv4 or IPv6 address"),
    ({"mtu": 0}, "mtu must be 68 or more, got 0"),
])
def test_interface_addressing_the_vm_operator_refuses_is_refused_first(interface, message):
    with pytest.raises(InvalidArgument, match="^network interface eth0: " + message.replace("(", r"\(")):
        vm_manifest.check_interface_addresses(dict(interface, name="eth0"))


def test_good_interface_addressing_passes():
    vm_manifest.check_interface_addresses({
        "name": "eth0", "addresses": ["192.168.0.10/24", "2001:db8::a/64"], "gateway4": "192.168.0.1",
        "gateway6": "None", "nameservers": ["8.8.8.8", "2001:4860:4860::8888"], "mtu": 9000})
    vm_manifest.check_interface_addresses({"name": "eth1", "dhcp4": True, "dhcp6": True})


def test_a_vm_with_a_bad_address_builds_nothing():
    with pytest.raises(InvalidArgument, match="not-an-ip"):
        vm_manifest.build({"name": "web-1", "namespace": "team-a",
                           "network_interfaces": [{"name": "eth0", "addresses": ["not-an-ip"]}]})


@pytest.mark.parametrize(("given", "message"), [
    ({"load_balancer_ip": "not-an-ip"}, "load_balancer_ip 'not-an-ip' is not an IPv4 or IPv6 address"),
    ({"load_balancer_source_ranges": ["10.0.0.0/8", "everywhere"]},
     "load_balancer_source_ranges entry 'everywhere' is not a network in CIDR notation"),
    ({"load_balancer_source_ranges": ["10.0.0.1"]}, "load_balancer_source_ranges entry '10.0.0.1' is not a network"),
])
def test_vm_service_addresses_are_checked(given, message):
    params = dict({"name": "web", "namespace": "team-a", "type": "LoadBalancer", "selector": {"app": "web"},
                   "ports": [{"port": 80}]}, **given)
    with pytest.raises(InvalidArgument, match="^" + message):
        vm_service_manifest.build(params)


def test_vm_service_keeps_good_addresses_as_given():
    spec = vm_service_manifest.build({"name": "web", "namespace": "team-a", "type": "LoadBalancer",
                                      "selector": {"app": "web"}, "ports": [{"port": 80}],
                                      "load_balancer_ip": "10.245.0.9",
                                      "load_balancer_source_ranges": ["10.0.0.1/8"]})["spec"]
    assert spec["loadBalancerIP"] == "10.245.0.9" and spec["loadBalancerSourceRanges"] == ["10.0.0.1/8"]


def _namespace(**given):
    params = {"name": "team-a", "cpu_limit": None, "memory_limit": None, "storage_limit": None, "pod_limit": None,
              "storage_policies": None, "access": None}
    params.update(given)
    return params


@pytest.mark.parametrize(("given", "message"), [
    ({"memory_limit": 10 ** 15}, "memory_limit must be at most 8796093022207 (MiB), got 1000000000000000"),
    ({"storage_limit": validate.MIB_LIMIT_MAX + 1}, "storage_limit must be at most 8796093022207 (MiB)"),
    ({"cpu_limit": 2 ** 63}, "cpu_limit must be at most 9223372036854775807 (MHz)"),
    ({"pod_limit": 2 ** 63}, "pod_limit must be at most 9223372036854775807, got"),
    ({"storage_policies": [{"name": "gold", "limit": validate.MIB_LIMIT_MAX + 1}]},
     "the limit of storage policy 'gold' must be at most 8796093022207 (MiB)"),
])
def test_namespace_limits_past_what_vcenter_and_a_quota_hold_are_refused(given, message):
    with pytest.raises(InvalidArgument) as raised:
        namespace_spec.check_settings(_namespace(**given))
    assert raised.value.msg.startswith(message)


def test_namespace_limits_at_the_bound_pass():
    namespace_spec.check_settings(_namespace(memory_limit=validate.MIB_LIMIT_MAX, cpu_limit=2 ** 63 - 1,
                                             storage_policies=[{"name": "gold", "limit": validate.MIB_LIMIT_MAX}]))
