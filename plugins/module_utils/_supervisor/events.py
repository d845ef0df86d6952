# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Supervisor events: LIST then WATCH each chosen kind, and hand its transitions to an asyncio queue.

``KindWatch`` is blocking and knows nothing of asyncio: LIST (paged), then WATCH from the list's
resourceVersion with bookmarks; after a dropped connection it resumes from the last
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
import json
import logging
import random
import threading
import time

try:
    from urllib.parse import urlencode
except ImportError:  # pragma: no cover
    from urllib import urlencode

try:
    import urllib3
except ImportError:  # reported by SupervisorConnection
    urllib3 = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed,
    Forbidden,
    InvalidArgument,
    NotFound,
    PacificError,
    ServerError,
    TlsError,
    Unreachable,
    for_http_status,
)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import event_kinds, transitions
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.event_client import (
    SupervisorConnection,
    connection_options,
)

LOG = logging.getLogger(__name__)

SOURCE_OPTIONS = ("kinds", "namespaces", "label_selector", "initial_snapshot", "event_reasons",
                  "reconnect_max_delay")
CONNECTION_OPTIONS = ("server", "token", "kubeconfig", "context", "username", "password", "login_url",
                      "ca_cert", "validate_certs")

LIST_PAGE = 500
CONNECT_TIMEOUT = 10.0
# the server ends each watch after timeoutSeconds (spread so that watches do not reconnect in
# step); bookmarks arrive about once a minute, so a read silent for longer means a dead peer
WATCH_SECONDS = (240, 300)
READ_TIMEOUT = 330.0
# a refusal mid-run (401 or 403) is retried this many times in a row before the source gives up:
# a kube-apiserver that has just restarted refuses for a moment, until its token webhook answers
# and its RBAC cache is filled; at start, a refusal fails the source at once
AUTH_RETRIES = 8


class Stopped(Exception):
    """The source is shutting down."""


class Gone(Exception):
    """410: the resourceVersion is older than the server keeps; list again."""


def _status_message(body):
    """The message of a Kubernetes Status body (or the start of any other body), on one line."""
    try:
        status = json.loads(body.decode("utf-8"))
        text = status.get("message") or status.get("reason") or ""
    except (ValueError, AttributeError, UnicodeDecodeError):
        text = body[:200].decode("utf-8", "replace") if body else ""
    return " ".join(text.split())


def _lines(response):
    """The newline-delimited JSON documents of a watch response, as they arrive."""
    pending = b""
    for chunk in response.stream(amt=None, decode_content=True):
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield json.loads(line.decode("utf-8"))
    if pending.strip():
        yield json.loads(pending.decode("utf-8"))


