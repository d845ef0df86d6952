"""``kube-public/cluster-info``: the Supervisor's address and CA, readable without credentials.

A Supervisor's control plane is set up as kubeadm sets a cluster up, and kubeadm publishes a
kubeconfig naming the API server and its CA (no user) in the ConfigMap ``cluster-info`` of
``kube-public``, which anyone may read: how a client that knows only the address learns what to
trust. The testbed's names the Supervisor's own address, ``https://<address>:6443``.

``kube-public/vip-cluster-info`` holds the same: VMware's Tanzu CLI (``tanzu context create
--endpoint <Supervisor>``, vmware-tanzu/tanzu-cli ``pkg/command/context.go`` and
``pkg/auth/tkg/cluster_pinniped_info.go``) reads that ConfigMap of a Supervisor, without
credentials, on port 443 of its address, and parses it as kubeadm's ``cluster-info``: a kubeconfig
under ``data.kubeconfig`` whose cluster's ``server`` and CA it then uses for the Supervisor's API (and
whose host, on port 443, it asks for ``pinniped-info``). The Supervisor's 443 serves both
ConfigMaps (testbed.wcp.app); everything else of the Kubernetes API is on 6443.
"""
from __future__ import annotations

import base64

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

NAMESPACE = "kube-public"
NAME = "cluster-info"
VIP_NAME = "vip-cluster-info"  # the one the Tanzu CLI reads of a Supervisor
PUBLIC = (NAME, VIP_NAME)  # readable by anyone
READER = "wcp:cluster-info-reader"


def config_map(server: str, ca_pem: str, name: str = NAME) -> dict:
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "users": None, "contexts": None,
                  "current-context": "",
                  "clusters": [{"name": "", "cluster": {
                      "server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}]}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
            "data": {"kubeconfig": yaml.safe_dump(kubeconfig, sort_keys=False)}}


def reader() -> tuple[dict, dict]:
    """A Role to get those ConfigMaps (and no other), bound to everyone, with or without credentials."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": READER, "namespace": NAMESPACE},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": list(PUBLIC),
                       "verbs": ["get"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": READER, "namespace": NAMESPACE},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": READER},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
                            for group in ("system:unauthenticated", "system:authenticated")]}
    return role, binding


def _create_or_replace(create, replace, body: dict) -> None:
    try:
        create(NAMESPACE, body)
    except ApiException as err:
        if err.status != 409:
            raise
        replace(body["metadata"]["name"], NAMESPACE, body)


def publish(api_client: client.ApiClient, server: str, ca_pem: str) -> None:
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    try:  # kube-apiserver makes kube-public itself, perhaps a moment after it is ready
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    except ApiException as err:
        if err.status != 409:
            raise
    for name in PUBLIC:
        _create_or_replace(core.create_namespaced_config_map, core.replace_namespaced_config_map,
                           config_map(server, ca_pem, name))
    role, binding = reader()
    _create_or_replace(rbac.create_namespaced_role, rbac.replace_namespaced_role, role)
    _create_or_replace(rbac.create_namespaced_role_binding, rbac.replace_namespaced_role_binding, binding)
