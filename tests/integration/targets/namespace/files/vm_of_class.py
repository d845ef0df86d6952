"""Make a VirtualMachine of class CLASS in vSphere Namespace NAME through the Supervisor, print its state.

Usage: vm_of_class.py NAME CLASS TIMEOUT. The developer face's view of a namespace the admin face
made: the VM is created with the admin kubeconfig (KUBECONFIG), the script waits up to TIMEOUT
seconds for VM Operator to give it a VM in vCenter, prints its conditions and uniqueID as JSON
and deletes it again.
"""
from __future__ import annotations

import json
import sys
import time

from kubernetes import client, config

GROUP, VERSION = "vmoperator.vmware.com", "v1alpha3"


def main(namespace: str, vm_class: str, timeout: float) -> None:
    objects = client.CustomObjectsApi(config.new_client_from_config())
    name = "it-" + vm_class
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {"className": vm_class, "imageName": "ubuntu-22.04", "storageClass": "wcp-default",
                 "powerState": "PoweredOn"}})
    try:
        deadline = time.monotonic() + timeout
        while True:
            status = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", name).get(
                "status", {})
            if status.get("uniqueID") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        print(json.dumps({"uniqueID": status.get("uniqueID"), "powerState": status.get("powerState"),
                          "conditions": {c["type"]: c["status"] for c in status.get("conditions", [])}}))
    finally:
        objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, "virtualmachines", name)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
