"""Mirror vCenter-side state into the Supervisor's Kubernetes API, as WCP does.

For each vSphere Namespace: a Namespace (labelled with its Supervisor's network provider, which
``testbed.admission`` keys on), a ResourceQuota and LimitRange from its limits, one
RoleBinding per access-list entry, and a VirtualMachineClass per bound VM class; for each storage
policy a namespace uses, a StorageClass named after the policy (``storage_class_name``). ``reconcile``
converges everything in one pass and is idempotent; objects of namespaces that no longer exist
in vCenter are removed with their Namespace.
"""
from __future__ import annotations

import datetime
import logging
import re

from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from testbed.admission import NETWORK_PROVIDER_LABEL
from testbed.wcp import tokens
from testbed.wcp.libraries import image_name, item_resource_name, library_resource_name

log = logging.getLogger("testbed.wcp.mirror")

MANAGED_BY = "testbed.pacific.supervisor/managed-by"
CLUSTER_LABEL = "vSphereClusterID"
QUOTA = "wcp-resource-quota"
LIMITS = "wcp-limit-range"
VM_OPERATOR = ("vmoperator.vmware.com", "v1alpha3")
IMAGE_REGISTRY = "imageregistry.vmware.com/v1alpha2"
ROLE_OF = {"OWNER": "admin", "EDIT": "edit", "VIEW": "view"}
CSI_PROVISIONER = "csi.vsphere.vmware.com"


def storage_class_name(policy_name: str) -> str:
    """The StorageClass a Supervisor makes for a storage policy: its name lower-cased, DNS-1123-ised
    ("vSAN Default Storage Policy" -> "vsan-default-storage-policy")."""
    name = re.sub(r"[^a-z0-9.-]+", "-", policy_name.lower())
    name = re.sub(r"-{2,}", "-", name)[:253]
    return name.strip("-.") or "storage-policy"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _managed(labels: dict | None = None) -> dict:
    return {MANAGED_BY: "wcp", **(labels or {})}


def _class_of(policy: str, policies: dict[str, str]) -> str:
    return storage_class_name(policies.get(policy, policy))


def storage_class(policy: str, policies: dict[str, str]) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": _class_of(policy, policies), "labels": _managed()},
            "provisioner": CSI_PROVISIONER, "parameters": {"storagePolicyID": policy},
            "reclaimPolicy": "Delete", "allowVolumeExpansion": True}


def quota_hard(info: dict, policies: dict[str, str] | None = None) -> dict[str, str]:
    spec = info.get("resource_spec") or {}
    hard = {}
    if spec.get("cpu_limit") is not None:
        hard["limits.cpu"] = f"{spec['cpu_limit']}m"  # 1 MHz of vCenter limit counted as 1 millicore
    if spec.get("memory_limit") is not None:
        hard["limits.memory"] = f"{spec['memory_limit']}Mi"
    if spec.get("storage_request_limit") is not None:
        hard["requests.storage"] = f"{spec['storage_request_limit']}Mi"
    if spec.get("pod_count") is not None:
        hard["pods"] = str(spec["pod_count"])
    for storage in info.get("storage_specs") or []:
        if storage.get("limit") is not None:
            name = _class_of(storage["policy"], policies or {})
            hard[f"{name}.storageclass.storage.k8s.io/requests.storage"] = f"{storage['limit']}Mi"
    return hard


def limit_defaults(info: dict) -> dict[str, dict[str, str]]:
    spec = info.get("resource_spec") or {}
    limits: dict[str, dict[str, str]] = {}
    for key, section, resource, unit in (
        ("cpu_limit_default", "default", "cpu", "m"),
        ("memory_limit_default", "default", "memory", "Mi"),
        ("cpu_request_default", "defaultRequest", "cpu", "m"),
        ("memory_request_default", "defaultRequest", "memory", "Mi"),
    ):
        if spec.get(key) is not None:
            limits.setdefault(section, {})[resource] = f"{spec[key]}{unit}"
    return limits


def binding_name(entry: dict) -> str:
    kind = entry["subject_type"].lower()
    subject = f"{entry['subject']}-{entry['domain']}".lower().replace("@", "-").replace(".", "-")
    return f"wcp-{kind}-{subject}"[:253]


def role_binding(namespace: str, entry: dict) -> dict:
    who = f"{entry['subject']}@{entry['domain']}"
    kind = "User" if entry["subject_type"] == "USER" else "Group"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": binding_name(entry), "namespace": namespace, "labels": _managed()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE_OF[entry["role"]]},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": tokens.kubernetes_user(who)}],
    }


