# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a readiness predicate says of one observation of an object, for both faces.

A predicate reads one object (a Kubernetes object on the Supervisor face, a vCenter answer on
the vCenter face) and says ``READY``, ``PENDING`` or ``FAILED`` with a message. The waiters act
on the verdict: stop on READY, go on observing on PENDING, fail at once on FAILED.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

READY = "ready"
PENDING = "pending"
FAILED = "failed"

DEFAULT_TIMEOUT = 600  # seconds a wait lasts unless told; the default of the wait_timeout option too
# the wait and wait_timeout options of the modules that wait (documented in doc_fragments/wait.py)
WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=DEFAULT_TIMEOUT),
)


class Verdict(object):
    """What a readiness predicate says of one observation of an object."""

    __slots__ = ("state", "message")

    def __init__(self, state, message=""):
        self.state = state
        self.message = message

    def __eq__(self, other):
        return isinstance(other, Verdict) and (self.state, self.message) == (other.state, other.message)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.state, self.message))

    def __repr__(self):
        return "Verdict({0!r}, {1!r})".format(self.state, self.message)
