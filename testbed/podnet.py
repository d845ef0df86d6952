"""The native pods' network: a network namespace of the testbed's own, joined to the host by a veth.

Kubernetes refuses loopback addresses in Endpoints and EndpointSlices, so pods on 127.x could not
stand behind a Service. Here every pod gets a /32 from ``10.<n>.0.0/16`` inside the namespace
``pacific-<port base>``; the host reaches them over the veth, whose /16 is the only route there.
An ``unreachable`` route for the same /16 stays behind (at a worse metric) so that, once the
veth is gone, nothing sent to a stale pod address can leave the machine.

It needs root and iproute2; without them the Spherelet falls back to loopback pod IPs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from testbed.errors import TestbedError

GUARD_METRIC = "4242"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise TestbedError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


@dataclass(frozen=True)
class PodNetwork:
    namespace: str
    host_link: str
    pod_link: str
    prefix: str  # the first two octets of the /16

    @classmethod
    def for_port_base(cls, base: int) -> "PodNetwork":
        # 10.100/16 ... 10.199/16, one per port base a hundred apart: testbeds side by side never share one
        return cls(namespace=f"pacific-{base}", host_link=f"pac{base}h", pod_link=f"pac{base}p",
                   prefix=f"10.{100 + (base // 100) % 100}")

    @property
    def subnet(self) -> str:
        return f"{self.prefix}.0.0/16"

    @property
    def host_address(self) -> str:
        return f"{self.prefix}.0.1"

    @property
    def anchor_address(self) -> str:
        """The namespace side's own address, so the /16 route stays while no pod has one."""
        return f"{self.prefix}.0.2"

    def pod_address(self, index: int) -> str:
        return f"{self.prefix}.{1 + index // 250}.{index % 250 + 1}"

    @staticmethod
    def possible() -> bool:
        return os.geteuid() == 0 and shutil.which("ip") is not None

    def exists(self) -> bool:
        return self.possible() and _ip("netns", "exec", self.namespace, "true", check=False).returncode == 0 \
            and _ip("link", "show", self.host_link, check=False).returncode == 0

    def ensure(self) -> bool:
        """Make the namespace and veth (idempotent). False when this machine cannot."""
        if not self.possible():
            return False
        if self.exists():
            return True
        self.remove()
        _ip("route", "replace", "unreachable", self.subnet, "metric", GUARD_METRIC)
        _ip("netns", "add", self.namespace)
        _ip("link", "add", self.host_link, "type", "veth", "peer", "name", self.pod_link)
        _ip("link", "set", self.pod_link, "netns", self.namespace)
        _ip("addr", "add", f"{self.host_address}/16", "dev", self.host_link)
        _ip("link", "set", self.host_link, "up")
        _ip("-n", self.namespace, "link", "set", "lo", "up")
        _ip("-n", self.namespace, "addr", "add", f"{self.anchor_address}/16", "dev", self.pod_link)
        _ip("-n", self.namespace, "link", "set", self.pod_link, "up")
        # no default route: a pod reaches the host's side of the /16 and nothing beyond it
        return True

    def remove(self) -> None:
        """Delete the namespace and the veth (the guard route stays). Nothing to do is fine."""
        if not self.possible():
            return
        _ip("link", "del", self.host_link, check=False)
        _ip("netns", "del", self.namespace, check=False)

    def add(self, address: str) -> None:
        done = _ip("-n", self.namespace, "addr", "add", f"{address}/32", "dev", self.pod_link, check=False)
        if done.returncode != 0 and "already assigned" not in done.stderr and "exists" not in done.stderr:
            raise TestbedError(f"pod address {address}: {done.stderr.strip()}")

    def release(self, address: str) -> None:
        _ip("-n", self.namespace, "addr", "del", f"{address}/32", "dev", self.pod_link, check=False)

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]
