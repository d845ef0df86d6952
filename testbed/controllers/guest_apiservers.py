"""Real kube-apiservers for guest clusters: one process each, its own port and etcd prefix, behind a
control-plane VIP of its own.

Each cluster takes a slot (testbed.layout): its kube-apiserver listens on 127.0.0.1:<base + 1000 +
slot>, and its VIP ``127.<hi>.<lo>.<10 + slot>`` relays port 6443 there byte for byte (as the load
balancer in front of a TKG cluster's control plane on vSphere), with a serving certificate that
names the VIP. The VIP is what the cluster reports (``controlPlaneEndpoint``, the kubeconfig
Secret, the WCP guest login); it is released with the slot when the cluster goes.

They are children of the controllers process (same process group), so stopping the controllers
stops them; their data stays in etcd under the cluster's prefix and returns with a restart.
"""
from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import yaml

from testbed import build
from testbed.errors import TestbedError
from testbed.layout import GUEST_API_PORT, GUEST_SLOTS, HOST
from testbed.passthrough import Relays
from testbed.pki import ensure_serving_pair
from testbed.stack import Testbed


def release_minor(version: str) -> str | None:
    """'v1.34.4---vmware.1-fips-vkr.2' or 'v1.34.4+vmware.1' -> '1.34'."""
    parts = version.lstrip("v").split(".")
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit() else None


class GuestApiservers:
    def __init__(self, testbed: Testbed):
        self.testbed = testbed
        self.ports_file = testbed.layout.state / "guest-apiservers.json"
        self.processes: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.relays = Relays()  # each running cluster's <VIP>:6443
        # called with (key, port) once a cluster's kube-apiserver answers, before ensure returns: who
        # may do what inside it (testbed.controllers.guest_access)
        self.on_ready = lambda key, port: None

    def _ports(self) -> dict[str, int]:
        return json.loads(self.ports_file.read_text()) if self.ports_file.exists() else {}

    def port_of(self, key: str) -> int:
        with self.lock:
            ports = self._ports()
            if key not in ports:
                used = set(ports.values())
                layout = self.testbed.layout
                free = [slot for slot in range(GUEST_SLOTS) if layout.guest_port(slot) not in used]
                if not free:
                    raise TestbedError(f"this testbed runs at most {GUEST_SLOTS} guest clusters at once")
                ports[key] = layout.guest_port(free[0])
                self._delete_etcd_prefix(f"/guest/{key}/")  # a new cluster starts empty
                self.ports_file.write_text(json.dumps(ports))
            return ports[key]

    def vip_of(self, port: int) -> str:
        """The control-plane VIP of the guest kube-apiserver on ``port``."""
        return self.testbed.layout.guest_vip(self.testbed.layout.guest_slot(port))

    def endpoint(self, port: int) -> dict:
        """The cluster's ``controlPlaneEndpoint``: its VIP, port 6443."""
        return {"host": self.vip_of(port), "port": GUEST_API_PORT}

    def ensure(self, key: str, version: str) -> int:
        """Run the guest apiserver for cluster ``key`` at ``version``'s minor, behind its VIP's 6443;
        return its port (``endpoint`` tells the VIP)."""
        minor = release_minor(version)
        binary_name = build.GUEST_APISERVERS.get(minor or "")
        if binary_name is None:
            raise TestbedError(f"Kubernetes {version} is not a release this Supervisor offers "
                               f"(supported: {', '.join('v' + m for m in build.GUEST_APISERVERS)})")
        port = self.port_of(key)
        vip = self.vip_of(port)
        self.relays.open(key, vip, GUEST_API_PORT, port)
        running = self.processes.get(key)
        if running is not None and running.poll() is None and getattr(running, "minor", None) == minor:
            return port
        self.stop(key)
        binary = build.binary_paths(self.testbed.layout)[binary_name]
        serving = ensure_serving_pair(self.testbed.pki, f"guest-{key.replace('/', '-')}", (vip,))
        argv = self.testbed.apiserver_argv(binary, port, etcd_prefix=f"/guest/{key}",
                                           service_cidr="10.97.0.0/24", guest=key, serving=serving)
        log = open(self.testbed.layout.logs / f"guest-{key.replace('/', '-')}.log", "wb")
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        process.minor = minor
        self.processes[key] = process
        self._wait_ready(port, process)
        self.on_ready(key, port)
        return port

    def running(self) -> dict[str, int]:
        """The clusters (namespace/name) whose kube-apiserver runs, with its port."""
        with self.lock:
            ports = self._ports()
        return {key: ports[key] for key, process in sorted(dict(self.processes).items())
                if process.poll() is None and key in ports}

    def _wait_ready(self, port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
        pki = self.testbed.pki
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.client_cert("admin")), str(pki.client_key("admin")))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TestbedError(f"guest kube-apiserver on port {port} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"https://{HOST}:{port}/readyz", context=context, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TestbedError(f"guest kube-apiserver on port {port} not ready after {timeout:.0f}s")

    def stop(self, key: str) -> None:
        process = self.processes.pop(key, None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def forget(self, key: str) -> None:
        """Stop the cluster's apiserver, release its VIP and drop its data: a deleted cluster leaves
        nothing behind."""
        self.stop(key)
        self.relays.close(key)
        for suffix in (".crt", ".key"):
            (self.testbed.pki.root / f"guest-{key.replace('/', '-')}{suffix}").unlink(missing_ok=True)
        self._delete_etcd_prefix(f"/guest/{key}/")
        with self.lock:
            ports = self._ports()
            if ports.pop(key, None) is not None:
                self.ports_file.write_text(json.dumps(ports))

    def _delete_etcd_prefix(self, prefix: str) -> None:
        # etcd's JSON gateway: deleterange over [prefix, prefix with its last byte + 1)
        pki, port = self.testbed.pki, self.testbed.layout.ports.etcd_client
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.client_cert("apiserver-etcd-client")),
                                str(pki.client_key("apiserver-etcd-client")))
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = json.dumps({"key": base64.b64encode(prefix.encode()).decode(),
                           "range_end": base64.b64encode(end.encode()).decode()}).encode()
        request = urllib.request.Request(f"https://{HOST}:{port}/v3/kv/deleterange", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            answer.read()

    def kubeconfig(self, cluster: str, port: int) -> str:
        """An admin kubeconfig of the guest cluster at ``https://<VIP>:6443``, credentials inline (what
        the Secret holds)."""
        pki = self.testbed.pki

        def inline(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        user = f"{cluster}-admin"
        return yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {"server": f"https://{self.vip_of(port)}:{GUEST_API_PORT}",
                                                       "certificate-authority-data": inline(pki.ca_cert)}}],
            "users": [{"name": user, "user": {"client-certificate-data": inline(pki.client_cert("admin")),
                                              "client-key-data": inline(pki.client_key("admin"))}}],
            "contexts": [{"name": f"{user}@{cluster}", "context": {"cluster": cluster, "user": user}}],
            "current-context": f"{user}@{cluster}",
        }, sort_keys=False)
