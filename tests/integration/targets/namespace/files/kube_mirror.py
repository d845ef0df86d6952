"""Print what the Supervisor's Kubernetes API shows of vSphere Namespace NAME, once it matches EXPECTED.

Usage: kube_mirror.py NAME EXPECTED_JSON TIMEOUT. EXPECTED_JSON has ``quota`` (the ResourceQuota's
spec.hard), ``role_bindings`` ({name: ClusterRole}), ``vm_classes`` (names) and ``storage_classes``
({name: storage policy id} of the StorageClasses the quota limits). The script reads the Namespace,
its wcp ResourceQuota, RoleBindings, VirtualMachineClasses and those StorageClasses with the admin
kubeconfig (KUBECONFIG) until they match or TIMEOUT seconds pass, and prints the last reading
with ``seconds`` elapsed; the target asserts on that.
"""
from __future__ import annotations

import json
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def observe(api_client, name: str) -> dict:
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    try:
        phase = core.read_namespace(name).status.phase
    except ApiException as err:
        if err.status != 404:
            raise
        return {"phase": None}
    quotas = {q.metadata.name: dict(q.spec.hard or {}) for q in core.list_namespaced_resource_quota(name).items}
    bindings = {b.metadata.name: b.role_ref.name for b in rbac.list_namespaced_role_binding(name).items}
    classes = custom.list_namespaced_custom_object("vmoperator.vmware.com", "v1alpha3", name, "virtualmachineclasses")
    quota = quotas.get("wcp-resource-quota")
    limited = {key.split(".storageclass.storage.k8s.io/")[0] for key in quota or {} if ".storageclass." in key}
    storage_classes = {sc.metadata.name: (sc.parameters or {}).get("storagePolicyID")
                       for sc in client.StorageV1Api(api_client).list_storage_class().items
                       if sc.metadata.name in limited}
    return {"phase": phase, "quota": quota, "role_bindings": bindings, "storage_classes": storage_classes,
            "vm_classes": sorted(c["metadata"]["name"] for c in classes["items"])}


def main(name: str, expected: dict, timeout: float) -> None:
    start = time.monotonic()
    api_client = config.new_client_from_config()
    while True:
        seen = observe(api_client, name)
        matches = seen.get("phase") == "Active" and all(seen.get(key) == value for key, value in expected.items())
        if matches or time.monotonic() - start > timeout:
            print(json.dumps(dict(seen, matches=matches, seconds=round(time.monotonic() - start, 2))))
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]))
