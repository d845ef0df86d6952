# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a vCenter state that only polling can see (the REST API has no watch).

One bounded loop for every admin-face wait, so that no module sleeps on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import WaitTimeout


def until(probe, timeout, what, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Call ``probe() -> (done, state)`` until done; return the last state.

    ``probe`` may raise ``WaitFailed`` for a terminal state; after ``timeout`` seconds the wait
    ends in ``WaitTimeout`` that names the last state seen.
    """
    deadline = clock() + timeout
    while True:
        done, state = probe()
        if done:
            return state
        left = deadline - clock()
        if left <= 0:
            raise WaitTimeout("{0} did not happen within {1} s; last state: {2}".format(what, timeout, state),
                              state=state)
        sleep(min(interval, left))
