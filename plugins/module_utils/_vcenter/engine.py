# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge one vCenter object on what a module wants: the engine of the admin face.

The vCenter counterpart of ``_supervisor/engine.py``. ``Engine(session, run).ensure(kind,
ident, desired, state, check_mode, wait, wait_timeout)``, ``kind`` one of ``kinds.py``:

- get: one GET; ``kind.exists`` says whether the answer counts as the object being there;
- normalise: ``kind.normalise`` puts it in the shape the diff shows and the planners compare;
- create / patch / delete: ``kind.plan_create`` or ``kind.plan_update`` turn ``desired`` into the
  body of one write and the object as it will be; an update with an empty body, a delete of
  nothing, are no change. Check mode plans the same and sends nothing (the REST API has no
  dry run);
- diff: the normalised before and the planned after (``kind.read_back``: the after as the
  server answers once the write is done);
- wait (never in check mode): poll (``poll.until``; the REST API has no watch) until
  ``kind.ready`` (or ``kind.gone``) says READY; FAILED ends the wait at once with the kind's
  message, the deadline with WaitTimeout naming the last state.

Every real write is recorded in ``changes`` (``_common/changes.py``), so that a failure after it
(the wait) is still reported as a change.

``desired`` is what the kind's planners read (resolved settings, the module's options); a
callable is called once, after the GET and only for ``present``, so that resolving names
happens where it did when each module had its own loop: after the object was read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import FAILED, READY
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import poll

STATES = ("present", "absent")
DEFAULT_TIMEOUT = 120


def module_result(run, outcome, key, shown, named=None):
    """What a module returns for one ``ensure``: ``changed``, the object under ``key`` in the
    module's own option names (``shown``), with ``named`` added as ``name`` when the object has no
    name of its own, and with --diff the before and after in the same names."""
    obj = shown(outcome["object"] or {})
    result = {"changed": outcome["changed"], key: dict(obj, name=named) if obj and named else obj}
    if run.diff:
        result["diff"] = {"before": shown(outcome["diff"]["before"]), "after": shown(outcome["diff"]["after"])}
    return result


class Engine(object):
    """Get, plan, write, diff and wait over one ``VcenterSession``."""

    def __init__(self, session, run=None, clock=time.monotonic, sleep=time.sleep):
        """``run``: what the engine may know of the run (``changes``, where real writes are recorded
        so that a later failure still says changed), or None."""
        self.session = session
        recorded = getattr(run, "changes", None)  # an empty Changes is falsy: test for None
        self.changes = recorded if recorded is not None else Changes()
        self._clock = clock
        self._sleep = sleep
        self._apis = {}

    def api(self, kind):
        """The ``resources.py`` wrapper of ``kind`` over this engine's session."""
        if kind not in self._apis:
            self._apis[kind] = kind.api(self.session)
        return self._apis[kind]

    def get(self, kind, ident):
        """The object as vCenter answers a GET, or None when there is none."""
        return self.api(kind).get(ident)

    def ensure(self, kind, ident, desired=None, state="present", check_mode=False, wait=False,
               wait_timeout=DEFAULT_TIMEOUT):
        """Converge the ``kind`` object ``ident`` on ``desired``. Answers ``{"changed", "diff",
        "object", "action", "sent"}``: ``diff`` the normalised before/after, ``object`` the object
        as vCenter has it after (in check mode, as it would be; None when there is none),
        ``action`` the write (``create``, ``update``, ``delete``) or None, ``sent`` its body."""
        if state not in STATES:
            raise errors.InvalidArgument("state must be present or absent, not {0!r}".format(state))
        present = state == "present"
        found = self.get(kind, ident)
        there = kind.exists(found)
        wish = desired() if present and callable(desired) else desired
        before = kind.normalise(found if there else None, wish)
        action, body = None, None
        if not present:
            planned = kind.normalise(None, wish)
            action = "delete" if there else None
        elif there:
            body, planned = kind.plan_update(ident, wish, found, before)
            action = "update" if body else None
        else:
            body, planned = kind.plan_create(self.session, ident, wish, before)
            action = "create"
        outcome = {"changed": action is not None, "diff": {"before": before, "after": planned},
                   "action": action, "sent": body}
        if check_mode:
            outcome["object"] = kind.preview(found, ident, planned) if present else (
                found if kind.read_back else None)
            return outcome
        if action is not None:
            self._write(kind, ident, action, body)
            self.changes.record(kind.describe(ident), {"before": before, "after": planned})
        settle = outcome["changed"] or (kind.settle_unchanged and found is not None)
        predicate = kind.ready if present else kind.gone
        if wait and settle and predicate is not None:
            after = self.wait(kind, ident, predicate, present, wait_timeout)
        elif present or kind.read_back:
            after = self.get(kind, ident)
        else:
            after = None
        if present and kind.read_back:
            outcome["diff"]["after"] = kind.normalise(after, wish)
        outcome["object"] = after if present or kind.read_back else None
        return outcome

    def _write(self, kind, ident, action, body):
        api = self.api(kind)
        if action == "create":
            kind.create(api, ident, body)
        elif action == "update":
            kind.update(api, ident, body)
        else:
            kind.delete(api, ident)

    def wait(self, kind, ident, predicate, present=True, timeout=DEFAULT_TIMEOUT):
        """Poll the object until ``predicate`` says READY; answer the last GET's answer. FAILED raises
        WaitFailed with the kind's message; the deadline raises WaitTimeout naming the last state."""
        seen = [None]

        def probe():
            seen[0] = self.get(kind, ident)
            verdict = predicate(seen[0])
            if verdict.state == FAILED:
                raise errors.WaitFailed(kind.failed.format(ident, verdict.message))
            return verdict.state == READY, verdict.message

        poll.until(probe, timeout, kind.awaited(ident, present), interval=kind.interval,
                   clock=self._clock, sleep=self._sleep)
        return seen[0]
