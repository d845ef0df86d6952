# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Supervisor events: LIST then WATCH each chosen kind, and hand its transitions to an asyncio queue.

``KindWatch`` is blocking and knows nothing of asyncio. Through the collection's one
list-then-watch (``informer.py``) it LISTs (paged), then WATCHes from the list's resourceVersion
with bookmarks; after a dropped connection it resumes from the last
resourceVersion it saw, after ``410 Gone`` it lists again, and its tracker (``transitions.py``)
turns the relist into only what changed meanwhile. Reconnects wait a bounded, jittered,
exponential delay. A refused WCP token (401) means one new login.

``run(queue, args)`` is what the event source adapter awaits: it checks the arguments, makes the
first LIST of every watch (so bad arguments or credentials fail at once, with one message), then
runs each watch in a thread of its own; transitions cross to the event loop with
``run_coroutine_threadsafe`` (so a slow consumer slows the watch, not the loop). When the task is
cancelled (ansible-rulebook's shutdown), every open watch response is shut down and the threads
end.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import concurrent.futures
import logging
import random
import threading
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed,
    Forbidden,
    InvalidArgument,
    NotFound,
    PacificError,
    TlsError,
    Unreachable,
)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.settings import connection_settings, refuse_unknown
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import event_kinds, informer, transitions
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import (
    CONNECTION_KEYS,
    connect,
)

LOG = logging.getLogger(__name__)
# the start of the line logged once every first list is done (what a supervisor of it waits for)
READY_PREFIX = "pacific.supervisor.supervisor_events ready"

SOURCE_OPTIONS = ("kinds", "namespaces", "label_selector", "initial_snapshot", "event_reasons",
                  "reconnect_max_delay")
CONNECTION_OPTIONS = CONNECTION_KEYS

LIST_PAGE = 500
LIST_TIMEOUT = 60.0
# the server ends each watch after timeoutSeconds (spread so that watches do not reconnect in
# step); bookmarks arrive about once a minute, so a read silent for longer means a dead peer
WATCH_SECONDS = (240, 300)
READ_TIMEOUT = 330.0
# a refusal mid-run (401 or 403) is retried this many times in a row before the source gives up:
# a kube-apiserver that has just restarted refuses for a moment, until its token webhook answers
# and its RBAC cache is filled; at start, a refusal fails the source at once
AUTH_RETRIES = 8


def _one_line(text):
    return " ".join((text or "").split())


class Stopped(Exception):
    """The source is shutting down."""


Gone = informer.Gone


