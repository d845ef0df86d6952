"""Where the testbed keeps things: one state directory, one binary cache, fixed loopback ports.

vCenter (the WCP simulator) and the daemons listen on 127.0.0.1, on ports laid out from
PACIFIC_TESTBED_PORT_BASE. The Supervisor has a loopback address of its own, as a real one has an
address apart from vCenter's: ``/wcp/login`` on 443 and the Kubernetes API on 6443 there. Linux
routes all of 127.0.0.0/8 to ``lo``, so nothing has to be created to bind it.

Loopback addresses of a testbed on port base ``b`` (``hi, lo = b >> 8, b & 0xFF``), all in 127.hi.lo.0/24:

- ``127.hi.lo.2``: the Supervisor (443: the login endpoints, 6443: its Kubernetes API);
- ``127.hi.lo.10`` ... ``127.hi.lo.254``: guest clusters' control-plane VIPs, one per cluster while it
  exists (slot ``n``: ``.10+n``, its kube-apiserver on 127.0.0.1:b+1000+n behind <VIP>:6443), as a
  load balancer hands a TKG cluster its control plane address on vSphere;
- ``.1`` and ``.3`` ... ``.9`` are left unused.

Nothing else of the testbed takes a 127.hi.lo.0/24: pods of the pod network are on 10.100/16 ... 10.199/16
(testbed.podnet), the Spherelet's node addresses on 127.0.2.0/24 and its loopback pod addresses on
127.1.0.0/16, which only bases below 512 would share (guest VIPs refuse those bases).

Every location can be moved with an environment variable so that tests, benchmarks and a
user's own testbed never share state by accident.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = Path(__file__).resolve().parent / "tools"
OWN_CRDS_DIR = Path(__file__).resolve().parent / "crds"
HOST = "127.0.0.1"
SUPERVISOR_LOGIN_PORT = 443  # /wcp/login, /wcp/loginbanner, /wcp/workloads on a Supervisor's address
SUPERVISOR_API_PORT = 6443  # its Kubernetes API
GUEST_API_PORT = 6443  # a guest cluster's Kubernetes API on its control-plane VIP
GUEST_PORT_OFFSET = 1000  # guest kube-apiservers listen on 127.0.0.1:base + 1000 + slot
GUEST_VIP_FIRST = 10  # slot n's VIP is 127.hi.lo.(10 + n)
GUEST_SLOTS = 255 - GUEST_VIP_FIRST  # .10 ... .254


def supervisor_host(port_base: int) -> str:
    """The Supervisor's loopback address of the testbed on ``port_base``: ``127.<high>.<low>.2``
    from the base's two bytes, so testbeds side by side never share one (and it is never 127.0.0.1)."""
    if not 0 < port_base < 65536:
        raise ValueError(f"port base {port_base} is not a TCP port")
    return f"127.{port_base >> 8}.{port_base & 0xFF}.2"


def guest_vip(port_base: int, slot: int) -> str:
    """The control-plane VIP of guest cluster slot ``slot`` of the testbed on ``port_base``:
    ``127.<high>.<low>.<10 + slot>``, beside the Supervisor's ``.2`` (see the module's scheme)."""
    if not 512 <= port_base < 65536:  # below 512, 127.0/16 and 127.1/16 hold the Spherelet's addresses
        raise ValueError(f"port base {port_base} has no guest VIP range (bases 512 ... 65535 have)")
    if not 0 <= slot < GUEST_SLOTS:
        raise ValueError(f"guest slot {slot} is not in 0 ... {GUEST_SLOTS - 1}")
    return f"127.{port_base >> 8}.{port_base & 0xFF}.{GUEST_VIP_FIRST + slot}"


def _home() -> Path:
    return Path(os.environ.get("PACIFIC_TESTBED_HOME", Path.home() / ".cache" / "pacific-testbed"))


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    vcsim: int
    wcp: int
    controllers: int
    vmop_webhook: int  # VM Operator's CRD conversion webhook

    @classmethod
    def from_base(cls, base: int) -> "Ports":
        return cls(
            etcd_client=base + 1,
            etcd_peer=base + 2,
            apiserver=base + 3,
            controller_manager=base + 4,
            vcsim=base + 5,
            wcp=base + 6,
            controllers=base + 7,
            vmop_webhook=base + 8,
        )

    @property
    def base(self) -> int:
        """The PACIFIC_TESTBED_PORT_BASE these ports were laid out from."""
        return self.etcd_client - 1


@dataclass(frozen=True)
class Layout:
    """All paths and ports of one testbed instance."""

    home: Path
    state: Path
    ports: Ports

    @classmethod
    def from_env(cls) -> "Layout":
        home = _home()
        state = Path(os.environ.get("PACIFIC_TESTBED_STATE", home / "state"))
        # below Linux's ephemeral range (32768-60999), so no client socket can hold our ports
        base = int(os.environ.get("PACIFIC_TESTBED_PORT_BASE", "26440"))
        return cls(home=home, state=state, ports=Ports.from_base(base))

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def logs(self) -> Path:
        return self.state / "log"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    @property
    def faults_file(self) -> Path:
        return self.state / "faults.json"

    @property
    def credentials_file(self) -> Path:
        return self.state / "credentials.json"

    @property
    def apiserver_url(self) -> str:
        return f"https://{HOST}:{self.ports.apiserver}"

    @property
    def supervisor_host(self) -> str:
        """The Supervisor's own address, which vCenter reports as its API server endpoint."""
        return supervisor_host(self.ports.base)

    @property
    def supervisor_url(self) -> str:
        """The Supervisor's Kubernetes API as its users reach it (a pass-through to the kube-apiserver)."""
        return f"https://{self.supervisor_host}:{SUPERVISOR_API_PORT}"

    @property
    def supervisor_login_url(self) -> str:
        """Where the Supervisor serves ``POST /wcp/login``: port 443 of its address."""
        return f"https://{self.supervisor_host}/wcp/login"

    @property
    def vcenter_url(self) -> str:
        """The one vCenter endpoint users see: the WCP simulator, which proxies the rest to vcsim."""
        return f"https://{HOST}:{self.ports.wcp}"

    def guest_port(self, slot: int) -> int:
        """Where guest cluster slot ``slot``'s kube-apiserver itself listens, on 127.0.0.1."""
        return self.ports.base + GUEST_PORT_OFFSET + slot

    def guest_slot(self, port: int) -> int:
        """The slot of the guest kube-apiserver on ``port`` (the inverse of guest_port)."""
        return port - self.ports.base - GUEST_PORT_OFFSET

    def guest_vip(self, slot: int) -> str:
        """Guest cluster slot ``slot``'s control-plane VIP; its API is ``https://<VIP>:6443``."""
        return guest_vip(self.ports.base, slot)

    @property
    def pod_network(self):
        """The native pods' network namespace of this testbed (testbed.podnet)."""
        from testbed.podnet import PodNetwork

        return PodNetwork.for_port_base(self.ports.base)

    def environment(self) -> dict[str, str]:
        """The variables that make another process (CLI, daemon) see this same testbed."""
        return {
            "PACIFIC_TESTBED_HOME": str(self.home),
            "PACIFIC_TESTBED_STATE": str(self.state),
            "PACIFIC_TESTBED_PORT_BASE": str(self.ports.base),
        }

    def ensure_dirs(self) -> None:
        for path in (self.state, self.pki, self.run, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o700)
