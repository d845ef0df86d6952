# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and metadata of the objects the collection builds: pure, no API.

``check_name`` holds a name to Kubernetes' DNS-1123 rules before anything is sent, so that a bad
name fails with the option that gave it; ``metadata`` is the one way every manifest builder
writes an object's ``metadata`` (name, namespace, and the labels and annotations the user gave,
as strings).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_name(name, what="name", label=False):
    """Raise InvalidArgument unless ``name`` is a DNS-1123 subdomain (or label, ``label=True``)."""
    limit, pattern = (63, DNS_LABEL) if label else (253, DNS_SUBDOMAIN)
    if not isinstance(name, str) or not name:
        raise errors.InvalidArgument("{0} is required".format(what))
    if len(name) > limit or not pattern.match(name):
        raise errors.InvalidArgument(
            "{0} {1!r} is not a valid DNS-1123 {2}: at most {3} lowercase letters, digits{4} and '-', "
            "starting and ending with a letter or digit".format(
                what, name, "label" if label else "subdomain", limit, "" if label else ", '.'"))
    return name


def metadata(name, namespace=None, labels=None, annotations=None):
    """An object's ``metadata``: its name, its namespace (when namespaced), and ``labels`` and
    ``annotations`` with their values as strings; empty maps are left out, so that server-side
    apply does not claim them."""
    built = {"name": name}
    if namespace is not None:
        built["namespace"] = namespace
    if labels:
        built["labels"] = dict((key, str(value)) for key, value in labels.items())
    if annotations:
        built["annotations"] = dict((key, str(value)) for key, value in annotations.items())
    return built