def vm_class_object(namespace: str, name: str, spec: dict) -> dict:
    memory_mib = spec["memory_mb"]
    requests = {}
    if spec.get("cpu_reservation"):
        # reservations are a percentage of the class's size; 1 vCPU counted as 1000 millicores
        requests["cpu"] = f"{spec['cpu_count'] * 10 * spec['cpu_reservation']}m"
    if spec.get("memory_reservation"):
        requests["memory"] = f"{memory_mib * spec['memory_reservation'] // 100}Mi"
    body = {
        "apiVersion": "/".join(VM_OPERATOR),
        "kind": "VirtualMachineClass",
        "metadata": {"name": name, "namespace": namespace, "labels": _managed()},
        "spec": {
            "hardware": {"cpus": spec["cpu_count"], "memory": f"{memory_mib}Mi"},
            "description": spec.get("description", ""),
        },
    }
    if requests:
        body["spec"]["policies"] = {"resources": {"requests": requests}}
    return body


class Mirror:
    """Server-side apply under one field manager; prune by the managed-by label."""

    FIELD_MANAGER = "testbed-wcp"

    def __init__(self, api_client: client.ApiClient):
        self.dynamic = DynamicClient(api_client)

    def _resource(self, api_version: str, kind: str):
        return self.dynamic.resources.get(api_version=api_version, kind=kind)

    def apply(self, body: dict) -> None:
        resource = self._resource(body["apiVersion"], body["kind"])
        if "roleRef" in body:
            self._drop_if_role_changed(resource, body)
        self.dynamic.server_side_apply(
            resource, body=body, name=body["metadata"]["name"],
            namespace=body["metadata"].get("namespace"), field_manager=self.FIELD_MANAGER, force_conflicts=True,
        )

    def _drop_if_role_changed(self, resource, body: dict) -> None:
        """A binding's roleRef is immutable: a new role for the same subject means a new binding."""
        name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
        try:
            current = self.dynamic.get(resource, name=name, namespace=namespace)
        except ApiException as err:
            if err.status == 404:
                return
            raise
        if current.roleRef.name != body["roleRef"]["name"]:
            self.dynamic.delete(resource, name=name, namespace=namespace)

    def prune(self, api_version: str, kind: str, namespace: str | None, keep: set[str]) -> None:
        resource = self._resource(api_version, kind)
        for found in self.dynamic.get(resource, namespace=namespace, label_selector=f"{MANAGED_BY}=wcp").items:
            if found.metadata.name not in keep and not found.metadata.deletionTimestamp:
                log.info("pruning %s %s%s: vCenter has no such object", kind, f"{namespace}/" if namespace else "",
                         found.metadata.name)
                try:
                    self.dynamic.delete(resource, name=found.metadata.name, namespace=namespace)
                except ApiException as err:
                    if err.status != 404:
                        raise

    def reconcile(self, namespaces: dict[str, dict], vm_classes: dict[str, dict],
                  library_items=lambda library_id: [], policies: dict[str, str] | None = None,
                  providers: dict[str, str] | None = None) -> dict[str, str]:
        """Converge Kubernetes on vCenter's state. Returns an error message per failed namespace.
        ``library_items`` lists a content library's items (id, name, type); ``policies`` names storage
        policies; ``providers`` gives each cluster's network provider (Clusters.Info network_provider)."""
        errors = {}
        policies = policies or {}
        used = {entry["policy"] for info in namespaces.values() for entry in info.get("storage_specs") or []}
        for policy in sorted(used):
            self.apply(storage_class(policy, policies))
        self.prune("storage.k8s.io/v1", "StorageClass", None, {_class_of(policy, policies) for policy in used})
        for name, info in namespaces.items():
            try:
                items = [item for library in (info.get("vm_service_spec") or {}).get("content_libraries") or []
                         for item in library_items(library)]
                for body in desired_objects(name, info, vm_classes, policies, (providers or {}).get(info["cluster"])):
                    self.apply(body)
                self._images(name, items)
                self._prune_namespace(name, info)
            except ApiException as err:
                errors[name] = f"Kubernetes answered {err.status} {err.reason} while configuring {name}"
        self.prune("v1", "Namespace", None, set(namespaces))
        return errors

    def _set_status(self, body: dict, status: dict) -> None:
        """The status of an object just applied, unless it says so already."""
        resource = self._resource(body["apiVersion"], body["kind"])
        name, namespace = body["metadata"]["name"], body["metadata"].get("namespace")
        current = (self.dynamic.get(resource, name=name, namespace=namespace).to_dict().get("status") or {})
        if all(current.get(key) == value for key, value in status.items() if key != "conditions"):
            return
        ready = [{"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime": _now()}]
        self.dynamic.patch(resource.subresources["status"], name=name, namespace=namespace,
                           body={"status": dict(status, conditions=ready)},
                           content_type="application/merge-patch+json")

    def _images(self, namespace: str, items: list[dict]) -> None:
        """As the Supervisor's image registry and VM Operator do for each content library associated
        with a namespace: a ContentLibrary, a ContentLibraryItem per item, and a VirtualMachineImage
        per item whose providerRef is that item; display names and types live in status."""
        libraries = {}
        for item in items:
            libraries[item["library"]["id"]] = item["library"]
        for library in libraries.values():
            body = {"apiVersion": IMAGE_REGISTRY, "kind": "ContentLibrary",
                    "metadata": {"name": library_resource_name(library["id"]), "namespace": namespace,
                                 "labels": _managed()},
                    "spec": {"id": library["id"], "libraryType": "ContentLibrary"}}
            self.apply(body)
            status = {"name": library["name"], "state": "Active"}
            if library["type"].upper() == "SUBSCRIBED":
                status["subscriptionInfo"] = {"URL": "", "onDemand": False, "automaticSync": True}
            self._set_status(body, status)
        for item in items:
            body = {"apiVersion": IMAGE_REGISTRY, "kind": "ContentLibraryItem",
                    "metadata": {"name": item_resource_name(item["id"]), "namespace": namespace, "labels": _managed()},
                    "spec": {"id": item["id"], "libraryName": library_resource_name(item["library"]["id"])}}
            self.apply(body)
            self._set_status(body, {"name": item["name"], "type": item["type"].upper(), "cached": True})
            body = {"apiVersion": "/".join(VM_OPERATOR), "kind": "VirtualMachineImage",
                    "metadata": {"name": image_name(item["id"]), "namespace": namespace, "labels": _managed()},
                    "spec": {"providerRef": {"apiVersion": IMAGE_REGISTRY, "kind": "ContentLibraryItem",
                                             "name": item_resource_name(item["id"])}}}
            self.apply(body)
            self._set_status(body, {"name": item["name"], "type": item["type"].upper(), "providerItemID": item["id"]})
        self.prune("/".join(VM_OPERATOR), "VirtualMachineImage", namespace, {image_name(i["id"]) for i in items})
        self.prune(IMAGE_REGISTRY, "ContentLibraryItem", namespace, {item_resource_name(i["id"]) for i in items})
        self.prune(IMAGE_REGISTRY, "ContentLibrary", namespace, {library_resource_name(key) for key in libraries})

    def _prune_namespace(self, name: str, info: dict) -> None:
        self.prune("rbac.authorization.k8s.io/v1", "RoleBinding", name,
                   {binding_name(entry) for entry in info.get("access_list") or []})
        self.prune("/".join(VM_OPERATOR), "VirtualMachineClass", name,
                   set((info.get("vm_service_spec") or {}).get("vm_classes") or []))
        if not limit_defaults(info):
            self.prune("v1", "LimitRange", name, set())


