# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many pods a function wants, from the concurrency the activator counts: Knative's KPA, in
plain numbers and without a clock of its own (the caller passes ``now``).

Samples of concurrency (requests in flight plus those held) are averaged over two windows: the
stable window (``window``, 60 s by default) and the panic window (10 % of it). The stable
answer is ``ceil(stable average / per-pod target)``; the panic answer the same over the panic
window. When the panic answer reaches ``panic_threshold_percentage`` of the pods ready, the
function panics: it follows the panic answer up, and never scales down, until a whole stable
window has passed without reaching the threshold again. Both windows average over the samples
they hold, so a function just woken is judged by what it has seen since, not by the zeros of
the time it slept. The answer is bounded by min-scale and max-scale and is never below 1: going
to zero is the idle rule's decision (``idle``), not the average's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import math


class Decision(object):
    """What the autoscaler says at one tick: ``replicas`` and why."""

    __slots__ = ("replicas", "panicking", "stable", "panic", "reason")

    def __init__(self, replicas, panicking, stable, panic, reason):
        self.replicas = replicas
        self.panicking = panicking
        self.stable = stable
        self.panic = panic
        self.reason = reason

    def __repr__(self):
        return "Decision({0}, {1}, stable={2:.2f}, panic={3:.2f})".format(self.replicas, self.reason, self.stable,
                                                                          self.panic)


class Autoscaler(object):
    """The KPA of one function."""

    def __init__(self, policy):
        self.policy = policy
        self.samples = collections.deque()  # (time, concurrency)
        self.panic_until = None  # panicking while not None: stays so until this time

    def reset(self):
        """Forget what was seen (the function went to zero)."""
        self.samples.clear()
        self.panic_until = None

    def record(self, now, concurrency):
        self.samples.append((now, float(concurrency)))
        horizon = now - self.policy.window
        while self.samples and self.samples[0][0] < horizon:
            self.samples.popleft()

    def _average(self, now, seconds):
        values = [value for (at, value) in self.samples if at >= now - seconds]
        return sum(values) / len(values) if values else 0.0

    def _bounded(self, replicas):
        policy = self.policy
        replicas = max(replicas, policy.min_scale, 1)
        if policy.max_scale:
            replicas = min(replicas, policy.max_scale)
        return replicas

    def decide(self, now, ready, current):
        """The replicas wanted at ``now`` with ``ready`` pods answering and ``current`` asked for."""
        policy = self.policy
        per_pod = policy.per_pod_target
        stable = self._average(now, policy.window)
        panic = self._average(now, policy.panic_window)
        want_stable = int(math.ceil(stable / per_pod - 1e-9))
        want_panic = int(math.ceil(panic / per_pod - 1e-9))
        base = max(ready, 1)
        if want_panic / float(base) >= policy.panic_threshold_percentage / 100.0:
            self.panic_until = now + policy.window
        elif self.panic_until is not None and now >= self.panic_until:
            self.panic_until = None
        if self.panic_until is not None:
            # in panic: up with the short window, never down
            replicas = self._bounded(max(want_panic, want_stable, current))
            return Decision(replicas, True, stable, panic, "panic")
        return Decision(self._bounded(want_stable), False, stable, panic, "stable")


def idle(policy, now, last_request, in_flight, held):
    """Whether a function may go to zero: min-scale 0, nothing in flight or held, and no request
    for the idle window (or the retention period, when longer)."""
    return (policy.min_scale == 0 and in_flight == 0 and held == 0
            and now - last_request >= policy.scale_to_zero_after)


def wake_replicas(policy, held):
    """Pods to ask for when waking with ``held`` requests waiting: enough for them at the per-pod
    target (a burst at zero starts its pods together), within min-scale and max-scale."""
    replicas = max(1, policy.min_scale, int(math.ceil(held / policy.per_pod_target - 1e-9)))
    if policy.max_scale:
        replicas = min(replicas, policy.max_scale)
    return replicas
