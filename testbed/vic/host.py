"""The state of a simulated VIC container host: containers, volumes of its volume stores, networks.

Plain data and the rules a VIC host applies when it is written to; ``api.py`` serves it over HTTP.
Objects are kept as the Engine API shows them (``ContainerJSON``, ``Volume``, ``Network``).
"""
from __future__ import annotations

import datetime
import hashlib
import itertools
import re
import threading
import uuid

VOLUME_DRIVER = "vsphere"  # every VIC volume, whatever the create call named
DEFAULT_CAPACITY_MB = 1024  # VIC's default volume capacity
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
DEFAULT_NETWORK = "bridge"
UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


class EngineError(Exception):
    """An answer other than success: an HTTP status and the daemon's message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def capacity_mb(text: str) -> int:
    """A volume's ``Capacity`` option in MB, as VIC reads it: a bare number is MB, else a size
    with a decimal unit (``10GB``, ``512MB``)."""
    value = str(text).strip()
    if value.isdigit():
        if int(value) < 1:
            raise EngineError(500, f"bad driver value - Invalid size: {text}")
        return int(value)
    match = re.match(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", value.lower())
    if not match:
        raise EngineError(500, f"bad driver value - invalid size: '{text}'")
    return max(1, int(float(match.group(1)) * UNITS[match.group(2)] // 10**6))


def matches(filters: dict, values: dict) -> bool:
    """Whether an object whose filterable values are ``values`` (filter -> list of strings, or a
    callable) passes ``filters`` (filter -> accepted values): every filter, any of its values -
    but every one of the ``label`` values, as the daemon ANDs labels."""
    for name, accepted in filters.items():
        test = values.get(name)
        if test is None:
            raise EngineError(400, f"invalid filter '{name}'")
        if not (all if name == "label" else any)(test(value) for value in accepted):
            return False
    return True


def label_test(labels: dict):
    def test(value: str) -> bool:
        key, has_value, wanted = value.partition("=")
        return key in labels and (not has_value or labels[key] == wanted)
    return test


class Host:
    """One VIC container host (a VCH)."""

    def __init__(self, name: str = "vch-testbed", volume_stores: tuple[str, ...] = ("default",)):
        self.name = name
        self.volume_stores = list(volume_stores)
        self.containers: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.networks: dict[str, dict] = {}
        self.lock = threading.RLock()
        self._ips = itertools.count(2)
        for network, driver in ((DEFAULT_NETWORK, "bridge"), ("host", "host"), ("none", "null")):
            self._add_network(network, driver, {}, internal=False)

    # --- networks -----------------------------------------------------------------------------
    def _add_network(self, name: str, driver: str, labels: dict, internal: bool) -> dict:
        ident = hashlib.sha256(f"network:{name}".encode()).hexdigest()
        subnet = f"172.{16 + len(self.networks)}.0.0/16"
        network = {"Name": name, "Id": ident, "Created": _now(), "Scope": "local", "Driver": driver,
                   "EnableIPv6": False, "Internal": internal, "Attachable": False, "Ingress": False,
                   "IPAM": {"Driver": "default", "Options": {},
                            "Config": [{"Subnet": subnet, "Gateway": subnet.replace("0.0/16", "0.1")}]
                            if driver == "bridge" else []},
                   "Containers": {}, "Options": {}, "Labels": labels or {}}
        self.networks[ident] = network
        return network

    def create_network(self, body: dict) -> dict:
        with self.lock:
            name = body.get("Name") or ""
            if not name:
                raise EngineError(400, "network name is required")
            if self.find_network(name, missing_ok=True):
                raise EngineError(409, f"network with name {name} already exists")
            network = self._add_network(name, body.get("Driver") or "bridge", body.get("Labels") or {},
                                        bool(body.get("Internal")))
            return {"Id": network["Id"], "Warning": ""}

    def find_network(self, ref: str, missing_ok: bool = False) -> dict | None:
        for network in self.networks.values():
            if ref in (network["Name"], network["Id"]) or (len(ref) >= 12 and network["Id"].startswith(ref)):
                return network
        if missing_ok:
            return None
        raise EngineError(404, f"network {ref} not found")

    def network_view(self, network: dict) -> dict:
        view = dict(network)
        view["Containers"] = {}
        for container in self.containers.values():
            endpoint = container["NetworkSettings"]["Networks"].get(network["Name"])
            if endpoint:
                view["Containers"][container["Id"]] = {
                    "Name": container["Name"].lstrip("/"), "EndpointID": endpoint["EndpointID"],
                    "MacAddress": endpoint["MacAddress"], "IPv4Address": f"{endpoint['IPAddress']}/16",
                    "IPv6Address": ""}
        return view

    def list_networks(self, filters: dict) -> list[dict]:
        with self.lock:
            found = []
            for network in self.networks.values():
                values = {"name": lambda v, n=network: v in n["Name"],
                          "id": lambda v, n=network: n["Id"].startswith(v),
                          "driver": lambda v, n=network: v == n["Driver"],
                          "label": label_test(network["Labels"]),
                          "scope": lambda v, n=network: v == n["Scope"],
                          "type": lambda v, n=network: v == ("builtin" if n["Name"] in (DEFAULT_NETWORK, "host", "none")
                                                             else "custom")}
                if matches(filters, values):  # a list names no endpoints; inspect does
                    found.append(dict((k, v) for k, v in network.items() if k != "Containers"))
            return sorted(found, key=lambda n: n["Name"])

    def remove_network(self, ref: str) -> None:
        with self.lock:
            network = self.find_network(ref)
            if network["Name"] in (DEFAULT_NETWORK, "host", "none"):
                raise EngineError(403, f"{network['Name']} is a pre-defined network and cannot be removed")
            if self.network_view(network)["Containers"]:
                raise EngineError(403, f"error while removing network: network {network['Name']} has active endpoints")
            del self.networks[network["Id"]]

    # --- volumes ------------------------------------------------------------------------------
    def create_volume(self, body: dict, anonymous: bool = False) -> dict:
        with self.lock:
            name = body.get("Name") or uuid.uuid4().hex
            if not VOLUME_NAME.match(name):
                raise EngineError(400, f"volume name {name!r} includes invalid characters, only "
                                       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
            driver = body.get("Driver") or "local"
            if driver not in ("local", VOLUME_DRIVER):
                raise EngineError(500, f"error looking up volume plugin {driver}: plugin not found")
            if name in self.volumes:
                existing = self.volumes[name]
                if body.get("DriverOpts") and body["DriverOpts"] != existing["Options"]:
                    raise EngineError(409, f"a volume named {name} already exists with other options")
                return existing
            options = dict(body.get("DriverOpts") or {})
            store = options.get("VolumeStore", "default")
            if store not in self.volume_stores:
                raise EngineError(500, f"No volume store named ({store}) exists")
            megabytes = capacity_mb(options["Capacity"]) if "Capacity" in options else DEFAULT_CAPACITY_MB
            labels = dict(body.get("Labels") or {})
            if anonymous:
                labels.setdefault("com.docker.volume.anonymous", "")
            volume = {"Name": name, "Driver": VOLUME_DRIVER, "Mountpoint": f"[datastore1] {store}/volumes/{name}",
                      "CreatedAt": _now(), "Labels": labels, "Scope": "global", "Options": options,
                      "Status": {"VolumeStore": store, "Capacity": str(megabytes)}}
            self.volumes[name] = volume
            return volume

    def find_volume(self, name: str) -> dict:
        volume = self.volumes.get(name)
        if volume is None:
            raise EngineError(404, f"get {name}: no such volume")
        return volume

    def _volume_users(self, name: str) -> list[str]:
        return [c["Name"].lstrip("/") for c in self.containers.values()
                if any(m.get("Name") == name for m in c["Mounts"])]

    def list_volumes(self, filters: dict) -> list[dict]:
        with self.lock:
            found = []
            for volume in self.volumes.values():
                used = bool(self._volume_users(volume["Name"]))
                values = {"name": lambda v, x=volume: v in x["Name"],
                          "driver": lambda v, x=volume: v == x["Driver"],
                          "label": label_test(volume["Labels"]),
                          "dangling": lambda v, u=used: (v.lower() in ("true", "1")) != u}
                if matches(filters, values):
                    found.append(volume)
            return sorted(found, key=lambda v: v["Name"])

    def remove_volume(self, name: str, force: bool = False) -> None:
        with self.lock:
            self.find_volume(name)
            users = self._volume_users(name)
            if users and not force:
                raise EngineError(409, f"remove {name}: volume is in use - [{', '.join(users)}]")
            del self.volumes[name]

    # --- containers ---------------------------------------------------------------------------
    def find_container(self, ref: str) -> dict:
        ref = ref.lstrip("/")
        for container in self.containers.values():
            if container["Name"] == f"/{ref}" or container["Id"] == ref:
                return container
        prefixed = [c for c in self.containers.values() if c["Id"].startswith(ref)]
        if len(prefixed) == 1:
            return prefixed[0]
        raise EngineError(404, f"No such container: {ref}")

    def _mounts(self, config: dict, host_config: dict, container_id: str) -> list[dict]:
        mounts = []
        for bind in host_config.get("Binds") or []:
            parts = bind.split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
            mode = parts[2] if len(parts) > 2 else ""
            if source.startswith("/"):
                raise EngineError(500, "vSphere Integrated Containers does not support mounting directories as a "
                                       f"data volume: {bind}")
            mounts.append((source, target, mode, "ro" not in mode.split(",")))
        for mount in host_config.get("Mounts") or []:
            if mount.get("Type", "volume") != "volume":
                raise EngineError(500, f"vSphere Integrated Containers does not support {mount.get('Type')} mounts")
            mounts.append((mount.get("Source") or "", mount["Target"], "", not mount.get("ReadOnly")))
        named = {target for _source, target, _mode, _rw in mounts}
        for target in sorted(config.get("Volumes") or {}):
            if target not in named:
                mounts.append(("", target, "", True))
        made = []
        for source, target, mode, writable in mounts:
            volume = self.create_volume({"Name": source}, anonymous=not source) if source else \
                self.create_volume({}, anonymous=True)
            users = self._volume_users(volume["Name"])
            if users:  # VIC: a volume is a VMDK, attached to one container VM at a time
                raise EngineError(409, f"volume {volume['Name']} is already in use by {', '.join(users)}")
            made.append({"Type": "volume", "Name": volume["Name"], "Source": volume["Mountpoint"],
                         "Destination": target, "Driver": VOLUME_DRIVER, "Mode": mode, "RW": writable,
                         "Propagation": ""})
        return made

    def create_container(self, name: str | None, body: dict) -> dict:
        with self.lock:
            if not body.get("Image"):
                raise EngineError(400, "No command specified" if not body else "image is required")
            ident = uuid.uuid4().hex + uuid.uuid4().hex
            if name:
                if not CONTAINER_NAME.match(name):
                    raise EngineError(400, f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                           "allowed")
                try:
                    self.find_container(name)
                except EngineError:
                    pass
                else:
                    raise EngineError(409, f"Conflict. The container name \"/{name}\" is already in use")
            else:
                name = f"vic_{ident[:8]}"
            host_config = dict(body.get("HostConfig") or {})
            host_config.setdefault("NetworkMode", "default")
            host_config.setdefault("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0})
            host_config.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
            mode = host_config["NetworkMode"]
            if mode == "host":
                raise EngineError(500, "vSphere Integrated Containers does not support --net=host")
            config = {key: value for key, value in body.items() if key not in ("HostConfig", "NetworkingConfig")}
            config.setdefault("Hostname", ident[:12])
            for field, empty in (("Env", []), ("Cmd", None), ("Entrypoint", None), ("Labels", {}),
                                 ("WorkingDir", ""), ("User", ""), ("Tty", False), ("OpenStdin", False)):
                config.setdefault(field, empty)
            exposed = dict(config.get("ExposedPorts") or {})
            for port in host_config.get("PortBindings") or {}:
                exposed.setdefault(port, {})
            config["ExposedPorts"] = exposed or None
            mounts = self._mounts(config, host_config, ident)
            endpoints = dict(((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}))
            primary = DEFAULT_NETWORK if mode in ("default", "bridge") else mode
            endpoints.setdefault(primary, {})
            networks = {}
            for network_name, endpoint in endpoints.items():
                network = self.find_network(network_name)
                wanted = ((endpoint or {}).get("IPAMConfig") or {}).get("IPv4Address")
                address = wanted or "172.{0}.0.{1}".format(
                    network["IPAM"]["Config"][0]["Subnet"].split(".")[1] if network["IPAM"]["Config"] else 16,
                    next(self._ips))
                networks[network["Name"]] = {
                    "IPAMConfig": (endpoint or {}).get("IPAMConfig"), "Links": (endpoint or {}).get("Links"),
                    "Aliases": (endpoint or {}).get("Aliases"), "NetworkID": network["Id"],
                    "EndpointID": uuid.uuid4().hex, "Gateway": address.rsplit(".", 1)[0] + ".1",
                    "IPAddress": address, "IPPrefixLen": 16, "IPv6Gateway": "", "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0, "MacAddress": "02:42:ac:11:00:{0:02x}".format(len(self.containers) + 2),
                    "DriverOpts": None}
            container = {
                "Id": ident, "Created": _now(), "Path": (config.get("Entrypoint") or config.get("Cmd") or [""])[0],
                "Args": ((config.get("Entrypoint") or []) + (config.get("Cmd") or []))[1:],
                "State": {"Status": "created", "Running": False, "Paused": False, "Restarting": False,
                          "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
                          "StartedAt": "0001-01-01T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"},
                "Image": "sha256:" + hashlib.sha256(config["Image"].encode()).hexdigest(),
                "ResolvConfPath": "", "HostnamePath": "", "HostsPath": "", "LogPath": "",
                "Name": f"/{name}", "RestartCount": 0, "Driver": "vsphere", "Platform": "linux",
                "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": None,
                "HostConfig": host_config, "GraphDriver": {"Name": "vsphere", "Data": None},
                "Mounts": mounts, "Config": config,
                "NetworkSettings": {"Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
                                    "LinkLocalIPv6PrefixLen": 0, "Ports": {}, "SandboxKey": "",
                                    "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
                                    "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
                                    "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0,
                                    "IPv6Gateway": "", "MacAddress": "", "Networks": networks},
            }
            self.containers[ident] = container
            return {"Id": ident, "Warnings": []}

    def start(self, ref: str) -> bool:
        with self.lock:
            container = self.find_container(ref)
            state = container["State"]
            if state["Running"]:
                return False
            state.update(Status="running", Running=True, Pid=4000 + len(self.containers), StartedAt=_now())
            ports = {}
            for port in container["Config"].get("ExposedPorts") or {}:
                bindings = (container["HostConfig"].get("PortBindings") or {}).get(port)
                ports[port] = [{"HostIp": b.get("HostIp") or "0.0.0.0", "HostPort": b.get("HostPort") or port.split("/")[0]}
                               for b in bindings] if bindings else None
            container["NetworkSettings"]["Ports"] = ports
            return True

    def stop(self, ref: str) -> bool:
        with self.lock:
            container = self.find_container(ref)
            state = container["State"]
            if not state["Running"]:
                return False
            state.update(Status="exited", Running=False, Pid=0, ExitCode=0, FinishedAt=_now())
            container["NetworkSettings"]["Ports"] = {}
            return True

    def remove_container(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        with self.lock:
            container = self.find_container(ref)
            if container["State"]["Running"] and not force:
                raise EngineError(409, f"You cannot remove a running container {container['Id']}. Stop the container "
                                       "before attempting removal or force remove")
            del self.containers[container["Id"]]
            if volumes:
                for mount in container["Mounts"]:
                    if "com.docker.volume.anonymous" in self.volumes.get(mount["Name"], {}).get("Labels", {}):
                        self.volumes.pop(mount["Name"], None)

    def summary(self, container: dict) -> dict:
        """A container as ``GET /containers/json`` lists it."""
        state = container["State"]
        ports = []
        for port, bindings in sorted((container["HostConfig"].get("PortBindings") or {}).items()):
            number, _slash, protocol = port.partition("/")
            for binding in bindings or [{}]:
                entry = {"PrivatePort": int(number), "Type": protocol or "tcp"}
                if state["Running"] and binding.get("HostPort"):
                    entry.update(IP=binding.get("HostIp") or "0.0.0.0", PublicPort=int(binding["HostPort"]))
                ports.append(entry)
        command = " ".join((container["Config"].get("Entrypoint") or []) + (container["Config"].get("Cmd") or []))
        return {"Id": container["Id"], "Names": [container["Name"]], "Image": container["Config"]["Image"],
                "ImageID": container["Image"], "Command": command,
                "Created": int(datetime.datetime.strptime(container["Created"][:19], "%Y-%m-%dT%H:%M:%S")
                               .replace(tzinfo=datetime.timezone.utc).timestamp()),
                "Ports": ports, "Labels": container["Config"].get("Labels") or {}, "State": state["Status"],
                "Status": "Up" if state["Running"] else ("Created" if state["Status"] == "created" else "Exited (0)"),
                "HostConfig": {"NetworkMode": container["HostConfig"].get("NetworkMode", "default")},
                "NetworkSettings": {"Networks": container["NetworkSettings"]["Networks"]},
                "Mounts": container["Mounts"]}

    def list_containers(self, filters: dict, all_states: bool = False) -> list[dict]:
        with self.lock:
            found = []
            for container in sorted(self.containers.values(), key=lambda c: c["Created"], reverse=True):
                if not all_states and not container["State"]["Running"] and "status" not in filters:
                    continue
                name = container["Name"]
                values = {"id": lambda v, c=container: c["Id"].startswith(v),
                          "name": lambda v, n=name: re.search(v, n) is not None,
                          "label": label_test(container["Config"].get("Labels") or {}),
                          "status": lambda v, c=container: v == c["State"]["Status"],
                          "ancestor": lambda v, c=container: v == c["Config"]["Image"],
                          "volume": lambda v, c=container: any(v in (m["Name"], m["Destination"])
                                                               for m in c["Mounts"]),
                          "network": lambda v, c=container: v in c["NetworkSettings"]["Networks"]}
                if matches(filters, values):
                    found.append(self.summary(container))
            return found

    def info(self) -> dict:
        with self.lock:
            running = sum(1 for c in self.containers.values() if c["State"]["Running"])
            return {"ID": hashlib.sha256(self.name.encode()).hexdigest()[:36], "Name": self.name,
                    "Containers": len(self.containers), "ContainersRunning": running, "ContainersPaused": 0,
                    "ContainersStopped": len(self.containers) - running, "Images": 0,
                    "Driver": "vSphere Integrated Containers v1.5.6 Backend Engine",
                    "DriverStatus": [["VolumeStores", " ".join(self.volume_stores)],
                                     ["vSphere Integrated Containers v1.5.6 Backend Engine", "RUNNING"]],
                    "SystemStatus": [["VCH CPU limit", "2 vCPU"], ["VCH memory limit", "4 GiB"],
                                     ["VolumeStores", " ".join(self.volume_stores)]],
                    "Plugins": {"Volume": [VOLUME_DRIVER], "Network": ["bridge"], "Authorization": None,
                                "Log": None},
                    "MemoryLimit": True, "SwapLimit": False, "CpuCfsPeriod": False, "CpuCfsQuota": False,
                    "CPUShares": False, "CPUSet": False, "IPv4Forwarding": True, "BridgeNfIptables": True,
                    "Debug": False, "NFd": 0, "NGoroutines": 0, "SystemTime": _now(), "LoggingDriver": "json-file",
                    "CgroupDriver": "", "NEventsListener": 0, "KernelVersion": "4.4.41-1.ph1-esx",
                    "OperatingSystem": "VMware Photon OS/linux", "OSType": "linux", "Architecture": "x86_64",
                    "IndexServerAddress": "https://index.docker.io/v1/", "RegistryConfig": None, "NCPU": 2,
                    "MemTotal": 4 * 2**30, "DockerRootDir": "", "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
                    "Labels": [], "ExperimentalBuild": False, "ServerVersion": "v1.5.6-testbed",
                    "Runtimes": {}, "DefaultRuntime": "", "Swarm": {"LocalNodeState": "inactive"},
                    "LiveRestoreEnabled": False, "Isolation": "", "SecurityOptions": []}
