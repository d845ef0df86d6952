"""Unit tests import the collection as Ansible does: ``ansible_collections.pacific.supervisor``."""
from __future__ import annotations

import sys

from tests.integration.conftest import collection_tree

_root = str(collection_tree())
if _root not in sys.path:
    sys.path.insert(0, _root)