class KindWatch(object):
    """LIST + WATCH of one kind in one namespace (or all namespaces). Blocking: run it in a thread."""

    def __init__(self, client, kind, namespace=None, label_selector=None, tracker=None, emit=None,
                 stopping=None, backoff=None):
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.label_selector = None if kind.is_event else label_selector
        self.tracker = tracker or transitions.tracker_for(kind)
        self.emit = emit
        self.stopping = stopping or threading.Event()
        self.backoff = backoff or Backoff()
        self.informer = informer.Informer(client, kind.resource, self._namespace(), self._query(), LIST_PAGE)
        self.counts = {"lists": 0, "watches": 0, "gone": 0, "reconnects": 0}
        self.auth_failures = 0

    @property
    def resource_version(self):
        return self.informer.version

    @resource_version.setter
    def resource_version(self, version):
        self.informer.version = version

    def __str__(self):
        where = "in namespace {0}".format(self.namespace) if self.namespace else "in all namespaces"
        if not self.kind.namespaced:
            where = "named {0}".format(self.namespace) if self.namespace else "(all)"
        return "{0} ({1}) {2}".format(self.kind.kind, self.kind.api_version, where)

    # --- HTTP, through the collection's client -------------------------------------------
    def _query(self):
        query = []
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        if self.namespace and not self.kind.namespaced:
            query.append(("fieldSelector", "metadata.name=" + self.namespace))
        return query

    def _namespace(self):
        return self.namespace if self.kind.namespaced else None

    def _restated(self, err):
        """The client's error in this source's words: '<kind> (<version>) <where>: <the server's
        message>'. (A 410 never comes here: the informer turns it into ``Gone``.)"""
        status, reason = err.status, _one_line(err.reason)
        if status == 401:
            message = "the Supervisor refused the credentials (401 Unauthorized){0}".format(
                ": " + reason if reason and reason != "Unauthorized" else "")
        elif status is not None:
            message = reason or "HTTP {0}".format(status)
        elif isinstance(err, TlsError):
            message = "the Supervisor's certificate is not trusted ({0}); set ca_cert".format(reason)
        else:
            message = reason or err.msg
        return err.reworded("{0}: {1}".format(self, message))

    def interrupt(self):
        """Unblock a read in progress (from another thread): close the watch."""
        self.informer.interrupt()

    # --- LIST / WATCH --------------------------------------------------------------------
    def list_objects(self):
        """Every object (all pages); the informer keeps the resourceVersion of the list."""
        try:
            items, _changes = self.informer.list()
        except PacificError as err:
            raise self._restated(err)
        self.counts["lists"] += 1
        return items

    def relist(self):
        """LIST and hand the tracker the result; return its transitions."""
        return self.tracker.relisted(self.list_objects())

    def initial_list(self):
        """The first LIST, with errors a user can act on; returns the snapshot transitions."""
        try:
            return self.relist()
        except NotFound as err:
            raise err.reworded("{0} is not served by this Supervisor (is the API version right?): {1}".format(
                self, _one_line(err.reason) or err.msg))

    def watch_once(self):
        """One WATCH from the current resourceVersion until the server ends it; emits transitions."""
        try:
            changes = self.informer.watch(random.randint(*WATCH_SECONDS), READ_TIMEOUT)
        except PacificError as err:
            raise self._restated(err)
        self.counts["watches"] += 1
        self.auth_failures = 0
        try:
            if self.stopping.is_set():
                self.informer.interrupt()
                raise Stopped()
            for kind, obj in changes:
                for item in self.tracker.observe(kind, obj):
                    self.emit(item)
                self.backoff.reset()
        except PacificError as err:
            if self.stopping.is_set():
                raise Stopped()
            if isinstance(err, (Unreachable, TlsError)):  # the client's word for a broken connection
                raise err.reworded("{0}: the watch broke off ({1})".format(self, err.reason))
            raise self._restated(err)
        if self.stopping.is_set():
            raise Stopped()

    def run(self):
        """Watch until ``stopping`` is set; raises only what retrying cannot mend."""
        if self.resource_version is None and not self.tracker.listed:
            for item in self.initial_list():
                self.emit(item)
        while not self.stopping.is_set():
            try:
                if self.resource_version is None:
                    for item in self.relist():
                        self.emit(item)
                started = time.monotonic()
                self.watch_once()
                if time.monotonic() - started > 1.0:
                    self.backoff.reset()  # a watch the server ended after its timeout
            except Stopped:
                return
            except Gone as err:
                self.counts["gone"] += 1
                LOG.info("%s: resourceVersion %s is gone (%s); listing again", self, self.resource_version, err)
                self.resource_version = None
            except PacificError as err:
                if isinstance(err, (AuthenticationFailed, Forbidden)) and self.auth_failures < AUTH_RETRIES:
                    self.auth_failures += 1
                elif not (err.retryable or isinstance(err, NotFound)):
                    raise
                self.counts["reconnects"] += 1
                delay = self.backoff.next()
                LOG.warning("%s; reconnecting in %.1fs from resourceVersion %s", err, delay, self.resource_version)
                if self.stopping.wait(delay):
                    return


def _as_list(value, name):
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidArgument("{0} must be a list of strings".format(name))


