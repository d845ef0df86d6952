# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which vSphere tags are attached to which VMs, in a number of calls that does not grow with VMs.

The vSphere Automation tagging API (``/rest/com/vmware/cis/tagging``): list the tags, read each
tag and category once, then ask for the objects of all tags in one
``list-attached-objects-on-tags`` call. Standard library HTTP only; nothing here knows Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import ssl

from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import HTTPSHandler, Request, build_opener

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed, PacificError, TlsError, Unreachable, for_http_status)

PREFIX = "/rest/com/vmware/cis"
TIMEOUT = 60


class _Session(object):
    def __init__(self, hostname, port, context):
        self.base = "https://%s:%s%s" % (hostname, port, PREFIX)
        self.where = "%s:%s" % (hostname, port)
        self.opener = build_opener(HTTPSHandler(context=context))
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}

    def call(self, method, path, body=None, headers=None):
        request = Request(self.base + path, data=None if body is None else json.dumps(body).encode(),
                          headers=dict(self.headers, **(headers or {})))
        request.get_method = lambda: method
        try:
            answer = self.opener.open(request, timeout=TIMEOUT)
            data = answer.read()
        except HTTPError as err:
            cls = for_http_status(err.code) or PacificError
            if err.code == 401:
                raise AuthenticationFailed("vCenter's tagging API at %s refused the credentials" % self.where)
            raise cls("vCenter's tagging API at %s answered %s to %s %s" % (self.where, err.code, method, path))
        except URLError as err:
            if isinstance(err.reason, ssl.SSLError):
                raise TlsError("TLS with vCenter's tagging API at %s failed: %s" % (self.where, err.reason))
            raise Unreachable("cannot reach vCenter's tagging API at %s: %s" % (self.where, err.reason))
        except (socket.timeout, OSError) as err:
            raise Unreachable("cannot reach vCenter's tagging API at %s: %s" % (self.where, err))
        return json.loads(data).get("value") if data else None


def attached_tags(hostname, username, password, port=443, context=None):
    """``{vm moid: [(category name, tag name), ...]}`` of every tagged VM."""
    session = _Session(hostname, port, context)
    basic = base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
    token = session.call("POST", "/session", headers={"Authorization": "Basic " + basic})
    session.headers["vmware-api-session-id"] = token
    try:
        tag_ids = session.call("GET", "/tagging/tag") or []
        if not tag_ids:
            return {}
        tags, categories = {}, {}
        for tag_id in tag_ids:
            tag = session.call("GET", "/tagging/tag/id:%s" % quote(tag_id, safe=""))
            category_id = tag.get("category_id")
            if category_id not in categories:
                category = session.call("GET", "/tagging/category/id:%s" % quote(category_id, safe=""))
                categories[category_id] = category.get("name")
            tags[tag_id] = (categories[category_id], tag.get("name"))
        attached = session.call("POST", "/tagging/tag-association?~action=list-attached-objects-on-tags",
                                {"tag_ids": list(tag_ids)}) or []
    finally:
        try:
            session.call("DELETE", "/session")
        except PacificError:
            pass
    found = {}
    for entry in attached:
        for obj in entry.get("object_ids") or []:
            if obj.get("type") == "VirtualMachine" and entry.get("tag_id") in tags:
                found.setdefault(obj.get("id"), []).append(tags[entry["tag_id"]])
    return found
