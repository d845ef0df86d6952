# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconnect delays for long-running readers (the event sources): bounded, exponential, jittered.

``retry.py`` bounds the number of tries of one call; a watch that must run for days retries
forever, so here only the delay is bounded, and it starts again from ``base`` after a success.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random


class Backoff(object):
    """Delays base, 2*base, 4*base ... up to ``cap``, each scaled by a random factor between 0.5
    and 1 so that many clients do not reconnect in step; ``reset`` after a success."""

    def __init__(self, base=0.25, cap=30.0, jitter=random.random):
        self.base, self.cap, self.jitter = base, cap, jitter
        self.failures = 0

    def next(self):
        step = min(self.cap, self.base * (2 ** self.failures))
        self.failures += 1
        return step * (0.5 + self.jitter() / 2)

    def reset(self):
        self.failures = 0
