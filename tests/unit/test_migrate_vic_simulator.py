"""The VIC simulator's answers against the Docker Engine API reference (the swagger.yaml of
github.com/moby/moby/api in the Go module cache, read at test time): every field the reference
requires is there, and every field the reference defines has the reference's type. The simulator
speaks API 1.25, as a VIC 1.5 host does; the fields that API had and the current reference has
dropped are named here, and nothing else may be unknown."""
from __future__ import annotations

import glob
import os
from pathlib import Path

import docker
import pytest
import yaml

from testbed.vic.server import Simulator

PORT = 0  # a port the system gives
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list, "number": (int, float)}
# NetworkSettings' flat fields (the default network's), deprecated in API 1.9 and dropped in 1.44+
DROPPED_SINCE_1_25 = {"NetworkSettings": {"Bridge", "SandboxID", "HairpinMode", "LinkLocalIPv6Address",
                                          "LinkLocalIPv6PrefixLen", "SecondaryIPAddresses",
                                          "SecondaryIPv6Addresses", "EndpointID", "Gateway", "GlobalIPv6Address",
                                          "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen", "IPv6Gateway",
                                          "MacAddress"},
                      "ContainerConfig": {"MacAddress"},
                      "SystemInfo": {"ExperimentalBuild", "SystemStatus", "BridgeNfIptables"}}


def _reference():
    cache = os.environ.get("GOMODCACHE") or str(Path.home() / "go" / "pkg" / "mod")
    found = sorted(glob.glob(os.path.join(cache, "github.com", "moby", "moby", "api@v1.*", "swagger.yaml")))
    if not found:
        pytest.skip("no github.com/moby/moby/api in the Go module cache")
    return yaml.safe_load(Path(found[-1]).read_text())["definitions"]


def _properties(definitions, name):
    schema = definitions[name]
    properties, required = dict(schema.get("properties") or {}), list(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        if "$ref" in part:
            inner_properties, inner_required = _properties(definitions, part["$ref"].split("/")[-1])
            properties.update(inner_properties)
            required += inner_required
        properties.update(part.get("properties") or {})
    return properties, required


def _check(definitions, name, value, where, problems):
    properties, required = _properties(definitions, name)
    if not properties and definitions[name].get("additionalProperties"):
        return  # a map (PortMap): its keys are data, not fields
    for field in required:
        if field not in value:
            problems.append(f"{where}: {name} requires {field}")
    for field, item in value.items():
        spec = properties.get(field)
        if spec is None:
            if field not in DROPPED_SINCE_1_25.get(name, set()):
                problems.append(f"{where}.{field}: not in the reference's {name}")
            continue
        if "$ref" in spec and isinstance(item, dict):
            _check(definitions, spec["$ref"].split("/")[-1], item, f"{where}.{field}", problems)
            continue
        wanted = TYPES.get(spec.get("type"))
        if item is not None and wanted and not isinstance(item, wanted) and not spec.get("x-nullable") is False:
            problems.append(f"{where}.{field}: {type(item).__name__}, the reference says {spec['type']}")


def test_the_simulators_answers_follow_the_reference():
    definitions = _reference()
    with Simulator(PORT) as simulator:
        client = docker.DockerClient(base_url=simulator.url)
        client.volumes.create("data", driver="vsphere", driver_opts={"Capacity": "2048"})
        client.networks.create("shop-net")
        client.containers.run("nginx:1.27", name="web", detach=True, ports={"80/tcp": 8080}, mem_limit="1g",
                              volumes=["data:/data"], labels={"app": "shop"}, network="shop-net")
        api = client.api
        problems = []
        _check(definitions, "SystemInfo", api.info(), "info", problems)
        _check(definitions, "SystemVersion", api.version(), "version", problems)
        for summary in api.containers(all=True):
            _check(definitions, "ContainerSummary", summary, "containers", problems)
        _check(definitions, "ContainerInspectResponse", api.inspect_container("web"), "inspect", problems)
        _check(definitions, "Volume", api.inspect_volume("data"), "volume", problems)
        for network in api.networks():
            _check(definitions, "NetworkSummary", network, "networks", problems)
        client.close()
    assert problems == [], "\n".join(problems)
