"""List-then-watch with a de-duplicating work queue: the skeleton every simulated controller uses."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kubernetes import watch
from kubernetes.client.rest import ApiException

log = logging.getLogger("testbed.controllers")

Key = tuple[str, str]  # (namespace, name)


class WorkQueue:
    """Keys to reconcile; a key queued twice before a worker takes it is reconciled once."""

    def __init__(self):
        self._pending: list[Key] = []
        self._queued: set[Key] = set()
        self._busy: set[Key] = set()
        self._ready = threading.Condition()

    def add(self, key: Key) -> None:
        with self._ready:
            if key not in self._queued:
                self._queued.add(key)
                self._pending.append(key)
                self._ready.notify()

    def take(self) -> Key:
        with self._ready:
            while True:
                for index, key in enumerate(self._pending):
                    if key not in self._busy:  # one worker per key at a time
                        del self._pending[index]
                        self._queued.discard(key)
                        self._busy.add(key)
                        return key
                self._ready.wait()

    def done(self, key: Key) -> None:
        with self._ready:
            self._busy.discard(key)
            self._ready.notify_all()


def unless_absent(call: Callable, *args, **kwargs):
    """``call(...)``, or None when Kubernetes answers 404: the object is not (or no longer) there."""
    try:
        return call(*args, **kwargs)
    except ApiException as err:
        if err.status != 404:
            raise
        return None


def watch_forever(list_call: Callable, on_object: Callable, stop: threading.Event,
                  on_list: Callable[[list], None] | None = None, **kwargs) -> None:
    """LIST then WATCH ``list_call`` from the listed resourceVersion; relist on 410 or errors.

    ``on_object`` gets what the call yields: dicts for custom objects, typed models otherwise.
    ``on_list`` gets every complete list: what was deleted while no watch ran is not in it.
    """
    while not stop.is_set():
        try:
            listed = list_call(**kwargs)
            if not isinstance(listed, dict):  # a typed list: read it as the JSON it came from
                listed = {"items": listed.items, "metadata": {"resourceVersion": listed.metadata.resource_version}}
            for item in listed["items"]:
                on_object(item)
            if on_list is not None:
                on_list(listed["items"])
            version = listed["metadata"]["resourceVersion"]
            stream = watch.Watch()
            for event in stream.stream(list_call, resource_version=version, timeout_seconds=60,
                                       allow_watch_bookmarks=True, **kwargs):
                if stop.is_set():
                    stream.stop()
                    break
                if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    on_object(event["object"])
        except ApiException as err:
            if err.status != 410:
                log.warning("watch failed (%s); listing again", err.reason)
                time.sleep(0.5)
        except Exception as err:  # apiserver restarting: keep trying
            log.warning("watch interrupted: %s", err)
            time.sleep(0.5)


def run_workers(queue: WorkQueue, reconcile: Callable[[Key], None], count: int, name: str) -> None:
    def work() -> None:
        while True:
            key = queue.take()
            try:
                reconcile(key)
            except Exception:
                log.exception("%s: reconciling %s/%s failed; retrying", name, *key)
                threading.Timer(1.0, queue.add, args=(key,)).start()
            finally:
                queue.done(key)

    for index in range(count):
        threading.Thread(target=work, name=f"{name}-{index}", daemon=True).start()
