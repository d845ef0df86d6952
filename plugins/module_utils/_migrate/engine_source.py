# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers of a Docker Engine or a VIC container host, read with the ``docker`` SDK, as one
canonical compose project.

Each container becomes a service as ``docker run`` with the same flags would be given to the
``container`` module (``run_options``), so both make the same manifests. What the engine shows at
its own default is not a setting; every other field is read into a compose key (which the
converter maps or refuses), reported as client-only, or refused as unknown: nothing is dropped
silently. Host binds are refused here: their source is on the engine's host, which this machine
cannot look into.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import ssl

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import convert, run_options, table

try:
    import docker
    from docker.errors import DockerException, NotFound
    from requests.exceptions import RequestException, SSLError
    DOCKER_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - the module reports it
    docker = None
    DockerException = NotFound = RequestException = SSLError = Exception
    DOCKER_IMPORT_ERROR = import_error

DEFAULT_SHM = 64 * 1024 * 1024
MINIMUM_API_VERSION = "1.24"  # the oldest the docker SDK speaks
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
COMPOSE_LABEL_PREFIX = "com.docker.compose."
HEX_ID = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_NETWORKS = ("default", "bridge")

# compose key -> the docker run flag the report names (beyond those the container module takes)
FLAGS = dict(run_options.FLAG_OF_KEY, **{
    "tmpfs": "--tmpfs", "dns_search": "--dns-search", "dns_opt": "--dns-option", "extra_hosts": "--add-host",
    "group_add": "--group-add", "read_only": "--read-only", "security_opt": "--security-opt",
    "shm_size": "--shm-size", "sysctls": "--sysctl", "devices": "--device", "ulimits": "--ulimit",
    "logging": "--log-driver", "init": "--init", "pids_limit": "--pids-limit", "ipc": "--ipc", "pid": "--pid",
    "uts": "--uts", "mem_reservation": "--memory-reservation", "cpu_shares": "--cpu-shares",
    "cpu_quota": "--cpu-quota", "cpu_period": "--cpu-period", "cpu_count": "--cpu-count",
    "cpu_percent": "--cpu-percent", "cpu_rt_period": "--cpu-rt-period", "cpu_rt_runtime": "--cpu-rt-runtime",
    "volumes_from": "--volumes-from", "networks": "--network", "mac_address": "--mac-address",
    "domainname": "--domainname", "cgroup_parent": "--cgroup-parent", "runtime": "--runtime",
    "oom_kill_disable": "--oom-kill-disable", "oom_score_adj": "--oom-score-adj", "memswap_limit": "--memory-swap",
    "mem_swappiness": "--memory-swappiness", "userns_mode": "--userns", "isolation": "--isolation",
    "storage_opt": "--storage-opt", "device_cgroup_rules": "--device-cgroup-rule", "gpus": "--gpus",
    "blkio_config": "--blkio-weight", "cgroup": "--cgroupns",
})

# HostConfig fields read into compose keys: field -> (compose key, value at the engine's default?)
HOST_FIELDS = {
    "CpuShares": "cpu_shares", "CpuQuota": "cpu_quota", "CpuPeriod": "cpu_period", "CpuCount": "cpu_count",
    "CpuPercent": "cpu_percent", "CpuRealtimePeriod": "cpu_rt_period", "CpuRealtimeRuntime": "cpu_rt_runtime",
    "VolumesFrom": "volumes_from", "Sysctls": "sysctls", "Devices": "devices", "DeviceRequests": "gpus",
    "DeviceCgroupRules": "device_cgroup_rules", "Ulimits": "ulimits", "CgroupParent": "cgroup_parent",
    "OomScoreAdj": "oom_score_adj", "PidsLimit": "pids_limit", "StorageOpt": "storage_opt", "UsernsMode": "userns_mode",
    "SecurityOpt": "security_opt", "GroupAdd": "group_add", "DnsSearch": "dns_search", "DnsOptions": "dns_opt",
    "CapAdd": "cap_add", "CapDrop": "cap_drop", "Dns": "dns", "ExtraHosts": "extra_hosts",
}
BLKIO_FIELDS = ("BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps")
# fields read below by hand, or that hold nothing a pod could need at the engine's defaults
HOST_READ = {"Binds", "Mounts", "NetworkMode", "PortBindings", "PublishAllPorts", "RestartPolicy", "AutoRemove",
             "Memory", "MemoryReservation", "MemorySwap", "MemorySwappiness", "NanoCpus", "CpusetCpus", "Links",
             "IpcMode", "PidMode", "UTSMode", "Privileged", "ReadonlyRootfs", "ShmSize", "Tmpfs", "LogConfig",
             "Init", "OomKillDisable", "Runtime", "Isolation", "CgroupnsMode", "ConsoleSize", "MaskedPaths",
             "ReadonlyPaths", "VolumeDriver", "ContainerIDFile", "Annotations", "KernelMemory",
             "KernelMemoryTCP", "CpusetMems", "IOMaximumBandwidth", "IOMaximumIOps", "Cgroup"}
