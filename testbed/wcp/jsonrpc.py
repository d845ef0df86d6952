"""JSON-RPC ``POST /api``: the vAPI protocol VMware's SDKs speak, over the same handlers as REST.

vCenter serves every vSphere Automation operation twice: as REST (``/api/...``) and as JSON-RPC
(``POST /api``, ``{"method": "invoke", "params": {"serviceId", "operationId", "input", "ctx"}}``),
which is what the vSphere Automation SDK for Python uses. The testbed answers an operation it
knows by calling its own REST route with the caller's session and encoding the answer in vAPI's
JSON-RPC data encoding (structures named, optionals wrapped), as declared by the operation's IDL
type in VMware's own Python bindings (``vmware-vcenter``). An operation it does not know goes on
to vcsim, as before. Sessions are the shared store's (``com.vmware.cis.session``).
"""
from __future__ import annotations

import base64
import importlib
import json
import secrets

import aiohttp
from aiohttp import web

SESSION_SCHEME = "com.vmware.vapi.std.security.session_id"
USER_PASS_SCHEME = "com.vmware.vapi.std.security.user_pass"

# serviceId -> operationId -> (HTTP method, REST path, IDL output type as (bindings module, type name)
# or a list of one such for a list of it, None for none[, the input field sent as the REST body]);
# the path's {name} is taken from the operation's input
NAMESPACE_MANAGEMENT = "com.vmware.vcenter.namespace_management_client"
SUPERVISORS = "com.vmware.vcenter.namespace_management.supervisors_client"
SUPERVISOR_SERVICES = "com.vmware.vcenter.namespace_management.supervisor_services_client"
OPERATIONS = {
    "com.vmware.cis.session": {
        "get": ("POST", "/rest/com/vmware/cis/session?~action=get", ("com.vmware.cis_client", "Session.Info")),
    },
    "com.vmware.vcenter.cluster": {
        "list": ("GET", "/api/vcenter/cluster", [("com.vmware.vcenter_client", "Cluster.Summary")]),
    },
    "com.vmware.vcenter.VM": {
        "list": ("GET", "/api/vcenter/vm", [("com.vmware.vcenter_client", "VM.Summary")]),
    },
    "com.vmware.cis.tagging.tag": {
        "list": ("GET", "/rest/com/vmware/cis/tagging/tag", ["ids"]),
    },
    "com.vmware.vcenter.namespaces.instances": {
        "create": ("POST", "/api/vcenter/namespaces/instances", None, "spec"),
        "update": ("PATCH", "/api/vcenter/namespaces/instances/{namespace}", None, "spec"),
        "delete": ("DELETE", "/api/vcenter/namespaces/instances/{namespace}", None),
        "list": ("GET", "/api/vcenter/namespaces/instances", [("com.vmware.vcenter.namespaces_client",
                                                               "Instances.Summary")]),
        "get": ("GET", "/api/vcenter/namespaces/instances/{namespace}",
                ("com.vmware.vcenter.namespaces_client", "Instances.Info")),
    },
    "com.vmware.vcenter.namespace_management.clusters": {
        "list": ("GET", "/api/vcenter/namespace-management/clusters", [(NAMESPACE_MANAGEMENT, "Clusters.Summary")]),
        "get": ("GET", "/api/vcenter/namespace-management/clusters/{cluster}", (NAMESPACE_MANAGEMENT, "Clusters.Info")),
    },
    "com.vmware.vcenter.namespace_management.virtual_machine_classes": {
        "create": ("POST", "/api/vcenter/namespace-management/virtual-machine-classes", None, "spec"),
        "update": ("PATCH", "/api/vcenter/namespace-management/virtual-machine-classes/{vm_class}", None, "spec"),
        "delete": ("DELETE", "/api/vcenter/namespace-management/virtual-machine-classes/{vm_class}", None),
        "list": ("GET", "/api/vcenter/namespace-management/virtual-machine-classes",
                 [(NAMESPACE_MANAGEMENT, "VirtualMachineClasses.Info")]),
        "get": ("GET", "/api/vcenter/namespace-management/virtual-machine-classes/{vm_class}",
                (NAMESPACE_MANAGEMENT, "VirtualMachineClasses.Info")),
    },
    "com.vmware.vcenter.namespace_management.supervisors.summary": {
        "get": ("GET", "/api/vcenter/namespace-management/supervisors/{supervisor}/summary",
                (SUPERVISORS, "Summary.Info")),
        "list": ("GET", "/api/vcenter/namespace-management/supervisors/summaries", (SUPERVISORS, "Summary.ListResult")),
    },
    "com.vmware.vcenter.namespace_management.supervisors.topology": {
        "get": ("GET", "/api/vcenter/namespace-management/supervisors/{supervisor}/topology",
                [(SUPERVISORS, "Topology.Info")]),
    },
    "com.vmware.vcenter.namespace_management.networks": {
        "list": ("GET", "/api/vcenter/namespace-management/clusters/{cluster}/networks",
                 [(NAMESPACE_MANAGEMENT, "Networks.Info")]),
        "get": ("GET", "/api/vcenter/namespace-management/clusters/{cluster}/networks/{network}",
                (NAMESPACE_MANAGEMENT, "Networks.Info")),
    },
    "com.vmware.vcenter.namespace_management.edge_cluster_compatibility": {
        "list": ("GET", "/api/vcenter/namespace-management/edge-cluster-compatibility?cluster={cluster}"
                 "&distributed_switch={distributed_switch}", [(NAMESPACE_MANAGEMENT, "EdgeClusterCompatibility.Summary")]),
    },
    "com.vmware.vcenter.namespace_management.distributed_switch_compatibility": {
        "list": ("GET", "/api/vcenter/namespace-management/distributed-switch-compatibility?cluster={cluster}",
                 [(NAMESPACE_MANAGEMENT, "DistributedSwitchCompatibility.Summary")]),
    },
    "com.vmware.vcenter.namespace_management.supervisor_services": {
        "list": ("GET", "/api/vcenter/namespace-management/supervisor-services",
                 [(NAMESPACE_MANAGEMENT, "SupervisorServices.Summary")]),
        "get": ("GET", "/api/vcenter/namespace-management/supervisor-services/{supervisor_service}",
                (NAMESPACE_MANAGEMENT, "SupervisorServices.Info")),
    },
    "com.vmware.vcenter.namespace_management.supervisor_services.versions": {
        "list": ("GET", "/api/vcenter/namespace-management/supervisor-services/{supervisor_service}/versions",
                 [(SUPERVISOR_SERVICES, "Versions.Summary")]),
        "get": ("GET", "/api/vcenter/namespace-management/supervisor-services/{supervisor_service}/versions/{version}",
                (SUPERVISOR_SERVICES, "Versions.Info")),
    },
}
# REST error_type -> the vAPI standard error it is
ERRORS = {"NOT_FOUND": "NotFound", "UNAUTHENTICATED": "Unauthenticated", "UNAUTHORIZED": "Unauthorized",
          "INVALID_ARGUMENT": "InvalidArgument", "ALREADY_EXISTS": "AlreadyExists"}


