"""Secrets of one testbed: generated once per state directory, kept 0600, never logged."""
from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

VCENTER_USER = "administrator@vsphere.local"


@dataclass(frozen=True)
class Credentials:
    vcenter_user: str
    vcenter_password: str
    admin_token: str
    nobody_token: str  # authenticates, but no RBAC binding names it: every request is 403

    @classmethod
    def load_or_create(cls, path: Path) -> "Credentials":
        if path.exists():
            return cls(**json.loads(path.read_text()))
        created = cls(
            vcenter_user=VCENTER_USER,
            vcenter_password=secrets.token_urlsafe(12),
            admin_token=secrets.token_urlsafe(32),
            nobody_token=secrets.token_urlsafe(32),
        )
        path.write_text(json.dumps(asdict(created)))
        path.chmod(0o600)
        return created

    def token_file_lines(self) -> str:
        # kube-apiserver --token-auth-file: token,user,uid,"group1,group2"
        return (
            f'{self.admin_token},pacific-admin,pacific-admin,"system:masters"\n'
            f"{self.nobody_token},testbed-nobody,testbed-nobody\n"
        )
