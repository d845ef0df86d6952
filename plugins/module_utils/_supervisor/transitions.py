# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Object states in, transitions out: what the supervisor event source emits, and its de-duplication.

Pure logic, no I/O: ``ObjectTracker`` keeps the last state it saw of each object (by uid) and
turns every later sighting - a watch event, or an object of a relist after a dropped watch or
410 Gone - into the transitions between the two states. A transition already emitted is
therefore never emitted again, however often the same state is seen. ``EventTracker`` does
the same for core Events, whose "state" is their occurrence count.

Every transition is one flat dictionary (see ``transition``): the object (kind, api_version,
namespace, name, uid, resource_version, labels), ``change`` (what changed), ``from``/``to``,
``reason`` and ``message``, plus a few keys particular to one ``change``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import decimal

ADDED = "added"
DELETED = "deleted"
SNAPSHOT = "snapshot"
CONDITION = "condition"
PHASE = "phase"
POWER_STATE = "power_state"
CONTAINER = "container"
QUOTA = "quota"
EVENT = "event"

CHANGES = (ADDED, DELETED, SNAPSHOT, CONDITION, PHASE, POWER_STATE, CONTAINER, QUOTA, EVENT)

# uids of deleted objects remembered, so that a late duplicate deletion is recognised
_REMEMBERED = 10000


def _dig(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


_SUFFIXES = {"n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"), "m": decimal.Decimal("1e-3"),
             "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18,
             "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}


def quantity(text):
    """A Kubernetes quantity ("500m", "2Gi", "10", "1e3") as a Decimal; None if it is not one."""
    text = str(text).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix) and text[:-len(suffix)]:
            number, factor = text[:-len(suffix)], decimal.Decimal(_SUFFIXES[suffix])
            break
    else:
        number, factor = text, decimal.Decimal(1)
    try:
        return decimal.Decimal(number) * factor
    except decimal.InvalidOperation:
        return None


def _container_state(status):
    state = status.get("state") or {}
    for phase in ("waiting", "terminated"):
        if state.get(phase) is not None:
            detail = state[phase]
            label = detail.get("reason") or phase.capitalize()
            return label, detail.get("reason"), detail.get("message")
    if state.get("running") is not None:
        return "Running", None, None
    return None, None, None


