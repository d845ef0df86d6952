# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run has changed so far, so that a failure after a change still says ``changed``.

The engines (and the admin-face modules, which write through ``_vcenter`` directly) record every
real write that changed something; ``_common/ansible.py`` reads the record when a later step (a
wait, a second write) fails, and reports the failure as ``changed: true`` with the diffs of what
was changed. Nothing here knows Ansible; a dry run records nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Changes(object):
    """The changes made so far, in order: ``(what, diff)`` pairs."""

    def __init__(self):
        self.made = []

    def record(self, what, diff=None):
        """``what`` (for example ``VirtualMachine web-1 in namespace team-a``) was changed."""
        self.made.append((what, diff))

    def __bool__(self):
        return bool(self.made)

    def what(self):
        return [what for what, _diff in self.made]

    def failure_fields(self, with_diff):
        """What a failed result adds when something was changed before the failure: ``changed``,
        ``changed_objects`` and (``with_diff``) ``diff``, one pair or a list of them. Empty when
        nothing was changed."""
        if not self.made:
            return {}
        fields = {"changed": True, "changed_objects": self.what()}
        if with_diff:
            diffs = [diff for _what, diff in self.made if diff is not None]
            if diffs:
                fields["diff"] = diffs[0] if len(diffs) == 1 else diffs
        return fields
