"""Cluster API's kubeadm bootstrap provider, for the Machines of a guest cluster.

Every Machine gets a KubeadmConfig of its own name (as the KubeadmControlPlane and the MachineSet
controller name it), owned by the Machine: a control plane Machine's from the control plane's
``kubeadmConfigSpec`` (``kubeadm init`` while the control plane is not yet initialized, else a
control plane join), a worker's cloned from its deployment's KubeadmConfigTemplate. The provider
renders it into a bootstrap data Secret (type ``cluster.x-k8s.io/secret``, keys ``value`` and
``format``, owned by the KubeadmConfig, labelled with the cluster's name), then reports
``status.ready``, ``status.dataSecretName`` and its conditions; the Machine controller copies the
Secret's name into ``spec.bootstrap.dataSecretName``. A worker's data waits, as Cluster API's does,
until the Cluster reports ``ControlPlaneInitialized``. What the cluster's deletion leaves goes by
garbage collection: the KubeadmConfig with its Machine, the Secret with its KubeadmConfig.
"""
from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.controllers import capi_conditions
from testbed.controllers import capi_objects as objects
from testbed.controllers import kube
from testbed.controllers.capi_objects import BOOTSTRAP, CAPI
from testbed.controllers.conditions import set_condition

CONFIGS = "kubeadmconfigs"
TEMPLATES = "kubeadmconfigtemplates"
WAITING_FOR_CONTROL_PLANE = "Waiting for Cluster control plane to be initialized"
WAITING_FOR_PREDECESSOR = "Waiting for the KubeadmConfig of the Machine this one replaces to be deleted"
WAITING_FOR_PREDECESSORS_SECRET = "Waiting for the bootstrap data Secret of the Machine this one replaces to be deleted"


@dataclass(frozen=True)
class Bootstrap:
    """Where a Machine's bootstrap stands: its data Secret is there (``ready``), else why not."""
    ready: bool
    message: str = ""


def _v1beta1(config: dict, ready: bool, reason: str) -> list[dict]:
    conditions = (config.get("status") or {}).get("conditions") or []
    conditions = set_condition(conditions, "CertificatesAvailable", True, "Ready")
    conditions = set_condition(conditions, "DataSecretAvailable", ready, "Ready" if ready else reason)
    conditions = set_condition(conditions, "Ready", ready, "Ready" if ready else reason)
    result = []
    for condition in conditions:
        condition = {key: value for key, value in condition.items() if value != ""}
        if condition["status"] == "False":
            condition["severity"] = "Info"
        result.append(condition)
    return result


class KubeadmBootstrap:
    def __init__(self, custom: client.CustomObjectsApi, core: client.CoreV1Api):
        self.custom = custom
        self.core = core

    def ensure(self, cluster: dict, machine: dict, plane_spec: dict | None, template_spec: dict | None,
               initialized: bool) -> tuple[dict, Bootstrap]:
        """The Machine's KubeadmConfig and bootstrap data; (the Machine as it now is, where it stands).
        ``plane_spec`` is the control plane's ``kubeadmConfigSpec`` for a control plane Machine, None
        for a worker (whose config comes from ``template_spec``)."""
        meta = machine["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        config_ref = objects.ref(BOOTSTRAP, "KubeadmConfig", name, namespace)
        if (machine["spec"].get("bootstrap") or {}).get("configRef") is None:  # made before the testbed had bootstrap
            machine = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "machines", name,
                                                                 {"spec": {"bootstrap": {"configRef": config_ref}}})
        config = kube.unless_absent(self.custom.get_namespaced_custom_object, *BOOTSTRAP, namespace, CONFIGS, name)
        if config is None:
            body = objects.kubeadm_config(machine, objects.machine_config_spec(plane_spec, template_spec, initialized))
            try:
                config = self.custom.create_namespaced_custom_object(*BOOTSTRAP, namespace, CONFIGS, body)
            except ApiException as err:
                if err.status != 409:
                    raise
                config = self.custom.get_namespaced_custom_object(*BOOTSTRAP, namespace, CONFIGS, name)
        if not objects.owned_by(config, machine):  # the predecessor's, about to go by garbage collection
            return machine, Bootstrap(False, WAITING_FOR_PREDECESSOR)
        if plane_spec is None and not initialized:
            self._status(config, ready=False, reason="WaitingForControlPlaneAvailable",
                         message=WAITING_FOR_CONTROL_PLANE)
            return machine, Bootstrap(False, WAITING_FOR_CONTROL_PLANE)
        cluster_name = cluster["metadata"]["name"]
        secret = kube.unless_absent(self.core.read_namespaced_secret, name, namespace)
        if secret is None:
            try:
                self.core.create_namespaced_secret(namespace, objects.bootstrap_secret(config, cluster_name))
            except ApiException as err:
                if err.status != 409:
                    raise
                return machine, Bootstrap(False, "Waiting for the bootstrap data Secret")
        elif not any(ref.uid == config["metadata"]["uid"] for ref in secret.metadata.owner_references or []):
            return machine, Bootstrap(False, WAITING_FOR_PREDECESSORS_SECRET)
        self._status(config, ready=True)
        if machine["spec"]["bootstrap"].get("dataSecretName") != name:
            machine = self.custom.patch_namespaced_custom_object(*CAPI, namespace, "machines", name,
                                                                 {"spec": {"bootstrap": {"dataSecretName": name}}})
        return machine, Bootstrap(True)

    def _status(self, config: dict, ready: bool, reason: str = "", message: str = "") -> None:
        status = {"ready": ready, "observedGeneration": config["metadata"].get("generation", 1),
                  "conditions": _v1beta1(config, ready, reason),
                  "v1beta2": {"conditions": capi_conditions.v1beta2_conditions(
                      config, capi_conditions.kubeadm_config(ready, message))}}
        if ready:
            status["dataSecretName"] = config["metadata"]["name"]
        current = config.get("status") or {}
        if {key: current.get(key) for key in status} != status:
            meta = config["metadata"]
            kube.unless_absent(self.custom.patch_namespaced_custom_object_status, *BOOTSTRAP, meta["namespace"],
                               CONFIGS, meta["name"], {"status": status})
