# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manifests in: a list, a YAML text (many documents), a file or a directory of files.

Every failure names where the bad document came from, and nothing is returned half: the caller
gets all manifests or one error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

try:
    import yaml
except ImportError:  # reported by the module through run_module's requirements
    yaml = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors

MANIFEST_SUFFIXES = (".yml", ".yaml", ".json")


def _documents(text, origin):
    try:
        loaded = list(yaml.safe_load_all(text))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = " (line {0}, column {1})".format(mark.line + 1, mark.column + 1) if mark is not None else ""
        raise errors.InvalidArgument("{0} is not valid YAML{1}: {2}".format(
            origin, where, getattr(err, "problem", None) or err))
    return [(document, "{0} document {1}".format(origin, index + 1)) for index, document in enumerate(loaded)]


def _flatten(items, origin):
    """Manifests of a loaded value: a mapping, a list of them, or a v1 List (``items``)."""
    found = []
    for value, where in items:
        if value is None:
            continue  # an empty document (a trailing ---) is no manifest
        if isinstance(value, list):
            found.extend(_flatten([(item, "{0} item {1}".format(where, n + 1)) for n, item in enumerate(value)],
                                  origin))
        elif isinstance(value, dict) and value.get("kind", "").endswith("List") and isinstance(value.get("items"), list):
            found.extend(_flatten([(item, "{0} item {1}".format(where, n + 1))
                                   for n, item in enumerate(value["items"])], origin))
        elif isinstance(value, dict):
            found.append((value, where))
        else:
            raise errors.InvalidArgument("{0} is a {1}, not a manifest (a mapping with apiVersion and kind)".format(
                where, type(value).__name__))
    return found


def _files(path):
    if os.path.isdir(path):
        chosen = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            chosen.extend(os.path.join(root, name) for name in sorted(names) if name.endswith(MANIFEST_SUFFIXES))
        if not chosen:
            raise errors.InvalidArgument("{0} holds no manifest files ({1})".format(path, ", ".join(MANIFEST_SUFFIXES)))
        return chosen
    if os.path.isfile(path):
        return [path]
    raise errors.InvalidArgument("{0} does not exist".format(path))


def load(definition=None, src=None):
    """``[(manifest, origin)]`` from ``definition`` (a mapping, a list or YAML text) or ``src``
    (a file or a directory, read recursively in name order)."""
    if yaml is None:
        raise errors.InvalidArgument("the PyYAML library is required to read manifests")
    if src is not None:
        loaded = []
        for path in _files(src):
            try:
                with open(path) as handle:
                    text = handle.read()
            except (IOError, OSError) as err:
                raise errors.InvalidArgument("cannot read {0}: {1}".format(path, err))
            loaded.extend(_documents(text, path))
        return _flatten(loaded, src)
    if isinstance(definition, str):
        return _flatten(_documents(definition, "definition"), "definition")
    if isinstance(definition, dict):
        return _flatten([(definition, "definition")], "definition")
    return _flatten([(item, "definition item {0}".format(n + 1)) for n, item in enumerate(definition or [])],
                    "definition")


def secret_values(loaded):
    """The values of the Secrets among ``loaded`` (what ``load`` returns: (manifest, origin)
    pairs) - ``data`` as given (base64), ``stringData`` as given and as base64 - for the caller to
    mask in its output."""
    found = []
    for manifest, _origin in loaded:
        if not isinstance(manifest, dict) or manifest.get("kind") != "Secret":
            continue
        for value in (manifest.get("data") or {}).values():
            found.append(str(value))
        for value in (manifest.get("stringData") or {}).values():
            found.extend([str(value), base64.b64encode(str(value).encode("utf-8")).decode("ascii")])
    return found