class SourceOptions(object):
    """The source's arguments, checked: what to watch and how to connect."""

    def __init__(self, args, environ=None):
        refuse_unknown(args, SOURCE_OPTIONS + CONNECTION_OPTIONS, "supervisor event source")
        self.kinds = event_kinds.resolve(args.get("kinds"))
        namespaces = _as_list(args.get("namespaces"), "namespaces")
        self.namespaces = sorted(set(namespaces)) or [None]
        self.label_selector = args.get("label_selector") or None
        if self.label_selector is not None and not isinstance(self.label_selector, str):
            raise InvalidArgument("label_selector must be a string such as 'app=web,tier!=db'")
        self.initial_snapshot = bool(args.get("initial_snapshot", False))
        self.event_reasons = _as_list(args.get("event_reasons"), "event_reasons")
        try:
            self.reconnect_max_delay = float(args.get("reconnect_max_delay", 30))
        except (TypeError, ValueError):
            raise InvalidArgument("reconnect_max_delay must be a number of seconds")
        self.connection = connection_settings(dict((k, args.get(k)) for k in CONNECTION_OPTIONS), environ)


def build_watches(options, client, emit, stopping):
    watches = []
    for kind in options.kinds:
        for namespace in options.namespaces:
            tracker = transitions.tracker_for(kind, options.initial_snapshot, options.event_reasons)
            watches.append(KindWatch(client, kind, namespace, options.label_selector, tracker, emit,
                                     stopping, Backoff(cap=options.reconnect_max_delay)))
    return watches


def _emitter(loop, queue, stopping):
    """``emit(event)`` for a watch thread: blocks that thread until ``queue.put`` is done."""

    def emit(event):
        try:
            future = asyncio.run_coroutine_threadsafe(queue.put(event), loop)
        except RuntimeError:  # the loop is closed
            raise Stopped()
        while True:
            try:
                return future.result(timeout=0.2)
            except concurrent.futures.TimeoutError:
                if stopping.is_set():
                    future.cancel()
                    raise Stopped()
            except concurrent.futures.CancelledError:
                raise Stopped()

    return emit


def _watch_thread(watch, loop, failed):
    def target():
        try:
            watch.run()
        except Stopped:
            pass
        except BaseException as err:  # pylint: disable=broad-except
            # every failure ends the source, through the event loop, with its own message
            def fail(error=err):
                if not failed.done():
                    failed.set_exception(error)
            try:
                loop.call_soon_threadsafe(fail)
            except RuntimeError:
                pass

    return threading.Thread(target=target, name="supervisor-events {0}".format(watch), daemon=True)


async def run(queue, args, environ=None, watches_out=None):
    """Emit the transitions ``args`` asks for onto ``queue`` until cancelled.

    Raises a ``PacificError`` (one clear message) for bad arguments, refused credentials, an
    unknown kind or a bad selector - at once - or for a failure retrying cannot mend later.
    ``watches_out``, a list, receives the ``KindWatch``es (for tests and diagnostics)."""
    options = SourceOptions(args, environ)
    loop = asyncio.get_running_loop()
    stopping = threading.Event()
    # the login (a WCP one is a request) in a thread; the watches retry on their own terms
    client = await asyncio.to_thread(connect, options.connection, attempts=1)
    watches = build_watches(options, client, _emitter(loop, queue, stopping), stopping)
    if watches_out is not None:
        watches_out.extend(watches)
    threads = []
    try:
        # every first LIST, before anything runs: bad input fails here
        snapshots = await asyncio.gather(*(asyncio.to_thread(watch.initial_list) for watch in watches))
        for events in snapshots:
            for event in events:
                await queue.put(event)
        LOG.info("%s: listed, watching %s", READY_PREFIX, "; ".join(str(watch) for watch in watches))
        failed = loop.create_future()
        threads = [_watch_thread(watch, loop, failed) for watch in watches]
        for thread in threads:
            thread.start()
        await failed
    finally:
        stopping.set()
        for watch in watches:
            watch.interrupt()

        def join():
            deadline = time.monotonic() + 10
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            client.close()

        await asyncio.shield(asyncio.to_thread(join))
