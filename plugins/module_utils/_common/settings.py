# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection settings of both faces, in one table, and the one rule that says where they come from.

Modules (``_common/ansible.py`` builds their argument specs from ``SUPERVISOR`` and ``VCENTER``),
the inventory plugin and the event sources all call ``resolve``; the doc fragments and the
sources' documentation say the same (``tests/unit/test_settings.py`` holds them to it).

The rule, for each face:

- **What the caller names wins, and a source is used whole.** When the task (with its
  ``module_defaults``), the inventory file or the rulebook names any setting that says *where* or
  *who* (every setting but ``ca_cert`` and ``validate_certs``), only what it names is used: the
  environment is not read for that face at all, so a token is never sent to a server from another
  place, and an environment that holds an admin's token never stands in for the credentials a task
  names.
- **The environment is one source too.** Only when the caller names none of those settings is the
  environment read; it gives one way to authenticate (the first in ``METHODS`` whose variable is
  set) with the settings that belong to it. The caller's ``ca_cert`` and ``validate_certs`` still
  win over the environment's.
- **One way to authenticate.** A caller that names two (a ``token`` from ``module_defaults`` and a
  ``username`` in the task) gets one clear error rather than a silent choice; an empty string
  switches off a setting that ``module_defaults`` gave.

Nothing here knows Ansible; failures are ``InvalidArgument``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument

# what a setting says about a connection: where (endpoint), who (credential), whom to trust (trust)
ENDPOINT, CREDENTIAL, TRUST = "endpoint", "credential", "trust"
_FALSE = ("0", "false", "no", "off", "n", "f")
_TRUE = ("1", "true", "yes", "on", "y", "t")


class Setting(object):
    """One connection setting: its option name, type, environment variables (first set wins),
    whether it is a secret, its default and aliases, and its role in the rule."""

    __slots__ = ("name", "type", "env", "secret", "default", "aliases", "role")

    def __init__(self, name, type, env, role, secret=False, default=None, aliases=()):  # pylint: disable=redefined-builtin
        self.name = name
        self.type = type
        self.env = tuple(env)
        self.role = role
        self.secret = secret
        self.default = default
        self.aliases = tuple(aliases)


class Face(object):
    """The settings of one face, and its ways to authenticate: ``methods`` maps a method's name
    to the settings that make it up, its first one the setting that chooses it; ``shared`` are
    the settings every method but ``standalone`` ones takes from the environment with it."""

    def __init__(self, title, settings, methods, standalone=(), required=()):
        self.title = title
        self.required = tuple(required)
        self.settings = tuple(settings)
        self.by_name = dict((setting.name, setting) for setting in self.settings)
        self.methods = methods
        self.standalone = tuple(standalone)
        in_methods = set(name for names in methods.values() for name in names)
        self.shared = tuple(s.name for s in self.settings if s.name not in in_methods)

    def names(self):
        return tuple(setting.name for setting in self.settings)

    def environment_of(self, name):
        return self.by_name[name].env

    def taken_with(self, method):
        """The settings the environment gives with ``method``: its own, and the shared ones unless
        the method names its own server and CA (a kubeconfig)."""
        return self.methods[method] + (() if method in self.standalone else self.shared)


SUPERVISOR = Face("the Supervisor", (
    Setting("server", "str", ["PACIFIC_SUPERVISOR_SERVER"], ENDPOINT),
    Setting("token", "str", ["PACIFIC_SUPERVISOR_TOKEN"], CREDENTIAL, secret=True),
    Setting("username", "str", ["PACIFIC_SUPERVISOR_USERNAME"], CREDENTIAL),
    Setting("password", "str", ["PACIFIC_SUPERVISOR_PASSWORD"], CREDENTIAL, secret=True),
    Setting("login_url", "str", ["PACIFIC_WCP_LOGIN_URL"], ENDPOINT),
    Setting("kubeconfig", "raw", ["PACIFIC_SUPERVISOR_KUBECONFIG", "K8S_AUTH_KUBECONFIG", "KUBECONFIG"], CREDENTIAL,
            secret=True),
    Setting("context", "str", ["K8S_AUTH_CONTEXT"], CREDENTIAL),
    Setting("ca_cert", "path", ["PACIFIC_SUPERVISOR_CA_CERT"], TRUST),
    Setting("validate_certs", "bool", ["PACIFIC_SUPERVISOR_VALIDATE_CERTS"], TRUST, default=True),
), methods={
    # in this order the environment's variables are tried
    "token": ("token",),
    "login": ("username", "password", "login_url"),
    "kubeconfig": ("kubeconfig", "context"),
}, standalone=("kubeconfig",))  # a kubeconfig names its own server and CA

VCENTER = Face("vCenter", (
    Setting("hostname", "str", ["VMWARE_HOST", "VMWARE_SERVER"], ENDPOINT),
    Setting("port", "int", ["VMWARE_PORT"], ENDPOINT, default=443),
    Setting("username", "str", ["VMWARE_USER", "VMWARE_USERNAME"], CREDENTIAL, aliases=("user",)),
    Setting("password", "str", ["VMWARE_PASSWORD"], CREDENTIAL, secret=True, aliases=("pass", "pwd")),
    Setting("validate_certs", "bool", ["VMWARE_VALIDATE_CERTS"], TRUST, default=True),
    Setting("ca_cert", "path", ["VMWARE_CA_CERT"], TRUST),
), methods={"password": ("username", "password")}, required=("hostname", "username", "password"))


