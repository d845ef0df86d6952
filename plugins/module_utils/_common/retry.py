# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded retries with exponential backoff, in one decorator.

A call is retried when it raises a ``PacificError`` whose class is ``retryable`` (conflict,
throttling, server errors, unreachable peer). Everything else goes straight to the caller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import random
import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError

DEFAULT_ATTEMPTS = 5
DEFAULT_BASE_DELAY = 0.2
DEFAULT_MAX_DELAY = 5.0


def backoff_delays(attempts, base_delay, max_delay, jitter=random.random):
    """The pauses between ``attempts`` tries: doubling from ``base_delay``, capped, with jitter
    between half and all of each step so that many clients do not retry in lockstep."""
    delays = []
    for attempt in range(attempts - 1):
        step = min(max_delay, base_delay * (2 ** attempt))
        delays.append(step * (0.5 + jitter() / 2))
    return delays


def retrying(attempts=DEFAULT_ATTEMPTS, base_delay=DEFAULT_BASE_DELAY, max_delay=DEFAULT_MAX_DELAY,
             sleep=time.sleep, retry_on=None):
    """Decorate a callable so that retryable ``PacificError``s are tried again, at most
    ``attempts`` times in all. ``retry_on`` narrows which retryable errors count (a predicate)."""

    def decorate(call):
        @functools.wraps(call)
        def wrapper(*args, **kwargs):
            delays = backoff_delays(attempts, base_delay, max_delay)
            while True:
                try:
                    return call(*args, **kwargs)
                except PacificError as err:
                    if not err.retryable or not delays or (retry_on is not None and not retry_on(err)):
                        raise
                    sleep(delays.pop(0))

        return wrapper

    return decorate
