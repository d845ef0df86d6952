"""ClusterRoles that aggregate the Supervisor's own API groups into Kubernetes' user-facing roles.

On a real Supervisor a namespace's EDIT and OWNER users (bound to ``edit`` and ``admin``) may manage
VM Operator, Cluster API and TKG objects, and VIEW users (``view``) may read them, because those
groups' ClusterRoles carry the aggregate-to-* labels; kube-controller-manager's aggregation
controller folds them in. The testbed installs the same.

Some cluster-scoped kinds every authenticated Supervisor user may read, whatever namespace they
may use: VMware's TKG docs have the developer list the releases with ``kubectl get tkr`` ("the
TKr images that are available for use in the vSphere Namespace"; the TKr content library "is not
namespace-scoped") and read the namespace's storage classes with ``kubectl describe storageclass``
("Using Storage Classes for Persistent Volumes"). ``authenticated_read`` grants that, bound to
``system:authenticated``.
"""
from __future__ import annotations

import time

from kubernetes import client
from kubernetes.client.rest import ApiException

# VM Operator, Cluster API (with its kubeadm control plane and bootstrap providers) and CAPV's supervisor
# kinds, TKG: a guest cluster's developer reads what it is made of (``kubectl get cluster-api``,
# ``clusterctl describe``, which shows each Machine's KubeadmConfig)
GROUPS = ("vmoperator.vmware.com", "cluster.x-k8s.io", "run.tanzu.vmware.com", "controlplane.cluster.x-k8s.io",
          "bootstrap.cluster.x-k8s.io", "vmware.infrastructure.cluster.x-k8s.io")
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def cluster_roles() -> list[dict]:
    """One ClusterRole aggregated into view, one into edit and admin."""
    def role(name: str, verbs: list[str], into: tuple[str, ...]) -> dict:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": name, "labels": {AGGREGATE + target: "true" for target in into}},
                "rules": [{"apiGroups": list(GROUPS), "resources": ["*"], "verbs": verbs}]}
    return [role("wcp:aggregate-to-view", READ, ("view",)),
            role("wcp:aggregate-to-edit", READ + WRITE, ("edit", "admin"))]


# The Supervisor's image registry: a namespace's users read the content libraries and items behind
# its VM images (`kubectl get contentlibraries,contentlibraryitems -n <ns>`); only vCenter changes them.
IMAGE_REGISTRY = "imageregistry.vmware.com"


def image_registry_roles() -> list[dict]:
    """Read access to the image registry's namespaced kinds, aggregated into view, edit and admin."""
    return [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "wcp:aggregate-image-registry-to-view",
                          "labels": {AGGREGATE + target: "true" for target in ("view", "edit", "admin")}},
             "rules": [{"apiGroups": [IMAGE_REGISTRY], "resources": ["contentlibraries", "contentlibraryitems"],
                        "verbs": READ}]}]


def authenticated_read(name: str, rules: list[dict]) -> tuple[dict, dict]:
    """A ClusterRole of ``rules`` and its ClusterRoleBinding to every authenticated user."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name}, "rules": rules}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": "system:authenticated"}]}
    return role, binding


def releases_and_storage_classes() -> tuple[dict, dict]:
    """Tanzu Kubernetes releases (and their OS images) and storage classes: readable by anyone
    logged in to the Supervisor."""
    return authenticated_read("wcp:authenticated-read-releases", [
        {"apiGroups": ["run.tanzu.vmware.com"], "resources": ["tanzukubernetesreleases", "osimages"],
         "verbs": READ},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": READ},
    ])


def cluster_vm_images() -> tuple[dict, dict]:
    """The VM images of content libraries assigned at the Supervisor level (vSphere 8.0 U2+), which
    are "available to all namespaces" (VM Operator's docs): a developer deploys VMs from them, so
    reads them, and the cluster content libraries and items behind them."""
    return authenticated_read("wcp:authenticated-read-cluster-vm-images", [
        {"apiGroups": ["vmoperator.vmware.com"], "resources": ["clustervirtualmachineimages"], "verbs": READ},
        {"apiGroups": [IMAGE_REGISTRY], "resources": ["clustercontentlibraries", "clustercontentlibraryitems"],
         "verbs": READ},
    ])


TOPOLOGY = "topology.tanzu.vmware.com"


def zones() -> tuple[dict, dict]:
    """vSphere Zones: a developer lists the Supervisor's (`kubectl get availabilityzones`) to place VMs and
    TKG node pools; vCenter alone changes them. A namespace's own Zones: ``zone_roles``."""
    return authenticated_read("wcp:authenticated-read-zones", [
        {"apiGroups": [TOPOLOGY], "resources": ["availabilityzones", "vspherezones"], "verbs": READ},
    ])


def zone_roles() -> list[dict]:
    """Read access to a namespace's Zones (`kubectl get zones -n <ns>`), aggregated into view, edit and admin."""
    return [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "wcp:aggregate-zones-to-view",
                          "labels": {AGGREGATE + target: "true" for target in ("view", "edit", "admin")}},
             "rules": [{"apiGroups": [TOPOLOGY], "resources": ["zones"], "verbs": READ}]}]


def cluster_role_bindings() -> list[tuple[dict, dict]]:
    """(ClusterRole, ClusterRoleBinding) pairs for what every authenticated user may read."""
    return [releases_and_storage_classes(), cluster_vm_images(), zones()]


def _create_or_replace(create, replace, body: dict) -> None:
    try:
        create(body)
    except ApiException as err:
        if err.status != 409:
            raise
        replace(body["metadata"]["name"], body)


def install(api_client: client.ApiClient) -> None:
    api = client.RbacAuthorizationV1Api(api_client)
    for body in cluster_roles() + image_registry_roles() + zone_roles():
        _create_or_replace(api.create_cluster_role, api.replace_cluster_role, body)
    for role, binding in cluster_role_bindings():
        _create_or_replace(api.create_cluster_role, api.replace_cluster_role, role)
        _create_or_replace(api.create_cluster_role_binding, api.replace_cluster_role_binding, binding)


def aggregated(api_client: client.ApiClient) -> list[str]:
    """The user-facing roles that do not yet hold the Supervisor's groups: kube-controller-manager's
    aggregation controller folds them in shortly after it starts."""
    api = client.RbacAuthorizationV1Api(api_client)
    missing = []
    for name in ("view", "edit", "admin"):
        try:
            rules = api.read_cluster_role(name).rules or []
        except ApiException as err:
            if err.status != 404:
                raise
            rules = []
        if not any(set(GROUPS) <= set(rule.api_groups or []) for rule in rules):
            missing.append(name)
    return missing


def wait_aggregated(api_client: client.ApiClient, timeout: float = 60.0) -> None:
    """Until ``view``, ``edit`` and ``admin`` grant the Supervisor's groups: before that a namespace's
    users, bound to them by vCenter, are refused VM Operator and Cluster API objects."""
    deadline = time.monotonic() + timeout
    while missing := aggregated(api_client):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the ClusterRoles {', '.join(missing)} were not aggregated after {timeout:.0f}s: "
                               "is kube-controller-manager's clusterrole-aggregation controller running?")
        time.sleep(0.2)