def _named(value):
    """Whether a value counts as given: None and "" do not (an empty string switches a setting off)."""
    return value is not None and value != ""


def _converted(face, name, value, where):
    kind = face.by_name[name].type
    if kind == "bool" and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidArgument("{0} must be true or false, not {1!r} ({2})".format(name, value, where))
    if kind == "int" and not isinstance(value, int):
        try:
            return int(str(value).strip())
        except ValueError:
            raise InvalidArgument("{0} must be a whole number, not {1!r} ({2})".format(name, value, where))
    return value


def _from_environment(face, name, environ):
    """``(value, variable)`` of the first variable of ``name`` that is set, else ``(None, None)``."""
    for variable in face.environment_of(name):
        if _named(environ.get(variable)):
            return environ[variable], variable
    return None, None


def _methods_named(face, given, methods):
    """The ways to authenticate ``given`` chooses: those whose first setting (token, username,
    kubeconfig) it names. A password or context left over from module_defaults chooses nothing."""
    return [method for method in methods if _named(given.get(face.methods[method][0]))]


def _check_one_method(face, given, named_methods):
    if len(named_methods) > 1:
        names = ", ".join(face.methods[method][0] for method in named_methods)
        raise InvalidArgument(
            "{0}: give one way to authenticate, not several ({1}); set the others to an empty string to "
            "switch off what module_defaults give".format(face.title, names))


def resolve(face, given, environ, methods=None):
    """The settings to connect with: ``{name: value}`` for every setting of ``face`` (None where
    none applies), chosen by the rule of this module, and ``source``: ``"given"``,
    ``"environment"`` or None (nothing at all was named).

    ``given``: what the caller named (None or "" for what it left out). ``environ``: the
    environment (``os.environ``). ``methods``: the ways to authenticate this caller uses (all of
    the face's by default); the settings of the others are not looked at."""
    methods = tuple(methods or face.methods)
    used = set(face.shared).union(*(face.methods[method] for method in methods))
    given = dict((name, value) for name, value in given.items() if name in used)
    settings = dict((name, None) for name in face.names())
    identifying = [s.name for s in face.settings if s.role != TRUST]
    if any(_named(given.get(name)) for name in identifying):
        _check_one_method(face, given, _methods_named(face, given, methods))
        source = "given"
        for name in face.names():
            if _named(given.get(name)):
                settings[name] = _converted(face, name, given[name], "as given")
    else:
        source = None
        for method in methods:
            chooser = face.methods[method][0]
            if _from_environment(face, chooser, environ)[0] is None:
                continue
            source = "environment"
            for name in face.taken_with(method):
                value, variable = _from_environment(face, name, environ)
                if value is not None:
                    settings[name] = _converted(face, name, value, "environment variable " + variable)
            break
        for name in face.names():  # the caller's trust settings win over the environment's
            if face.by_name[name].role == TRUST and _named(given.get(name)):
                settings[name] = _converted(face, name, given[name], "as given")
    for setting in face.settings:
        if settings[setting.name] is None and setting.default is not None:
            settings[setting.name] = setting.default
    missing = [name for name in face.required if settings[name] is None]
    if missing:
        where = ("name it too: when any of {0} is named, the environment is not read".format(
            ", ".join(s.name for s in face.settings if s.role != TRUST))
            if source == "given" else "set {0}, or the environment variables {1}".format(
                ", ".join(face.required), ", ".join(face.environment_of(n)[0] for n in face.required)))
        raise InvalidArgument("{0}: {1} missing: {2}".format(face.title, ", ".join(missing), where))
    settings["source"] = source
    return settings


def refuse_unknown(args, options, source):
    """Refuse the arguments an event source does not take (``options``: its own and its
    connection settings; ansible-rulebook's own ``eda_*`` arguments pass), naming what it takes."""
    unknown = sorted(key for key in args if key not in options and not key.startswith("eda_"))
    if unknown:
        raise InvalidArgument("unknown option(s) {0}; the {1} takes {2}".format(
            ", ".join(unknown), source, ", ".join(options)))


def connection_settings(args, environ=None, face=SUPERVISOR):
    """The settings to connect with outside Ansible (the event sources): ``resolve`` of what
    ``args`` names over ``environ`` (``os.environ`` when None), without ``source``."""
    resolved = resolve(face, args, os.environ if environ is None else environ)
    resolved.pop("source")
    return resolved


def secrets_of(face, settings):
    """The secret values among resolved ``settings`` (to be masked wherever output is made)."""
    return [settings[s.name] for s in face.settings
            if s.secret and isinstance(settings.get(s.name), str) and settings[s.name]]


def describe_environment(face, methods=None):
    """One sentence naming the environment variables of ``face``, for error messages."""
    methods = tuple(methods or face.methods)
    parts = []
    for method in methods:
        variables = [face.environment_of(name)[0] for name in face.taken_with(method)
                     if face.by_name[name].role != TRUST]
        parts.append(" + ".join(variables))
    return " or ".join(parts)