def desired_objects(name: str, info: dict, vm_classes: dict[str, dict],
                    policies: dict[str, str] | None = None, provider: str | None = None) -> list[dict]:
    """Every Kubernetes object one vSphere Namespace stands for, namespace first; ``provider`` is the
    network provider of the namespace's Supervisor."""
    labels = {CLUSTER_LABEL: info["cluster"]}
    if provider:
        labels[NETWORK_PROVIDER_LABEL] = provider
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": _managed(labels)}},
        {"apiVersion": "v1", "kind": "ResourceQuota",
         "metadata": {"name": QUOTA, "namespace": name, "labels": _managed()},
         "spec": {"hard": quota_hard(info, policies)}},
    ]
    defaults = limit_defaults(info)
    if defaults:
        objects.append({"apiVersion": "v1", "kind": "LimitRange",
                        "metadata": {"name": LIMITS, "namespace": name, "labels": _managed()},
                        "spec": {"limits": [{"type": "Container", **defaults}]}})
    objects.extend(role_binding(name, entry) for entry in info.get("access_list") or [])
    objects.extend(vm_class_object(name, vm_class, vm_classes[vm_class])
                   for vm_class in (info.get("vm_service_spec") or {}).get("vm_classes") or []
                   if vm_class in vm_classes)
    return objects
