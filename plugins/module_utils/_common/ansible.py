# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place that knows AnsibleModule: arguments in, engine call, ``exit_json``/``fail_json`` out.

A module declares its options and a handler ``handler(params, run) -> result dict``; the
handler builds the desired object and calls the engine or a client. ``run`` carries check mode,
diff mode, ``warn`` and ``changes`` (what was written so far). Every ``PacificError`` becomes one
``fail_json(msg=...)``; a failure after a change (a wait, a second write) still says ``changed``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.pacific.supervisor.plugins.module_utils._common import settings
from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._common.validate import in_range


def _argument_spec(face):
    """The AnsibleModule options of a face's connection settings, from the one table. No
    fallbacks and no defaults: which settings a task named decides whether the environment is
    read at all (``settings.resolve``), so a value must not appear where the task gave none."""
    spec = {}
    for setting in face.settings:
        option = dict(type=setting.type)
        if setting.secret:
            option["no_log"] = True
        if setting.aliases:
            option["aliases"] = list(setting.aliases)
        spec[setting.name] = option
    return spec


# Connection options of the admin face (action group pacific.supervisor.vcenter) ...
VCENTER_ARGUMENT_SPEC = _argument_spec(settings.VCENTER)
# ... and of the developer face (action group pacific.supervisor.supervisor).
SUPERVISOR_ARGUMENT_SPEC = _argument_spec(settings.SUPERVISOR)

VCENTER_CONNECTION_KEYS = tuple(VCENTER_ARGUMENT_SPEC)
SUPERVISOR_CONNECTION_KEYS = tuple(SUPERVISOR_ARGUMENT_SPEC)

# The options of a developer-face module that manages one object of a namespace, by name ...
NAMESPACED_NAME_SPEC = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
)
# ... and of one that makes things present or absent.
STATE_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


# options every module that has them checks the same way, before its handler runs: option -> minimum
MINIMUMS = dict(
    wait_timeout=1,  # seconds; a wait that cannot last is a typo, not a request
)


def check_shared_options(params):
    for option, minimum in MINIMUMS.items():
        in_range(params.get(option), option, minimum=minimum)


class Run(object):
    """What a handler may know of the Ansible run besides its parameters."""

    def __init__(self, module):
        self.check_mode = module.check_mode
        self.diff = module._diff
        self.warn = module.warn
        # engines and admin-face handlers record real writes here (Engine(..., run=run))
        self.changes = Changes()
        self._module = module

    def conceal(self, values):
        """Mask ``values`` (secrets found inside options, such as a Secret's data in a manifest)
        wherever they would appear in the module's output, as Ansible masks ``no_log`` options."""
        self._module.no_log_values.update(value for value in values if isinstance(value, str) and len(value) >= 4)


def with_connection(spec, connection_spec):
    """``spec`` plus the connection options of one face (a module's own options win)."""
    merged = dict(connection_spec)
    merged.update(spec)
    return merged


def supervisor_spec(spec, *shared):
    """The argument spec of a developer-face module: the ``shared`` parts (NAMESPACED_NAME_SPEC,
    STATE_SPEC), its own ``spec`` and the connection options (a module's own options win)."""
    merged = {}
    for part in shared:
        merged.update(part)
    merged.update(spec)
    return with_connection(merged, SUPERVISOR_ARGUMENT_SPEC)


def _face_of(argument_spec):
    """The face whose connection options ``argument_spec`` holds, or None."""
    for face in (settings.SUPERVISOR, settings.VCENTER):
        if all(name in argument_spec for name in face.names()):
            return face
    return None


def connection_params(module, methods=None):
    """``module.params`` with the connection settings of its face chosen by the one rule
    (``_common/settings.py``): what the task names, else the environment, used whole. Secrets
    read from the environment are masked in the module's output like those the task gave."""
    params = dict(module.params)
    face = _face_of(module.argument_spec)
    if face is None:
        return params
    resolved = settings.resolve(face, params, os.environ, methods=methods)
    resolved.pop("source")
    params.update(resolved)
    module.no_log_values.update(settings.secrets_of(face, resolved))
    return params


def run_module(argument_spec, handler, requirements=(), methods=None, needs_connection=None, **module_kwargs):
    """Parse arguments, check third-party imports, call ``handler`` and exit.

    ``requirements``: pairs of (library name, ImportError or None) from the module's guarded
    imports, or a function that answers them (called only for a task that connects, so that a
    module may import its client libraries only for such tasks). ``methods``: the ways to
    authenticate the module uses (``settings.Face.methods``), all by default. ``needs_connection``: ``params -> bool``, for a module that connects only
    for some tasks (migrate's report mode reads files alone); without it every task connects.
    """
    module_kwargs.setdefault("supports_check_mode", True)
    module = AnsibleModule(argument_spec=argument_spec, **module_kwargs)
    connects = needs_connection is None or needs_connection(module.params)
    for library, import_error in (requirements() if callable(requirements) else requirements) if connects else ():
        if import_error is not None:
            module.fail_json(msg=missing_required_lib(library), exception=import_error)
    run = Run(module)
    try:
        check_shared_options(module.params)
        result = handler(connection_params(module, methods) if connects else dict(module.params), run)
    except PacificError as err:
        fields = dict(err.details)
        fields.update(run.changes.failure_fields(run.diff))
        module.fail_json(msg=err.msg, **fields)
    except Exception as err:  # pylint: disable=broad-except
        # an unforeseen error still ends as one message; the traceback is for -vvv
        module.fail_json(msg="unexpected {0}: {1}".format(type(err).__name__, err),
                         exception=traceback.format_exc(), **run.changes.failure_fields(run.diff))
    result.setdefault("changed", False)
    module.exit_json(**result)
