"""The autoscaler's decisions (Knative's KPA in plain numbers) and the idle rule, as pure logic."""
from __future__ import annotations

from ansible_collections.pacific.supervisor.plugins.module_utils._serverless import autoscaler
from ansible_collections.pacific.supervisor.plugins.module_utils._serverless.policy import Policy


def feed(scaler, concurrency, start, seconds, step=0.25):
    now = start
    while now < start + seconds:
        scaler.record(now, concurrency)
        now += step
    return now


def test_forty_concurrent_at_target_ten_panics_to_six_pods_at_once():
    scaler = autoscaler.Autoscaler(Policy(target=10))  # 7 per pod at 70 %
    now = feed(scaler, 40, 0.0, 0.5)
    decision = scaler.decide(now, ready=1, current=1)
    assert decision.panicking and decision.replicas == 6


def test_steady_load_is_stable_and_scales_by_the_stable_average():
    scaler = autoscaler.Autoscaler(Policy(target=10))
    now = feed(scaler, 14, 0.0, 70)
    decision = scaler.decide(now, ready=2, current=2)
    assert not decision.panicking and decision.replicas == 2


def test_panic_never_scales_down_until_a_stable_window_passes():
    scaler = autoscaler.Autoscaler(Policy(target=10, window=6))
    now = feed(scaler, 40, 0.0, 1)
    assert scaler.decide(now, ready=1, current=1).replicas == 6
    now = feed(scaler, 1, now, 3)  # load drops: still in panic, holds 6
    decision = scaler.decide(now, ready=6, current=6)
    assert decision.panicking and decision.replicas == 6
    now = feed(scaler, 1, now, 7)  # a whole stable window without panic
    decision = scaler.decide(now, ready=6, current=6)
    assert not decision.panicking and decision.replicas == 1


def test_bounds_and_never_below_one():
    assert autoscaler.Autoscaler(Policy()).decide(0.0, ready=0, current=1).replicas == 1
    scaler = autoscaler.Autoscaler(Policy(target=1, max_scale=3, min_scale=2))
    feed(scaler, 50, 0.0, 1)
    assert scaler.decide(1.0, ready=1, current=1).replicas == 3
    idle_scaler = autoscaler.Autoscaler(Policy(min_scale=2))
    assert idle_scaler.decide(0.0, ready=2, current=2).replicas == 2


def test_container_concurrency_caps_the_per_pod_target():
    scaler = autoscaler.Autoscaler(Policy(target=100, container_concurrency=2, target_utilization=100))
    now = feed(scaler, 10, 0.0, 1)
    assert scaler.decide(now, ready=5, current=5).replicas == 5


def test_reset_forgets_the_samples():
    scaler = autoscaler.Autoscaler(Policy(target=10))
    feed(scaler, 40, 0.0, 1)
    scaler.reset()
    assert scaler.decide(2.0, ready=0, current=0).replicas == 1


def test_idle_rule():
    policy = Policy(idle_window=2)
    assert autoscaler.idle(policy, now=10.0, last_request=7.9, in_flight=0, held=0)
    assert not autoscaler.idle(policy, now=10.0, last_request=8.5, in_flight=0, held=0)
    assert not autoscaler.idle(policy, now=10.0, last_request=0.0, in_flight=1, held=0)
    assert not autoscaler.idle(policy, now=10.0, last_request=0.0, in_flight=0, held=1)
    assert not autoscaler.idle(Policy(min_scale=1), now=100.0, last_request=0.0, in_flight=0, held=0)
    assert not autoscaler.idle(Policy(idle_window=2, retention=30), now=10.0, last_request=0.0, in_flight=0, held=0)


def test_wake_asks_for_enough_pods_for_the_held_burst():
    assert autoscaler.wake_replicas(Policy(), held=1) == 1
    assert autoscaler.wake_replicas(Policy(target=10), held=40) == 6
    assert autoscaler.wake_replicas(Policy(target=10, max_scale=4), held=40) == 4
    assert autoscaler.wake_replicas(Policy(min_scale=3), held=1) == 3
