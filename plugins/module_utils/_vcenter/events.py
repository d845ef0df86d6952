# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter events through an EventHistoryCollector, with a durable checkpoint.

``EventReader`` is blocking and knows nothing of asyncio: it logs in with pyVmomi, makes an
EventHistoryCollector for the chosen event types and entity, and returns the events newer than
the last one handed over. That last event's key (vCenter numbers events in increasing order)
and creation time are the checkpoint; ``Checkpoint`` writes them to a file atomically (a
temporary file, fsync, rename), so a restart reads on from exactly there: the collector is
asked for events from the checkpoint's time on and those up to its key are skipped. Without a
checkpoint file, or on its first start, the reader begins after the newest event (history is
not replayed).

``run(queue, args)`` is what the event source adapter awaits: every pyVmomi call runs in a
thread, the checkpoint moves only after the event is on the queue (so a restart repeats
nothing that was handed over, and loses nothing that was not).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import datetime
import json
import logging
import os
import socket
import tempfile

try:
    from pyVmomi import vim, vmodl
except ImportError as err:
    PYVMOMI_IMPORT_ERROR = err
else:
    PYVMOMI_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    InvalidArgument,
    NotFound,
    PacificError,
    Unreachable,
)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.settings import VCENTER, refuse_unknown, resolve
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import soap

LOG = logging.getLogger(__name__)
# the start of the line logged once the source reads events (what a supervisor of it waits for)
READY_PREFIX = "pacific.supervisor.vcenter_events ready"

SOURCE_OPTIONS = ("checkpoint_file", "event_types", "entity", "poll_interval", "page_size", "reconnect_max_delay")
CONNECTION_OPTIONS = VCENTER.names()
ENTITY_TYPES = ("VirtualMachine", "HostSystem", "ClusterComputeResource", "ComputeResource", "ResourcePool",
                "Datacenter", "Folder", "Datastore", "Network")
RECURSIONS = ("all", "children", "self")


