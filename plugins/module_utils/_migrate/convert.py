# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A canonical compose project to native-pod manifests, with one report entry per service key.

Input is the canonical form ``docker compose config --format json`` gives (long syntax
everywhere, variables interpolated, ``extends`` resolved). Every key of every service ends in
the report as ``mapped``, ``refused`` (with the vSphere Pod rule it breaks) or ``client_only``;
a key no table knows is refused, never ignored. Manifests are made only for services with no
refusal, so a caller that writes only when ``refused`` is empty writes nothing half.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import re

from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import table
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate.table import (
    CLIENT_ONLY, MAPPED, REFUSED)

PROJECT_LABEL = "pacific.supervisor/compose-project"
SERVICE_LABEL = "pacific.supervisor/compose-service"
DIALECTS = ("docker", "vic")
VIC_DEFAULT_CPUS = 2
VIC_DEFAULT_MEMORY_MB = 2048
VIC_MINIMUM_MEMORY_MB = 512
DEFAULT_VOLUME_SIZE = "1Gi"  # VIC's volume-store default, and ours for docker volumes
MAX_FILE_BYTES = 1024 * 1024  # what a ConfigMap or Secret holds
MI = 1024 * 1024
FORBIDDEN_CAPABILITIES = ("ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_TIME", "SYS_BOOT", "MAC_ADMIN")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
DURATION_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
PULL_POLICIES = {"always": "Always", "missing": "IfNotPresent", "if_not_present": "IfNotPresent",
                 "never": "Never", "daily": "Always", "weekly": "Always"}


class Options(object):
    """How to convert: ``dialect`` docker or vic, ``storage_class`` of the claims, ``volume_size``
    of a claim whose volume names none, ``bind_files`` (carry bind-mounted files as ConfigMaps),
    ``flatten_networks`` (accept several networks as the one namespace network), ``images``
    (service -> image, for services that only ``build``)."""

    def __init__(self, dialect="docker", storage_class=None, volume_size=DEFAULT_VOLUME_SIZE, bind_files=False,
                 flatten_networks=False, images=None):
        if dialect not in DIALECTS:
            raise ValueError("dialect must be one of {0}".format(", ".join(DIALECTS)))
        self.dialect = dialect
        self.storage_class = storage_class
        self.volume_size = volume_size
        self.bind_files = bind_files
        self.flatten_networks = flatten_networks
        self.images = dict(images or {})


def k8s_name(name):
    """A compose name as a DNS-1123 label (lowercase; ``_`` and ``.`` become ``-``), or None."""
    text = re.sub(r"[_.]", "-", str(name).lower()).strip("-")[:63].rstrip("-")
    return text if re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", text) else None


def seconds(duration):
    """A Go duration (``1m30s``, ``10s``) or a number of seconds, as whole seconds (at least 1)."""
    if isinstance(duration, (int, float)):
        return max(1, int(round(duration)))
    total = sum(float(number) * DURATION_SECONDS[unit] for number, unit in DURATION.findall(str(duration)))
    return max(1, int(round(total)))


def byte_count(value):
    """Bytes of a compose size: a number of bytes, or ``512m``, ``2g``, ``1.5GB``."""
    if isinstance(value, (int, float)):
        return int(value)
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", str(value).lower())
    if not match:
        raise ValueError("{0!r} is not a size".format(value))
    factor = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}[match.group(2)]
    return int(float(match.group(1)) * factor)