def summarize(kind, obj):
    """The facets of ``obj`` that ``kind`` compares, as plain data (what ``state`` holds)."""
    status = obj.get("status") or {}
    state = {}
    if kind.phase:
        state["phase"] = _dig(obj, kind.phase)
    if kind.power_state:
        state["power_state"] = _dig(obj, kind.power_state)
    if kind.conditions:
        state["conditions"] = dict(
            (c["type"], {"status": c.get("status"), "reason": c.get("reason"), "message": c.get("message")})
            for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type"))
    if kind.containers:
        containers = {}
        for group in ("initContainerStatuses", "containerStatuses"):
            for item in status.get(group) or []:
                label, reason, message = _container_state(item)
                containers[item.get("name")] = {"state": label, "reason": reason, "message": message,
                                                "restart_count": item.get("restartCount", 0)}
        state["containers"] = containers
    if kind.quota:
        hard, used = status.get("hard") or {}, status.get("used") or {}
        exhausted = []
        for resource, limit in hard.items():
            limit, in_use = quantity(limit), quantity(used.get(resource, "0"))
            if limit is not None and in_use is not None and in_use >= limit:
                exhausted.append(resource)
        state["exhausted"] = sorted(exhausted)
        state["hard"], state["used"] = dict(hard), dict(used)
    return state


def identity(kind, obj):
    """The keys every transition of ``obj`` carries."""
    meta = obj.get("metadata") or {}
    return {
        "kind": kind.kind,
        "api_version": obj.get("apiVersion") or kind.api_version,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "resource_version": meta.get("resourceVersion"),
        "labels": dict(meta.get("labels") or {}),
        # a Cluster API Cluster that realises a TanzuKubernetesCluster says so: rules about the TKC
        # need not act on its Cluster too
        "owner_kind": next((ref.get("kind") for ref in meta.get("ownerReferences") or [] if ref.get("controller")), ""),
    }


def transition(ident, change, before=None, after=None, reason=None, message=None, **extra):
    """One event of the documented shape."""
    event = dict(ident)
    event.update({"change": change, "from": before, "to": after, "reason": reason, "message": message})
    event.update(extra)
    return event


def _condition_key(value):
    return None if value is None else (value.get("status"), value.get("reason"))


def diff(ident, before, after):
    """The transitions from state ``before`` to state ``after`` of one object, in a fixed order:
    phase, power state, conditions (by type), containers (by name), exhausted quota.

    A condition counts as changed when its status or reason does; a new message alone is not a
    transition (controllers rewrite messages with progress)."""
    events = []
    for facet, change in (("phase", PHASE), ("power_state", POWER_STATE)):
        if facet in after and before.get(facet) != after.get(facet):
            events.append(transition(ident, change, before.get(facet), after.get(facet)))
    if "conditions" in after:
        old, new = before.get("conditions") or {}, after["conditions"]
        for name in sorted(set(old) | set(new)):
            if _condition_key(old.get(name)) != _condition_key(new.get(name)):
                now = new.get(name) or {}
                events.append(transition(ident, CONDITION, old.get(name), new.get(name),
                                         now.get("reason"), now.get("message"), condition=name))
    if "containers" in after:
        old, new = before.get("containers") or {}, after["containers"]
        for name in sorted(set(old) | set(new), key=str):
            was, now = (old.get(name) or {}).get("state"), (new.get(name) or {}).get("state")
            if was != now:
                detail = new.get(name) or {}
                events.append(transition(ident, CONTAINER, was, now, detail.get("reason"), detail.get("message"),
                                         container=name, restart_count=detail.get("restart_count")))
    if "exhausted" in after and before.get("exhausted", []) != after["exhausted"]:
        events.append(transition(ident, QUOTA, before.get("exhausted", []), after["exhausted"],
                                 hard=after.get("hard"), used=after.get("used")))
    return events


def newer(version, than):
    """Whether resourceVersion ``version`` comes after ``than``. resourceVersions are opaque to
    clients, but etcd's are integers; where both are, a smaller one is an old, replayed state."""
    if than is None:
        return True
    if str(version).isdigit() and str(than).isdigit():
        return int(version) > int(than)
    return version != than


class _Bounded(object):
    """An insertion-ordered dict that forgets its oldest keys beyond ``size``."""

    def __init__(self, size=_REMEMBERED):
        self.size = size
        self.items = collections.OrderedDict()

    def __contains__(self, key):
        return key in self.items

    def get(self, key, default=None):
        return self.items.get(key, default)

    def put(self, key, value=True):
        self.items.pop(key, None)
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class ObjectTracker(object):
    """The last seen state of every object of one watch; turns sightings into transitions."""

    def __init__(self, kind, snapshot=False):
        self.kind = kind
        self.snapshot = snapshot
        self.listed = False
        self.known = {}            # uid -> (resource_version, state, identity)
        self.gone = _Bounded()     # uids whose deletion was emitted

    def relisted(self, items):
        """The objects of a (re)list, complete: transitions of what changed since last seen,
        ``deleted`` for what is no longer there. The first list only records (or, with
        ``snapshot``, emits one ``snapshot`` per object)."""
        first, self.listed = not self.listed, True
        events, present = [], set()
        for obj in items:
            uid = (obj.get("metadata") or {}).get("uid")
            present.add(uid)
            if first:
                ident, state = identity(self.kind, obj), summarize(self.kind, obj)
                self.known[uid] = (ident["resource_version"], state, ident)
                if self.snapshot:
                    events.append(transition(ident, SNAPSHOT, state=state))
            else:
                events.extend(self.observe("MODIFIED" if uid in self.known else "ADDED", obj))
        for uid in [uid for uid in self.known if uid not in present]:
            events.extend(self._deleted(uid, None))
        return events

    def observe(self, event_type, obj):
        """The transitions of one watch event (ADDED, MODIFIED, DELETED) of ``obj``."""
        ident = identity(self.kind, obj)
        uid = ident["uid"]
        if event_type == "DELETED":
            return self._deleted(uid, ident)
        if uid in self.gone:
            return []
        seen = self.known.get(uid)
        if seen is not None and not newer(ident["resource_version"], seen[0]):
            return []
        state = summarize(self.kind, obj)
        self.known[uid] = (ident["resource_version"], state, ident)
        if seen is None:
            return [transition(ident, ADDED, state=state)] + diff(ident, {}, state)
        return diff(ident, seen[1], state)

    def _deleted(self, uid, ident):
        if uid in self.gone:
            return []
        seen = self.known.pop(uid, None)
        self.gone.put(uid)
        if ident is None:
            ident = seen[2]
        return [transition(ident, DELETED, state=seen[1] if seen else None)]


def _occurrence(obj):
    series = obj.get("series") or {}
    count = series.get("count") or obj.get("count") or 1
    return int(count), obj.get("lastTimestamp") or series.get("lastObservedTime") or obj.get("eventTime")


def _later(occurrence, than):
    """Whether an Event's (count, last timestamp) is a newer occurrence than ``than``."""
    if occurrence[0] != than[0]:
        return occurrence[0] > than[0]
    return bool(occurrence[1] and than[1] and str(occurrence[1]) > str(than[1]))


class EventTracker(object):
    """Core Events: each new occurrence (a new Event, or a higher count) once, by reason."""

    def __init__(self, kind, snapshot=False, reasons=None):
        self.kind = kind
        self.snapshot = snapshot
        self.reasons = set(reasons or ())
        self.listed = False
        # Event uid -> (count, last timestamp) of every Event that exists: as many entries as
        # the namespace holds Events, and no fewer, so that a relist never takes one it has
        # seen for new (a deleted or expired Event is forgotten: its uid does not come back)
        self.seen = {}

    def relisted(self, items):
        """The new occurrences in a complete (re)list; what it no longer holds is forgotten."""
        first, self.listed = not self.listed, True
        events, present = [], set()
        for obj in items:
            uid = (obj.get("metadata") or {}).get("uid")
            present.add(uid)
            if first and not self.snapshot:
                self.seen[uid] = _occurrence(obj)
            else:
                events.extend(self.observe("ADDED", obj))
        for uid in [uid for uid in self.seen if uid not in present]:
            del self.seen[uid]
        return events

    def observe(self, event_type, obj):
        uid = (obj.get("metadata") or {}).get("uid")
        if event_type == "DELETED":
            self.seen.pop(uid, None)
            return []  # Events expire; that is not news
        occurrence = _occurrence(obj)
        if uid in self.seen and not _later(occurrence, self.seen[uid]):
            return []
        self.seen[uid] = occurrence
        if self.reasons and obj.get("reason") not in self.reasons:
            return []
        involved = obj.get("involvedObject") or {}
        meta = obj.get("metadata") or {}
        ident = {
            "kind": involved.get("kind"),
            "api_version": involved.get("apiVersion"),
            "namespace": involved.get("namespace") or meta.get("namespace"),
            "name": involved.get("name"),
            "uid": involved.get("uid"),
            "resource_version": meta.get("resourceVersion"),
            "labels": {},
            "owner_kind": "",
        }
        source = obj.get("source") or {}
        return [transition(ident, EVENT, reason=obj.get("reason"), message=obj.get("message"),
                           event_type=obj.get("type"), count=occurrence[0], event_uid=uid,
                           event_name=meta.get("name"),
                           source_component=source.get("component") or obj.get("reportingComponent"),
                           first_timestamp=obj.get("firstTimestamp") or obj.get("eventTime"),
                           last_timestamp=occurrence[1])]


def tracker_for(kind, snapshot=False, event_reasons=None):
    if kind.is_event:
        return EventTracker(kind, snapshot, event_reasons)
    return ObjectTracker(kind, snapshot)
