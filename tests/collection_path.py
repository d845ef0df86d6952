"""Make this checkout importable as ``ansible_collections.pacific.supervisor``.

A symlink ``.cache/collections/ansible_collections/pacific/supervisor`` -> the checkout serves
both ANSIBLE_COLLECTIONS_PATH (for ansible-playbook and ansible-inventory) and ``sys.path`` (for
unit tests importing module_utils as the plugins do).
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO_ROOT / ".cache" / "collections"


def collection_tree() -> Path:
    link = COLLECTIONS / "ansible_collections" / "pacific" / "supervisor"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != REPO_ROOT:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return COLLECTIONS


def importable() -> None:
    path = str(collection_tree())
    if path not in sys.path:
        sys.path.insert(0, path)
