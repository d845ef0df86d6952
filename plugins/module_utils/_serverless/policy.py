# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A function's scaling policy, read from the annotations of its Deployment.

The names are Knative's where they mean the same (``autoscaling.knative.dev/...``) and the
collection's own (``pacific.supervisor/...``) where Knative has none. Every value is a string (an
annotation); ``from_annotations`` checks each one and raises ``InvalidArgument`` naming the
annotation and what it takes. Absent annotations take Knative's defaults. Nothing here knows
Ansible or HTTP: the ``function`` module, ``function_info`` and the activator share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import dataclasses
import math
import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument

KNATIVE = "autoscaling.knative.dev/"
OURS = "pacific.supervisor/"

FUNCTION_LABEL = OURS + "function"

MIN_SCALE = KNATIVE + "min-scale"
MAX_SCALE = KNATIVE + "max-scale"
TARGET = KNATIVE + "target"
TARGET_UTILIZATION = KNATIVE + "target-utilization-percentage"
WINDOW = KNATIVE + "window"
RETENTION = KNATIVE + "scale-to-zero-pod-retention-period"
PANIC_WINDOW = KNATIVE + "panic-window-percentage"
PANIC_THRESHOLD = KNATIVE + "panic-threshold-percentage"
CONTAINER_CONCURRENCY = OURS + "container-concurrency"
READINESS_PATH = OURS + "readiness-path"
COLD_START_TIMEOUT = OURS + "cold-start-timeout"
PORT = OURS + "port"
IDLE_WINDOW = OURS + "idle-window"

# Knative bounds the stable window to 6 s .. 1 h
WINDOW_MIN, WINDOW_MAX = 6.0, 3600.0

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "\u00b5s": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|\u00b5s|ns|h|m|s)")


def parse_duration(text, name):
    """Seconds of a Go-style duration (``60s``, ``1m30s``, ``500ms``, ``0s``; a bare ``0`` too)."""
    if not isinstance(text, str):
        raise InvalidArgument("annotation {0} must be a string, a duration such as '60s' (got {1!r})".format(name, text))
    value = text.strip()
    if value == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(value):
        match = _DURATION.match(value, position)
        if match is None:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not value or position != len(value):
        raise InvalidArgument("annotation {0} must be a duration such as '60s', '1m30s' or '500ms' "
                              "(got {1!r})".format(name, text))
    return total


def parse_int(text, name, minimum=None, maximum=None, meaning=""):
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidArgument("annotation {0} must be a string holding an integer (got {1!r})".format(name, text))
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        raise InvalidArgument("annotation {0} must be an integer{1} (got {2!r})".format(
            name, meaning, text))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = "at least {0}".format(minimum) if maximum is None else "{0} to {1}".format(minimum, maximum)
        raise InvalidArgument("annotation {0} must be {1}{2} (got {3})".format(name, bounds, meaning, value))
    return value


def parse_number(text, name, minimum_exclusive=None, maximum=None):
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise InvalidArgument("annotation {0} must be a string holding a number (got {1!r})".format(name, text))
    try:
        value = float(str(text).strip())
    except ValueError:
        raise InvalidArgument("annotation {0} must be a number (got {1!r})".format(name, text))
    if math.isnan(value) or (minimum_exclusive is not None and value <= minimum_exclusive) or \
            (maximum is not None and value > maximum):
        bounds = "above {0:g}".format(minimum_exclusive)
        if maximum is not None:
            bounds += " and at most {0:g}".format(maximum)
        raise InvalidArgument("annotation {0} must be a number {1} (got {2!r})".format(name, bounds, text))
    return value


