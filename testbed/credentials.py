"""Secrets of one testbed: generated once per state directory, kept 0600, never logged."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

VCENTER_USER = "administrator@vsphere.local"
DEVELOPER_USER = "devops@vsphere.local"


@dataclass(frozen=True)
class Credentials:
    vcenter_user: str
    vcenter_password: str
    admin_token: str
    nobody_token: str  # authenticates, but no RBAC binding names it: every request is 403
    developer_user: str  # a vCenter SSO user without admin rights: what a namespace's access list names
    developer_password: str

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
        }
        loaded = cls(**{**fresh, **stored})
        if stored.keys() != fresh.keys():
            path.write_text(json.dumps(asdict(loaded)))
            path.chmod(0o600)
        return loaded

    def token_file_lines(self) -> str:
        # kube-apiserver --token-auth-file: token,user,uid,"group1,group2"
        return (
            f'{self.admin_token},pacific-admin,pacific-admin,"system:masters"\n'
            f"{self.nobody_token},testbed-nobody,testbed-nobody\n"
        )
