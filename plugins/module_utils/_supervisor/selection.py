# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``*_info`` modules of the developer face select by, and the one way they list it:
a namespace (or all the credentials may read), names, labels and a label selector."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists

SELECTION_SPEC = dict(
    namespace=dict(type="str"),
    names=dict(type="list", elements="str"),
    labels=dict(type="dict"),
    label_selector=dict(type="str"),
)


def label_selector(params):
    """One label selector from O(labels) and O(label_selector)."""
    parts = ["{0}={1}".format(key, value) for key, value in sorted((params.get("labels") or {}).items())]
    if params.get("label_selector"):
        parts.append(params["label_selector"])
    return ",".join(parts) or None


def check_selection(params):
    """Refuse a namespace that cannot be a name before anything is asked."""
    if params.get("namespace"):
        check_name(params["namespace"], "namespace", label=True)


def selected_items(engine, resource, params, selector=None, field_selector=None, keep=None):
    """The selected objects of ``resource``: in the namespace (or all readable), matching
    ``selector`` (else the options' labels), kept by ``keep``, named in O(names) when given. An
    empty list of a namespace that is not there is a typo, and says so."""
    namespace = params.get("namespace")
    items = engine.list_readable(resource, namespace, label_selector=selector or label_selector(params),
                                 field_selector=field_selector)
    if keep is not None:
        items = [item for item in items if keep(item)]
    if namespace and not items:
        namespace_exists(engine, namespace)
    wanted = set(params.get("names") or [])
    return [item for item in items if not wanted or item["metadata"]["name"] in wanted]


def by_name(summaries):
    """Summaries in the order the ``*_info`` modules return them: by namespace, then name."""
    return sorted(summaries, key=lambda summary: (summary["namespace"], summary["name"]))


def selected(engine, resource, params, summarize, field_selector=None):
    """The summaries of the selected objects of ``resource`` (``selected_items``), ``by_name``."""
    items = selected_items(engine, resource, params, field_selector=field_selector)
    return by_name(summarize(item) for item in items)