@dataclasses.dataclass(frozen=True)
class Policy(object):
    """How one function scales, in plain numbers (seconds for durations)."""

    min_scale: int = 0
    max_scale: int = 0  # 0: unbounded
    target: float = 100.0  # concurrent requests per pod the autoscaler aims at
    target_utilization: float = 70.0  # percent of target
    window: float = 60.0  # the stable window
    retention: float = 0.0  # scale-to-zero-pod-retention-period
    panic_window_percentage: float = 10.0  # of the stable window
    panic_threshold_percentage: float = 200.0
    container_concurrency: int = 0  # 0: unbounded
    readiness_path: str = "/"
    cold_start_timeout: float = 300.0
    port: int = 8080
    idle_window: float = 30.0  # grace after the last request before scaling to zero

    @property
    def panic_window(self):
        return max(1.0, self.window * self.panic_window_percentage / 100.0)

    @property
    def per_pod_target(self):
        """Concurrent requests per pod the autoscaler aims at: target at its utilisation, and never
        above the container concurrency."""
        per_pod = self.target * self.target_utilization / 100.0
        if self.container_concurrency:
            per_pod = min(per_pod, self.container_concurrency * self.target_utilization / 100.0)
        return max(per_pod, 0.01)

    @property
    def scale_to_zero_after(self):
        """Seconds without a request before the function goes to zero (when min-scale is 0)."""
        return max(self.idle_window, self.retention)

    def annotations(self):
        """This policy as the annotations that give it (every one, as strings)."""
        return {
            MIN_SCALE: str(self.min_scale), MAX_SCALE: str(self.max_scale), TARGET: _num(self.target),
            TARGET_UTILIZATION: _num(self.target_utilization), WINDOW: _dur(self.window),
            RETENTION: _dur(self.retention), CONTAINER_CONCURRENCY: str(self.container_concurrency),
            READINESS_PATH: self.readiness_path, COLD_START_TIMEOUT: _dur(self.cold_start_timeout),
            PORT: str(self.port), IDLE_WINDOW: _dur(self.idle_window),
        }


def _num(value):
    return "{0:g}".format(value)


def _dur(seconds):
    if seconds and seconds < 1:
        return "{0:g}ms".format(seconds * 1000)
    return "{0:g}s".format(seconds)


def from_annotations(annotations):
    """The ``Policy`` of a Deployment's annotations (a dict, or None); ``InvalidArgument`` names the
    first annotation that is wrong and what it takes."""
    given = dict(annotations or {})
    values = {}

    def take(name, field, parse):
        if given.get(name) is not None:
            values[field] = parse(given[name], name)

    take(MIN_SCALE, "min_scale", lambda v, n: parse_int(v, n, 0))
    take(MAX_SCALE, "max_scale", lambda v, n: parse_int(v, n, 0, meaning=" (0: unbounded)"))
    take(TARGET, "target", lambda v, n: parse_number(v, n, 0.0))
    take(TARGET_UTILIZATION, "target_utilization", lambda v, n: parse_number(v, n, 0.0, 100.0))
    take(WINDOW, "window", parse_duration)
    take(RETENTION, "retention", parse_duration)
    take(PANIC_WINDOW, "panic_window_percentage", lambda v, n: parse_number(v, n, 0.0, 100.0))
    take(PANIC_THRESHOLD, "panic_threshold_percentage", lambda v, n: parse_number(v, n, 100.0, 1000.0))
    take(CONTAINER_CONCURRENCY, "container_concurrency", lambda v, n: parse_int(v, n, 0, meaning=" (0: unbounded)"))
    take(READINESS_PATH, "readiness_path", _path)
    take(COLD_START_TIMEOUT, "cold_start_timeout", parse_duration)
    take(PORT, "port", lambda v, n: parse_int(v, n, 1, 65535))
    take(IDLE_WINDOW, "idle_window", parse_duration)

    policy = Policy(**values)
    if policy.max_scale and policy.max_scale < policy.min_scale:
        raise InvalidArgument("annotation {0} ({1}) must not be below {2} ({3}); 0 means unbounded".format(
            MAX_SCALE, policy.max_scale, MIN_SCALE, policy.min_scale))
    if WINDOW in given and not WINDOW_MIN <= policy.window <= WINDOW_MAX:
        raise InvalidArgument("annotation {0} must be a duration from 6s to 1h (got {1!r})".format(
            WINDOW, given[WINDOW]))
    if policy.cold_start_timeout <= 0:
        raise InvalidArgument("annotation {0} must be a duration above 0s (got {1!r})".format(
            COLD_START_TIMEOUT, given[COLD_START_TIMEOUT]))
    return policy


def _path(text, name):
    if not isinstance(text, str) or not text.startswith("/") or any(c.isspace() for c in text):
        raise InvalidArgument("annotation {0} must be an HTTP path that begins with '/', such as '/healthz' "
                              "(got {1!r})".format(name, text))
    return text
