# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names in, identifiers out: one name against a ``{name: [id, ...]}`` map.

Users name clusters, storage policies, content libraries and networks as vSphere Client shows
them; the API wants identifiers. An identifier given instead of a name is accepted as it is.
An unknown name is ``NotFound``, a name two objects share is ``InvalidArgument``; both say
what was looked for and what there is, so that a typo is found at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument, NotFound

SHOWN = 10  # how many known names an error message lists


def resolve(kind, name, known):
    """The identifier of the one ``kind`` called ``name`` (or whose identifier is ``name``)."""
    ids = known.get(name)
    if ids and len(set(ids)) == 1:
        return ids[0]
    if ids:
        raise InvalidArgument("{0} name {1!r} is ambiguous: it names {2} objects ({3}); give the identifier "
                              "instead".format(kind, name, len(set(ids)), ", ".join(sorted(set(ids)))))
    if any(name in each for each in known.values()):
        return name
    names = sorted(known)
    listed = ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")
    raise NotFound("no {0} named {1!r} in vCenter (known: {2})".format(kind, name, listed or "none"))


def resolve_all(kind, names, known):
    """Identifiers of ``names``, in their order."""
    return [resolve(kind, name, known) for name in names]


def name_of(identifier, known):
    """The name of ``identifier`` in a ``{name: [id, ...]}`` map, or the identifier itself."""
    for name, ids in known.items():
        if identifier in ids:
            return name
    return identifier