class Checkpoint(object):
    """The key and creation time of the last event handed over, in ``path`` (JSON)."""

    def __init__(self, path):
        self.path = path

    def load(self):
        if not self.path or not os.path.exists(self.path):
            return None
        try:
            with open(self.path) as handle:
                data = json.load(handle)
            return {"key": int(data["key"]), "created_time": str(data["created_time"])}
        except (ValueError, KeyError, TypeError, IOError, OSError) as err:
            raise InvalidArgument("checkpoint_file {0} is not a checkpoint of this source ({1}); "
                                  "remove it to start from the newest event".format(self.path, err))

    def save(self, key, created_time):
        """Replace the file at once: a crash leaves the old checkpoint or the new one, never half."""
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(prefix=".checkpoint-", dir=directory)
        try:
            with os.fdopen(handle, "w") as out:
                json.dump({"key": key, "created_time": created_time}, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


def _iso(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    return None if value is None else str(value)


def _parse_time(text):
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _argument(arg, attribute):
    """name and moref of an EntityEventArgument (vm, host, ...), or None."""
    if arg is None:
        return None
    ref = getattr(arg, attribute, None)
    return {"name": arg.name, "moref": ref._moId if ref is not None else None}


def _type_name(kind):
    """"VirtualMachine" for vim.VirtualMachine (a vmodl type or its name)."""
    if kind is None:
        return None
    return str(getattr(kind, "__name__", kind)).rsplit(".", maxsplit=1)[-1]


def describe(event):
    """One vCenter event as plain data: what the source emits."""
    type_name = _type_name(type(event))
    described = {
        "key": event.key,
        "chain_id": event.chainId,
        "event_type": type_name,
        "event_type_id": getattr(event, "eventTypeId", None) or type_name,
        "created_time": _iso(event.createdTime),
        "user_name": event.userName,
        "message": event.fullFormattedMessage,
        "severity": getattr(event, "severity", None),
        "datacenter": _argument(event.datacenter, "datacenter"),
        "compute_resource": _argument(event.computeResource, "computeResource"),
        "host": _argument(event.host, "host"),
        "vm": _argument(event.vm, "vm"),
        "datastore": _argument(event.ds, "datastore"),
        "entity": None,
        "arguments": {},
    }
    if isinstance(event, vim.event.EventEx):
        described["entity"] = {"type": _type_name(event.objectType), "moref": event.objectId,
                               "name": event.objectName}
        described["arguments"] = dict((a.key, a.value) for a in event.arguments or [])
    elif isinstance(event, vim.event.ExtendedEvent):
        ref = event.managedObject
        described["entity"] = {"type": _type_name(type(ref)) if ref is not None else None,
                               "moref": ref._moId if ref is not None else None, "name": None}
        described["arguments"] = dict((a.key, a.value) for a in event.data or [])
    return described


class SourceOptions(object):
    """The vCenter source's arguments, checked."""

    def __init__(self, args, environ=None):
        environ = os.environ if environ is None else environ
        refuse_unknown(args, SOURCE_OPTIONS + CONNECTION_OPTIONS, "vcenter event source")
        connection = resolve(VCENTER, args, environ)
        connection.pop("source")
        self.connection = connection
        self.checkpoint_file = args.get("checkpoint_file")
        if self.checkpoint_file:
            directory = os.path.dirname(os.path.abspath(self.checkpoint_file))
            if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
                raise InvalidArgument("checkpoint_file {0}: the directory {1} does not exist or is not writable".format(
                    self.checkpoint_file, directory))
        event_types = args.get("event_types") or []
        if isinstance(event_types, str):
            event_types = [event_types]
        if not all(isinstance(item, str) for item in event_types):
            raise InvalidArgument("event_types must be a list of event type names or ids")
        self.event_types = list(event_types)
        self.entity = args.get("entity")
        if self.entity is not None:
            if not isinstance(self.entity, dict) or self.entity.get("type") not in ENTITY_TYPES or not (
                    self.entity.get("name") or self.entity.get("moref")):
                raise InvalidArgument("entity must be {{type, name or moref, recursion}} with type one of {0}, not {1}"
                                      .format(", ".join(ENTITY_TYPES), json.dumps(self.entity, sort_keys=True,
                                                                                  default=str)))
            if self.entity.get("recursion", "all") not in RECURSIONS:
                raise InvalidArgument("entity.recursion must be one of " + ", ".join(RECURSIONS))
        try:
            self.poll_interval = float(args.get("poll_interval", 1))
            self.page_size = int(args.get("page_size", 100))
            self.reconnect_max_delay = float(args.get("reconnect_max_delay", 30))
        except (TypeError, ValueError):
            raise InvalidArgument("poll_interval, page_size and reconnect_max_delay must be numbers")
        if not 1 <= self.page_size <= 1000:
            raise InvalidArgument("page_size must be between 1 and 1000")


class EventReader(object):
    """A pyVmomi session and one EventHistoryCollector; blocking."""

    def __init__(self, options):
        if PYVMOMI_IMPORT_ERROR is not None:
            raise InvalidArgument("the vcenter event source needs the Python package pyvmomi: {0}".format(
                PYVMOMI_IMPORT_ERROR))
        self.options = options
        self.checkpoint = Checkpoint(options.checkpoint_file)
        self.last = self.checkpoint.load()   # {"key", "created_time"} of the last event handed over
        self.si = None
        self.collector = None

    # --- session and collector -----------------------------------------------------------
    def connect(self):
        connection = self.options.connection
        self.si = soap.connect(connection["hostname"], connection["username"], connection["password"],
                               port=connection["port"], validate_certs=connection["validate_certs"],
                               ca_cert=connection["ca_cert"])
        self.collector = self._collector()

    def _entity(self):
        wanted = self.options.entity
        kind = getattr(vim, wanted["type"])
        if wanted.get("moref"):
            return kind(wanted["moref"], self.si._stub)
        found = [obj for obj, name in soap.named_objects(self.si, [wanted["type"]]) if name == wanted["name"]]
        if not found:
            raise NotFound("entity: no {0} named {1!r} in vCenter".format(wanted["type"], wanted["name"]))
        return found[0]

    def _collector(self):
        content = self.si.RetrieveContent()
        spec = vim.event.EventFilterSpec()
        if self.options.event_types:
            spec.eventTypeId = self.options.event_types
        if self.options.entity:
            spec.entity = vim.event.EventFilterSpec.ByEntity(
                entity=self._entity(), recursion=self.options.entity.get("recursion", "all"))
        if self.last is not None and self.last["created_time"]:
            spec.time = vim.event.EventFilterSpec.ByTime(beginTime=_parse_time(self.last["created_time"]))
        collector = content.eventManager.CreateCollectorForEvents(filter=spec)
        collector.SetCollectorPageSize(self.options.page_size)
        if self.last is None:
            # a first start: begin after the newest event there is (history is not replayed)
            newest = max([event.key for event in collector.latestPage or []] or [0])
            self.last = {"key": newest, "created_time": None}
            collector.ResetCollector()
        else:
            collector.RewindCollector()
        return collector

    def close(self):
        if self.si is not None:
            try:
                if self.collector is not None:
                    self.collector.DestroyCollector()
            except (vmodl.MethodFault, socket.error, OSError):
                pass
            soap.disconnect(self.si)
        self.si = self.collector = None

    # --- reading -----------------------------------------------------------------------------
    def read(self):
        """The next events after the last one handed over (oldest first), at most a page."""
        try:
            if self.collector is None:
                self.connect()
            events = self.collector.ReadNextEvents(maxCount=self.options.page_size) or []
        except vim.fault.NotAuthenticated:
            self.close()
            raise Unreachable("vCenter session lost; logging in again")
        except (socket.error, OSError) as err:
            self.close()
            raise Unreachable("vCenter {0}: {1}".format(self.options.connection["hostname"], err))
        fresh = sorted((e for e in events if e.key > self.last["key"]), key=lambda e: e.key)
        return [describe(e) for e in fresh]

    def handed_over(self, event):
        """``event`` is on the queue: move the checkpoint past it."""
        self.last = {"key": event["key"], "created_time": event["created_time"]}
        self.checkpoint.save(event["key"], event["created_time"])


async def run(queue, args, environ=None):
    """Put vCenter events onto ``queue`` until cancelled; bad arguments or credentials raise at once."""
    options = SourceOptions(args, environ)
    reader = EventReader(options)
    backoff = Backoff(cap=options.reconnect_max_delay)
    try:
        await asyncio.to_thread(reader.connect)
        LOG.info("%s: reading vCenter events after key %s", READY_PREFIX, reader.last["key"])
        while True:
            try:
                events = await asyncio.to_thread(reader.read)
            except PacificError as err:
                if not err.retryable:
                    raise
                delay = backoff.next()
                LOG.warning("%s; reconnecting in %.1fs", err, delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            for event in events:
                await queue.put(event)
                await asyncio.shield(asyncio.to_thread(reader.handed_over, event))
            if not events:
                await asyncio.sleep(options.poll_interval)
    finally:
        await asyncio.shield(asyncio.to_thread(reader.close))
