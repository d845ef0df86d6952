"""The testbed as a whole: which daemons run, in what order, and when each counts as ready."""
from __future__ import annotations

import json
import secrets
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from testbed import build, kubeconfig, processes
from testbed.credentials import Credentials
from testbed.errors import TestbedError
from testbed.layout import HOST, REPO_ROOT, SUPERVISOR_API_PORT, SUPERVISOR_LOGIN_PORT, Layout
from testbed.pki import Pki, ensure_pki, serving_addresses

# start order; `down` stops them in reverse
DAEMONS = ("etcd", "vcsim", "wcp", "vmop-webhook", "kube-apiserver", "kube-controller-manager", "controllers")
SERVICE_CIDR = "10.96.0.0/24"


@dataclass(frozen=True)
class Testbed:
    layout: Layout
    __test__ = False  # not a pytest test class, despite the name

    @property
    def pki(self) -> Pki:
        return Pki(self.layout.pki)

    @property
    def credentials(self) -> Credentials:
        return Credentials.load_or_create(self.layout.credentials_file)

    def _controller_manager_kubeconfig(self) -> Path:
        return self.layout.state / "controller-manager.kubeconfig"

    def webhook_config(self, guest: str | None = None) -> Path:
        """The TokenReview webhook kubeconfig of the Supervisor or of guest cluster ``guest``."""
        name = f"guest-{guest.replace('/', '-')}" if guest else "supervisor"
        path = self.layout.state / f"wcp-token-webhook-{name}.kubeconfig"
        review = "/wcp/tokenreview" + (f"/guest/{guest}" if guest else "")
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "wcp", "cluster": {
                "server": f"https://{HOST}:{self.layout.ports.wcp}{review}",
                "certificate-authority": str(self.pki.ca_cert)}}],
            "users": [{"name": "kube-apiserver", "user": {}}],
            "contexts": [{"name": "wcp", "context": {"cluster": "wcp", "user": "kube-apiserver"}}],
            "current-context": "wcp",
        }))
        return path

    def audit_policy(self) -> Path:
        """An audit policy that records every deletion (who, what, when) and nothing else."""
        path = self.layout.state / "audit-policy.yaml"
        path.write_text(json.dumps({
            "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
            "rules": [{"level": "Metadata", "verbs": ["delete", "deletecollection"]}, {"level": "None"}],
        }))
        return path

    @property
    def jwt_key_file(self) -> Path:
        return self.layout.pki / "wcp-jwt.key"

    def _vcsim_ready_file(self) -> Path:
        return self.layout.run / "vcsim.url"

    def port(self, name: str) -> int:
        ports = self.layout.ports
        return {
            "etcd": ports.etcd_client,
            "vcsim": ports.vcsim,
            "kube-apiserver": ports.apiserver,
            "kube-controller-manager": ports.controller_manager,
            "wcp": ports.wcp,
            "controllers": ports.controllers,
            "vmop-webhook": ports.vmop_webhook,
        }[name]

    @property
    def conversion_webhook_url(self) -> str:
        """Where the kube-apiserver sends VM Operator's ConversionReviews."""
        return f"https://{HOST}:{self.layout.ports.vmop_webhook}/convert"

    # --- command lines -------------------------------------------------------------------
    def daemon(self, name: str, binaries: dict[str, Path]) -> processes.Daemon:
        layout, pki, ports = self.layout, self.pki, self.layout.ports
        if name == "etcd":
            client_url = f"https://{HOST}:{ports.etcd_client}"
            peer_url = f"http://{HOST}:{ports.etcd_peer}"
            return processes.Daemon(name, [
                str(binaries[name]),
                "--name=supervisor", f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=supervisor={peer_url}",
                f"--cert-file={pki.serving_cert}", f"--key-file={pki.serving_key}",
                f"--trusted-ca-file={pki.ca_cert}", "--client-cert-auth",
                # a throw-away data dir on a test machine: durability is not worth the fsyncs
                "--unsafe-no-fsync", "--log-level=warn",
            ], self.port(name))
        if name == "kube-apiserver":
            return processes.Daemon(name, self.apiserver_argv(binaries[name], self.port(name)), self.port(name))
        if name == "kube-controller-manager":
            config = self._controller_manager_kubeconfig()
            return processes.Daemon(name, [
                str(binaries[name]),
                f"--kubeconfig={config}", f"--authentication-kubeconfig={config}",
                f"--authorization-kubeconfig={config}",
                f"--bind-address={HOST}", f"--secure-port={ports.controller_manager}",
                f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
                "--leader-elect=false", "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca_cert}",
                f"--cluster-signing-cert-file={pki.ca_cert}", f"--cluster-signing-key-file={pki.ca_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}", "--cluster-name=supervisor",
                # no cloud, no pod network: these controllers would only complain
                "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
                "--profiling=false", "--v=1",
            ], self.port(name))
        if name == "vcsim":
            creds = self.credentials
            return processes.Daemon(name, [
                str(binaries[name]),
                f"-l={HOST}:{ports.vcsim}",
                # two clusters: one runs the Supervisor, the other is there to enable it on
                "-cluster=2",
                f"-tlscert={pki.serving_cert}", f"-tlskey={pki.serving_key}",
                f"-username={creds.vcenter_user}", f"-password={creds.vcenter_password}",
                f"-ready-file={self._vcsim_ready_file()}",
            ], self.port(name))
        if name == "vmop-webhook":
            return processes.Daemon(name, [
                str(binaries[name]), f"-listen={HOST}:{ports.vmop_webhook}",
                f"-tls-cert={pki.serving_cert}", f"-tls-key={pki.serving_key}",
            ], self.port(name))
        if name in ("wcp", "controllers"):
            return processes.Daemon(name, [sys.executable, "-m", f"testbed.{name}"], self.port(name),
                                    env={"PYTHONPATH": str(REPO_ROOT), **layout.environment()})
        raise KeyError(name)

    def apiserver_argv(self, binary: Path, port: int, etcd_prefix: str = "/registry",
                       service_cidr: str = SERVICE_CIDR, guest: str | None = None,
                       serving: tuple[Path, Path] | None = None) -> list[str]:
        """kube-apiserver's command line: the Supervisor's, or guest cluster ``guest``'s
        ("namespace/name": own port, own etcd prefix, WCP tokens issued for that cluster only,
        ``serving`` its own certificate and key, which name its control-plane VIP)."""
        layout, pki, ports = self.layout, self.pki, self.layout.ports
        serving_cert, serving_key = serving or (pki.serving_cert, pki.serving_key)
        argv = [
            str(binary),
            f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={port}",
            f"--etcd-servers=https://{HOST}:{ports.etcd_client}", f"--etcd-prefix={etcd_prefix}",
            f"--etcd-cafile={pki.ca_cert}",
            f"--etcd-certfile={pki.client_cert('apiserver-etcd-client')}",
            f"--etcd-keyfile={pki.client_key('apiserver-etcd-client')}",
            f"--tls-cert-file={serving_cert}", f"--tls-private-key-file={serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=Node,RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={service_cidr}",
            # the "kubernetes" Service cannot point at a loopback address; nothing needs it
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true", "--profiling=false", "--v=1",
        ]
        if guest is None:
            argv.append(f"--token-auth-file={layout.state / 'tokens.csv'}")
            # who deleted what: the one question a flaky test's logs must answer
            argv += [f"--audit-policy-file={self.audit_policy()}",
                     f"--audit-log-path={layout.logs / 'audit-deletes.log'}", "--audit-log-maxsize=20",
                     "--audit-log-maxbackup=1"]
        argv += [
            # WCP JWTs from /wcp/login, checked by the WCP simulator; a short cache so that
            # a revoked token stops working soon (kube-apiserver adds 10 s of its own)
            f"--authentication-token-webhook-config-file={self.webhook_config(guest)}",
            "--authentication-token-webhook-version=v1",
            "--authentication-token-webhook-cache-ttl=2s",
        ]
        return argv

    # --- readiness -----------------------------------------------------------------------
    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.client_cert("admin")), str(self.pki.client_key("admin")))
        return context

    def _https_ok(self, url: str) -> bool:
        try:
            with urllib.request.urlopen(url, context=self._tls(), timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def is_ready(self, name: str) -> bool:
        ports = self.layout.ports
        if name == "etcd":
            return self._https_ok(f"https://{HOST}:{ports.etcd_client}/health")
        if name == "kube-apiserver":
            return self._https_ok(f"{self.layout.apiserver_url}/readyz")
        if name == "kube-controller-manager":
            return self._https_ok(f"https://{HOST}:{ports.controller_manager}/healthz")
        if name == "vcsim":
            return self._vcsim_ready_file().exists() and processes.port_accepts(ports.vcsim)
        if name == "wcp":  # vCenter, and the Supervisor's address it serves too
            return (self._https_ok(f"https://{HOST}:{ports.wcp}/wcp/healthz")
                    and self._https_ok(f"https://{self.layout.supervisor_host}:{SUPERVISOR_LOGIN_PORT}/wcp/healthz")
                    and processes.port_accepts(SUPERVISOR_API_PORT, self.layout.supervisor_host))
        if name == "controllers":
            return processes.port_accepts(ports.controllers)
        if name == "vmop-webhook":
            return self._https_ok(f"https://{HOST}:{ports.vmop_webhook}/healthz")
        raise KeyError(name)

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.is_ready(name):
            if processes.running_pid(self.layout, name) is None:
                raise TestbedError(
                    f"{name} exited during start-up; last lines of {processes.log_file(self.layout, name)}:\n"
                    + processes.tail(self.layout, name)
                )
            if time.monotonic() > deadline:
                raise TestbedError(f"{name} not ready after {timeout:.0f}s; see {processes.log_file(self.layout, name)}")
            time.sleep(0.1)

    # --- lifecycle -----------------------------------------------------------------------
    def running(self) -> dict[str, int | None]:
        return {name: processes.running_pid(self.layout, name) for name in DAEMONS}

    def _prepare(self) -> None:
        layout = self.layout
        layout.ensure_dirs()
        pki = ensure_pki(layout.pki, (layout.supervisor_host,))
        tokens = layout.state / "tokens.csv"
        tokens.write_text(self.credentials.token_file_lines())
        tokens.chmod(0o600)
        kubeconfig.write(layout.admin_kubeconfig, layout.apiserver_url, pki.ca_cert,
                         pki.client_cert("admin"), pki.client_key("admin"), "pacific-admin")
        if not self.jwt_key_file.exists():
            self.jwt_key_file.write_bytes(secrets.token_bytes(32))
            self.jwt_key_file.chmod(0o600)
        kubeconfig.write(self._controller_manager_kubeconfig(), layout.apiserver_url, pki.ca_cert,
                         pki.client_cert("controller-manager"), pki.client_key("controller-manager"),
                         "system:kube-controller-manager")
        layout.pod_network.ensure()  # before the Spherelet starts: it looks for it once

    def up(self, log=print) -> bool:
        """Start whatever is not running and wait for all of it. False when all was up already."""
        running = self.running()
        if all(running.values()) and all(self.is_ready(name) for name in DAEMONS):
            return False
        busy = [
            f"{name} needs {HOST}:{self.port(name)}"
            for name in DAEMONS
            if not running[name] and not processes.port_is_free(self.port(name))
        ]
        supervisor = self.layout.supervisor_host
        if not running["wcp"]:
            busy += [f"the Supervisor needs {supervisor}:{port}" for port in (SUPERVISOR_LOGIN_PORT, SUPERVISOR_API_PORT)
                     if not processes.port_is_free(port, supervisor)]
        if busy:
            raise TestbedError(
                "ports already in use by another program: " + "; ".join(busy)
                + ". Stop that program or move the testbed with PACIFIC_TESTBED_PORT_BASE."
            )
        if not running["wcp"]:
            self._check_privileged_ports()
        if any(running.values()) and self._serving_cert_lacks_supervisor():
            # a state directory from before the Supervisor had an address of its own, or of another
            # port base: the daemons get a serving certificate that names this one
            for name in reversed(DAEMONS):
                self.stop(name)
            running = self.running()
        binaries = build.ensure_built(self.layout, log=log)
        self._prepare()
        if not running["vcsim"]:
            self._vcsim_ready_file().unlink(missing_ok=True)
        started = []
        try:
            # VM Operator's conversion webhook before the kube-apiserver, whose CRDs of VM Operator name it
            for group in (("etcd", "vcsim", "wcp", "vmop-webhook"), ("kube-apiserver",),
                          ("kube-controller-manager", "controllers")):
                for name in group:
                    if not running[name]:
                        processes.start(self.layout, self.daemon(name, binaries))
                        started.append(name)
                for name in group:
                    self.wait_ready(name)
                if "kube-apiserver" in group:
                    self._install_crds()
            self._wait_rbac()
        except BaseException:
            for name in reversed(started):
                self.stop(name)
            raise
        return True

    def _serving_cert_lacks_supervisor(self) -> bool:
        return self.layout.supervisor_host not in serving_addresses(self.pki.serving_cert)

    def _check_privileged_ports(self) -> None:
        """Fail early, with one message, when this process may not bind the Supervisor's ports."""
        supervisor = self.layout.supervisor_host
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((supervisor, SUPERVISOR_LOGIN_PORT))
            except PermissionError:
                raise TestbedError(
                    f"the Supervisor listens on {supervisor}:{SUPERVISOR_LOGIN_PORT} and :{SUPERVISOR_API_PORT} "
                    "(as a real one does), and binding ports below 1024 needs root: run the testbed as root "
                    "(its pod network needs root too)") from None
            except OSError:
                pass  # in use: reported with the other ports; or lingering, which the daemon binds over

    def _install_crds(self) -> None:
        from testbed import admission, cluster_info, crds, rbac

        with self.admin_client() as api_client:
            crds.install(api_client, conversions=crds.webhook_conversions(self.conversion_webhook_url,
                                                                           self.pki.ca_cert.read_bytes()))
            rbac.install(api_client)
            cluster_info.publish(api_client, self.layout.supervisor_url, self.pki.ca_cert.read_text())
            admission.install(api_client)

    def _wait_rbac(self) -> None:
        from testbed import rbac

        with self.admin_client() as api_client:
            try:
                rbac.wait_aggregated(api_client)
            except TimeoutError as err:
                raise TestbedError(f"{err}; see {processes.log_file(self.layout, 'kube-controller-manager')}") from None

    def admin_client(self):
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.layout.admin_kubeconfig))

    def stop(self, name: str) -> bool:
        return processes.stop(self.layout, name, port=self.port(name))

    def down(self) -> list[str]:
        stopped = []
        for name in reversed(DAEMONS):
            if self.stop(name):
                stopped.append(name)
        self._vcsim_ready_file().unlink(missing_ok=True)
        self.layout.pod_network.remove()  # after the controllers: no pod process is left inside it
        return stopped
