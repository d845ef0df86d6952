# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Waiting for an object to be ready (or gone), shared by the developer-face modules.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Whether to wait until the object is ready (O(state=present)) or gone (O(state=absent)).
      - Waiting watches the object; it does not poll. A terminal failure the controller reports
        (for example a missing VM class) ends the wait at once with the controller's message.
      - Never waits in check mode.
      - A wait that fails after the module changed something still reports C(changed=true), with
        C(changed_objects) (what it changed, for example C(VirtualMachine web-1 in namespace team-a))
        and, in diff mode, the C(diff) of those changes.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait before failing, at least 1. The failure reports the last status seen.
    type: int
    default: 600
"""
