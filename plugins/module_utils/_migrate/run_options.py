# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``docker run``-like options (the VIC flags and a few more) as one canonical compose service.

The converter then treats a container exactly as a compose service, so ``container`` and
``migrate`` make the same manifests from the same settings. The report names the flag
(``--publish``), not the compose key it became.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import table

# option -> (the docker run flag, the compose key it is); flags without a compose key are handled here
OPTIONS = (
    ("image", "IMAGE", "image"),
    ("command", "COMMAND", "command"),
    ("entrypoint", "--entrypoint", "entrypoint"),
    ("env", "--env", "environment"),
    ("labels", "--label", "labels"),
    ("publish", "--publish", "ports"),
    ("expose", "--expose", "expose"),
    ("volumes", "--volume", "volumes"),
    ("memory", "--memory", "mem_limit"),
    ("cpus", "--cpus", "cpus"),
    ("cpuset_cpus", "--cpuset-cpus", "cpuset"),
    ("hostname", "--hostname", "hostname"),
    ("user", "--user", "user"),
    ("workdir", "--workdir", "working_dir"),
    ("interactive", "--interactive", "stdin_open"),
    ("tty", "--tty", "tty"),
    ("restart", "--restart", "restart"),
    ("healthcheck", "--health-cmd", "healthcheck"),
    ("cap_add", "--cap-add", "cap_add"),
    ("cap_drop", "--cap-drop", "cap_drop"),
    ("dns", "--dns", "dns"),
    ("stop_timeout", "--stop-timeout", "stop_grace_period"),
    ("stop_signal", "--stop-signal", "stop_signal"),
    ("privileged", "--privileged", "privileged"),
    ("network", "--net", "network_mode"),
    ("links", "--link", "links"),
)
REFUSED_OPTIONS = (("ip", "--ip", table.RULE_STATIC_IP), ("net_alias", "--net-alias", table.RULE_LINK_ALIAS))
CLIENT_OPTIONS = (("detach", "--detach"), ("rm", "--rm"), ("attach", "--attach"))
FLAG_OF_KEY = dict((key, flag) for _option, flag, key in OPTIONS)
PUBLISH = re.compile(r"^(?:(?P<ip>\[[^\]]+\]|\d+\.\d+\.\d+\.\d+):)?(?:(?P<published>[0-9-]*):)?(?P<target>[0-9-]+)(?:/(?P<proto>tcp|udp|sctp))?$")


def _port(text):
    match = PUBLISH.match(str(text).strip())
    if not match:
        raise errors.InvalidArgument("publish {0!r} is not [ip:][host_port:]container_port[/protocol]".format(text))
    port = {"target": match.group("target") if "-" in match.group("target") else int(match.group("target")),
            "protocol": match.group("proto") or "tcp", "mode": "ingress"}
    if match.group("published"):
        port["published"] = match.group("published")
    if match.group("ip"):
        port["host_ip"] = match.group("ip").strip("[]")
    return port


def _volume(text, volumes):
    parts = str(text).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    mount = {"target": target}
    if len(parts) > 2 and "ro" in parts[2].split(","):
        mount["read_only"] = True
    if source.startswith(("/", ".", "~")):
        mount.update(type="bind", source=os.path.abspath(os.path.expanduser(source)))
    else:
        mount.update(type="volume", source=source)
        volumes.setdefault(source, {})
    return mount


def project_of(params):
    """``(project, client_entries)``: a canonical compose project with one service named after
    the container, and the report entries of the options that only the client acts on."""
    service, volumes = {}, {}
    for option, _flag, key in OPTIONS:
        value = params.get(option)
        if value is None or value == [] or value == {}:
            continue
        if option == "publish":
            value = [_port(item) for item in value]
        elif option == "expose":
            value = [str(item) for item in value]
        elif option == "volumes":
            value = [_volume(item, volumes) for item in value]
        elif option == "healthcheck":
            value = dict(value)
            if isinstance(value.get("test"), str):
                value["test"] = ["CMD-SHELL", value["test"]]
        elif option == "env":
            value = dict((str(k), None if v is None else str(v)) for k, v in value.items())
        elif option == "stop_timeout":
            value = "{0}s".format(int(value))
        service[key] = value
    for name, capacity in (params.get("volume_capacities") or {}).items():
        volumes.setdefault(name, {})["driver_opts"] = {"Capacity": str(capacity)}
    extra = []
    for option, flag, rule in REFUSED_OPTIONS:
        if params.get(option):
            extra.append((flag, table.REFUSED, "{0} {1}".format(flag, params[option]), rule))
    for option, flag in CLIENT_OPTIONS:
        if params.get(option) is not None:
            extra.append((flag, table.CLIENT_ONLY, table.VIC_RUN_FLAGS[flag][2], None))
    return {"name": params["name"], "services": {params["name"]: service}, "volumes": volumes}, extra


def flag_report(report, extras, file=None, flags=None):
    """The converter's report with keys named as ``docker run`` flags (``flags``: compose key ->
    flag, ``FLAG_OF_KEY`` by default) and ``file`` as the file, plus the entries the caller read
    itself: ``extras`` maps a service to its ``(flag, outcome, detail, rule)`` tuples."""
    flags = FLAG_OF_KEY if flags is None else flags
    renamed = []
    for entry in report:
        entry = dict(entry, file=file)
        entry["key"] = flags.get(entry["key"].split(".")[0], entry["key"])
        renamed.append(entry)
    for service, extra in sorted(extras.items()):
        for flag, outcome, detail, rule in extra:
            entry = {"file": file, "service": service, "key": flag, "outcome": outcome, "detail": detail}
            if rule:
                entry.update(rule=rule, detail="{0}: {1}".format(detail, rule))
            renamed.append(entry)
    return renamed
