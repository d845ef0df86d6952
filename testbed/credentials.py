"""Secrets of one testbed: generated once per state directory, kept 0600, never logged."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

VCENTER_USER = "administrator@vsphere.local"
DEVELOPER_USER = "devops@vsphere.local"  # EDIT where a namespace's access list names it
VIEWER_USER = "viewer@vsphere.local"  # VIEW where a namespace's access list names it
OUTSIDER_USER = "outsider@vsphere.local"  # logs in, but no access list names it
# vCenter SSO's administrators group, which vCenter's administrator is a member of: inside every guest
# cluster it is bound to cluster-admin (testbed.controllers.guest_access)
ADMINISTRATORS_GROUP = "Administrators@vsphere.local"


@dataclass(frozen=True)
class Credentials:
    vcenter_user: str
    vcenter_password: str
    admin_token: str
    nobody_token: str  # authenticates, but no RBAC binding names it: every request is 403
    developer_user: str  # a vCenter SSO user without admin rights: what a namespace's access list names
    developer_password: str
    viewer_user: str
    viewer_password: str
    outsider_user: str
    outsider_password: str

    @classmethod
    def load_or_create(cls, path: Path) -> "Credentials":
        stored = json.loads(path.read_text()) if path.exists() else {}
        fresh = {
            "vcenter_user": VCENTER_USER,
            "vcenter_password": secrets.token_urlsafe(12),
            "admin_token": secrets.token_urlsafe(32),
            "nobody_token": secrets.token_urlsafe(32),
            "developer_user": DEVELOPER_USER,
            "developer_password": secrets.token_urlsafe(12),
            "viewer_user": VIEWER_USER,
            "viewer_password": secrets.token_urlsafe(12),
            "outsider_user": OUTSIDER_USER,
            "outsider_password": secrets.token_urlsafe(12),
        }
        loaded = cls(**{**fresh, **stored})
        if stored.keys() != fresh.keys():
            path.write_text(json.dumps(asdict(loaded)))
            path.chmod(0o600)
        return loaded

    def sso_users(self) -> dict[str, str]:
        """vCenter SSO user -> password, for vCenter sessions and /wcp/login."""
        return {self.vcenter_user: self.vcenter_password, self.developer_user: self.developer_password,
                self.viewer_user: self.viewer_password, self.outsider_user: self.outsider_password}

    def sso_groups(self, user: str) -> list[str]:
        """The vCenter SSO groups ``user`` is a member of (``name@domain``)."""
        return [ADMINISTRATORS_GROUP] if user == self.vcenter_user else []

    def token_file_lines(self) -> str:
        # kube-apiserver --token-auth-file: token,user,uid,"group1,group2"
        return (
            f'{self.admin_token},pacific-admin,pacific-admin,"system:masters"\n'
            f"{self.nobody_token},testbed-nobody,testbed-nobody\n"
        )
