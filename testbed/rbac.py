"""ClusterRoles that aggregate the Supervisor's own API groups into Kubernetes' user-facing roles.

On a real Supervisor a namespace's EDIT and OWNER users (bound to ``edit`` and ``admin``) may manage
VM Operator, Cluster API and TKG objects, and VIEW users (``view``) may read them, because those
groups' ClusterRoles carry the aggregate-to-* labels; kube-controller-manager's aggregation
controller folds them in. The testbed installs the same.
"""
from __future__ import annotations

from kubernetes import client
from kubernetes.client.rest import ApiException

GROUPS = ("vmoperator.vmware.com", "cluster.x-k8s.io", "run.tanzu.vmware.com")
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
IMAGE_READERS = "wcp:image-and-storage-readers"


def image_registry_roles() -> list[dict]:
    """Read access to the image registry's namespaced kinds, aggregated into view, edit and admin."""
    return [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "wcp:aggregate-image-registry-to-view",
                          "labels": {AGGREGATE + target: "true" for target in ("view", "edit", "admin")}},
             "rules": [{"apiGroups": [IMAGE_REGISTRY], "resources": ["contentlibraries", "contentlibraryitems"],
                        "verbs": READ}]}]


def image_and_storage_readers() -> list[dict]:
    """What every authenticated Supervisor user may read at the cluster scope for the images and
    storage offered to namespaces: StorageClasses (`kubectl get storageclass`, as VMware's docs
    show a DevOps user doing), ClusterVirtualMachineImages, and the cluster content libraries and
    items behind them. A ClusterRole and its binding to system:authenticated."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": IMAGE_READERS},
            "rules": [{"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": READ},
                      {"apiGroups": ["vmoperator.vmware.com"], "resources": ["clustervirtualmachineimages"],
                       "verbs": READ},
                      {"apiGroups": [IMAGE_REGISTRY],
                       "resources": ["clustercontentlibraries", "clustercontentlibraryitems"], "verbs": READ}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": IMAGE_READERS},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": IMAGE_READERS},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": "system:authenticated"}]}
    return [role, binding]


def install(api_client: client.ApiClient) -> None:
    api = client.RbacAuthorizationV1Api(api_client)
    for body in cluster_roles() + image_registry_roles() + image_and_storage_readers():
        create, replace = ((api.create_cluster_role, api.replace_cluster_role) if body["kind"] == "ClusterRole"
                           else (api.create_cluster_role_binding, api.replace_cluster_role_binding))
        try:
            create(body)
        except ApiException as err:
            if err.status != 409:
                raise
            replace(body["metadata"]["name"], body)