CONFIG_READ = {"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts",
               "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes",
               "WorkingDir", "Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal",
               "StopTimeout", "Shell"}


def _empty(value):
    return value in (None, "", 0, False, [], {}) or value == [0, 0]


class Connection(object):
    """Where the engine is and how to reach it (``docker_host``, TLS); never holds a secret in its
    description, which names only the address."""

    def __init__(self, docker_host=None, tls=False, ca_cert=None, client_cert=None, client_key=None,
                 validate_certs=True, api_version="auto", timeout=60):
        self.docker_host = docker_host or "unix:///var/run/docker.sock"
        if not re.match(r"^(tcp|unix|ssh|https?)://", self.docker_host):
            raise errors.InvalidArgument("docker_host {0!r} is no tcp://, unix:// or ssh:// address".format(
                self.docker_host))
        self.tls = bool(tls or ca_cert or client_cert)
        self.ca_cert = ca_cert
        self.client_cert = client_cert
        self.client_key = client_key
        self.validate_certs = validate_certs
        self.api_version = api_version or "auto"
        self.timeout = timeout
        if bool(client_cert) != bool(client_key):
            raise errors.InvalidArgument("client_cert and client_key go together")

    @property
    def address(self):
        """The engine's address for reports: without credentials of any kind."""
        return re.sub(r"//[^/@]*@", "//", self.docker_host)

    def client(self):
        if docker is None:
            raise errors.InvalidArgument("source=engine reads the engine with the docker Python SDK, which is not "
                                         "installed ({0}); pip install docker".format(DOCKER_IMPORT_ERROR))
        tls = None
        if self.tls:
            tls = docker.tls.TLSConfig(client_cert=(self.client_cert, self.client_key) if self.client_cert else None,
                                       ca_cert=self.ca_cert if self.validate_certs else None,
                                       verify=bool(self.validate_certs))
        base_url = self.docker_host
        if self.tls and base_url.startswith("tcp://"):
            base_url = "https://" + base_url[len("tcp://"):]
        try:
            version = self.api_version
            if self.tls and version == "auto":
                # requests lets REQUESTS_CA_BUNDLE override a session's CA (and verify=False): ask
                # the version on a session that reads no environment, then speak it
                probe = docker.APIClient(base_url=base_url, tls=tls, version=MINIMUM_API_VERSION,
                                         timeout=self.timeout)
                probe.trust_env = False
                try:
                    version = probe.version(api_version=False)["ApiVersion"]
                finally:
                    probe.close()
            client = docker.DockerClient(base_url=base_url, tls=tls, version=version, timeout=self.timeout)
            if self.tls:
                client.api.trust_env = False
            return client
        except (DockerException, RequestException, KeyError) as err:
            raise _failure("cannot reach the Docker engine at {0}".format(self.address), err)


def _failure(what, err):
    """The error of a failed talk with the engine: an untrusted certificate, or no answer."""
    cause, seen = err, 0
    while cause is not None and seen < 10:  # the SDK wraps the SSL error of requests
        if isinstance(cause, (ssl.SSLError, SSLError)):
            return errors.TlsError("{0}: the TLS handshake failed (is engine.ca_cert its CA, and does it want "
                                   "engine.client_cert?): {1}".format(what, err), target=what)
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    return errors.Unreachable("{0}: {1}".format(what, err), target=what)


def engine_filters(containers):
    """Docker's list filters of the task's ``containers`` (labels ANDed; names and ids ORed)."""
    containers = containers or {}
    filters = {}
    if containers.get("labels"):
        filters["label"] = ["{0}={1}".format(k, v) if v not in (None, "") else str(k)
                            for k, v in sorted(containers["labels"].items())]
    if containers.get("names"):
        filters["name"] = ["^/{0}$".format(re.escape(name.lstrip("/"))) for name in containers["names"]]
    if containers.get("ids"):
        filters["id"] = list(containers["ids"])
    return filters


