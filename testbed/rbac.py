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


def install(api_client: client.ApiClient) -> None:
    api = client.RbacAuthorizationV1Api(api_client)
    for body in cluster_roles():
        try:
            api.create_cluster_role(body)
        except ApiException as err:
            if err.status != 409:
                raise
            api.replace_cluster_role(body["metadata"]["name"], body)
