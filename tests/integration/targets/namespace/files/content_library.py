"""Make sure the testbed's vcsim has a content library called NAME (with one item); print its id.

Content libraries are made in vSphere Client or with govc, not with this collection, so the
target makes one the way an admin's tooling would: through vcsim's content library API.
"""
from __future__ import annotations

import sys

import requests

from testbed.layout import Layout
from testbed.stack import Testbed


def main(name: str) -> None:
    bed = Testbed(Layout.from_env())
    creds = bed.credentials
    http = requests.Session()
    http.trust_env, http.verify = False, str(bed.pki.ca_cert)
    base = bed.layout.vcenter_url + "/rest/com/vmware"
    login = http.post(base + "/cis/session", auth=(creds.vcenter_user, creds.vcenter_password))
    login.raise_for_status()
    http.headers["vmware-api-session-id"] = login.json()["value"]
    for library_id in http.get(base + "/content/library").json()["value"] or []:
        if http.get(f"{base}/content/library/id:{library_id}").json()["value"]["name"] == name:
            print(library_id)
            return
    from pyVmomi import vim

    from testbed.vcenter import session

    with session(bed.layout) as si:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datastore], True)
        datastore = view.view[0]._moId
        view.Destroy()
    created = http.post(base + "/content/local-library", json={"create_spec": {
        "name": name, "type": "LOCAL", "storage_backings": [{"datastore_id": datastore, "type": "DATASTORE"}]}})
    created.raise_for_status()
    library_id = created.json()["value"]
    http.post(base + "/content/library/item", json={"create_spec": {
        "library_id": library_id, "name": f"{name}-image", "type": "ovf"}}).raise_for_status()
    print(library_id)


if __name__ == "__main__":
    main(sys.argv[1])
