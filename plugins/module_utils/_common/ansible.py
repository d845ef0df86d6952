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

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.pacific.supervisor.plugins.module_utils._common.changes import Changes
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import PacificError
from ansible_collections.pacific.supervisor.plugins.module_utils._common.validate import in_range

# Connection options of the admin face (action group pacific.supervisor.vcenter).
VCENTER_ARGUMENT_SPEC = dict(
    hostname=dict(type="str", required=True, fallback=(env_fallback, ["VMWARE_HOST"])),
    port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
    username=dict(type="str", required=True, aliases=["user"], fallback=(env_fallback, ["VMWARE_USER"])),
    password=dict(type="str", required=True, no_log=True, aliases=["pass", "pwd"],
                  fallback=(env_fallback, ["VMWARE_PASSWORD"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
    ca_cert=dict(type="path", fallback=(env_fallback, ["VMWARE_CA_CERT"])),
)

# Connection options of the developer face (action group pacific.supervisor.supervisor).
SUPERVISOR_ARGUMENT_SPEC = dict(
    server=dict(type="str", fallback=(env_fallback, ["PACIFIC_SUPERVISOR_SERVER"])),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["PACIFIC_SUPERVISOR_TOKEN"])),
    kubeconfig=dict(type="raw", no_log=True, fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    username=dict(type="str", fallback=(env_fallback, ["PACIFIC_SUPERVISOR_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["PACIFIC_SUPERVISOR_PASSWORD"])),
    login_url=dict(type="str", fallback=(env_fallback, ["PACIFIC_WCP_LOGIN_URL"])),
    ca_cert=dict(type="path", fallback=(env_fallback, ["PACIFIC_SUPERVISOR_CA_CERT"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["PACIFIC_SUPERVISOR_VALIDATE_CERTS"])),
)

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
        # engines and admin-face handlers record real writes here (Engine(..., changes=run.changes))
        self.changes = Changes()


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


def run_module(argument_spec, handler, requirements=(), **module_kwargs):
    """Parse arguments, check third-party imports, call ``handler`` and exit.

    ``requirements``: pairs of (library name, ImportError or None) from the module's guarded imports.
    """
    module_kwargs.setdefault("supports_check_mode", True)
    module = AnsibleModule(argument_spec=argument_spec, **module_kwargs)
    for library, import_error in requirements:
        if import_error is not None:
            module.fail_json(msg=missing_required_lib(library), exception=import_error)
    run = Run(module)
    try:
        check_shared_options(module.params)
        result = handler(module.params, run)
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
