# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubeconfig documents: add or replace one cluster, user and context, as ``kubectl vsphere login``
does, keeping everything else in the file. Pure functions over dicts; the module writes the file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import time

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit  # type: ignore


def empty():
    return {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [], "users": [], "contexts": [],
            "current-context": ""}


def server_host(server):
    parts = urlsplit(server if "://" in server else "https://" + server)
    return parts.hostname or server


def entry_names(server, username, context=None, namespace=None):
    """(cluster, user, context) entry names for a Supervisor login, in kubectl vsphere's style."""
    host = server_host(server)
    return host, "wcp:{0}:{1}".format(host, username), context or namespace or host


def _put(entries, name, key, value):
    kept = [entry for entry in entries or [] if entry.get("name") != name]
    kept.append({"name": name, key: value})
    return kept


def merged(existing, server, token, username, ca_pem=None, insecure=False, context=None, namespace=None):
    """A copy of ``existing`` (or a new document) with this login's cluster, user and context
    set and made current."""
    document = copy.deepcopy(existing) if existing else empty()
    cluster_name, user_name, context_name = entry_names(server, username, context, namespace)
    cluster = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode("utf-8")).decode("ascii")
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    context_entry = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context_entry["namespace"] = namespace
    document["clusters"] = _put(document.get("clusters"), cluster_name, "cluster", cluster)
    document["users"] = _put(document.get("users"), user_name, "user", {"token": token})
    document["contexts"] = _put(document.get("contexts"), context_name, "context", context_entry)
    document["current-context"] = context_name
    return document


def token_of(document, server, username):
    """The token a kubeconfig holds for this login's user, or None."""
    _cluster, user_name, _context = entry_names(server, username)
    for entry in (document or {}).get("users") or []:
        if entry.get("name") == user_name:
            return (entry.get("user") or {}).get("token")
    return None


def token_expiry(token):
    """The ``exp`` claim of a JWT (seconds since the epoch), read without verifying; None when
    the token is not a JWT or has none."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return int(json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))["exp"])
    except (IndexError, ValueError, KeyError, TypeError, AttributeError):
        return None


def lasts(token, seconds, now=None):
    """Whether ``token`` is good for at least ``seconds`` more (unknown expiry counts as yes)."""
    expiry = token_expiry(token)
    return expiry is None or expiry - (time.time() if now is None else now) >= seconds