class NotEncodable(Exception):
    """The REST answer lacks what the IDL type requires."""


def _binding_type(module: str, name: str):
    """The bindings' type of a structure, e.g. ("com.vmware.cis_client", "Session.Info")."""
    found = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found.get_binding_type()


def _field(value: dict, name: str):
    if name in value:
        return value[name]
    folded = {key.lower(): item for key, item in value.items()}  # a spelling of another case
    return folded.get(name.lower())


def encode(binding, value):
    """``value`` (REST JSON) in vAPI's JSON-RPC data encoding of the IDL type ``binding``."""
    from vmware.vapi.bindings import type as t

    if isinstance(binding, t.ReferenceType):
        return encode(binding.resolved_type, value)
    if isinstance(binding, t.OptionalType):
        return {"OPTIONAL": None if value is None else encode(binding.element_type, value)}
    if value is None:
        raise NotEncodable(f"a value of {type(binding).__name__} is required")
    if isinstance(binding, (t.ListType, t.SetType)):
        return [encode(binding.element_type, item) for item in value]
    if isinstance(binding, t.MapType):
        return [{"STRUCTURE": {"map-entry": {"key": encode(binding.key_type, key),
                                             "value": encode(binding.value_type, item)}}}
                for key, item in value.items()]
    if isinstance(binding, t.DynamicStructType):  # a free-form structure (resource_spec): its JSON as it is
        return _dynamic(binding.name, value)
    if isinstance(binding, t.OpaqueType):
        raise NotEncodable("opaque values are not served")
    if isinstance(binding, t.StructType):
        if not isinstance(value, dict):
            raise NotEncodable(f"{binding.name} needs an object, got {value!r:.80}")
        fields = {}
        for name in binding.get_field_names():
            try:
                fields[name] = encode(binding.get_field(name), _field(value, name))
            except NotEncodable as err:
                raise NotEncodable(f"{binding.name}.{name}: {err}") from None
        return {("ERROR" if isinstance(binding, t.ErrorType) else "STRUCTURE"): {binding.name: fields}}
    if isinstance(binding, t.SecretType):
        return {"SECRET": value}
    if isinstance(binding, t.BooleanType):
        return bool(value)
    if isinstance(binding, t.IntegerType):
        return int(value)
    if isinstance(binding, t.DoubleType):
        return float(value)
    return str(value)  # strings, IDs, enums, dates, URIs


def _dynamic(name: str, value):
    if isinstance(value, dict):
        return {"STRUCTURE": {name: {key: _dynamic(name, item) for key, item in value.items() if item is not None}}}
    if isinstance(value, list):
        return [_dynamic(name, item) for item in value]
    return value


def _output_type(declared):
    from vmware.vapi.bindings import type as t

    if declared == ["ids"]:
        return t.ListType(t.IdType())
    if isinstance(declared, list):
        return t.ListType(_binding_type(*declared[0]))
    return _binding_type(*declared)


