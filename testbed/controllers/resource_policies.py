"""VM Operator's VirtualMachineSetResourcePolicy going: its child resource pool and folder go too.

The VM Operator places the VMs of a policy in a resource pool and folder of the policy's, inside
its namespace's (a guest cluster's VMs in CAPV's policy named after the cluster); when the policy
is deleted, vCenter is tidied as the real one does it: the pool and folder are destroyed once the
VMs in them are gone (a cluster's VMs are deleted alongside its policy, so this waits for them).
"""
from __future__ import annotations

import logging
import threading

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.controllers import kube
from testbed.controllers.vsphere import Vsphere

log = logging.getLogger("testbed.controllers.resource_policies")

GROUP, VERSION, PLURAL = "vmoperator.vmware.com", "v1alpha3", "virtualmachinesetresourcepolicies"
CLUSTER_LABEL = "vSphereClusterID"
RETRIES = 120  # one a second: VMs of the policy have that long to go


class ResourcePolicies:
    def __init__(self, api_client: client.ApiClient, vsphere: Vsphere):
        self.custom = client.CustomObjectsApi(api_client)
        self.core = client.CoreV1Api(api_client)
        self.vsphere = vsphere

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._watch, args=(stop,), daemon=True, name="watch-resource-policies").start()

    def _watch(self, stop: threading.Event) -> None:
        """Deletions only: a LIST gives none, so watch from now on."""
        from kubernetes import watch

        while not stop.is_set():
            try:
                version = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["metadata"]["resourceVersion"]
                for event in watch.Watch().stream(self.custom.list_cluster_custom_object, GROUP, VERSION, PLURAL,
                                                  resource_version=version, timeout_seconds=60):
                    if event["type"] == "DELETED":
                        self._tidy(event["object"], RETRIES)
            except Exception as err:  # the apiserver restarting, a 410: list again
                log.info("resource policy watch: %s", err)
                stop.wait(0.5)

    def _cluster_of(self, namespace: str) -> str | None:
        try:
            return (self.core.read_namespace(namespace).metadata.labels or {}).get(CLUSTER_LABEL)
        except ApiException:
            return None

    def _tidy(self, policy: dict, retries: int) -> None:
        meta, spec = policy["metadata"], policy.get("spec") or {}
        pool = (spec.get("resourcePool") or {}).get("name") or meta["name"]
        folder = spec.get("folder") or meta["name"]
        try:
            if kube.unless_absent(self.custom.get_namespaced_custom_object, GROUP, VERSION, meta["namespace"], PLURAL,
                                  meta["name"]) is not None:
                return  # made again meanwhile: its pool and folder are in use once more
            done = self.vsphere.remove_child_placement(meta["namespace"], self._cluster_of(meta["namespace"]),
                                                       pool, folder)
        except Exception as err:  # vcsim or the apiserver restarting
            log.warning("tidying after resource policy %s/%s: %s", meta["namespace"], meta["name"], err)
            done = False
        if not done and retries > 0:
            threading.Timer(1.0, self._tidy, args=(policy, retries - 1)).start()
