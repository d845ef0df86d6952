"""The one client's lists and watches over a fake connection (fakes are fine here: the real ones are
exercised by the integration tests of modules, inventory and event sources): paging and an expired
continue token, a forbidden cross-namespace list, a Watch closed from another thread, and errors
reworded in a caller's words with their fields kept."""
from __future__ import annotations

import json
import threading
import time

import pytest
import urllib3

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client, informer, kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import supervisor as inventory_supervisor

POD = kinds.POD


def item(name, namespace="a"):
    return {"metadata": {"name": name, "namespace": namespace}}


class PagedClient(client.SupervisorClient):
    """``request`` answers from a script: a dict is an answer, an exception is raised."""

    def __init__(self, answers):  # pylint: disable=super-init-not-called
        self.answers, self.asked = list(answers), []
        self.server = "https://sv"

    def request(self, method, path, target, body=None, query=None, content_type=None, timeout=None):
        self.asked.append((path, dict(query or [])))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def gone():
    return client.api_error(410, json.dumps({"kind": "Status", "code": 410, "message": "continue expired"}),
                            client.Target("list", POD))


def test_pages_are_followed_and_an_expired_continue_token_starts_over():
    fake = PagedClient([
        {"items": [item("p1")], "metadata": {"continue": "t1"}},
        gone(),
        {"items": [item("p1"), item("p2")], "metadata": {"continue": "t2"}},
        {"items": [item("p3")], "metadata": {"resourceVersion": "42"}},
    ])
    items, version = informer.list_all(fake, POD, "a", query=[("labelSelector", "app=web")], page_size=2)
    assert [i["metadata"]["name"] for i in items] == ["p1", "p2", "p3"] and version == "42"
    assert [q.get("continue") for _path, q in fake.asked] == [None, "t1", None, "t2"]
    assert all(q["limit"] == "2" and q["labelSelector"] == "app=web" for _path, q in fake.asked)
    assert fake.asked[0][0] == "/api/v1/namespaces/a/pods"


def test_a_forbidden_list_across_namespaces_falls_back_to_each_namespace():
    forbidden = errors.Forbidden("forbidden")
    fake = PagedClient([forbidden, {"items": [item("p1", "a")]}, errors.NotFound("no b"), ])
    assert inventory_supervisor.list_across(fake, POD, ["a", "b"]) == [item("p1", "a")]
    assert [path for path, _q in fake.asked] == ["/api/v1/pods", "/api/v1/namespaces/a/pods",
                                                 "/api/v1/namespaces/b/pods"]
    # no namespaces named, none may be listed, a bare token: which namespaces to ask is not known
    with pytest.raises(errors.Forbidden, match="give namespace, or username and password"):
        inventory_supervisor.list_across(PagedClient([forbidden, forbidden]), POD)
    # ... a WCP login knows them
    login = PagedClient([forbidden, forbidden, {"items": [item("p2", "b")]}])
    login.login_namespaces = lambda: ["b"]
    assert inventory_supervisor.list_across(login, POD) == [item("p2", "b")]
    assert inventory_supervisor.list_across(PagedClient([errors.NotFound("not served")]), POD) == []


def test_rewording_keeps_class_retryable_and_fields():
    target = client.Target("list", POD, None, "a")
    err = client.api_error(503, json.dumps({"kind": "Status", "code": 503, "message": "etcd down"}), target)
    again = err.reworded("listing Pods failed: etcd down")
    assert isinstance(again, errors.ServerError) and again.retryable
    assert (again.status, again.reason, again.target, again.msg) == (503, "etcd down", target,
                                                                     "listing Pods failed: etcd down")


class FakeResponse:
    """A urllib3 response whose stream blocks until fed or shut down, like a watch that is quiet."""

    def __init__(self, chunks=()):
        self.chunks, self.fed = list(chunks), threading.Event()
        self.released = self.closed = self.shut = False

    def stream(self, amt, decode_content=True):
        del amt, decode_content  # the fake's chunks are what they are
        yield from self.chunks
        self.fed.wait(5)
        if self.shut:
            raise urllib3.exceptions.ProtocolError("connection shut down")

    def shutdown(self):
        self.shut = True
        self.fed.set()

    def close(self):
        self.closed = True

    def release_conn(self):
        self.released = True


def test_a_watch_read_to_its_end_gives_its_connection_back():
    response = FakeResponse([b'{"type": "ADDED", "object": {}}\n{"type": "BOOK', b'MARK", "object": {}}\n'])
    response.fed.set()
    watch = client.Watch(response, "https://sv")
    assert [event["type"] for event in watch] == ["ADDED", "BOOKMARK"]
    assert response.released and not response.closed


def test_a_watch_closed_from_another_thread_ends_quietly_and_drops_its_connection():
    response = FakeResponse([b'{"type": "ADDED", "object": {}}\n'])
    watch = client.Watch(response, "https://sv")
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(watch))
    reader.start()
    deadline = time.monotonic() + 5
    while not seen:
        assert time.monotonic() < deadline and reader.is_alive(), "the reader saw nothing"
        time.sleep(0.01)
    watch.close()
    reader.join(2)
    assert not reader.is_alive() and [e["type"] for e in seen] == ["ADDED"]
    assert response.shut and response.closed and response.released


def test_a_watch_closed_before_it_is_read_gives_its_connection_back_at_once():
    response = FakeResponse()
    watch = client.Watch(response, "https://sv")
    watch.close()
    assert list(watch) == [] and response.closed and response.released and not response.shut


def test_a_broken_watch_is_unreachable():
    response = FakeResponse([b'{"type": "ADDED", "object": {}}\n'])
    response.shut = True  # the peer went away: the next read fails
    response.fed.set()
    with pytest.raises(errors.Unreachable, match="cannot reach the Supervisor API at https://sv"):
        list(client.Watch(response, "https://sv"))
    assert response.closed and response.released


def test_a_missing_ca_file_is_named_before_any_request(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="ca_cert .*/none.pem: no such file"):
        client.connect({"server": "https://sv", "token": "t", "ca_cert": str(tmp_path / "none.pem")})
