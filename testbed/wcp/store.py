"""vCenter-side state of the WCP simulator, persisted as one JSON document.

Writes go to a temporary file that replaces the document, so a crash never leaves half a state.
"""
from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path

EMPTY = {"clusters": {}, "namespaces": {}, "vm_classes": {}, "supervisor_services": {}}


class Store:
    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()
        self._data = json.loads(path.read_text()) if path.exists() else copy.deepcopy(EMPTY)
        for key, value in EMPTY.items():
            self._data.setdefault(key, copy.deepcopy(value))

    def snapshot(self) -> dict:
        with self._lock:
            return copy.deepcopy(self._data)

    def get(self, table: str, key: str) -> dict | None:
        with self._lock:
            found = self._data[table].get(key)
            return copy.deepcopy(found) if found is not None else None

    def list(self, table: str) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._data[table])

    def put(self, table: str, key: str, value: dict) -> None:
        with self._lock:
            self._data[table][key] = copy.deepcopy(value)
            self._save()

    def delete(self, table: str, key: str) -> bool:
        with self._lock:
            existed = self._data[table].pop(key, None) is not None
            if existed:
                self._save()
            return existed

    def _save(self) -> None:
        partial = self._path.with_suffix(".partial")
        partial.write_text(json.dumps(self._data, indent=1, sort_keys=True))
        os.replace(partial, self._path)
