"""Content libraries, read from vcsim's vSphere Automation API (the /rest flavour vcsim serves)."""
from __future__ import annotations

import hashlib

import requests

from testbed.credentials import Credentials


def image_name(item_id: str) -> str:
    """The VirtualMachineImage name of a library item, in the Supervisor's vmi-<hex> form."""
    return "vmi-" + hashlib.sha256(item_id.encode()).hexdigest()[:17]


class ContentLibraries:
    def __init__(self, vcsim_url: str, credentials: Credentials, ca_file: str):
        self.base = vcsim_url + "/rest/com/vmware"
        self.credentials = credentials
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would replace the testbed CA
        self.http.verify = ca_file

    def _get(self, path: str, **params):
        for attempt in (1, 2):
            if "vmware-api-session-id" not in self.http.headers or attempt == 2:
                login = self.http.post(self.base + "/cis/session",
                                       auth=(self.credentials.vcenter_user, self.credentials.vcenter_password))
                login.raise_for_status()
                self.http.headers["vmware-api-session-id"] = login.json()["value"]
            answer = self.http.get(self.base + path, params=params, timeout=10)
            if answer.status_code != 401:
                return answer
        return answer

    def exists(self, library_id: str) -> bool:
        return self._get(f"/content/library/id:{library_id}").status_code == 200

    def items(self, library_id: str) -> list[dict]:
        """Items of one library: id, name and type of each."""
        answer = self._get("/content/library/item", library_id=library_id)
        if answer.status_code == 404:
            return []
        answer.raise_for_status()
        found = []
        for item_id in answer.json()["value"]:
            item = self._get(f"/content/library/item/id:{item_id}")
            if item.status_code == 200:
                value = item.json()["value"]
                found.append({"id": item_id, "name": value["name"], "type": value.get("type", "ovf")})
        return found