def _input_fields(params: dict) -> dict:
    structure = (params.get("input") or {}).get("STRUCTURE") or {}
    fields = next(iter(structure.values()), {}) if structure else {}

    def plain(value):
        if isinstance(value, dict) and len(value) == 1:
            kind, inner = next(iter(value.items()))
            if kind == "OPTIONAL":
                return plain(inner)
            if kind == "SECRET":
                return inner
        return value
    return {name: plain(value) for name, value in fields.items()}


def decode(value):
    """A value in vAPI's JSON-RPC data encoding as REST JSON: structures, optionals and secrets unwrapped."""
    if isinstance(value, list):
        if value and all(isinstance(item, dict) and "map-entry" in (item.get("STRUCTURE") or {}) for item in value):
            return {decode(item["STRUCTURE"]["map-entry"]["key"]): decode(item["STRUCTURE"]["map-entry"]["value"])
                    for item in value}
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            kind, inner = next(iter(value.items()))
            if kind in ("OPTIONAL", "SECRET"):
                return decode(inner)
            if kind == "STRUCTURE" and isinstance(inner, dict) and len(inner) == 1:
                fields = next(iter(inner.values()))
                return {name: decode(item) for name, item in fields.items() if decode(item) is not None}
        return {name: decode(item) for name, item in value.items()}
    return value


def _session_id(request: web.Request, params: dict) -> str:
    security = (params.get("ctx") or {}).get("securityCtx") or {}
    if security.get("schemeId") == SESSION_SCHEME:
        return security.get("sessionId", "")
    return request.headers.get("vmware-api-session-id", "")


def _result(rpc: dict, result: dict) -> web.Response:
    return web.Response(text=json.dumps({"jsonrpc": "2.0", "id": rpc.get("id"), "result": result}),
                        content_type="application/json")


def _error(rpc: dict, error_type: str, message: str) -> web.Response:
    name = ERRORS.get(error_type, "Error")
    binding = _binding_type("com.vmware.vapi.std.errors_client", name)
    rest = {"error_type": error_type if name != "Error" else "ERROR", "messages": [
        {"id": f"testbed.wcp.{error_type.lower()}", "default_message": message, "args": []}]}
    return _result(rpc, {"error": encode(binding, rest)})


async def _create_session(request: web.Request, rpc: dict, params: dict) -> web.Response:
    """``com.vmware.cis.session.create`` with user and password: a session of the shared store."""
    from testbed.wcp import app

    wcp = app.wcp_of(request)
    security = (params.get("ctx") or {}).get("securityCtx") or {}
    user, password = security.get("userName", ""), security.get("password", "")
    expected = wcp.users().get(user)
    if security.get("schemeId") != USER_PASS_SCHEME or expected is None \
            or not secrets.compare_digest(expected, password):
        return _error(rpc, "UNAUTHENTICATED", "invalid user name or password")
    authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return _result(rpc, {"output": {"SECRET": await app.new_session(request, user, authorization)}})


async def invoke(request: web.Request, rpc: dict, wcp) -> web.Response | None:
    """Answer one JSON-RPC request, or None when the testbed does not serve its operation here."""
    params = rpc.get("params") or {}
    if rpc.get("method") == "invoke" and params.get("serviceId") == "com.vmware.cis.session" \
            and params.get("operationId") == "create":
        return await _create_session(request, rpc, params)
    declared = OPERATIONS.get(params.get("serviceId"), {}).get(params.get("operationId"))
    if rpc.get("method") != "invoke" or declared is None:
        return None
    try:
        output_type = _output_type(declared[2]) if declared[2] is not None else None
    except ImportError:  # the bindings are not installed: vcsim answers, as before
        return None
    method, path = declared[0], declared[1].format(**_input_fields(params))
    body_field = declared[3] if len(declared) > 3 else None
    payload = None
    if body_field:
        structure = (params.get("input") or {}).get("STRUCTURE") or {}
        payload = decode((next(iter(structure.values()), {}) if structure else {}).get(body_field))
    session: aiohttp.ClientSession = request.app["upstream"]
    origin = f"{request.scheme}://{request.host}"
    async with session.request(method, origin + path, ssl=wcp.upstream_tls, json=payload,
                               headers={"vmware-api-session-id": _session_id(request, params),
                                        "Accept": "application/json"}) as answer:
        text = await answer.text()
    body = json.loads(text) if text else None
    if answer.status >= 400:
        body = body if isinstance(body, dict) else {}
        messages = body.get("messages") or [{}]
        return _error(rpc, body.get("error_type", "ERROR"), messages[0].get("default_message", text[:200]))
    if output_type is None:  # an operation without output
        return _result(rpc, {"output": None})
    if path.startswith("/rest/") and isinstance(body, dict):
        body = body.get("value")
        if body is None and isinstance(declared[2], list):  # vcsim answers an empty list as null
            body = []
    try:
        return _result(rpc, {"output": encode(output_type, body)})
    except NotEncodable as err:
        return _error(rpc, "ERROR", f"the testbed's answer is not a {params['serviceId']}.{params['operationId']} "
                                    f"output: {err}")