def quantity(count):
    """Bytes as a Kubernetes quantity, in Gi or Mi when exact."""
    for suffix, factor in (("Gi", 1024 ** 3), ("Mi", MI), ("Ki", 1024)):
        if count and count % factor == 0:
            return "{0}{1}".format(count // factor, suffix)
    return str(count)


def cpu_quantity(value):
    number = float(value)
    return str(int(number)) if number == int(number) else "{0}m".format(int(round(number * 1000)))


class Report(object):
    """The entries of one project's report."""

    def __init__(self, file_name):
        self.file = file_name
        self.entries = []

    def add(self, service, key, outcome, detail, rule=None):
        entry = {"file": self.file, "service": service, "key": key, "outcome": outcome, "detail": detail}
        if rule:
            entry["rule"] = rule
            entry["detail"] = "{0}: {1}".format(detail, rule) if detail else rule
        self.entries.append(entry)
        return entry


class ServiceBuild(object):
    """What one service becomes while its keys are read."""

    def __init__(self, converter, name, spec):
        self.converter = converter
        self.options = converter.options
        self.project = converter.project
        self.name = name
        self.spec = spec
        self.k8s = k8s_name(name)
        self.container = {"name": self.k8s or "main"}
        self.pod = {}
        self.volumes = []
        self.mounts = []
        self.published = []
        self.exposed = []
        self.annotations = {}
        self.extra_objects = []
        self.resources = {}
        self.restart = None
        self.replicas = None
        self.after = []
        self.refused = False
        self.security = {}
        self.pod_security = {}

    # --- report ----------------------------------------------------------------------------
    def mapped(self, key, detail):
        self.converter.report.add(self.name, key, MAPPED, detail)

    def refuse(self, key, detail, rule):
        self.refused = True
        self.converter.report.add(self.name, key, REFUSED, detail, rule)

    def client(self, key, detail):
        self.converter.report.add(self.name, key, CLIENT_ONLY, detail)

    def volume(self, volume, mount):
        name = "vol-{0}".format(len(self.volumes) + 1)
        volume = dict(volume, name=name)
        self.volumes.append(volume)
        self.mounts.append(dict(mount, name=name))


# --- one handler per mapped key -----------------------------------------------------------------
def _image(build, key, value):
    build.container["image"] = value
    build.mapped(key, "image {0}".format(value))


def _build(build, key, value):
    given = build.options.images.get(build.name)
    if given:
        build.container["image"] = given
        build.mapped(key, "built elsewhere; image {0} from images".format(given))
    elif build.spec.get("image"):
        build.mapped(key, "built elsewhere; the service's image {0} is run".format(build.spec["image"]))
    else:
        build.refuse(key, "service {0} only builds (context {1})".format(
            build.name, (value or {}).get("context")), table.RULE_BUILD)


def _command(build, key, value):
    build.container["args"] = [str(part) for part in value]
    build.mapped(key, "args")


def _entrypoint(build, key, value):
    build.container["command"] = [str(part) for part in value]
    build.mapped(key, "command")


def _environment(build, key, value):
    env = []
    unset = []
    for name, val in sorted(value.items()):
        if val is None:
            unset.append(name)
            val = ""
        env.append({"name": name, "value": str(val)})
    build.container["env"] = env
    detail = "{0} variables".format(len(env))
    if unset:
        detail += "; unset in compose's environment, given empty: {0}".format(", ".join(unset))
    build.mapped(key, detail)


def _set_container(field, convert=lambda v: v, describe=None):
    def handler(build, key, value):
        build.container[field] = convert(value)
        build.mapped(key, describe or field)
    return handler


def _container_name(build, key, value):
    name = k8s_name(value)
    if not name:
        build.refuse(key, "container name {0!r} is no DNS-1123 label".format(value),
                     "Kubernetes names are DNS-1123 labels")
        return
    build.container["name"] = name
    build.mapped(key, "container name {0}; other services reach it as {1}".format(name, build.k8s))


def _hostname(build, key, value):
    name = k8s_name(value)
    if not name or name != value:
        build.refuse(key, "hostname {0!r} is no DNS-1123 label".format(value), "a pod's hostname is a DNS-1123 label")
        return
    build.pod["hostname"] = value
    build.mapped(key, "hostname")


def _labels(build, key, value):
    build.annotations.update(dict((str(k), str(v)) for k, v in value.items()))
    build.mapped(key, "{0} annotations".format(len(value)))


def _ports(build, key, value):
    for port in value:
        target, published = port.get("target"), port.get("published")
        protocol = str(port.get("protocol") or "tcp").upper()
        text = "{0}{1}/{2}".format("{0}:".format(published) if published else "", target, protocol.lower())
        if port.get("host_ip") and port["host_ip"] not in ("0.0.0.0", "::"):
            build.refuse(key, "{0} bound to host address {1}".format(text, port["host_ip"]), table.RULE_HOST_PORT)
        elif port.get("mode") == "host":
            build.refuse(key, "{0} in host mode".format(text), table.RULE_HOST_PORT)
        elif published and "-" in str(published) or "-" in str(target):
            build.refuse(key, "{0} is a range".format(text), table.RULE_PORT_RANGE)
        else:
            number = int(published) if published else int(target)
            build.published.append((number, int(target), protocol))
            build.mapped(key, "{0}: Service {1} (LoadBalancer) port {2} -> {3}".format(text, build.k8s, number, target))


def _expose(build, key, value):
    for item in value:
        text = str(item)
        port, _slash, protocol = text.partition("/")
        if "-" in port:
            build.refuse(key, "{0} is a range".format(text), table.RULE_PORT_RANGE)
            continue
        build.exposed.append((int(port), int(port), (protocol or "tcp").upper()))
        build.mapped(key, "{0}: Service {1} port {2}".format(text, build.k8s, port))


def _restart(build, key, value):
    build.restart = value
    build.mapped(key, "restart {0}".format(value))


def _scale(build, key, value):
    build.replicas = int(value)
    build.mapped(key, "a Deployment of {0} replicas".format(value))


def _cpus(build, key, value):
    if float(value) <= 0:
        build.mapped(key, "no CPU limit")
        return
    build.resources.setdefault("limits", {})["cpu"] = cpu_quantity(value)
    build.mapped(key, "resources.limits.cpu {0}{1}".format(
        cpu_quantity(value), " (vCPUs)" if build.options.dialect == "vic" else ""))


def _cpuset(build, key, value):
    if build.options.dialect != "vic":
        build.refuse(key, "cpuset {0}".format(value), "a vSphere Pod's vCPUs are its VM's; no host CPU pinning")
        return
    try:
        count = int(str(value))
    except ValueError:
        build.refuse(key, "cpuset {0!r}".format(value), "VIC reads --cpuset-cpus as a vCPU count, a whole number")
        return
    build.resources.setdefault("limits", {})["cpu"] = str(count)
    build.mapped(key, "{0} vCPUs (VIC): resources.limits.cpu {0}".format(count))


def _memory(part):
    def handler(build, key, value):
        count = byte_count(value)
        detail = ""
        if build.options.dialect == "vic" and part == "limits" and count < VIC_MINIMUM_MEMORY_MB * MI:
            detail = " (raised to VIC's minimum of {0} MB)".format(VIC_MINIMUM_MEMORY_MB)
            count = VIC_MINIMUM_MEMORY_MB * MI
        build.resources.setdefault(part, {})["memory"] = quantity(count)
        build.mapped(key, "resources.{0}.memory {1}{2}".format(part, quantity(count), detail))
    return handler


def _healthcheck(build, key, value):
    if value.get("disable") or (value.get("test") or [None])[0] == "NONE":
        build.mapped(key, "disabled: no probes")
        return
    test = value.get("test") or []
    if not test:
        build.mapped(key, "no test: the image's health check is not carried (a pod has none)")
        return
    if test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", " ".join(test[1:])]
    elif test[0] == "CMD":
        command = list(test[1:])
    else:
        command = ["/bin/sh", "-c", " ".join(test)]
    probe = {"exec": {"command": command}}
    for field, target in (("interval", "periodSeconds"), ("timeout", "timeoutSeconds")):
        if value.get(field):
            probe[target] = seconds(value[field])
    if value.get("retries"):
        probe["failureThreshold"] = int(value["retries"])
    readiness = dict(probe)
    liveness = dict(probe)
    if value.get("start_period"):
        liveness["initialDelaySeconds"] = seconds(value["start_period"])
    build.container["readinessProbe"] = readiness
    build.container["livenessProbe"] = liveness
    build.mapped(key, "readiness and liveness probes: exec {0}".format(" ".join(command)))


def _depends_on(build, key, value):
    for other, how in sorted(value.items()):
        build.after.append(other)
        condition = (how or {}).get("condition", "service_started")
        build.mapped(key, "created after {0}; with wait, after {0} is {1}".format(
            other, {"service_healthy": "ready", "service_completed_successfully": "completed"}.get(condition, "started")))


def _user(build, key, value):
    user, _colon, group = str(value).partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        build.refuse(key, "user {0!r}".format(value), table.RULE_USER_NAME)
        return
    build.security["runAsUser"] = int(user)
    if group:
        build.security["runAsGroup"] = int(group)
    build.mapped(key, "runAsUser {0}{1}".format(user, ", runAsGroup {0}".format(group) if group else ""))


def _group_add(build, key, value):
    groups = [str(g) for g in value]
    names = [g for g in groups if not g.isdigit()]
    if names:
        build.refuse(key, "groups {0}".format(", ".join(names)), table.RULE_USER_NAME)
        return
    build.pod_security["supplementalGroups"] = [int(g) for g in groups]
    build.mapped(key, "supplementalGroups {0}".format(", ".join(groups)))


def _cap_add(build, key, value):
    refused = [c for c in value if str(c).upper().replace("CAP_", "") in FORBIDDEN_CAPABILITIES]
    for cap in refused:
        build.refuse(key, "capability {0}".format(cap), table.RULE_CAPABILITIES)
    kept = [str(c).upper().replace("CAP_", "") for c in value if c not in refused]
    if kept:
        build.security.setdefault("capabilities", {})["add"] = kept
        build.mapped(key, "capabilities.add {0}".format(", ".join(kept)))


def _cap_drop(build, key, value):
    build.security.setdefault("capabilities", {})["drop"] = [str(c).upper().replace("CAP_", "") for c in value]
    build.mapped(key, "capabilities.drop {0}".format(", ".join(str(c) for c in value)))


def _privileged(build, key, value):
    if value:
        build.refuse(key, "privileged: true", table.RULE_PRIVILEGED)
    else:
        build.security["privileged"] = False
        build.mapped(key, "privileged false")


def _read_only(build, key, value):
    build.security["readOnlyRootFilesystem"] = bool(value)
    build.mapped(key, "readOnlyRootFilesystem {0}".format(bool(value)).lower())


def _security_opt(build, key, value):
    for option in value:
        if str(option).replace("=", ":") in ("no-new-privileges", "no-new-privileges:true"):
            build.security["allowPrivilegeEscalation"] = False
            build.mapped(key, "{0}: allowPrivilegeEscalation false".format(option))
        else:
            build.refuse(key, str(option), table.RULE_SECURITY_OPTIONS)


def _namespace_mode(kind):
    def handler(build, key, value):
        text = str(value)
        if text in ("private", "shareable", ""):
            build.mapped(key, "{0}: the pod's own {1} namespace".format(text, kind))
        elif text == "host":
            build.refuse(key, "{0}: host".format(key), table.RULE_HOST_NAMESPACES)
        else:
            build.refuse(key, "{0}: {1}".format(key, text), table.RULE_SHARED_NAMESPACES)
    return handler


def _network_mode(build, key, value):
    text = str(value)
    if text in ("bridge", "default"):
        build.mapped(key, "{0}: the namespace network".format(text))
    elif text == "host":
        build.refuse(key, "network_mode: host", table.RULE_HOST_NAMESPACES)
    elif text == "none":
        build.refuse(key, "network_mode: none", table.RULE_NONE_NETWORK)
    else:
        build.refuse(key, "network_mode: {0}".format(text), table.RULE_SHARED_NAMESPACES)


def _networks(build, key, value):
    for network, settings in sorted((value or {}).items()):
        settings = settings or {}
        for field in ("ipv4_address", "ipv6_address", "mac_address", "link_local_ips"):
            if settings.get(field):
                build.refuse(key, "{0}.{1}".format(network, field), table.RULE_STATIC_IP)
        aliases = [a for a in settings.get("aliases") or [] if a != build.name]
        if aliases:
            build.refuse(key, "{0}.aliases {1}".format(network, ", ".join(aliases)), table.RULE_LINK_ALIAS)
    cut_off = build.converter.isolated_from(build.name)
    if cut_off and not build.options.flatten_networks:
        build.refuse(key, "{0} ({1}) shares no network with {2}".format(
            build.name, ", ".join(sorted(value)), ", ".join(cut_off)), table.RULE_NETWORKS)
    elif cut_off:
        build.mapped(key, "{0}: the one namespace network (flatten_networks: isolation from {1} dropped)".format(
            ", ".join(sorted(value)), ", ".join(cut_off)))
    else:
        build.mapped(key, "{0}: the namespace network".format(", ".join(sorted(value))))


def _links(build, key, value):
    for link in value:
        target, _colon, alias = str(link).partition(":")
        if alias and alias != target:
            build.refuse(key, "{0} as {1}".format(target, alias), table.RULE_LINK_ALIAS)
        else:
            build.mapped(key, "{0}: reached by its Service name".format(target))


def _extra_hosts(build, key, value):
    items = value.items() if isinstance(value, dict) else [re.split(r"[=:]", str(h), 1) for h in value]
    aliases = {}
    for host, address in items:
        for one in address if isinstance(address, list) else [address]:
            aliases.setdefault(str(one), []).append(str(host))
    build.pod["hostAliases"] = [{"ip": ip, "hostnames": names} for ip, names in sorted(aliases.items())]
    build.mapped(key, "hostAliases {0}".format(", ".join(sorted(aliases))))


def _dns(field):
    def handler(build, key, value):
        values = value if isinstance(value, list) else [value]
        config = build.pod.setdefault("dnsConfig", {})
        if field == "options":
            config["options"] = [dict(zip(("name", "value"), str(v).split(":", 1))) for v in values]
        else:
            config[field] = [str(v) for v in values]
        build.mapped(key, "dnsConfig.{0}".format(field))
    return handler


def _logging(build, key, value):
    driver = (value or {}).get("driver") or "json-file"
    if driver in ("json-file", "local"):
        build.mapped(key, "driver {0}: logs kept by the pod (kubectl logs)".format(driver))
    else:
        build.refuse(key, "logging driver {0}".format(driver),
                     "a vSphere Pod's logs are kept by the Spherelet; no logging driver can be chosen")


def _platform(build, key, value):
    if str(value) in ("linux/amd64", "linux/x86_64", "amd64"):
        build.mapped(key, "{0}".format(value))
    else:
        build.refuse(key, "platform {0}".format(value), table.RULE_PLATFORM)


def _pull_policy(build, key, value):
    policy = PULL_POLICIES.get(str(value))
    if policy is None:
        build.refuse(key, "pull_policy {0}".format(value), table.RULE_BUILD)
        return
    build.container["imagePullPolicy"] = policy
    build.mapped(key, "imagePullPolicy {0}".format(policy))


def _stop_grace_period(build, key, value):
    build.pod["terminationGracePeriodSeconds"] = seconds(value)
    build.mapped(key, "terminationGracePeriodSeconds {0}".format(seconds(value)))


def _stop_signal(build, key, value):
    if str(value).upper() in ("SIGTERM", "TERM", "15"):
        build.mapped(key, "SIGTERM, as a pod is stopped")
    else:
        build.refuse(key, "stop_signal {0}".format(value), table.RULE_STOP_SIGNAL)


def _hook(field):
    def handler(build, key, value):
        for hook in value:
            if hook.get("privileged") or hook.get("user"):
                build.refuse(key, "a hook with user or privileged", table.RULE_PRIVILEGED)
                return
        commands = [[str(p) for p in hook.get("command") or []] for hook in value]
        if len(commands) != 1:
            build.refuse(key, "{0} hooks".format(len(commands)), "a container has one {0} handler".format(field))
            return
        build.container.setdefault("lifecycle", {})[field] = {"exec": {"command": commands[0]}}
        build.mapped(key, "lifecycle.{0} exec".format(field))
    return handler


def _tmpfs(build, key, value):
    for path in value if isinstance(value, list) else [value]:
        target = str(path).split(":", 1)[0]
        build.volume({"emptyDir": {"medium": "Memory"}}, {"mountPath": target})
        build.mapped(key, "{0}: an emptyDir in memory".format(target))


def _shm_size(build, key, value):
    size = quantity(byte_count(value))
    build.volume({"emptyDir": {"medium": "Memory", "sizeLimit": size}}, {"mountPath": "/dev/shm"})
    build.mapped(key, "/dev/shm: an emptyDir in memory of {0}".format(size))


def _volumes(build, key, value):
    for mount in value:
        kind, source, target = mount.get("type"), mount.get("source"), mount.get("target")
        read_only = bool(mount.get("read_only"))
        base = {"mountPath": target}
        if read_only:
            base["readOnly"] = True
        if kind == "volume" and source:
            claim, detail = build.converter.claim(source)
            if claim is None:
                build.refuse(key, "{0}: volume {1}".format(target, source), detail)
                continue
            subpath = (mount.get("volume") or {}).get("subpath")
            if subpath:
                base["subPath"] = subpath
            build.volume({"persistentVolumeClaim": {"claimName": claim}}, base)
            build.mapped(key, "{0}: {1}".format(target, detail))
        elif kind == "volume":
            build.volume({"emptyDir": {}}, base)
            build.mapped(key, "{0}: an anonymous volume, an emptyDir".format(target))
        elif kind == "tmpfs":
            empty = {"medium": "Memory"}
            if (mount.get("tmpfs") or {}).get("size"):
                empty["sizeLimit"] = quantity(byte_count(mount["tmpfs"]["size"]))
            build.volume({"emptyDir": empty}, base)
            build.mapped(key, "{0}: tmpfs, an emptyDir in memory".format(target))
        elif kind == "bind":
            _bind(build, key, source, target, base)
        else:
            build.refuse(key, "{0}: a {1} mount".format(target, kind), table.RULE_HOST_PATH)


def _bind(build, key, source, target, base):
    what = "{0}:{1}".format(source, target)
    if str(source).endswith("docker.sock"):
        build.refuse(key, "{0} (the Docker socket)".format(what), table.RULE_DOCKER_SOCKET)
    elif os.path.isdir(source):
        build.refuse(key, "{0} binds a directory".format(what), table.RULE_HOST_PATH)
    elif not os.path.exists(source):
        build.refuse(key, "{0}: {1} does not exist (a bind of a missing path is a directory)".format(what, source),
                     table.RULE_HOST_PATH)
    elif not os.path.isfile(source):
        build.refuse(key, "{0} binds a socket or device".format(what), table.RULE_HOST_PATH)
    elif not build.options.bind_files:
        build.refuse(key, "{0} binds a file (set bind_files to carry it as a ConfigMap)".format(what),
                     table.RULE_HOST_PATH)
    else:
        config_map, item = build.converter.file_object("ConfigMap", build.k8s, source)
        if config_map is None:
            build.refuse(key, "{0}: {1}".format(what, item), table.RULE_MISSING_FILE)
            return
        build.volume({"configMap": {"name": config_map}}, dict(base, subPath=item, readOnly=True))
        build.mapped(key, "{0}: the file as ConfigMap {1} (bind_files)".format(what, config_map))


def _objects(kind, top_key):
    def handler(build, key, value):
        for ref in value:
            source = ref.get("source")
            target = ref.get("target") or ("/run/secrets/{0}".format(source) if kind == "Secret" else "/" + source)
            if not target.startswith("/"):
                target = "/run/secrets/" + target
            made, item = build.converter.defined_object(kind, top_key, source)
            if made is None:
                build.refuse(key, "{0} {1}: {2}".format(key, source, item), table.RULE_MISSING_FILE)
                continue
            field = "secret" if kind == "Secret" else "configMap"
            name_field = "secretName" if kind == "Secret" else "name"
            build.volume({field: {name_field: made}}, {"mountPath": target, "subPath": item, "readOnly": True})
            build.mapped(key, "{0} {1} at {2}".format(kind, made, target))
    return handler


def _deploy(build, key, value):
    for sub, setting in sorted((value or {}).items()):
        path = "deploy.{0}".format(sub)
        outcome, detail = table.DEPLOY_KEYS.get(sub, (REFUSED, table.RULE_UNKNOWN))
        if outcome == REFUSED:
            build.refuse(path, sub, detail)
        elif sub == "replicas":
            _scale(build, path, setting)
        elif sub == "mode":
            if setting in ("replicated", None):
                build.mapped(path, "replicated: a Deployment")
            else:
                build.refuse(path, "mode {0}".format(setting), table.RULE_SWARM)
        elif sub == "labels":
            _labels(build, path, setting)
        elif sub == "placement":
            if any(setting.get(field) for field in ("constraints", "preferences", "max_replicas_per_node")):
                build.refuse(path, "placement rules", table.RULE_SWARM)
            else:
                build.mapped(path, "none given")
        elif sub == "restart_policy":
            condition = setting.get("condition", "any")
            build.restart = {"any": "always", "on-failure": "on-failure", "none": "no"}.get(condition, condition)
            build.mapped(path, "condition {0}".format(condition))
        elif sub == "resources":
            for part, target in (("limits", "limits"), ("reservations", "requests")):
                for field, amount in sorted((setting.get(part) or {}).items()):
                    where = "{0}.resources.{1}.{2}".format(key, part, field)
                    if field == "cpus":
                        build.resources.setdefault(target, {})["cpu"] = cpu_quantity(amount)
                        build.mapped(where, "resources.{0}.cpu {1}".format(target, cpu_quantity(amount)))
                    elif field == "memory":
                        _memory(target)(build, where, amount)
                    else:
                        build.refuse(where, field, table.RULE_DEVICES if field in ("devices", "generic_resources")
                                     else table.RULE_KERNEL_TUNING)


HANDLERS = {
    "annotations": lambda b, k, v: (b.annotations.update(dict((str(x), str(y)) for x, y in v.items())),
                                    b.mapped(k, "{0} annotations".format(len(v)))),
    "build": _build,
    "cap_add": _cap_add,
    "cap_drop": _cap_drop,
    "command": _command,
    "configs": _objects("ConfigMap", "configs"),
    "container_name": _container_name,
    "cpus": _cpus,
    "cpuset": _cpuset,
    "depends_on": _depends_on,
    "deploy": _deploy,
    "dns": _dns("nameservers"),
    "dns_opt": _dns("options"),
    "dns_search": _dns("searches"),
    "entrypoint": _entrypoint,
    "env_file": lambda b, k, v: b.mapped(k, "read by compose into environment ({0})".format(
        ", ".join(str(e.get("path") if isinstance(e, dict) else e) for e in v))),
    "environment": _environment,
    "expose": _expose,
    "extra_hosts": _extra_hosts,
    "group_add": _group_add,
    "healthcheck": _healthcheck,
    "hostname": _hostname,
    "image": _image,
    "ipc": _namespace_mode("IPC"),
    "label_file": lambda b, k, v: b.mapped(k, "read by compose into labels"),
    "labels": _labels,
    "links": _links,
    "logging": _logging,
    "mem_limit": _memory("limits"),
    "mem_reservation": _memory("requests"),
    "network_mode": _network_mode,
    "networks": _networks,
    "pid": _namespace_mode("PID"),
    "platform": _platform,
    "ports": _ports,
    "post_start": _hook("postStart"),
    "pre_stop": _hook("preStop"),
    "privileged": _privileged,
    "pull_policy": _pull_policy,
    "read_only": _read_only,
    "restart": _restart,
    "scale": _scale,
    "secrets": _objects("Secret", "secrets"),
    "security_opt": _security_opt,
    "shm_size": _shm_size,
    "stdin_open": _set_container("stdin", bool, "stdin"),
    "stop_grace_period": _stop_grace_period,
    "stop_signal": _stop_signal,
    "tmpfs": _tmpfs,
    "tty": _set_container("tty", bool, "tty"),
    "user": _user,
    "volumes": _volumes,
    "working_dir": _set_container("workingDir", str, "workingDir"),
}


class Converter(object):
    """One canonical project -> manifests and report."""

    def __init__(self, project, file_name, options, namespace=None):
        self.project = project
        self.name = k8s_name(project.get("name") or "compose") or "compose"
        self.options = options
        self.namespace = namespace
        self.report = Report(file_name)
        self.shared = []  # PVCs, ConfigMaps and Secrets, made once per project
        self._made = {}

    # --- shared objects ------------------------------------------------------------------------
    def metadata(self, name, service=None):
        labels = {PROJECT_LABEL: self.name, "app.kubernetes.io/part-of": self.name,
                  "app.kubernetes.io/managed-by": "pacific.supervisor.migrate"}
        if service:
            labels[SERVICE_LABEL] = service
            labels["app.kubernetes.io/name"] = service
        metadata = {"name": name, "labels": labels}
        if self.namespace:
            metadata["namespace"] = self.namespace
        return metadata

    def _add_shared(self, manifest):
        key = (manifest["kind"], manifest["metadata"]["name"])
        if key not in self._made:
            self._made[key] = manifest
            self.shared.append(manifest)

    def claim(self, volume):
        """(claim name, detail) of a named volume, or (None, the rule) when it cannot be one."""
        spec = (self.project.get("volumes") or {}).get(volume) or {}
        if spec.get("external"):
            name = k8s_name(spec.get("name") or volume)
            return name, "the existing claim {0} (external volume)".format(name)
        if spec.get("driver") not in (None, "", "local", "vsphere"):
            return None, "a vSphere Pod's volumes are CSI claims; volume driver {0} has none".format(spec["driver"])
        name = k8s_name(volume)
        if not name:
            return None, "Kubernetes names are DNS-1123 labels; volume {0!r} gives none".format(volume)
        options = dict((str(k).lower(), v) for k, v in (spec.get("driver_opts") or {}).items())
        size, origin = self.options.volume_size, "default"
        if "capacity" in options:
            text = str(options["capacity"])
            count = byte_count(text + ("MB" if text.isdigit() else ""))  # VIC: a number of MB
            size, origin = quantity(count), "capacity {0}".format(text)
        elif self.options.dialect == "vic":
            origin = "VIC default"
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": self.metadata(name),
                 "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}
        if self.options.storage_class:
            claim["spec"]["storageClassName"] = self.options.storage_class
        self._add_shared(claim)
        return name, "claim {0} of {1} ({2}){3}".format(
            name, size, origin, ", storage class {0}".format(self.options.storage_class)
            if self.options.storage_class else "")

    def file_object(self, kind, prefix, path):
        """(object name, item key) of a ConfigMap/Secret holding the file at ``path``, or (None, why)."""
        try:
            with open(path, "rb") as handle:
                content = handle.read(MAX_FILE_BYTES + 1)
        except (IOError, OSError) as err:
            return None, "cannot read {0}: {1}".format(path, err.strerror or err)
        if len(content) > MAX_FILE_BYTES:
            return None, "{0} is larger than the 1 MiB a {1} holds".format(path, kind)
        item = re.sub(r"[^-._a-zA-Z0-9]", "-", os.path.basename(path)) or "file"
        name = k8s_name("{0}-{1}".format(prefix, item)) or k8s_name(prefix)
        return self._hold(kind, name, item, content), item

    def defined_object(self, kind, top_key, source):
        spec = (self.project.get(top_key) or {}).get(source)
        if spec is None:
            return None, "not defined at the top level"
        name = k8s_name(source)
        if not name:
            return None, "{0!r} is no DNS-1123 label".format(source)
        if spec.get("external"):
            return k8s_name(spec.get("name") or source), name
        if spec.get("file"):
            made, why = self.file_object(kind, name, spec["file"])
            if made is None:
                return None, "{0} (file {1})".format(why, spec["file"])
            # file_object names the item after the file; mount that
            return made, re.sub(r"[^-._a-zA-Z0-9]", "-", os.path.basename(spec["file"])) or "file"
        if "content" in spec:
            return self._hold(kind, name, name, str(spec["content"]).encode("utf-8")), name
        if spec.get("environment"):
            value = os.environ.get(spec["environment"])
            if value is None:
                return None, "environment variable {0} is not set".format(spec["environment"])
            return self._hold(kind, name, name, value.encode("utf-8")), name
        return None, "it names no file, content or environment"

    def _hold(self, kind, name, item, content):
        manifest = self._made.get((kind, name))
        if manifest is None:
            manifest = {"apiVersion": "v1", "kind": kind, "metadata": self.metadata(name)}
            if kind == "Secret":
                manifest["type"] = "Opaque"
            self._add_shared(manifest)
        try:
            text = content.decode("utf-8")
            if kind == "Secret":
                manifest.setdefault("data", {})[item] = base64.b64encode(content).decode("ascii")
            else:
                manifest.setdefault("data", {})[item] = text
        except UnicodeDecodeError:
            field = "data" if kind == "Secret" else "binaryData"
            manifest.setdefault(field, {})[item] = base64.b64encode(content).decode("ascii")
        return name

    # --- networks -----------------------------------------------------------------------------
    def isolated_from(self, service):
        """The services ``service`` shares no compose network with (compose keeps them apart)."""
        services = self.project.get("services") or {}

        def networks(name):
            spec = services[name]
            if spec.get("network_mode"):
                return None
            return set(spec.get("networks") or {"default": None})
        mine = networks(service)
        if mine is None:
            return []
        return sorted(other for other in services
                      if other != service and networks(other) is not None and not mine & networks(other))

    # --- services -----------------------------------------------------------------------------
    def service(self, name, spec):
        build = ServiceBuild(self, name, spec)
        if not build.k8s:
            build.refuse("(name)", "service name {0!r}".format(name), "Kubernetes names are DNS-1123 labels")
        for key in sorted(spec):
            value = spec[key]
            if value is None:
                continue  # compose's canonical form spells absent keys as null (command, entrypoint)
            if key.startswith("x-"):
                build.client(key, "an extension field, which compose itself ignores")
                continue
            outcome, detail = table.SERVICE_KEYS.get(key, (REFUSED, table.RULE_UNKNOWN))
            if outcome == REFUSED:
                build.refuse(key, key if key in table.SERVICE_KEYS else "unknown key {0}".format(key), detail)
            elif outcome == CLIENT_ONLY:
                build.client(key, detail)
            else:
                HANDLERS[key](build, key, value)
        if "image" not in build.container and "build" not in spec:
            build.refuse("image", "service {0} names no image".format(name), table.RULE_BUILD)
        return build

    def workload(self, build):
        if build.options.dialect == "vic":
            limits = build.resources.setdefault("limits", {})
            limits.setdefault("cpu", str(VIC_DEFAULT_CPUS))
            limits.setdefault("memory", quantity(VIC_DEFAULT_MEMORY_MB * MI))
        if build.resources:
            build.container["resources"] = build.resources
        if build.security:
            build.container["securityContext"] = build.security
        if build.mounts:
            build.container["volumeMounts"] = build.mounts
        ports = sorted(set((target, protocol) for _port, target, protocol in build.published + build.exposed))
        if ports:
            build.container["ports"] = [{"containerPort": target, "protocol": protocol} for target, protocol in ports]
        spec = dict(build.pod, containers=[build.container])
        if build.volumes:
            spec["volumes"] = build.volumes
        if build.pod_security:
            spec["securityContext"] = build.pod_security
        restart = str(build.restart or "no")
        metadata = self.metadata(build.k8s, build.k8s)
        if build.annotations:
            metadata["annotations"] = build.annotations
        if build.after:
            metadata.setdefault("annotations", {})["pacific.supervisor/depends-on"] = ",".join(
                k8s_name(a) or a for a in build.after)
        if build.replicas is not None or restart in ("always", "unless-stopped"):
            selector = {PROJECT_LABEL: self.name, SERVICE_LABEL: build.k8s}
            template_metadata = {"labels": dict(metadata["labels"])}
            spec["restartPolicy"] = "Always"
            return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
                    "spec": {"replicas": 1 if build.replicas is None else build.replicas,
                             "selector": {"matchLabels": selector},
                             "template": {"metadata": template_metadata, "spec": spec}}}
        spec["restartPolicy"] = "OnFailure" if restart.startswith("on-failure") else "Never"
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    def service_object(self, build):
        entries = {}
        for port, target, protocol in build.published + build.exposed:
            entries.setdefault((port, protocol), target)
        if not entries:
            return None
        ports = []
        for (port, protocol), target in sorted(entries.items()):
            entry = {"port": port, "targetPort": target, "protocol": protocol}
            if len(entries) > 1:
                entry["name"] = "{0}-{1}".format(protocol.lower(), port)
            ports.append(entry)
        return {"apiVersion": "v1", "kind": "Service", "metadata": self.metadata(build.k8s, build.k8s),
                "spec": {"type": "LoadBalancer" if build.published else "ClusterIP",
                         "selector": {PROJECT_LABEL: self.name, SERVICE_LABEL: build.k8s}, "ports": ports}}

    def run(self):
        services = self.project.get("services") or {}
        builds = dict((name, self.service(name, spec)) for name, spec in sorted(services.items()))
        manifests = []
        for name in _creation_order(builds):
            build = builds[name]
            if build.refused:
                continue
            service = self.service_object(build)
            if service:
                manifests.append(service)
            manifests.append(self.workload(build))
        used = set()
        for manifest in manifests:
            spec = manifest["spec"].get("template", {}).get("spec") or manifest["spec"]
            for volume in spec.get("volumes") or []:
                for field, name_field in (("persistentVolumeClaim", "claimName"), ("configMap", "name"),
                                          ("secret", "secretName")):
                    if field in volume:
                        used.add(volume[field][name_field])
        shared = [m for m in self.shared if m["metadata"]["name"] in used]
        refused = sorted(name for name, build in builds.items() if build.refused)
        return shared + manifests, self.report.entries, refused


def _creation_order(builds):
    """Service names, each after those it depends on (alphabetical otherwise; cycles broken)."""
    order, seen = [], set()

    def visit(name, trail):
        if name in seen or name not in builds or name in trail:
            return
        for other in sorted(builds[name].after):
            visit(other, trail | {name})
        seen.add(name)
        order.append(name)
    for name in sorted(builds):
        visit(name, frozenset())
    return order


def convert(project, file_name, options=None, namespace=None):
    """``(manifests, report, refused)`` of a canonical compose ``project`` read from ``file_name``:
    the manifests of the services that can move (claims, ConfigMaps and Secrets first, then each
    service's Service and workload in dependency order), one report entry per key, and the names
    of the services with a refused key."""
    return Converter(project, file_name, options or Options(), namespace=namespace).run()
