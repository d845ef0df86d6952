# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a live object already say what a manifest says? Decided without asking the server.

A server-side apply of a manifest changes nothing when (1) every field the manifest sets already
has that value in the live object, and (2) the manifest still sets every field our field manager
owns (a field we own but no longer set would be removed by the apply). Both are read off the
live object as one LIST returned it, so a batch learns what drifts with no request per object.
Lists are compared whole (same length, each item matching), which errs on the side of applying.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# list items in fieldsV1 (k: by key, v: by value, i: by index) end a path: lists compare whole
_LIST_ITEM_PREFIXES = ("k:", "v:", "i:")


def covers(live, desired):
    """Whether ``live`` has every value ``desired`` sets (mappings: a superset; lists: the same
    length with each item covered; scalars: equal, with YAML's 1 vs "1" told apart)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(key in live and covers(live[key], value) for key, value in desired.items()
                   if value is not None) and all(live.get(key) is None for key, value in desired.items()
                                                 if value is None)
    if isinstance(desired, list):
        return isinstance(live, list) and len(live) == len(desired) and all(
            covers(item, wanted) for item, wanted in zip(live, desired))
    if isinstance(desired, bool) or isinstance(live, bool):
        return type(live) is type(desired) and live == desired
    return live == desired


def owned_paths(fields, prefix=()):
    """The field paths a fieldsV1 tree names, each cut at its first list item."""
    paths = set()
    for key, child in (fields or {}).items():
        if key == ".":
            continue
        if key.startswith(_LIST_ITEM_PREFIXES):
            paths.add(prefix)
            continue
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        if child:
            paths.update(owned_paths(child, path) or {path})
        else:
            paths.add(path)
    return paths


def set_paths(desired, prefix=()):
    """The field paths a manifest sets, each cut at the first list (the way ``owned_paths`` cuts)."""
    paths = set()
    for key, value in desired.items():
        path = prefix + (key,)
        if isinstance(value, dict) and value:
            paths.update(set_paths(value, path))
        else:
            paths.add(path)
    return paths


def _manager_fields(live, manager):
    """Our manager's fieldsV1 for the main resource (not the status subresource)."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            fields = entry.get("fieldsV1")
            return json.loads(fields) if isinstance(fields, str) else (fields or {})
    return None


def drifts(live, desired, manager):
    """Whether applying ``desired`` as ``manager`` could change ``live`` (None: it does not exist)."""
    if live is None:
        return True
    if not covers(live, desired):
        return True
    owned = _manager_fields(live, manager)
    if owned is None:
        return True  # not applied by us yet: the apply takes ownership, a change of managed fields
    wanted = set_paths(desired)
    for path in owned_paths(owned):
        # still set when the manifest sets that field or one below it; an empty mapping where we
        # own fields inside it would clear them, so it does not count
        if not any(mine[:len(path)] == path for mine in wanted):
            return True
    return False


# maps whose keys are the user's data: set at all by a manifest, they are set whole
_ATOMIC_MAPS = (("metadata", "labels"), ("metadata", "annotations"), ("data",), ("stringData",))


def _atomic_prefix(path):
    for prefix in _ATOMIC_MAPS:
        if path[:len(prefix)] == prefix:
            return prefix
    return None


def _value_at(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None, False
        obj = obj[key]
    return obj, True


def carry_over(live, desired, manager):
    """``desired`` plus the fields our field manager owns in ``live`` that ``desired`` leaves out,
    at their live values: what a module's unset option means, "leave it as it is". Without it a
    server-side apply of a partial manifest (say, only the power state) would drop every field an
    earlier apply of ours set. A map of user data (labels, annotations, Secret data) that
    ``desired`` sets at all is taken whole from ``desired``; lists, as always, whole."""
    owned = _manager_fields(live, manager) if live else None
    if not owned:
        return desired
    wanted = set_paths(desired)
    wanted_atomic = set(filter(None, (_atomic_prefix(path) for path in wanted)))
    merged = json.loads(json.dumps(desired))
    for path in sorted(owned_paths(owned)):
        if not path or _atomic_prefix(path) in wanted_atomic:
            continue
        if any(mine[:len(path)] == path or path[:len(mine)] == mine for mine in wanted):
            continue
        value, found = _value_at(live, path)
        if not found or value is None:
            continue
        target = merged
        for key in path[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                break
        else:
            target[path[-1]] = json.loads(json.dumps(value))
    return merged
