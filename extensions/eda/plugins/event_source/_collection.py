# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How this collection's event sources import its ``module_utils``: the one place that solves it.

ansible-rulebook runs a source file with ``runpy.run_path``: the file is no module of a
package, and ansible-rulebook installs no collection loader, so
``import ansible_collections.pacific.supervisor...`` finds nothing unless the directory that
holds ``ansible_collections/`` is on ``sys.path``. A source's own path shows where that is: it
is found (by ``ansible-galaxy collection list``) as
``<root>/ansible_collections/pacific/supervisor/extensions/eda/plugins/event_source/<name>.py``.
``import_module`` puts ``<root>`` first on ``sys.path`` - the unresolved path, so a symlinked
tree works, and first, so the code imported is the same copy of the collection as the source -
and imports the module; ``ansible_collections``, its namespace and name are namespace packages
(PEP 420) as in any collection tree.

A source loads this file with ``runpy.run_path`` too (it cannot import it) and calls
``import_module(its directory, dotted name under the collection)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import sys

# event_source -> plugins -> eda -> extensions -> <name> -> <namespace> -> ansible_collections
_DEPTH = 7


def import_module(source_dir, name):
    """``ansible_collections.<namespace>.<name>.<name>`` of the collection ``source_dir`` is in."""
    parts = os.path.abspath(source_dir).split(os.sep)
    if len(parts) <= _DEPTH or parts[-_DEPTH] != "ansible_collections":
        raise ImportError(
            "{0} is not inside an ansible_collections/<namespace>/<name> tree: install the collection "
            "(ansible-galaxy collection install) and refer to its sources by their full name".format(source_dir))
    root = os.sep.join(parts[:-_DEPTH]) or os.sep
    if root not in sys.path:
        sys.path.insert(0, root)
    collection = ".".join(["ansible_collections"] + parts[-_DEPTH + 1:-_DEPTH + 3])
    return importlib.import_module(collection + "." + name)
