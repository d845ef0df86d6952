"""Name resolution, vSphere Automation error messages and the polling loop of the admin face."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    InvalidArgument, NotFound, WaitTimeout)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import names
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.poll import until
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import error_message, error_parts, not_done

KNOWN = {"Cluster-1": ["domain-c8"], "Cluster-2": ["domain-c9"], "twin": ["domain-c1", "domain-c2"]}


def test_a_name_resolves_to_its_identifier_and_an_identifier_to_itself():
    assert names.resolve("cluster", "Cluster-1", KNOWN) == "domain-c8"
    assert names.resolve("cluster", "domain-c9", KNOWN) == "domain-c9"
    assert names.resolve_all("cluster", ["Cluster-2", "Cluster-1"], KNOWN) == ["domain-c9", "domain-c8"]
    assert names.name_of("domain-c9", KNOWN) == "Cluster-2"


def test_an_unknown_name_says_what_there_is():
    with pytest.raises(NotFound, match=r"no cluster named 'Cluster-3' in vCenter \(known: Cluster-1, Cluster-2, twin\)"):
        names.resolve("cluster", "Cluster-3", KNOWN)
    with pytest.raises(NotFound, match=r"known: none"):
        names.resolve("content library", "x", {})


def test_an_ambiguous_name_lists_its_identifiers():
    with pytest.raises(InvalidArgument, match=r"ambiguous: it names 2 objects \(domain-c1, domain-c2\)"):
        names.resolve("cluster", "twin", KNOWN)


def test_error_message_takes_the_servers_words():
    body = '{"error_type": "INVALID_ARGUMENT", "messages": [{"id": "x", "default_message": "bad cpu"}]}'
    assert error_message(400, body) == "INVALID_ARGUMENT: bad cpu"
    assert error_message(404, '{"type": "com.vmware.vapi.std.errors.not_found", "value": {"messages": '
                              '[{"default_message": "gone"}]}}') == "gone"
    assert error_message(502, "<html>proxy</html>") == "HTTP 502: <html>proxy</html>"
    assert error_message(500, "") == "HTTP 500"


def test_the_error_type_is_read_from_the_body_not_from_the_words():
    body = '{"error_type": "ALREADY_EXISTS", "messages": [{"default_message": "namespace ns1 exists"}]}'
    assert error_parts(400, body) == ("ALREADY_EXISTS", "ALREADY_EXISTS: namespace ns1 exists")
    words = '{"error_type": "INVALID_ARGUMENT", "messages": [{"default_message": "ALREADY_EXISTS is no type"}]}'
    assert error_parts(400, words)[0] == "INVALID_ARGUMENT"
    assert error_parts(502, "ALREADY_EXISTS")[0] is None


def test_until_returns_the_state_that_ends_the_wait():
    states = iter(["CONFIGURING", "CONFIGURING", "RUNNING"])

    def probe():
        state = next(states)
        return state == "RUNNING", state

    assert until(probe, 10, "x", sleep=lambda _: None) == "RUNNING"


def test_until_times_out_naming_the_last_state():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(WaitTimeout, match="last state: CONFIGURING"):
        until(lambda: (False, "CONFIGURING"), 3, "RUNNING", interval=1, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 3


@pytest.mark.parametrize(("error", "repeat"), [
    (errors.Throttled("slow down", status=429), True),
    (errors.ServerError("busy", status=503), True),
    (errors.Unreachable("refused", refused=True), True),
    (errors.ServerError("failed half-way", status=500), False),
    (errors.Unreachable("reset after sending", refused=False), False),
])
def test_a_post_is_sent_again_only_when_it_surely_did_nothing(error, repeat):
    assert not_done(error) is repeat
