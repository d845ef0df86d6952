# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The function activator as an event source: ``run(queue, args)``, what
``extensions/eda/plugins/event_source/function_activator.py`` awaits.

It checks the arguments, logs in (in a thread), makes the first LIST of every feed - bad
arguments, refused credentials or a namespace out of reach fail the activation at once, with one
message -, starts the feeds' threads and the HTTP server, logs one line that begins with
``READY_PREFIX``, and serves until cancelled; then it stops the server, the feeds and the client.
Events go onto ``queue`` without blocking the event loop. The token is never logged or emitted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import collections
import datetime
import json
import logging
import os
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument, PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._common.settings import connection_settings, refuse_unknown
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import activator as activators
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.feeds import feeds_of
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import CONNECTION_KEYS, connect

LOG = logging.getLogger(__name__)
READY_PREFIX = "pacific.supervisor.function_activator ready"

SOURCE_OPTIONS = ("namespaces", "host", "port", "domain", "queue_size", "tick", "record_file", "escalate_after")
DEFAULTS = {"host": "0.0.0.0", "port": 8080, "domain": "functions.local", "queue_size": 10000, "tick": 0.25,
            "escalate_after": 3}


def _number(args, name, kind, minimum):
    value = args.get(name, DEFAULTS[name])
    try:
        if isinstance(value, bool):
            raise ValueError()
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidArgument("{0} must be {1} (got {2!r})".format(
            name, "an integer" if kind is int else "a number", value))
    if number < minimum:
        raise InvalidArgument("{0} must be at least {1} (got {2!r})".format(name, minimum, value))
    return number


class SourceOptions(object):
    """The source's arguments, checked."""

    def __init__(self, args, environ=None):
        refuse_unknown(args, SOURCE_OPTIONS + CONNECTION_KEYS, "function_activator source")
        namespaces = args.get("namespaces")
        if isinstance(namespaces, str):
            namespaces = [part.strip() for part in namespaces.split(",") if part.strip()]
        if not namespaces or not isinstance(namespaces, (list, tuple)) or \
                not all(isinstance(item, str) and item for item in namespaces):
            raise InvalidArgument("namespaces must name the namespaces whose functions the activator serves "
                                  "(a list of strings); it watches each, with a namespace's own RBAC")
        self.namespaces = sorted(set(namespaces))
        self.host = str(args.get("host") or DEFAULTS["host"])
        self.port = _number(args, "port", int, 0)
        if self.port > 65535:
            raise InvalidArgument("port must be at most 65535 (got {0})".format(self.port))
        self.domain = args.get("domain", DEFAULTS["domain"]) or ""
        if not isinstance(self.domain, str):
            raise InvalidArgument("domain must be a DNS domain such as functions.example.com")
        self.queue_size = _number(args, "queue_size", int, 1)
        self.tick = _number(args, "tick", float, 0.01)
        self.escalate_after = _number(args, "escalate_after", int, 1)
        self.record_file = args.get("record_file") or None
        if self.record_file is not None and not isinstance(self.record_file, str):
            raise InvalidArgument("record_file must be a file path")
        self.connection = connection_settings(dict((k, args.get(k)) for k in CONNECTION_KEYS), environ)


def _emitter(queue, record=None):
    """``emit(event)``: never blocks the event loop, keeps the events' order. Each is written to
    ``record`` at once and handed to ``queue`` by one pump task (ansible-rulebook's queue may be
    bounded; a slow rulebook delays its events, never a request)."""
    pending = collections.deque()
    pump = []

    async def drain():
        try:
            while pending:
                await queue.put(pending.popleft())
        finally:
            pump.clear()

    def emit(event):
        event = dict(event, time=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        if record is not None:
            record.write(json.dumps(event, sort_keys=True) + "\n")
            record.flush()
        pending.append(event)
        if not pump:
            pump.append(asyncio.ensure_future(drain()))
    return emit


async def run(queue, args, environ=None, started=None):
    """Serve the functions of ``args['namespaces']`` until cancelled. ``started``, a future, gets
    the ``(activator, port)`` once serving (for tests and the benchmark)."""
    options = SourceOptions(args, environ)
    loop = asyncio.get_running_loop()
    if activators.AIOHTTP_IMPORT_ERROR is not None:
        raise InvalidArgument("the function activator needs aiohttp: {0}".format(activators.AIOHTTP_IMPORT_ERROR))
    record = None
    if options.record_file:
        try:
            descriptor = os.open(options.record_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as err:
            raise InvalidArgument("record_file {0} cannot be written: {1}".format(options.record_file, err.strerror))
        record = os.fdopen(descriptor, "a")
    client = await asyncio.to_thread(connect, options.connection, attempts=3)
    activator = activators.Activator(client, options.namespaces, _emitter(queue, record), domain=options.domain,
                                     queue_size=options.queue_size, tick=options.tick,
                                     escalate_after=options.escalate_after)

    def deliver(resource, changes):  # from a feed's thread
        try:
            loop.call_soon_threadsafe(activator.deliver, resource, changes)
        except RuntimeError:  # the loop is closed: shutting down
            pass

    feeds = [feed for namespace in options.namespaces for feed in feeds_of(client, namespace, deliver)]
    runner = None
    try:
        try:
            await asyncio.gather(*(asyncio.to_thread(feed.first_list) for feed in feeds))
        except PacificError as err:
            raise err.prefixed("function_activator: listing the functions of {0}".format(
                ", ".join(options.namespaces)))
        await activator.start()
        for feed in feeds:
            feed.start()
        runner = await activators.serve(activator, options.host, options.port)
        port = runner.addresses[0][1] if runner.addresses else options.port
        LOG.info("%s: serving %s on %s:%s (functions: %s)", READY_PREFIX, ", ".join(options.namespaces),
                 options.host, port, ", ".join("{0}/{1}".format(*key) for key in sorted(activator.functions)) or "none yet")
        if started is not None and not started.done():
            started.set_result((activator, port))
        await asyncio.Event().wait()  # until cancelled
    finally:
        if runner is not None:
            await runner.cleanup()
        await activator.close()
        for feed in feeds:
            feed.stop()

        def join():
            deadline = time.monotonic() + 10
            for feed in feeds:
                feed.join(max(0.0, deadline - time.monotonic()))
            client.close()
            if record is not None:
                record.close()

        await asyncio.shield(asyncio.to_thread(join))
