# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content libraries by name, through the content library API of the ``/rest`` flavour.

Content libraries live outside the vim inventory, so the PropertyCollector cannot see them.
vCenter serves them under both ``/api`` and ``/rest``; we use ``/rest`` (its own session)
because that is the flavour every vCenter since 6.5, and the testbed's vcsim, answer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import quoted

LIBRARY = "/rest/com/vmware/content/library"


def content_libraries(rest_session):
    """``{library name: [library id, ...]}`` of every content library."""
    found = {}
    for library_id in rest_session.get(LIBRARY) or []:
        library = rest_session.get_or_none(LIBRARY + "/id:" + quoted(library_id))
        if library is not None:  # deleted while we listed
            found.setdefault(library.get("name", library_id), []).append(library_id)
    return found
