# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one list-then-watch of the collection (an informer, in client-go's words).

``Informer`` keeps what it has seen of the selected objects of one resource (uid and
resourceVersion of each) and the collection's resourceVersion:
``list()`` LISTs (paged when asked) and answers what changed against the cache (everything is
ADDED the first time); ``watch()`` opens a WATCH from the last resourceVersion with bookmarks and
yields ``(type, object)`` for each change the cache has not seen (a repeat of the same uid and
resourceVersion is dropped); a bookmark only advances the resourceVersion. A watch's ERROR event
becomes one exception (``watch_error``): ``Gone`` for 410, the client's ``PacificError`` for the
rest. After a dropped connection the next ``watch()`` resumes from the last resourceVersion seen;
after ``Gone`` the version is forgotten and the next ``list()`` says only what changed meanwhile.

``changes()`` is the loop for a caller that waits until a deadline (the waiter): list, watch,
resume, relist, with bounded backoff (``backoff.py``) while ``transient(err)`` allows. The event
source runs its own loop over ``list()``/``watch()`` (it runs for days and stops on request).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import threading
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target, api_error


class Gone(Exception):
    """410: the resourceVersion is older than the server keeps; list again."""


def watch_error(status, target, server=""):
    """The exception an ERROR event of a watch stands for: ``Gone`` for 410, else the
    ``PacificError`` the client raises for that HTTP status."""
    code = status.get("code") or 500
    if code == 410:
        return Gone(status.get("message", ""))
    return api_error(code, json.dumps(status).encode("utf-8"), target, server)


def list_all(client, resource, namespace=None, query=(), page_size=None, target=None):
    """``(items, resourceVersion)`` of a whole collection: one LIST, or pages of ``page_size``
    followed to the end. A continue token that expired (410) starts the list over, so no page is
    ever mixed from two resourceVersions."""
    target = target or Target("list", resource, None, namespace)
    if not page_size:
        answer = client.list_page(resource, namespace, query, target)
        return answer.get("items") or [], (answer.get("metadata") or {}).get("resourceVersion")
    items, token = [], None
    while True:
        paging = [("limit", str(page_size))] + ([("continue", token)] if token else [])
        try:
            answer = client.list_page(resource, namespace, list(query or []) + paging, target)
        except errors.PacificError as err:
            if err.status != 410 or token is None:
                raise
            items, token = [], None
            continue
        items.extend(answer.get("items") or [])
        meta = answer.get("metadata") or {}
        token = meta.get("continue")
        if not token:
            return items, meta.get("resourceVersion")


def _key(obj):
    metadata = obj.get("metadata") or {}
    return metadata.get("namespace"), metadata.get("name")


def _seen(obj):
    """What the cache keeps of an object: its uid and resourceVersion (enough to tell a repeat;
    the objects themselves stay the caller's, so a watch of thousands costs little memory)."""
    metadata = obj.get("metadata") or {}
    return metadata.get("uid"), metadata.get("resourceVersion")


def _gone_object(key, seen):
    """The object a DELETED change found by a relist carries: its identity only."""
    return {"metadata": {"namespace": key[0], "name": key[1], "uid": seen[0], "resourceVersion": seen[1]}}


