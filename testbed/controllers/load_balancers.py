"""Services of type LoadBalancer get an address, as NSX (or Avi) hands one out on a Supervisor.

Every LoadBalancer Service without ``status.loadBalancer.ingress`` gets one IP of the testbed's
load-balancer range (the one VirtualMachineServices draw from), stable for the Service's UID, and
a ``EnsuredLoadBalancer`` Event. kube-controller-manager's own service-lb-controller is off in the
testbed (no cloud provider), so nothing else writes this status.
"""
from __future__ import annotations

import threading

from kubernetes import client

from testbed.controllers import kube
from testbed.controllers.conditions import record_event
from testbed.controllers.vm_services import load_balancer_ip

COMPONENT = "nsx-ncp"


class LoadBalancers:
    def __init__(self, api_client: client.ApiClient):
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.queue = kube.WorkQueue()

    def start(self, stop: threading.Event) -> None:
        kube.run_workers(self.queue, self.reconcile, count=1, name="load-balancers")
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-services", args=(
            self.core.list_service_for_all_namespaces, self._enqueue, stop)).start()

    def _enqueue(self, service) -> None:
        if service.spec and service.spec.type == "LoadBalancer":
            self.queue.add((service.metadata.namespace, service.metadata.name))

    def reconcile(self, key: kube.Key) -> None:
        namespace, name = key
        service = kube.unless_absent(self.core.read_namespaced_service, name, namespace)
        if service is None or service.spec.type != "LoadBalancer" or service.metadata.deletion_timestamp:
            return
        address = load_balancer_ip(service.metadata.uid)
        ingress = (service.status.load_balancer.ingress if service.status and service.status.load_balancer else None)
        if ingress and [i.ip for i in ingress] == [address]:
            return
        self.core.patch_namespaced_service_status(name, namespace, {"status": {"loadBalancer": {"ingress": [
            {"ip": address}]}}})
        body = self.api_client.sanitize_for_serialization(service)
        body.update(apiVersion="v1", kind="Service")
        record_event(self.core, body, "EnsuredLoadBalancer", f"Load balancer {address} ensured",
                     component=COMPONENT)