def read(connection, containers=None, include_stopped=True):
    """``(inspected containers, volumes by name, networks by name, host name)`` from the engine."""
    client = connection.client()
    try:
        info = client.info()
        api = client.api
        listed = api.containers(all=include_stopped, filters=engine_filters(containers))
        inspected = [api.inspect_container(item["Id"]) for item in listed]
        volumes, networks, images = {}, {}, {}
        for container in inspected:
            for mount in container.get("Mounts") or []:
                if mount.get("Type") == "volume" and mount.get("Name") and mount["Name"] not in volumes:
                    volumes[mount["Name"]] = api.inspect_volume(mount["Name"])
            for name in ((container.get("NetworkSettings") or {}).get("Networks") or {}):
                if name not in networks:
                    networks[name] = api.inspect_network(name)
            image = (container.get("Config") or {}).get("Image")
            if image and image not in images:
                try:
                    images[image] = (api.inspect_image(image).get("Config") or {})
                except NotFound:
                    images[image] = {}
        return inspected, volumes, networks, images, info.get("Name") or "docker"
    except (DockerException, RequestException) as err:
        raise _failure("reading the Docker engine at {0} failed".format(connection.address), err)
    finally:
        client.close()


def _duration(nanoseconds):
    return "{0}s".format(int(nanoseconds) // 10 ** 9) if nanoseconds else None


def _healthcheck(check):
    test = list(check.get("Test") or [])
    if not test:
        return None
    value = {"test": test}
    for field, key in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period")):
        if check.get(field):
            value[key] = _duration(check[field])
    if check.get("Retries"):
        value["retries"] = int(check["Retries"])
    return value


def _ports(config, host):
    bound = host.get("PortBindings") or {}
    exposed = sorted(set(config.get("ExposedPorts") or {}) | set(bound))
    published, only_exposed = [], []
    for port in exposed:
        number, _slash, protocol = port.partition("/")
        target = int(number) if number.isdigit() else number
        if port in bound:
            for binding in bound[port] or [{}]:
                entry = {"target": target, "protocol": protocol or "tcp", "mode": "ingress"}
                if binding.get("HostPort"):
                    entry["published"] = binding["HostPort"]
                if binding.get("HostIp"):
                    entry["host_ip"] = binding["HostIp"]
                published.append(entry)
        elif host.get("PublishAllPorts"):
            published.append({"target": target, "protocol": protocol or "tcp", "mode": "ingress"})
        else:
            only_exposed.append(number if (protocol or "tcp") == "tcp" else port)
    return published, only_exposed


def _anonymous(mount, volume):
    labels = (volume or {}).get("Labels") or {}
    return ANONYMOUS_LABEL in labels or bool(HEX_ID.match(mount.get("Name") or ""))


def _capacity(volume):
    """A volume's capacity as the converter reads it (a VIC ``Capacity`` in MB, or a size), from its
    driver options, else what the driver reports in ``Status``, else its labels."""
    for place in ("Options", "Status", "Labels"):
        for key, value in ((volume or {}).get(place) or {}).items():
            if str(key).lower() == "capacity" and value not in (None, ""):
                return str(value)
    return None


def service_of(container, volumes, image_config=None):
    """``(service, project volumes, project networks, extra report entries)`` of one inspected
    container. Extra entries are ``(flag, outcome, detail, rule)`` the converter does not make."""
    config = container.get("Config") or {}
    host = container.get("HostConfig") or {}
    image_config = image_config or {}
    name = (container.get("Name") or "").lstrip("/")
    service, project_volumes, networks, extra = {"image": config.get("Image")}, {}, {}, []

    def unknown(where, field, value):
        extra.append(("{0}.{1}".format(where, field), table.REFUSED, "{0}.{1} {2!r}".format(where, field, value),
                      table.RULE_UNKNOWN))

    # --- Config ------------------------------------------------------------------------------
    for field, key in (("Cmd", "command"), ("Entrypoint", "entrypoint")):
        value = config.get(field)
        if value and value != image_config.get(field):
            service[key] = list(value)
    image_env = set(image_config.get("Env") or [])
    environment = dict(item.split("=", 1) if "=" in item else (item, None)
                       for item in config.get("Env") or [] if item not in image_env)
    if environment:
        service["environment"] = environment
    labels = dict((k, v) for k, v in (config.get("Labels") or {}).items()
                  if not k.startswith(COMPOSE_LABEL_PREFIX) and k not in (image_config.get("Labels") or {}))
    if labels:
        service["labels"] = labels
    if any(k.startswith(COMPOSE_LABEL_PREFIX) for k in config.get("Labels") or {}):
        extra.append(("--label", table.CLIENT_ONLY, "com.docker.compose.* labels: what docker compose keeps of its "
                                                    "project on the container; the project label replaces them", None))
    hostname = config.get("Hostname")
    if hostname and not container.get("Id", "").startswith(hostname):
        service["hostname"] = hostname
    for field, key in (("User", "user"), ("WorkingDir", "working_dir"), ("Domainname", "domainname"),
                       ("StopSignal", "stop_signal"), ("MacAddress", "mac_address")):
        if config.get(field) and config[field] != image_config.get(field):
            service[key] = config[field]
    if config.get("StopTimeout") is not None:
        service["stop_grace_period"] = "{0}s".format(int(config["StopTimeout"]))
    if config.get("Tty"):
        service["tty"] = True
    if config.get("OpenStdin"):
        service["stdin_open"] = True
    if config.get("Healthcheck") and config["Healthcheck"] != image_config.get("Healthcheck"):
        check = _healthcheck(config["Healthcheck"])
        if check:
            service["healthcheck"] = check
    if config.get("NetworkDisabled"):
        service["network_mode"] = "none"
    attached = [s for s in ("stdin", "stdout", "stderr") if config.get("Attach" + s.capitalize())]
    if attached or config.get("StdinOnce"):
        extra.append(("--attach", table.CLIENT_ONLY, table.VIC_RUN_FLAGS["--attach"][2], None))
    for field, value in sorted(config.items()):
        if field not in CONFIG_READ and not _empty(value):
            unknown("Config", field, value)

    # --- HostConfig ----------------------------------------------------------------------------
    published, exposed = _ports(config, host)
    if published:
        service["ports"] = published
    if exposed:
        service["expose"] = exposed
    restart = (host.get("RestartPolicy") or {}).get("Name") or "no"
    if restart != "no":
        service["restart"] = restart
    if host.get("AutoRemove"):
        extra.append(("--rm", table.CLIENT_ONLY, table.VIC_RUN_FLAGS["--rm"][2], None))
    if host.get("Memory"):
        service["mem_limit"] = int(host["Memory"])
    if host.get("MemoryReservation"):
        service["mem_reservation"] = int(host["MemoryReservation"])
    if host.get("MemorySwap") not in (None, 0, -1) and host.get("MemorySwap") != 2 * int(host.get("Memory") or 0):
        service["memswap_limit"] = host["MemorySwap"]
    if host.get("MemorySwappiness") not in (None, -1):
        service["mem_swappiness"] = host["MemorySwappiness"]
    if host.get("NanoCpus"):
        service["cpus"] = host["NanoCpus"] / 1e9
    if host.get("CpusetCpus"):
        service["cpuset"] = host["CpusetCpus"]
    for field, key in sorted(HOST_FIELDS.items()):
        if not _empty(host.get(field)):
            service[key] = host[field]
    if any(not _empty(host.get(field)) for field in BLKIO_FIELDS):
        service["blkio_config"] = dict((f, host[f]) for f in BLKIO_FIELDS if not _empty(host.get(f)))
    for field, key, defaults in (("IpcMode", "ipc", ("", "private", "shareable", "none")),
                                 ("PidMode", "pid", ("",)), ("UTSMode", "uts", ("",)),
                                 ("CgroupnsMode", "cgroup", ("", "private", "host")),
                                 ("Runtime", "runtime", ("", "runc")),
                                 ("Isolation", "isolation", ("", "default"))):
        if host.get(field) not in defaults + (None,):
            service[key] = host[field]
    if host.get("Privileged"):
        service["privileged"] = True
    if host.get("ReadonlyRootfs"):
        service["read_only"] = True
    if host.get("Init"):
        service["init"] = True
    if host.get("OomKillDisable"):
        service["oom_kill_disable"] = True
    if host.get("ShmSize") not in (None, 0, DEFAULT_SHM):
        service["shm_size"] = int(host["ShmSize"])
    if host.get("Tmpfs"):
        service["tmpfs"] = sorted(host["Tmpfs"])
    log_driver = (host.get("LogConfig") or {}).get("Type") or "json-file"
    if log_driver != "json-file":
        service["logging"] = {"driver": log_driver}
    if host.get("Links"):
        links = []
        for link in host["Links"]:  # "/db:/web/alias"
            source, _colon, alias = link.partition(":")
            links.append("{0}:{1}".format(source.lstrip("/"), alias.rsplit("/", 1)[-1]) if alias else source.lstrip("/"))
        service["links"] = links
    for field, value in sorted(host.items()):
        if field not in HOST_READ and field not in HOST_FIELDS and field not in BLKIO_FIELDS and not _empty(value):
            unknown("HostConfig", field, value)

    # --- networks ----------------------------------------------------------------------------
    mode = host.get("NetworkMode") or "default"
    attached_networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    if mode in DEFAULT_NETWORKS or mode in attached_networks:
        for network, endpoint in sorted(attached_networks.items()):
            endpoint = endpoint or {}
            settings = {}
            address = (endpoint.get("IPAMConfig") or {}).get("IPv4Address")
            if address:
                settings["ipv4_address"] = address
            aliases = [a for a in endpoint.get("Aliases") or []
                       if a != name and not container.get("Id", "").startswith(a)]
            if aliases:
                settings["aliases"] = aliases
            if network in DEFAULT_NETWORKS and not settings:
                continue
            networks[network] = {}
            service.setdefault("networks", {})[network] = settings or None
    else:
        service["network_mode"] = mode

    # --- mounts ------------------------------------------------------------------------------
    mounts = []
    for mount in sorted(container.get("Mounts") or [], key=lambda m: m.get("Destination") or ""):
        target, kind = mount.get("Destination"), mount.get("Type") or "volume"
        read_only = not mount.get("RW", True)
        if kind == "volume":
            volume = volumes.get(mount.get("Name")) or {}
            entry = {"type": "volume", "target": target}
            if not _anonymous(mount, volume):
                entry["source"] = mount["Name"]
                spec = {}
                if volume.get("Driver") not in (None, "", "local"):
                    spec["driver"] = volume["Driver"]
                capacity = _capacity(volume)
                if capacity:
                    spec["driver_opts"] = {"Capacity": capacity}
                project_volumes[mount["Name"]] = spec
        elif kind == "tmpfs":
            entry = {"type": "tmpfs", "target": target}
        elif kind == "bind":
            source = mount.get("Source") or ""
            rule = table.RULE_DOCKER_SOCKET if source.endswith("docker.sock") else table.RULE_HOST_PATH
            extra.append(("--volume", table.REFUSED, "{0}:{1}: a path of the engine's host".format(source, target),
                          rule))
            continue
        else:
            extra.append(("--mount", table.REFUSED, "{0}: a {1} mount".format(target, kind), table.RULE_HOST_PATH))
            continue
        if read_only:
            entry["read_only"] = True
        mounts.append(entry)
    if mounts:
        service["volumes"] = mounts
    return service, project_volumes, networks, extra


def project_of(inspected, volumes, images=None, project_name="docker"):
    """``(project, extra entries by service)`` of inspected containers: one service each."""
    project = {"name": project_name, "services": {}, "volumes": {}, "networks": {}}
    extras = {}
    for container in sorted(inspected, key=lambda c: c.get("Name") or ""):
        name = (container.get("Name") or container.get("Id", "")[:12]).lstrip("/")
        service, project_volumes, networks, extra = service_of(
            container, volumes, (images or {}).get((container.get("Config") or {}).get("Image")))
        project["services"][name] = service
        project["volumes"].update(project_volumes)
        project["networks"].update(networks)
        extras[name] = extra
    return project, extras


def convert_engine(inspected, volumes, images, address, options, project_name, namespace=None):
    """``(manifests, report, refused)`` of inspected containers, as ``convert.convert`` gives
    them for a compose project; a service with a refused entry read here makes no manifests."""
    project, extras = project_of(inspected, volumes, images, project_name)
    made, report, refused = convert.convert(project, address, options, namespace=namespace)
    report = run_options.flag_report(report, extras, address, FLAGS)
    refused_here = set(service for service, extra in extras.items()
                       if any(outcome == table.REFUSED for _flag, outcome, _detail, _rule in extra))
    if refused_here:
        names = set(convert.k8s_name(s) for s in refused_here)
        made = [m for m in made if (m["metadata"].get("labels") or {}).get(convert.SERVICE_LABEL) not in names]
        used = set()
        for manifest in made:
            spec = manifest["spec"].get("template", {}).get("spec") or manifest["spec"]
            for volume in spec.get("volumes") or []:
                used.add(((volume.get("persistentVolumeClaim") or {}).get("claimName")))
        made = [m for m in made if m["kind"] != "PersistentVolumeClaim" or m["metadata"]["name"] in used]
    return made, report, sorted(set(refused) | refused_here)
