"""Who may do what inside a guest cluster: the vSphere Namespace's roles, synced into its RBAC.

As on vSphere (VMware's "Configure vSphere Namespace permissions for TKG", Broadcom KB 424897): each
OWNER and EDIT subject of a namespace's access list is cluster-admin in every guest cluster of the
namespace, through a ClusterRoleBinding made inside the guest,
``vmware-system-auth-sync-wcp:<namespace>:<user|group>:<domain>:<name>`` -> ClusterRole cluster-admin,
whose subject is the User or Group the guest's TokenReview names (``sso:<name>@<domain>``). A VIEW
subject gets nothing there: it logs in, and the guest answers 403. vCenter SSO's administrators group
(``group:vsphere.local:administrators`` in the KB) is bound the same way in every guest.

The access list reaches the Supervisor as the RoleBindings the WCP simulator mirrors
(``testbed.wcp.mirror``: ``admin``, ``edit`` or ``view`` per entry). This controller watches them and,
when those of a namespace change, converges the bindings in that namespace's running guests; a guest that
comes up gets its bindings before its kube-apiserver is reported (``GuestApiservers.on_ready``).
Bindings of earlier testbeds (one ``vsphere-namespace-editors`` for every login) are removed.
"""
from __future__ import annotations

import logging
import threading

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from testbed.controllers import kube
from testbed.controllers.guest_apiservers import GuestApiservers
from testbed.credentials import ADMINISTRATORS_GROUP
from testbed.wcp.mirror import MANAGED_BY
from testbed.wcp.tokens import USER_PREFIX

log = logging.getLogger("testbed.controllers.guest_access")

PREFIX = "vmware-system-auth-sync-wcp:"
ADMIN_ROLES = ("admin", "edit")  # OWNER and EDIT, as the mirror binds them on the Supervisor
RBAC = "rbac.authorization.k8s.io"
OLD_BLANKET = "vsphere-namespace-editors"  # one binding for every login of earlier testbeds


def binding_name(namespace: str, kind: str, sso_name: str) -> str:
    """``vmware-system-auth-sync-wcp:<namespace>:<user|group>:<domain>:<name>`` for the subject
    ``sso:<name>@<domain>`` of kind User or Group, lower-cased as the KB lists them."""
    name, _, domain = sso_name.removeprefix(USER_PREFIX).rpartition("@")
    return f"{PREFIX}{namespace}:{kind.lower()}:{domain}:{name}".lower()


def desired(namespace: str, role_bindings: list) -> dict[str, dict]:
    """The guest's ClusterRoleBindings (name -> body) for a namespace's mirrored RoleBindings."""
    subjects = {("Group", USER_PREFIX + ADMINISTRATORS_GROUP)}
    for binding in role_bindings:
        if binding.role_ref.name in ADMIN_ROLES:
            subjects |= {(subject.kind, subject.name) for subject in binding.subjects or []
                         if subject.kind in ("User", "Group") and subject.name.startswith(USER_PREFIX)}
    return {binding_name(namespace, kind, name): {
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": binding_name(namespace, kind, name)},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": RBAC, "kind": kind, "name": name}]} for kind, name in sorted(subjects)}


class GuestAccess:
    def __init__(self, api_client: client.ApiClient, apiservers: GuestApiservers):
        self.rbac = client.RbacAuthorizationV1Api(api_client)
        self.apiservers = apiservers
        self.queue = kube.WorkQueue()
        apiservers.on_ready = self.sync

    def start(self, stop: threading.Event) -> None:
        kube.run_workers(self.queue, lambda key: self.reconcile(key[0]), count=1, name="guest-access")
        threading.Thread(target=kube.watch_forever, daemon=True, name="watch-access-rolebindings", args=(
            self.rbac.list_role_binding_for_all_namespaces, self._changed, stop),
            kwargs={"label_selector": f"{MANAGED_BY}=wcp", "on_list": self._listed}).start()

    def _changed(self, binding) -> None:
        self.queue.add((binding.metadata.namespace, ""))

    def _listed(self, bindings: list) -> None:
        # a namespace whose last binding went while no watch ran is not in the list: look at all
        for key in self.apiservers.running():
            self.queue.add((key.split("/", 1)[0], ""))

    def reconcile(self, namespace: str) -> None:
        for key, port in self.apiservers.running().items():
            if key.split("/", 1)[0] == namespace:
                self.sync(key, port)

    def sync(self, key: str, port: int) -> None:
        """Converge the auth-sync ClusterRoleBindings inside guest cluster ``key`` (namespace/name)."""
        namespace = key.split("/", 1)[0]
        mirrored = self.rbac.list_namespaced_role_binding(namespace, label_selector=f"{MANAGED_BY}=wcp").items
        wanted = desired(namespace, mirrored)
        with config.new_client_from_config_dict(yaml.safe_load(self.apiservers.kubeconfig(key, port))) as api_client:
            guest = client.RbacAuthorizationV1Api(api_client)
            present = {binding.metadata.name: binding for binding in guest.list_cluster_role_binding().items
                       if binding.metadata.name.startswith(PREFIX) or binding.metadata.name == OLD_BLANKET}
            for name, binding in present.items():
                if name not in wanted:
                    log.info("guest %s: %s removed (no longer OWNER or EDIT of %s)", key, name, namespace)
                    kube.unless_absent(guest.delete_cluster_role_binding, name)
            for name, body in wanted.items():
                current = present.get(name)
                if current is None:
                    log.info("guest %s: %s made (cluster-admin)", key, name)
                    try:
                        guest.create_cluster_role_binding(body)
                    except ApiException as err:
                        if err.status != 409:
                            raise
                elif [(s.kind, s.name) for s in current.subjects or []] != [
                        (s["kind"], s["name"]) for s in body["subjects"]]:
                    guest.replace_cluster_role_binding(name, body)
