"""VirtualMachineService -> a Service and its Endpoints, from the VMs its selector picks.

The Service has no selector of its own (VMs are not pods); its Endpoints hold the primary IPv4
of every selected VM that is powered on, so the EndpointSlice mirroring of kube-controller-manager
publishes them as usual. A LoadBalancer service gets an address from the testbed's load-balancer
range, as NSX or Avi would hand out.
"""
from __future__ import annotations

import threading

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.controllers import kube

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"
MANAGED_BY = "testbed.pacific.supervisor/vm-service"


def load_balancer_ip(uid: str) -> str:
    number = int(uid.replace("-", "")[:6], 16)
    return f"10.245.{number // 250 % 250}.{number % 250 + 2}"


class VmServices:
    def __init__(self, api_client: client.ApiClient):
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.queue = kube.WorkQueue()

    def start(self, stop: threading.Event) -> None:
        kube.run_workers(self.queue, self.reconcile, count=2, name="vm-services")
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-vm-services", args=(
            self.custom.list_cluster_custom_object, self._enqueue, stop),
            kwargs={"group": GROUP, "version": VERSION, "plural": "virtualmachineservices"}).start()
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-vms-for-services", args=(
            self.custom.list_cluster_custom_object, self._vm_changed, stop),
            kwargs={"group": GROUP, "version": VERSION, "plural": "virtualmachines"}).start()

    def _enqueue(self, obj: dict) -> None:
        self.queue.add((obj["metadata"]["namespace"], obj["metadata"]["name"]))

    def _vm_changed(self, vm: dict) -> None:
        namespace = vm["metadata"]["namespace"]
        for service in self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace,
                                                                 "virtualmachineservices")["items"]:
            self._enqueue(service)

    def reconcile(self, key: kube.Key) -> None:
        namespace, name = key
        service = kube.unless_absent(self.custom.get_namespaced_custom_object, GROUP, VERSION, namespace,
                                     "virtualmachineservices", name)
        if service is None:
            return  # the Service and Endpoints go with it (owner references)
        spec = service["spec"]
        owner = [{"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachineService", "name": name,
                  "uid": service["metadata"]["uid"], "controller": True, "blockOwnerDeletion": False}]
        ports = [{"name": p.get("name") or f"port-{p['port']}", "protocol": p.get("protocol", "TCP"),
                  "port": p["port"], "targetPort": p.get("targetPort", p["port"])} for p in spec.get("ports", [])]
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": namespace, "ownerReferences": owner,
                             "labels": {MANAGED_BY: name}},
                "spec": {"type": "ClusterIP", "ports": ports}}
        self._apply(body)

        selector = spec.get("selector") or {}
        addresses = []
        for vm in self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines")["items"]:
            labels = vm["metadata"].get("labels", {})
            ip = (vm.get("status", {}).get("network") or {}).get("primaryIP4")
            if selector and ip and all(labels.get(k) == v for k, v in selector.items()):
                addresses.append({"ip": ip, "targetRef": {"kind": "VirtualMachine", "name": vm["metadata"]["name"],
                                                          "namespace": namespace, "uid": vm["metadata"]["uid"]}})
        subsets = [{"addresses": sorted(addresses, key=lambda a: a["ip"]),
                    "ports": [{"name": p["name"], "port": p["targetPort"], "protocol": p["protocol"]}
                              for p in ports]}] if addresses else []
        self._apply({"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": {"name": name, "namespace": namespace, "ownerReferences": owner,
                                  "labels": {MANAGED_BY: name}},
                     "subsets": subsets})

        status = {"loadBalancer": {"ingress": [{"ip": load_balancer_ip(service["metadata"]["uid"])}]}} \
            if spec.get("type") == "LoadBalancer" else {}
        if service.get("status", {}) != status:
            self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "virtualmachineservices",
                                                              name, {"status": status})

    def _apply(self, body: dict) -> None:
        kind, namespace, name = body["kind"], body["metadata"]["namespace"], body["metadata"]["name"]
        read = {"Service": self.core.read_namespaced_service, "Endpoints": self.core.read_namespaced_endpoints}[kind]
        create = {"Service": self.core.create_namespaced_service,
                  "Endpoints": self.core.create_namespaced_endpoints}[kind]
        patch = {"Service": self.core.patch_namespaced_service, "Endpoints": self.core.patch_namespaced_endpoints}[kind]
        try:
            read(name, namespace)
        except ApiException as err:
            if err.status != 404:
                raise
            create(namespace, body)
            return
        if kind == "Endpoints":
            self.core.replace_namespaced_endpoints(name, namespace, body)
        else:
            patch(name, namespace, {"spec": {"ports": body["spec"]["ports"]}})
