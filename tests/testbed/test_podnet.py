"""The pod network: a network namespace and veth of the testbed's own, made and removed for real."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from testbed.podnet import PodNetwork

pytestmark = pytest.mark.skipif(not PodNetwork.possible(), reason="needs root and iproute2")


def test_testbeds_a_hundred_ports_apart_get_their_own_names_and_subnet():
    developer, tests = PodNetwork.for_port_base(26440), PodNetwork.for_port_base(26540)
    assert (developer.namespace, developer.subnet) == ("pacific-26440", "10.164.0.0/16")
    assert (tests.namespace, tests.subnet) == ("pacific-26540", "10.165.0.0/16")
    assert len(developer.host_link) <= 15  # Linux interface name limit
    assert tests.pod_address(0) == "10.165.1.1" and tests.pod_address(251) == "10.165.2.2"


def _first_answer(address: str, port: int, timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1) as conn:
                return conn.recv(4)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_pod_address_is_reachable_from_the_host_and_gone_after_removal():
    network = PodNetwork.for_port_base(19040)  # no testbed of ours uses this base
    try:
        assert network.ensure() and network.ensure()  # idempotent
        address = network.pod_address(7)
        network.add(address)
        network.add(address)  # adding twice is fine
        server = subprocess.Popen(network.command([
            sys.executable, "-c",
            "import socket; s = socket.socket(); s.bind(('%s', 18181)); s.listen(1); c, _ = s.accept();"
            " c.sendall(b'pong'); c.close()" % address]))
        try:
            assert _first_answer(address, 18181) == b"pong"
        finally:
            server.kill()
            server.wait()
        network.release(address)
    finally:
        network.remove()
    assert not network.exists()
    # the guard route keeps a stale pod address from leaving the machine
    route = subprocess.run(["ip", "route", "get", network.pod_address(7)], capture_output=True, text=True, check=False)
    assert route.returncode != 0 or "unreachable" in route.stdout
