"""A function's policy from its Deployment's annotations: defaults, parsing, one clear refusal each."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import policy as p


def test_defaults_are_knatives():
    policy = p.from_annotations(None)
    assert policy == p.Policy()
    assert (policy.min_scale, policy.max_scale, policy.target, policy.target_utilization) == (0, 0, 100, 70)
    assert (policy.window, policy.retention, policy.idle_window, policy.cold_start_timeout) == (60, 0, 30, 300)
    assert (policy.container_concurrency, policy.readiness_path, policy.port) == (0, "/", 8080)
    assert policy.panic_window == 6.0
    assert policy.per_pod_target == pytest.approx(70.0)


def test_every_annotation_read():
    policy = p.from_annotations({
        p.MIN_SCALE: "1", p.MAX_SCALE: "5", p.TARGET: "10", p.TARGET_UTILIZATION: "100", p.WINDOW: "1m30s",
        p.RETENTION: "45s", p.CONTAINER_CONCURRENCY: "4", p.READINESS_PATH: "/healthz",
        p.COLD_START_TIMEOUT: "500ms", p.PORT: "9000", p.IDLE_WINDOW: "2s", "unrelated/annotation": "x"})
    assert policy == p.Policy(1, 5, 10.0, 100.0, 90.0, 45.0, 10.0, 200.0, 4, "/healthz", 0.5, 9000, 2.0)
    assert policy.per_pod_target == 4  # never above the container concurrency
    assert policy.scale_to_zero_after == 45.0


def test_annotations_round_trip():
    policy = p.Policy(min_scale=2, target=10, window=6, idle_window=0.25, cold_start_timeout=30)
    assert p.from_annotations(policy.annotations()) == policy


@pytest.mark.parametrize("name, value, words", [
    (p.MIN_SCALE, "-1", "at least 0"),
    (p.MIN_SCALE, "one", "integer"),
    (p.MAX_SCALE, "2.5", "integer"),
    (p.TARGET, "0", "above 0"),
    (p.TARGET, "lots", "number"),
    (p.TARGET_UTILIZATION, "150", "at most 100"),
    (p.WINDOW, "60", "duration"),
    (p.WINDOW, "2s", "6s to 1h"),
    (p.WINDOW, "2h", "6s to 1h"),
    (p.RETENTION, "soon", "duration"),
    (p.CONTAINER_CONCURRENCY, "-3", "at least 0"),
    (p.READINESS_PATH, "healthz", "begins with '/'"),
    (p.COLD_START_TIMEOUT, "0s", "above 0s"),
    (p.PORT, "70000", "1 to 65535"),
    (p.IDLE_WINDOW, "30 s", "duration"),
    (p.MIN_SCALE, [3], "string"),
])
def test_bad_annotation_named(name, value, words):
    with pytest.raises(InvalidArgument) as caught:
        p.from_annotations({name: value})
    assert name in caught.value.msg and words in caught.value.msg


def test_max_below_min_refused():
    with pytest.raises(InvalidArgument, match="max-scale .*must not be below .*min-scale"):
        p.from_annotations({p.MIN_SCALE: "3", p.MAX_SCALE: "2"})
    assert p.from_annotations({p.MIN_SCALE: "3", p.MAX_SCALE: "0"}).max_scale == 0


@pytest.mark.parametrize("text, seconds", [("0", 0), ("0s", 0), ("1h", 3600), ("1m30s", 90), ("250ms", 0.25),
                                           ("1.5s", 1.5)])
def test_durations(text, seconds):
    assert p.parse_duration(text, "x") == pytest.approx(seconds)
