"""The Supervisor's loopback address of a testbed, the certificate that names it, and the login URL
the collection derives from a Supervisor's API URL with no override."""
from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import login
from testbed.layout import Layout, Ports, supervisor_host
from testbed.pki import ensure_pki, serving_addresses
from testbed.pytest_plugin import SLOTS, TEST_PORT_BASE

BASES = [26440, 21140] + [TEST_PORT_BASE - 2000 * slot for slot in range(SLOTS)]


def test_each_port_base_has_a_supervisor_address_of_its_own_on_loopback():
    addresses = [supervisor_host(base) for base in BASES]
    assert len(set(addresses)) == len(BASES)
    for address in addresses:
        assert ipaddress.ip_address(address) in ipaddress.ip_network("127.0.0.0/8")
        assert address != "127.0.0.1"
    assert supervisor_host(21140) == "127.82.148.2"
    assert supervisor_host(1) == "127.0.1.2"
    with pytest.raises(ValueError):
        supervisor_host(70000)


def test_the_layout_puts_the_login_on_443_and_the_api_on_6443_of_that_address(tmp_path):
    layout = Layout(home=tmp_path, state=tmp_path / "state", ports=Ports.from_base(21140))
    assert layout.supervisor_url == "https://127.82.148.2:6443"
    assert layout.supervisor_login_url == "https://127.82.148.2/wcp/login"
    assert layout.vcenter_url.startswith("https://127.0.0.1:")  # vCenter is elsewhere


@pytest.mark.parametrize(("server", "expected"), [
    ("https://127.82.148.2:6443", "https://127.82.148.2/wcp/login"),
    ("https://10.0.0.10:6443/", "https://10.0.0.10/wcp/login"),
    ("10.0.0.10:6443", "https://10.0.0.10/wcp/login"),
    ("https://[fd00::10]:6443", "https://[fd00::10]/wcp/login"),
])
def test_the_default_login_url_is_port_443_of_the_servers_host(server, expected):
    layout = Layout(home=None, state=None, ports=Ports.from_base(21140))
    assert login.default_login_url(layout.supervisor_url) == layout.supervisor_login_url
    assert login.default_login_url(server) == expected


def test_the_serving_certificate_names_the_supervisor_and_is_reissued_for_a_new_one(tmp_path):
    pki = ensure_pki(tmp_path, ("127.82.148.2",))
    assert {"127.0.0.1", "127.82.148.2"} <= serving_addresses(pki.serving_cert)
    first, ca = pki.serving_cert.read_bytes(), pki.ca_cert.read_bytes()
    ensure_pki(tmp_path, ("127.82.148.2",))
    assert pki.serving_cert.read_bytes() == first  # kept while it names what is served
    ensure_pki(tmp_path, ("127.95.220.2",))
    assert "127.95.220.2" in serving_addresses(pki.serving_cert) and pki.serving_cert.read_bytes() != first
    assert pki.ca_cert.read_bytes() == ca  # the same CA: what users trust stays valid
    cert = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())
    assert cert.issuer == x509.load_pem_x509_certificate(ca).subject
    assert serving_addresses(tmp_path / "missing.crt") == set()


def test_cluster_info_is_a_kubeconfig_of_the_supervisor_address_and_ca_only():
    import base64

    import yaml

    from testbed import cluster_info

    body = cluster_info.config_map("https://127.82.148.2:6443", "PEM")
    assert body["metadata"] == {"name": "cluster-info", "namespace": "kube-public"}
    config = yaml.safe_load(body["data"]["kubeconfig"])
    assert config["clusters"][0]["cluster"] == {"server": "https://127.82.148.2:6443",
                                                "certificate-authority-data": base64.b64encode(b"PEM").decode()}
    assert not config["users"]  # no credentials in a public object
    role, binding = cluster_info.reader()
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "resourceNames": ["cluster-info", "vip-cluster-info"], "verbs": ["get"]}]
    vip = cluster_info.config_map("https://127.82.148.2:6443", "PEM", "vip-cluster-info")
    assert vip["metadata"]["name"] == "vip-cluster-info" and vip["data"] == body["data"]
    assert {subject["name"] for subject in binding["subjects"]} == {"system:unauthenticated", "system:authenticated"}


def test_up_says_in_one_message_that_the_supervisor_ports_need_root(tmp_path, monkeypatch):
    import socket

    from testbed.errors import TestbedError
    from testbed.stack import Testbed

    class Unprivileged(socket.socket):
        def bind(self, address):
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket, "socket", Unprivileged)
    bed = Testbed(Layout(home=tmp_path, state=tmp_path / "state", ports=Ports.from_base(21140)))
    with pytest.raises(TestbedError, match=r"127\.82\.148\.2:443 .*needs root"):
        bed._check_privileged_ports()  # pylint: disable=protected-access


def test_guest_vips_share_the_supervisors_24_and_no_other_testbed_address():
    from testbed.layout import GUEST_SLOTS, guest_vip
    from testbed.podnet import PodNetwork

    for base in BASES:
        supervisor = ipaddress.ip_address(supervisor_host(base))
        own = ipaddress.ip_network(f"{supervisor}/24", strict=False)
        vips = [ipaddress.ip_address(guest_vip(base, slot)) for slot in range(GUEST_SLOTS)]
        assert len(set(vips)) == GUEST_SLOTS and all(vip in own for vip in vips)
        assert supervisor not in vips and own.network_address + 1 not in vips and own.broadcast_address not in vips
        # nothing else of the testbed is there: the pod network is 10.x, the Spherelet's loopback
        # node and pod addresses 127.0.2/24 and 127.1/16
        for other in (ipaddress.ip_network(PodNetwork.for_port_base(base).subnet), ipaddress.ip_network("127.0.2.0/24"),
                      ipaddress.ip_network("127.1.0.0/16")):
            assert not own.overlaps(other)
        # and no other testbed's Supervisor or guests
        for other_base in set(BASES) - {base}:
            assert ipaddress.ip_address(supervisor_host(other_base)) not in own
    assert guest_vip(21140, 0) == "127.82.148.10" and guest_vip(21140, GUEST_SLOTS - 1) == "127.82.148.254"
    for bad in ((300, 0), (21140, GUEST_SLOTS), (21140, -1)):
        with pytest.raises(ValueError):
            guest_vip(*bad)


def test_the_layout_puts_guest_slot_n_on_its_port_and_vip(tmp_path):
    layout = Layout(home=tmp_path, state=tmp_path / "state", ports=Ports.from_base(21140))
    assert layout.guest_port(3) == 22143 and layout.guest_slot(22143) == 3
    assert layout.guest_vip(layout.guest_slot(layout.guest_port(3))) == "127.82.148.13"


def test_a_guest_serving_certificate_names_its_vip_and_is_reissued_for_another(tmp_path):
    from testbed.pki import ensure_serving_pair

    pki = ensure_pki(tmp_path, ("127.82.148.2",))
    cert, key = ensure_serving_pair(pki, "guest-ns-a", ("127.82.148.10",))
    assert serving_addresses(cert) == {"127.0.0.1", "127.82.148.10"} and key.exists()
    first = cert.read_bytes()
    assert ensure_serving_pair(pki, "guest-ns-a", ("127.82.148.10",))[0].read_bytes() == first
    ensure_serving_pair(pki, "guest-ns-a", ("127.82.148.11",))
    assert serving_addresses(cert) == {"127.0.0.1", "127.82.148.11"}
    issuer = x509.load_pem_x509_certificate(cert.read_bytes()).issuer
    assert issuer == x509.load_pem_x509_certificate(pki.ca_cert.read_bytes()).subject
