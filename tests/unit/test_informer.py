"""The informer over a fake watch stream: 410 mid-stream relists without repeats, a dropped
connection resumes from the last resourceVersion, bookmarks advance it, backoff is bounded."""
from __future__ import annotations

import json

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.backoff import Backoff
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client as client_module
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import informer, kinds

POD = kinds.POD


def pod(name, rv, uid=None, phase="Running"):
    return {"metadata": {"name": name, "namespace": "a", "uid": uid or "uid-" + name, "resourceVersion": str(rv)},
            "status": {"phase": phase}}


def event(kind, obj):
    return {"type": kind, "object": obj}


def bookmark(rv):
    return event("BOOKMARK", {"metadata": {"resourceVersion": str(rv)}})


def gone():
    return event("ERROR", {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"})


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    slept = None


class FakeClient:
    """Lists and watch streams from scripts; a script entry that is an exception is raised (a
    watch's exception when it is the last entry of a stream: the connection dropped mid-stream)."""

    server = "https://sv"

    def __init__(self, lists, watches, clock=None):
        self.lists, self.watches, self.clock = list(lists), list(watches), clock
        self.calls = []

    def list_page(self, resource, namespace=None, query=None, target=None):
        self.calls.append(("list", None))
        answer = self.lists.pop(0)
        if isinstance(answer, Exception):
            raise answer  # pylint: disable=raising-bad-type
        items, version = answer
        return {"items": items, "metadata": {"resourceVersion": version}}

    def stream(self, path, target, query, timeout):
        query = dict(query)
        self.calls.append(("watch", query["resourceVersion"]))
        assert query["allowWatchBookmarks"] == "true"
        script = self.watches.pop(0) if self.watches else []
        if isinstance(script, Exception):
            raise script  # pylint: disable=raising-bad-type
        return self._events(script)

    def _events(self, script):
        for entry in script:
            if isinstance(entry, Exception):
                raise entry
            if self.clock is not None:
                self.clock.now += 1
            yield entry
        if self.clock is not None:
            self.clock.now += 100  # the server ended the watch at its timeout


def drain(watched, seconds=60):
    return list(watched.watch(seconds, seconds + 5))


def test_the_first_list_adds_everything_and_keeps_its_resource_version():
    client = FakeClient([([pod("a", 1), pod("b", 2)], "5")], [])
    watched = informer.Informer(client, POD, "a")
    items, changes = watched.list()
    assert [kind for kind, _obj in changes] == ["ADDED", "ADDED"] and len(items) == 2
    assert watched.version == "5"


def test_a_410_mid_stream_relists_and_says_only_what_changed_meanwhile():
    client = FakeClient([([pod("a", 1), pod("b", 2)], "5"), ([pod("a", 7), pod("b", 2), pod("c", 8)], "9")],
                        [[event("MODIFIED", pod("a", 6)), gone()]])
    watched = informer.Informer(client, POD, "a")
    watched.list()
    seen = []
    with pytest.raises(informer.Gone):
        for change in watched.watch(60, 65):
            seen.append(change)
    assert [(kind, obj["metadata"]["resourceVersion"]) for kind, obj in seen] == [("MODIFIED", "6")]
    assert watched.version is None  # forgotten: the next step is a LIST
    _items, changes = watched.list()
    assert [(kind, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]) for kind, obj in changes] == [
        ("MODIFIED", "a", "7"), ("ADDED", "c", "8")]  # b unchanged: not repeated
    assert watched.version == "9"


def test_a_relist_reports_deletions_and_a_recreated_object():
    client = FakeClient([([pod("a", 1), pod("b", 2)], "5"), ([pod("a", 9, uid="new")], "9")], [])
    watched = informer.Informer(client, POD, "a")
    watched.list()
    _items, changes = watched.list()
    assert [(kind, obj["metadata"]["name"], obj["metadata"]["uid"]) for kind, obj in changes] == [
        ("DELETED", "a", "uid-a"), ("ADDED", "a", "new"), ("DELETED", "b", "uid-b")]


def test_a_dropped_connection_resumes_from_the_last_resource_version_without_repeats():
    client = FakeClient([([pod("a", 1)], "5")],
                        [[event("MODIFIED", pod("a", 6)), errors.Unreachable("connection reset")],
                         [event("MODIFIED", pod("a", 6)), event("MODIFIED", pod("a", 7))]])
    watched = informer.Informer(client, POD, "a")
    watched.list()
    seen = []
    with pytest.raises(errors.Unreachable):
        for change in watched.watch(60, 65):
            seen.append(change)
    seen.extend(drain(watched))
    assert client.calls == [("list", None), ("watch", "5"), ("watch", "6")]
    assert [obj["metadata"]["resourceVersion"] for _kind, obj in seen] == ["6", "7"]  # the repeat of 6 dropped


def test_bookmarks_advance_the_resource_version_and_yield_nothing():
    client = FakeClient([([], "5")], [[bookmark(10), bookmark(12)], []])
    watched = informer.Informer(client, POD, "a")
    watched.list()
    assert drain(watched) == []
    assert watched.version == "12"
    drain(watched)
    assert client.calls[-1] == ("watch", "12")


def test_an_error_event_is_the_clients_exception_for_its_status():
    status = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "pods is forbidden"}
    client = FakeClient([([], "5")], [[event("ERROR", status)]])
    watched = informer.Informer(client, POD, "a")
    watched.list()
    with pytest.raises(errors.Forbidden):
        drain(watched)
    assert watched.version == "5"