class KindWatch(object):
    """LIST + WATCH of one kind in one namespace (or all namespaces). Blocking: run it in a thread."""

    def __init__(self, connection, kind, namespace=None, label_selector=None, tracker=None, emit=None,
                 stopping=None, backoff=None):
        self.connection = connection
        self.kind = kind
        self.namespace = namespace
        self.label_selector = None if kind.is_event else label_selector
        self.tracker = tracker or transitions.tracker_for(kind)
        self.emit = emit
        self.stopping = stopping or threading.Event()
        self.backoff = backoff or Backoff()
        self.resource_version = None
        self.counts = {"lists": 0, "watches": 0, "gone": 0, "reconnects": 0}
        self.auth_failures = 0
        self._lock = threading.Lock()
        self._response = None

    def __str__(self):
        where = "in namespace {0}".format(self.namespace) if self.namespace else "in all namespaces"
        if not self.kind.namespaced:
            where = "named {0}".format(self.namespace) if self.namespace else "(all)"
        return "{0} ({1}) {2}".format(self.kind.kind, self.kind.api_version, where)

    # --- HTTP ----------------------------------------------------------------------------
    def _query(self, extra):
        query = []
        if self.label_selector:
            query.append(("labelSelector", self.label_selector))
        if self.namespace and not self.kind.namespaced:
            query.append(("fieldSelector", "metadata.name=" + self.namespace))
        return query + list(extra)

    def _get(self, query, read_timeout, stream=False):
        """GET the collection; the urllib3 response (streaming) or the decoded JSON body.
        A refused WCP token is renewed once."""
        for attempt in (1, 2):
            api = self.connection.api_client()
            url = "{0}{1}?{2}".format(api.configuration.host, self.kind.collection_path(
                self.namespace if self.kind.namespaced else None), urlencode(self._query(query)))
            headers = {"Accept": "application/json"}
            for setting in api.configuration.auth_settings().values():
                if setting.get("in") == "header" and setting.get("value"):
                    headers[setting["key"]] = setting["value"]
            try:
                response = api.rest_client.pool_manager.request(
                    "GET", url, headers=headers, preload_content=False, retries=False,
                    timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout))
            except urllib3.exceptions.SSLError as err:
                raise TlsError("{0}: the Supervisor's certificate is not trusted ({1}); set ca_cert".format(self, err))
            except urllib3.exceptions.HTTPError as err:
                raise Unreachable("{0}: {1}".format(self, err))
            if response.status == 401 and attempt == 1 and self.connection.relogin_possible:
                response.drain_conn()  # an unread body would spoil the pooled connection
                response.release_conn()
                LOG.info("%s: token refused (401), logging in again", self)
                self.connection.relogin()
                continue
            if response.status != 200:
                message = _status_message(response.data)
                response.release_conn()
                if response.status == 410:
                    raise Gone(message)
                error = for_http_status(response.status) or ServerError
                if response.status == 401:
                    message = "the Supervisor refused the credentials (401 Unauthorized){0}".format(
                        ": " + message if message and message != "Unauthorized" else "")
                raise error("{0}: {1}".format(self, message or "HTTP {0}".format(response.status)),
                            status=response.status)
            if stream:
                return response
            try:
                return json.loads(response.data.decode("utf-8"))
            except ValueError as err:
                raise ServerError("{0}: the answer is not JSON ({1})".format(self, err))
            finally:
                response.release_conn()
        raise AuthenticationFailed("{0}: the Supervisor refused a fresh WCP token".format(self))

    def interrupt(self):
        """Unblock a read in progress (from another thread): shut the watch connection down."""
        with self._lock:
            response = self._response
        if response is not None:
            try:
                response.shutdown()
            except (AttributeError, OSError):
                response.close()

    # --- LIST / WATCH --------------------------------------------------------------------
    def list_objects(self):
        """Every object (all pages) and the resourceVersion of the list."""
        items, token = [], None
        while True:
            query = [("limit", str(LIST_PAGE))] + ([("continue", token)] if token else [])
            try:
                page = self._get(query, read_timeout=60.0)
            except Gone:
                items, token = [], None  # the continue token expired: start over
                continue
            items.extend(page.get("items") or [])
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                self.counts["lists"] += 1
                return items, meta.get("resourceVersion")

    def relist(self):
        """LIST and hand the tracker the result; return its transitions."""
        items, version = self.list_objects()
        self.resource_version = version
        return self.tracker.relisted(items)

    def initial_list(self):
        """The first LIST, with errors a user can act on; returns the snapshot transitions."""
        try:
            return self.relist()
        except NotFound as err:
            raise NotFound("{0} is not served by this Supervisor (is the API version right?): {1}".format(
                self, err.msg.split(": ", 1)[-1]))

    def watch_once(self):
        """One WATCH from the current resourceVersion until the server ends it; emits transitions."""
        seconds = random.randint(*WATCH_SECONDS)
        query = [("watch", "1"), ("resourceVersion", self.resource_version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(seconds))]
        response = self._get(query, read_timeout=READ_TIMEOUT, stream=True)
        with self._lock:
            self._response = response
        self.counts["watches"] += 1
        self.auth_failures = 0
        try:
            if self.stopping.is_set():
                raise Stopped()
            for event in _lines(response):
                self._handle(event)
                self.backoff.reset()
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as err:
            if self.stopping.is_set():
                raise Stopped()
            raise Unreachable("{0}: the watch broke off ({1})".format(self, err))
        finally:
            with self._lock:
                self._response = None
            response.release_conn()
        if self.stopping.is_set():
            raise Stopped()

    def _handle(self, event):
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                raise Gone(obj.get("message", ""))
            raise (for_http_status(code or 500) or ServerError)("{0}: {1}".format(self, obj.get("message")))
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind != "BOOKMARK":
            for item in self.tracker.observe(kind, obj):
                self.emit(item)
        if version:
            self.resource_version = version

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
        unknown = sorted(key for key in args if key not in SOURCE_OPTIONS + CONNECTION_OPTIONS
                         and not key.startswith("eda_"))
        if unknown:
            raise InvalidArgument("unknown option(s) {0}; the supervisor event source takes {1}".format(
                ", ".join(unknown), ", ".join(SOURCE_OPTIONS + CONNECTION_OPTIONS)))
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
        self.connection = connection_options(dict((k, args.get(k)) for k in CONNECTION_OPTIONS), environ)


def build_watches(options, connection, emit, stopping):
    watches = []
    for kind in options.kinds:
        for namespace in options.namespaces:
            tracker = transitions.tracker_for(kind, options.initial_snapshot, options.event_reasons)
            watches.append(KindWatch(connection, kind, namespace, options.label_selector, tracker, emit,
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
    connection = SupervisorConnection(**options.connection)
    loop = asyncio.get_running_loop()
    stopping = threading.Event()
    watches = build_watches(options, connection, _emitter(loop, queue, stopping), stopping)
    if watches_out is not None:
        watches_out.extend(watches)
    threads = []
    try:
        # the login and every first LIST, before anything runs: bad input fails here
        await asyncio.to_thread(connection.api_client)
        snapshots = await asyncio.gather(*(asyncio.to_thread(watch.initial_list) for watch in watches))
        for events in snapshots:
            for event in events:
                await queue.put(event)
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
            connection.close()

        await asyncio.shield(asyncio.to_thread(join))