class Informer(object):
    """LIST + WATCH of one resource in one namespace (or all), with a cache of what was seen."""

    def __init__(self, client, resource, namespace=None, query=(), page_size=None):
        self.client = client
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.query = list(query)
        self.page_size = page_size
        self.version = None
        self.cache = {}
        self._lock = threading.Lock()
        self._stream = None

    def target(self, verb):
        return Target(verb, self.resource, None, self.namespace)

    # --- LIST -----------------------------------------------------------------------------
    def list(self):
        """LIST; answer ``(items, changes)``, the changes against the cache as ``(type, object)``."""
        items, version = list_all(self.client, self.resource, self.namespace, self.query, self.page_size,
                                  self.target("list"))
        changes = self._replace(items)
        self.version = version
        return items, changes

    def _replace(self, items):
        before, after, changes = self.cache, {}, []
        for obj in items:
            key, seen = _key(obj), _seen(obj)
            after[key] = seen
            old = before.get(key)
            if old is None:
                changes.append(("ADDED", obj))
            elif old[0] != seen[0]:  # deleted and made again meanwhile
                changes.extend((("DELETED", _gone_object(key, old)), ("ADDED", obj)))
            elif old != seen:
                changes.append(("MODIFIED", obj))
        changes.extend(("DELETED", _gone_object(key, old)) for key, old in before.items() if key not in after)
        self.cache = after
        return changes

    # --- WATCH ----------------------------------------------------------------------------
    def watch(self, seconds, read_timeout):
        """Open a WATCH from the last resourceVersion (errors opening it raise here) and answer
        an iterator of the changes not seen yet, until the server ends it after ``seconds``."""
        query = self.query + [("watch", "true"), ("allowWatchBookmarks", "true"), ("resourceVersion", self.version),
                              ("timeoutSeconds", str(int(math.ceil(seconds))))]
        target = self.target("watch")
        try:
            stream = self.client.stream(self.resource.path(self.namespace), target, query, read_timeout)
        except errors.PacificError as err:
            raise self._gone(err)
        with self._lock:
            self._stream = stream
        return self._events(stream, target)

    def _events(self, stream, target):
        try:
            for event in stream:
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    error = watch_error(obj, target, getattr(self.client, "server", ""))
                    if isinstance(error, Gone):
                        self.version = None
                    raise error
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if kind != "BOOKMARK":
                    change = self._observe(kind, obj)
                    if change is not None:
                        yield change
                if version:
                    self.version = version
        except errors.PacificError as err:
            raise self._gone(err)
        finally:
            with self._lock:
                self._stream = None

    def _gone(self, err):
        """``Gone`` (the resourceVersion forgotten) for a 410 answer to the WATCH itself; else ``err``."""
        if err.status != 410:
            return err
        self.version = None
        return Gone(err.reason or err.msg)

    def _observe(self, kind, obj):
        key, seen = _key(obj), _seen(obj)
        if kind == "DELETED":
            if self.cache.pop(key, None) is None:
                return None  # gone already (a relist said so)
            return kind, obj
        if self.cache.get(key) == seen:
            return None  # seen already (a resumed watch may repeat the last event)
        self.cache[key] = seen
        return kind, obj

    def interrupt(self):
        """End a watch in progress from another thread."""
        with self._lock:
            stream = self._stream
        close = getattr(stream, "close", None)
        if close is not None:
            close()

    # --- the loop of a caller with a deadline ---------------------------------------------
    def changes(self, deadline, transient=None, clock=time.monotonic, sleep=time.sleep, backoff=None):
        """Yield the changes of the first LIST, then those of each watch event, until ``deadline``
        (a ``clock`` value). A failure is retried - resuming the watch, or listing again after
        410 - with bounded backoff while ``transient(err, broken_at)`` says so and the deadline
        allows; a failure of the first LIST is raised at once."""
        pause = backoff or Backoff(base=0.5, cap=5.0)
        transient = transient or (lambda err, broken_at: err.retryable)
        broken_at = None  # when the watch last broke: from then on the apiserver may be coming back
        listed = False
        while True:
            try:
                if self.version is None:
                    _items, changed = self.list()
                    listed = True
                    yield changed
                remaining = deadline - clock()
                if remaining <= 0:
                    return
                for change in self.watch(remaining, remaining + 5):
                    pause.reset()
                    yield [change]
                    if clock() >= deadline:
                        return
                if clock() >= deadline:
                    return
            except Gone:
                continue
            except errors.PacificError as err:
                if not listed or not transient(err, broken_at):
                    raise
                if err.retryable:
                    broken_at = clock()
                delay = pause.next()
                if clock() + delay >= deadline:
                    raise
                sleep(delay)
