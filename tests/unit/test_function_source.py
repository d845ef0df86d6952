"""The function_activator source's arguments: one clear refusal each, the connection rule kept."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.source import SourceOptions

CONNECTION = {"server": "https://sv.example.com:6443", "token": "t0ken"}


def test_defaults_and_a_comma_list_of_namespaces():
    options = SourceOptions({"namespaces": "team-b, team-a", **CONNECTION}, environ={})
    assert options.namespaces == ["team-a", "team-b"]
    assert (options.host, options.port, options.domain, options.queue_size, options.tick, options.escalate_after,
            options.record_file) == ("0.0.0.0", 8080, "functions.local", 10000, 0.25, 3, None)
    assert options.connection["token"] == "t0ken"


def test_templated_strings_are_numbers():
    options = SourceOptions({"namespaces": ["a"], "port": "9000", "queue_size": "5", "escalate_after": "2",
                             **CONNECTION}, environ={})
    assert (options.port, options.queue_size, options.escalate_after) == (9000, 5, 2)


@pytest.mark.parametrize("args, words", [
    ({}, "namespaces must name"),
    ({"namespaces": []}, "namespaces must name"),
    ({"namespaces": [3]}, "namespaces must name"),
    ({"namespaces": ["a"], "port": "http"}, "port must be an integer"),
    ({"namespaces": ["a"], "port": 70000}, "port must be at most 65535"),
    ({"namespaces": ["a"], "queue_size": 0}, "queue_size must be at least 1"),
    ({"namespaces": ["a"], "tick": True}, "tick must be a number"),
    ({"namespaces": ["a"], "kinds": ["Pod"]}, "unknown option(s) kinds"),
    ({"namespaces": ["a"], "domain": 5}, "domain must be"),
])
def test_bad_arguments_refused_with_one_message(args, words):
    with pytest.raises(InvalidArgument) as caught:
        SourceOptions({**CONNECTION, **args}, environ={})
    assert words in caught.value.msg
    assert "t0ken" not in caught.value.msg


def test_a_named_connection_keeps_the_environment_out():
    options = SourceOptions({"namespaces": ["a"], "kubeconfig": "/mine"},
                            environ={"PACIFIC_SUPERVISOR_TOKEN": "admin", "PACIFIC_SUPERVISOR_SERVER": "https://x"})
    assert options.connection.get("token") is None and options.connection["kubeconfig"] == "/mine"


def test_events_reach_a_bounded_queue_in_order_and_the_record_at_once(tmp_path):
    import asyncio
    import json

    from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.source import _emitter

    async def scenario():
        queue = asyncio.Queue(maxsize=1)
        with (tmp_path / "events.jsonl").open("a") as record:
            emit = _emitter(queue, record)
            for number in range(5):
                emit({"type": "function_scaled", "n": number})  # never blocks
            assert [json.loads(line)["n"] for line in (tmp_path / "events.jsonl").read_text().splitlines()] == \
                [0, 1, 2, 3, 4]
            got = [(await asyncio.wait_for(queue.get(), 2))["n"] for index in range(5)]
        assert got == [0, 1, 2, 3, 4]
    asyncio.run(scenario())
