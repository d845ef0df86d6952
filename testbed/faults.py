"""Injected faults: a small JSON book in the state directory that the simulators consult.

Standing faults (``vm-stuck-creating``, ``vm-create-failure``, ``pod-crashloop``,
``function-unready``: a function's new pods run but never become ready) hold until undone and are
scoped to a namespace and optionally one object name (a function's, for ``function-unready``). Revocations (``vcenter-session-expiry``,
``wcp-token-expiry``) record a time: credentials issued before it stop working, new ones work.
One-shot actions (``power-off``, ``guest-cluster-unhealthy``, ``quota-exhausted``,
``apiserver-restart``) act at once; their undo restores what they changed.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

STANDING = ("vm-stuck-creating", "vm-create-failure", "pod-crashloop", "function-unready")
REVOCATIONS = ("vcenter-session-expiry", "wcp-token-expiry")


class FaultBook:
    def __init__(self, path: Path):
        self.path = path
        self._cache: tuple[float, dict] | None = None

    def read(self) -> dict:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {"standing": [], "revoked_at": {}, "saved": {}}
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, json.loads(self.path.read_text()))
        return self._cache[1]

    def _write(self, book: dict) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(book, indent=1))
        os.replace(partial, self.path)
        self._cache = None

    def inject(self, fault: str, namespace: str, name: str | None = None) -> None:
        book = self.read()
        entry = {"fault": fault, "namespace": namespace, "name": name}
        if entry not in book["standing"]:
            book = {**book, "standing": [*book["standing"], entry]}
            self._write(book)

    def undo(self, fault: str, namespace: str, name: str | None = None) -> bool:
        book = self.read()
        kept = [e for e in book["standing"] if e != {"fault": fault, "namespace": namespace, "name": name}]
        if len(kept) == len(book["standing"]):
            return False
        self._write({**book, "standing": kept})
        return True

    def active(self, fault: str, namespace: str, name: str) -> bool:
        return any(e["fault"] == fault and e["namespace"] == namespace and e["name"] in (None, name)
                   for e in self.read()["standing"])

    def revoke(self, what: str, at: float | None = None) -> None:
        book = self.read()
        self._write({**book, "revoked_at": {**book["revoked_at"], what: at if at is not None else time.time()}})

    def save(self, key: str, value) -> None:
        """Keep what a one-shot fault changed, for its undo."""
        book = self.read()
        self._write({**book, "saved": {**book.get("saved", {}), key: value}})

    def take_saved(self, key: str):
        book = self.read()
        saved = dict(book.get("saved", {}))
        value = saved.pop(key, None)
        self._write({**book, "saved": saved})
        return value

    def revoked_before(self, what: str) -> float:
        """Credentials of ``what`` issued before this time are void (0 when never revoked)."""
        return self.read()["revoked_at"].get(what, 0.0)