def test_changes_relists_after_410_and_resumes_after_a_drop_until_the_deadline():
    clock = Clock()
    clock.slept = []
    client = FakeClient([([pod("a", 1)], "5"), ([pod("a", 1), pod("b", 8)], "9")],
                        [[gone()], errors.Unreachable("connection refused"), [event("DELETED", pod("a", 10))]],
                        clock)
    watched = informer.Informer(client, POD, "a")
    batches = list(watched.changes(60, clock=clock, sleep=clock.sleep))
    names = [[(kind, obj["metadata"]["name"]) for kind, obj in batch] for batch in batches]
    assert names == [[("ADDED", "a")], [("ADDED", "b")], [("DELETED", "a")]]
    assert client.calls == [("list", None), ("watch", "5"), ("list", None), ("watch", "9"), ("watch", "9")]
    assert len(clock.slept) == 1


def test_changes_backs_off_within_bounds_and_gives_up_at_the_deadline():
    clock = Clock()
    clock.slept = []
    client = FakeClient([([], "5")], [errors.Unreachable("connection refused")] * 200, clock)
    watched = informer.Informer(client, POD, "a")
    with pytest.raises(errors.Unreachable):
        for _batch in watched.changes(120, clock=clock, sleep=clock.sleep, backoff=Backoff(base=0.5, cap=5.0)):
            pass
    assert clock.slept and max(clock.slept) <= 5.0 and clock.now <= 120
    assert clock.slept[:3] == sorted(clock.slept[:3])  # growing before the cap


def test_a_failure_of_the_first_list_is_raised_at_once():
    clock = Clock()
    clock.slept = []
    client = FakeClient([errors.Unreachable("connection refused")], [], clock)
    with pytest.raises(errors.Unreachable):
        list(informer.Informer(client, POD, "a").changes(60, clock=clock, sleep=clock.sleep))
    assert clock.slept == []


def test_a_410_answer_to_the_watch_itself_is_gone_too():
    expired = client_module.api_error(410, json.dumps({"kind": "Status", "code": 410, "reason": "Expired",
                                                       "message": "too old resource version"}),
                                      client_module.Target("watch", POD))
    for script in (expired, [event("MODIFIED", pod("a", 6)), expired]):
        client = FakeClient([([pod("a", 1)], "5")], [script])
        watched = informer.Informer(client, POD, "a")
        watched.list()
        with pytest.raises(informer.Gone, match="too old"):
            drain(watched)
        assert watched.version is None
