"""Content libraries, read from vcsim's vSphere Automation API (the /rest flavour vcsim serves)."""
from __future__ import annotations

import hashlib

import requests

from testbed.credentials import Credentials


def _resource_id(prefix: str, uuid: str) -> str:
    """How the Supervisor names the object of a content library or item (VM Operator's "VMI ID"):
    the first 17 hex digits of the SHA-1 of its UUID without dashes, after a kind prefix."""
    return prefix + hashlib.sha1(uuid.replace("-", "").encode()).hexdigest()[:17]


def image_name(item_id: str) -> str:
    """The VirtualMachineImage name of a library item (vmi-0a0044d7c690bcbea)."""
    return _resource_id("vmi-", item_id)


def item_resource_name(item_id: str) -> str:
    """The ContentLibraryItem behind a library item's image."""
    return _resource_id("clitem-", item_id)


def library_resource_name(library_id: str) -> str:
    """The ContentLibrary of a library associated with a namespace."""
    return _resource_id("cl-", library_id)


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

    def library(self, library_id: str) -> dict | None:
        """One library: id, name and type (LOCAL or SUBSCRIBED); None when it is gone."""
        answer = self._get(f"/content/library/id:{library_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        value = answer.json()["value"]
        return {"id": library_id, "name": value.get("name", ""), "type": value.get("type", "LOCAL")}

    def items(self, library_id: str) -> list[dict]:
        """Items of one library: id, name and type of each, and the library they are in."""
        library = self.library(library_id)
        answer = self._get("/content/library/item", library_id=library_id)
        if answer.status_code == 404 or library is None:
            return []
        answer.raise_for_status()
        found = []
        for item_id in answer.json()["value"]:
            item = self._get(f"/content/library/item/id:{item_id}")
            if item.status_code == 200:
                value = item.json()["value"]
                found.append({"id": item_id, "name": value["name"], "type": value.get("type", "ovf"),
                              "library": library})
        return found
