"""Unit tests import the collection as Ansible does, ``ansible_collections.pacific.supervisor``."""
from __future__ import annotations

import sys

from tests.integration.conftest import collection_tree

_COLLECTIONS = str(collection_tree())
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
