"""Run the simulated controllers of the testbed whose layout the environment names."""
from __future__ import annotations

import logging
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kubernetes import config

from testbed.controllers.guest_access import GuestAccess
from testbed.controllers.guest_apiservers import GuestApiservers
from testbed.controllers.guest_clusters import GuestClusters
from testbed.controllers.load_balancers import LoadBalancers
from testbed.controllers.resource_policies import ResourcePolicies
from testbed.controllers.spherelet import Spherelet
from testbed.controllers.vm_operator import VmOperator
from testbed.controllers.vm_services import VmServices
from testbed.controllers.volumes import VolumeProvisioner
from testbed.controllers.vsphere import Vsphere
from testbed.faults import FaultBook
from testbed.layout import HOST, Layout
from testbed.stack import Testbed

log = logging.getLogger("testbed.controllers")


def _retry(make, what: str):
    while True:
        try:
            return make()
        except Exception as err:  # peers start beside us
            log.info("waiting for %s: %s", what, err)
            time.sleep(0.2)


class Health(BaseHTTPRequestHandler):
    """Listening at all means every controller has started: the launcher's readiness check."""

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    layout = Layout.from_env()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    api_client = _retry(lambda: config.new_client_from_config(config_file=str(layout.admin_kubeconfig)),
                        "kubeconfig")
    vsphere = _retry(lambda: Vsphere(layout), "vcsim")
    faults = FaultBook(layout.faults_file)
    operator = VmOperator(api_client, vsphere, faults)
    _retry(operator.seed_images, "the VM Operator CRDs")
    operator.start(stop)
    VmServices(api_client).start(stop)
    ResourcePolicies(api_client, vsphere).start(stop)
    VolumeProvisioner(api_client).start(stop)
    LoadBalancers(api_client).start(stop)
    apiservers = GuestApiservers(Testbed(layout))
    GuestAccess(api_client, apiservers).start(stop)
    GuestClusters(api_client, apiservers).start(stop)
    network = layout.pod_network if layout.pod_network.exists() else None
    log.info("pod network: %s", network.subnet if network else "loopback (no network namespace)")
    _retry(lambda: Spherelet(api_client, vsphere, faults, network=network).start(stop), "Spherelet nodes")
    health = ThreadingHTTPServer((HOST, layout.ports.controllers), Health)
    threading.Thread(target=health.serve_forever, daemon=True, name="health").start()
    log.info("controllers running")
    stop.wait()
    health.shutdown()
    vsphere.close()


if __name__ == "__main__":
    main()
