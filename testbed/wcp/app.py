"""The WCP simulator's HTTPS application: routes, sessions, mirroring loop and the vcsim proxy."""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from testbed.credentials import Credentials
from testbed.faults import FaultBook
from testbed.wcp import services, tokens, validation
from testbed.wcp.errors import ApiError
from testbed.wcp.store import Store

log = logging.getLogger("testbed.wcp")

SESSION_HEADER = "vmware-api-session-id"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}


@dataclass
class Wcp:
    store: Store
    credentials: Credentials
    jwt_key: bytes
    vcsim_url: str
    upstream_tls: ssl.SSLContext
    apiserver_url: str
    ca_pem: str
    faults: FaultBook
    guest_ports_file: Path
    libraries: object = None  # testbed.wcp.libraries.ContentLibraries
    compute: object = None  # () -> {"clusters": [...], "vms": [...]} read from vcsim (blocking)
    kubernetes_version: str = "v0.0.0"  # what the Supervisor's kube-apiserver answers on /version
    # the Supervisor's own address: /wcp/login on 443, the Kubernetes API on 6443 (testbed.layout)
    supervisor_host: str = "127.0.0.1"
    supervisor_api_port: int = 6443
    # a guest kube-apiserver's port -> its cluster's control-plane VIP, whose 6443 leads to it (testbed.layout)
    guest_vip: object = None
    guest_api_port: int = 6443
    mirror: object = None  # testbed.wcp.mirror.Mirror, once Kubernetes answers
    storage_policies: dict[str, str] = field(default_factory=dict)  # id -> name, read from vcsim at start
    pod_cidr: str = "10.244.0.0/16"  # where vSphere Pods get their addresses (testbed.podnet)
    # one vAPI session store for /api, /rest, JSON-RPC (and so SOAP's vAPI twin), as on vCenter 8: the
    # admin's sessions are vcsim's own (made there, valid there and here); a session vcsim made is
    # taken here at its first use; the SSO users vcsim does not know have sessions of this store only
    sessions: dict[str, dict] = field(default_factory=dict)
    voided: set[str] = field(default_factory=set)  # ended or expired here: never taken from vcsim again
    mirror_errors: dict[str, str] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    # --- identities ------------------------------------------------------------------------
    def users(self) -> dict[str, str]:
        return self.credentials.sso_users()

    def basic_user(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            raise ApiError("UNAUTHENTICATED", "HTTP Basic credentials are required")
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("UNAUTHENTICATED", "malformed HTTP Basic credentials") from None
        expected = self.users().get(user)
        if expected is None or not secrets.compare_digest(expected, password):
            raise ApiError("UNAUTHENTICATED", "invalid user name or password")
        return user

    def session_user(self, request: web.Request) -> str:
        session = self.sessions.get(request.headers.get(SESSION_HEADER, ""))
        if session is not None and session["created"] < self.faults.revoked_before("vcenter-session-expiry"):
            self.end_session(request.headers[SESSION_HEADER])
            session = None
        if session is None:
            raise ApiError("UNAUTHENTICATED", "no valid vmware-api-session-id: log in with POST /api/session")
        session["last_accessed_time"] = _now()
        return session["user"]

    def end_session(self, session_id: str) -> dict | None:
        self.voided.add(session_id)
        return self.sessions.pop(session_id, None)

    def add_session(self, session_id: str, user: str, created: float | None = None) -> None:
        self.sessions[session_id] = {"user": user, "created": created or time.time(), "created_time": _now(),
                                     "last_accessed_time": _now()}

    def role_of(self, user: str, namespace: str) -> str | None:
        """The strongest role (OWNER, EDIT, VIEW) the namespace's access list gives ``user``, as a USER
        entry or through one of the user's SSO groups; vCenter's administrator is an OWNER of every
        namespace; None: no access."""
        if user == self.credentials.vcenter_user:
            return "OWNER"
        names = {("USER", user.lower())} | {("GROUP", group.lower()) for group in self.credentials.sso_groups(user)}
        stored = self.store.get("namespaces", namespace) or {}
        roles = {entry["role"] for entry in stored.get("access_list", [])
                 if (entry["subject_type"], f"{entry['subject']}@{entry['domain']}".lower()) in names}
        return next((role for role in ("OWNER", "EDIT", "VIEW") if role in roles), None)

    def may_use(self, user: str, namespace: str) -> bool:
        """Whether ``user`` is the admin or named (OWNER, EDIT or VIEW) in the namespace's access list."""
        return self.role_of(user, namespace) is not None

    def admin_user(self, request: web.Request) -> str:
        user = self.session_user(request)
        if user != self.credentials.vcenter_user:
            raise ApiError("UNAUTHORIZED", f"{user} may not change workload management configuration")
        return user


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _json(value, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(value), content_type="application/json")


async def _body(request: web.Request):
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise validation.invalid("the request body is not valid JSON") from None


async def _vcsim_session(request: web.Request, method: str, path: str, headers: dict) -> tuple[int, object]:
    wcp = wcp_of(request)
    session: aiohttp.ClientSession = request.app["upstream"]
    async with session.request(method, wcp.vcsim_url + path, headers=headers, ssl=wcp.upstream_tls) as answer:
        text = await answer.text()
        try:
            return answer.status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return answer.status, None


@web.middleware
async def shared_sessions(request: web.Request, handler):
    """Take a vAPI session vcsim made (govc's /rest login, a JSON-RPC login) at its first use here."""
    wcp = wcp_of(request)
    session_id = request.headers.get(SESSION_HEADER, "")
    if session_id and session_id not in wcp.sessions and session_id not in wcp.voided \
            and request.path.startswith(("/api/", "/rest/com/vmware/cis/session")):
        status, answer = await _vcsim_session(request, "POST", "/rest/com/vmware/cis/session?~action=get",
                                              {SESSION_HEADER: session_id, "Accept": "application/json"})
        if status == 200 and isinstance(answer, dict):
            user = (answer.get("value") or {}).get("user", "")
            # vcsim names a JSON-RPC session by its own ID: its one user is vCenter's admin
            wcp.add_session(session_id, user if user in wcp.users() else wcp.credentials.vcenter_user)
    return await handler(request)


@web.middleware
async def api_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as err:
        return err.response()


def wcp_of(request: web.Request) -> Wcp:
    return request.app["wcp"]


# --- WCP login and TokenReview -------------------------------------------------------------
async def login(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    user = wcp.basic_user(request)
    body = await _body(request) if request.can_read_body else {}
    cluster, namespace = body.get("guest_cluster_name"), body.get("guest_cluster_namespace")
    groups = wcp.credentials.sso_groups(user)
    if not cluster:
        return _json({"session_id": tokens.issue(wcp.jwt_key, user, groups=groups)})
    ports = json.loads(wcp.guest_ports_file.read_text()) if wcp.guest_ports_file.exists() else {}
    if not namespace:
        # as kubectl vsphere login --tanzu-kubernetes-cluster-name alone: the one cluster of that name
        # among the namespaces the user may use
        candidates = sorted(key.split("/", 1)[0] for key in ports
                            if key.split("/", 1)[1] == cluster and wcp.may_use(user, key.split("/", 1)[0]))
        if len(candidates) > 1:
            raise validation.invalid(f"guest cluster {cluster} exists in the vSphere Namespaces "
                                     f"{', '.join(candidates)}; name one as guest_cluster_namespace")
        if not candidates:
            raise ApiError("NOT_FOUND", f"no guest cluster {cluster} in a vSphere Namespace {user} may use")
        namespace = candidates[0]
    key = f"{namespace}/{cluster}"
    # any role in the namespace logs in (VMware's KB 424897: a Can View user logs in to the guest
    # cluster and is Forbidden there); what the token may do inside is the guest's RBAC's answer:
    # cluster-admin for OWNER and EDIT subjects, nothing for VIEW (testbed.controllers.guest_access)
    if not wcp.may_use(user, namespace):
        raise ApiError("UNAUTHORIZED", f"{user} has no access to vSphere Namespace {namespace}")
    if key not in ports:
        raise ApiError("NOT_FOUND", f"guest cluster {key} does not exist or is not ready")
    return _json({"session_id": tokens.issue(wcp.jwt_key, user, guest=key, groups=groups),
                  "guest_cluster_server": f"{wcp.guest_vip(ports[key])}:{wcp.guest_api_port}",
                  "guest_cluster_ca": base64.b64encode(wcp.ca_pem.encode()).decode()})


async def login_banner(request: web.Request) -> web.Response:
    """``GET /wcp/loginbanner``: the banner ``kubectl vsphere login`` shows before it asks for a password,
    unauthenticated: the Supervisor's ``login_banner`` (Clusters.UpdateSpec), empty when none is set."""
    wcp = wcp_of(request)
    banners = [stored.get("spec", {}).get("login_banner") or "" for _, stored in sorted(wcp.store.list("clusters").items())
               if _config_status(stored) != "DISABLED"]
    return web.Response(text=next((banner for banner in banners if banner), ""), content_type="text/plain")


async def workloads(request: web.Request) -> web.Response:
    """``GET /wcp/workloads``: the namespaces a login may use, as ``kubectl vsphere login`` reads
    them (HTTP Basic) to make one context per namespace."""
    wcp = wcp_of(request)
    user = wcp.basic_user(request)
    return _json([{"namespace": name, "master_host": wcp.supervisor_host,
                   "control_plane_api_server_port": str(wcp.supervisor_api_port)}
                  for name in sorted(wcp.store.list("namespaces")) if wcp.may_use(user, name)])


async def token_review(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    guest = f"{request.match_info['namespace']}/{request.match_info['cluster']}" \
        if "cluster" in request.match_info else None
    return _json(tokens.review(wcp.jwt_key, await _body(request), wcp.faults.revoked_before("wcp-token-expiry"),
                               guest=guest))


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


# --- vCenter sessions ----------------------------------------------------------------------
async def _new_session(request: web.Request) -> str:
    wcp = wcp_of(request)
    return await new_session(request, wcp.basic_user(request), request.headers["Authorization"])


async def new_session(request: web.Request, user: str, authorization: str) -> str:
    """A session of the shared store for ``user``, whose HTTP Basic credentials were checked."""
    wcp = wcp_of(request)
    session_id = secrets.token_hex(16)
    if user == wcp.credentials.vcenter_user:  # made in vcsim's store, so that it is good there too
        status, answer = await _vcsim_session(request, "POST", "/rest/com/vmware/cis/session", {
            "Authorization": authorization, "vmware-use-header-authn": "true", "Accept": "application/json"})
        if status == 200 and isinstance(answer, dict) and isinstance(answer.get("value"), str):
            session_id = answer["value"]
    wcp.add_session(session_id, user)
    return session_id


async def create_session(request: web.Request) -> web.Response:
    return _json(await _new_session(request), status=201)


async def create_rest_session(request: web.Request) -> web.StreamResponse:
    """``POST /rest/com/vmware/cis/session``: the same store as ``/api/session``, in /rest's envelope."""
    if request.query.get("~action"):
        if request.query["~action"] != "get":
            return await proxy(request)
        wcp = wcp_of(request)
        user = wcp.session_user(request)
        session = wcp.sessions[request.headers[SESSION_HEADER]]
        return _json({"value": {"user": user, "created_time": session["created_time"],
                                "last_accessed_time": session["last_accessed_time"]}})
    return _json({"value": await _new_session(request)})


async def get_session(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    session = wcp.sessions[request.headers[SESSION_HEADER]]
    return _json({key: session[key] for key in ("user", "created_time", "last_accessed_time")})


async def delete_session(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    session_id = request.headers[SESSION_HEADER]
    wcp.end_session(session_id)
    await _vcsim_session(request, "DELETE", "/rest/com/vmware/cis/session", {SESSION_HEADER: session_id})
    return web.Response(status=204)


# --- vSphere Namespaces --------------------------------------------------------------------
def _namespace_info(wcp: Wcp, name: str, stored: dict) -> dict:
    error = wcp.mirror_errors.get(name)
    return {
        "cluster": stored["cluster"],
        "description": stored.get("description", ""),
        "config_status": "ERROR" if error else stored.get("config_status", "CONFIGURING"),
        "messages": [{"severity": "ERROR", "details": {"default_message": error}}] if error else [],
        "access_list": stored.get("access_list", []),
        "storage_specs": stored.get("storage_specs", []),
        "resource_spec": stored.get("resource_spec", {}),
        "vm_service_spec": stored.get("vm_service_spec", {"vm_classes": [], "content_libraries": []}),
        "networks": stored.get("networks", []),
        "self_service_namespace": False,
        "stats": {"cpu_used": 0, "memory_used": 0, "storage_used": 0},
    }


def _stored(wcp: Wcp, request: web.Request, table: str, what: str) -> tuple[str, dict]:
    """The stored record the URL names (its last path parameter), or NOT_FOUND."""
    name = list(request.match_info.values())[-1]
    stored = wcp.store.get(table, name)
    if stored is None:
        raise ApiError("NOT_FOUND", f"{what} {name} does not exist")
    return name, stored


def _stored_namespace(wcp: Wcp, request: web.Request) -> tuple[str, dict]:
    return _stored(wcp, request, "namespaces", "namespace")


async def list_namespaces(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    summaries = []
    for name, stored in sorted(wcp.store.list("namespaces").items()):
        info = _namespace_info(wcp, name, stored)
        summaries.append({"namespace": name, **{key: info[key] for key in
                                                ("cluster", "description", "config_status", "stats")}})
    return _json(summaries)


async def create_namespace(request: web.Request) -> web.Response:
    wcp_of(request).admin_user(request)
    return await _create_namespace(request, await _body(request))


async def _create_namespace(request: web.Request, spec) -> web.Response:
    wcp = wcp_of(request)
    user = wcp.admin_user(request)
    name = validation.dns_label(spec.get("namespace") if isinstance(spec, dict) else None, "namespace")
    cluster = spec.get("cluster")
    clusters = wcp.store.list("clusters")
    if cluster not in clusters or _config_status(clusters[cluster]) != "RUNNING":
        raise validation.invalid(f"cluster {cluster!r} is not a cluster with workload management enabled")
    checked = validation.namespace_fields(spec, set(wcp.store.list("vm_classes")), creating=True)
    _check_policies(wcp, checked)
    await _check_libraries(wcp, checked)
    if wcp.store.get("namespaces", name) is not None:
        raise ApiError("ALREADY_EXISTS", f"namespace {name} already exists")
    wcp.store.put("namespaces", name, {"cluster": cluster, "config_status": "CONFIGURING", **checked})
    wcp.changed.set()
    log.info("namespace %s created by %s", name, user)  # as vCenter's events record who did what
    return web.Response(status=204)


def _check_policies(wcp: Wcp, checked: dict) -> None:
    for entry in checked.get("storage_specs") or []:
        if wcp.storage_policies and entry["policy"] not in wcp.storage_policies:
            raise validation.invalid(f"storage_specs names an unknown storage policy: {entry['policy']}")


async def _check_libraries(wcp: Wcp, checked: dict) -> None:
    for library in (checked.get("vm_service_spec") or {}).get("content_libraries") or []:
        if not await asyncio.to_thread(wcp.libraries.exists, str(library)):
            raise validation.invalid(f"vm_service_spec names an unknown content library: {library}")


# --- Namespaces.Instances v2 (vSphere 8): a namespace is named by its Supervisor, not its cluster
SUPERVISOR_PREFIX = "supervisor-"


def _supervisor_of(cluster: str) -> str:
    """The Supervisor ID of a cluster, as supervisors/summaries reports it."""
    return SUPERVISOR_PREFIX + cluster


async def list_namespaces_v2(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    answer = []
    for name, stored in sorted(wcp.store.list("namespaces").items()):
        info = _namespace_info(wcp, name, stored)
        answer.append({"namespace": name, "supervisor": _supervisor_of(stored["cluster"]),
                       **{key: info[key] for key in ("description", "config_status", "stats",
                                                     "self_service_namespace")}})
    return _json(answer)


async def get_namespace_v2(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    name, stored = _stored_namespace(wcp, request)
    info = _namespace_info(wcp, name, stored)
    info["supervisor"] = _supervisor_of(info.pop("cluster"))
    info["content_libraries"] = stored.get("content_libraries", [])
    return _json(info)


async def create_namespace_v2(request: web.Request) -> web.Response:
    """``POST .../instances/v2``: Instances.CreateSpecV2, made as the v1 create with the Supervisor's cluster."""
    wcp_of(request).admin_user(request)
    spec = await _body(request)
    if not isinstance(spec, dict):
        raise validation.invalid("the request body must be a JSON object")
    supervisor = spec.get("supervisor")
    if not isinstance(supervisor, str) or not supervisor.startswith(SUPERVISOR_PREFIX):
        raise validation.invalid(f"supervisor {supervisor!r} is not a Supervisor of this vCenter")
    unknown = sorted(set(spec) - {"namespace", "supervisor", "description", "storage_specs", "vm_service_spec",
                                  "content_libraries", "self_service_namespace", "network_spec",
                                  "namespace_network", "access_list", "resource_spec", "creator"})
    if unknown:
        raise validation.invalid(f"namespace spec has unknown fields: {', '.join(unknown)}")
    v1 = {key: value for key, value in spec.items()
          if key not in ("supervisor", "self_service_namespace", "network_spec", "namespace_network")}
    v1["cluster"] = supervisor[len(SUPERVISOR_PREFIX):]
    return await _create_namespace(request, v1)


async def get_namespace(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    name, stored = _stored_namespace(wcp, request)
    return _json(_namespace_info(wcp, name, stored))


async def update_namespace(request: web.Request) -> web.Response:
    """PATCH changes the fields given; PUT (set) replaces all settable fields."""
    wcp = wcp_of(request)
    wcp.admin_user(request)
    name, stored = _stored_namespace(wcp, request)
    checked = validation.namespace_fields(await _body(request), set(wcp.store.list("vm_classes")), creating=False)
    _check_policies(wcp, checked)
    await _check_libraries(wcp, checked)
    if request.method == "PUT":
        stored = {"cluster": stored["cluster"]}
    stored.update(checked, config_status="CONFIGURING")
    wcp.store.put("namespaces", name, stored)
    wcp.changed.set()
    return web.Response(status=204)


async def delete_namespace(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    user = wcp.admin_user(request)
    name, _ = _stored_namespace(wcp, request)
    wcp.store.delete("namespaces", name)
    log.info("namespace %s deleted by %s", name, user)
    wcp.mirror_errors.pop(name, None)
    wcp.changed.set()
    return web.Response(status=204)


# --- VM classes ----------------------------------------------------------------------------
def _vm_class_info(name: str, stored: dict, namespaces: dict[str, dict]) -> dict:
    """VirtualMachineClasses.Info, the same for GET and list."""
    info = {"id": name, "cpu_count": stored["cpu_count"], "memory_MB": stored["memory_mb"],
            "cpu_reservation": stored.get("cpu_reservation", 0),
            "memory_reservation": stored.get("memory_reservation", 0),
            "description": stored.get("description", ""), "devices": stored.get("devices", {}),
            "config_status": "READY", "namespaces": _namespaces_using(namespaces, name), "vms": [],
            "messages": []}
    if "config_spec" in stored:
        info["config_spec"] = stored["config_spec"]
    return info


def _stored_vm_class(wcp: Wcp, request: web.Request) -> tuple[str, dict]:
    return _stored(wcp, request, "vm_classes", "VM class")


def _namespaces_using(namespaces: dict[str, dict], vm_class: str) -> list[str]:
    return sorted(ns for ns, spec in namespaces.items()
                  if vm_class in (spec.get("vm_service_spec") or {}).get("vm_classes", []))


async def list_vm_classes(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    namespaces = wcp.store.list("namespaces")
    return _json([_vm_class_info(name, stored, namespaces)
                  for name, stored in sorted(wcp.store.list("vm_classes").items())])


async def create_vm_class(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.admin_user(request)
    spec = await _body(request)
    checked = validation.vm_class(spec, creating=True)
    if wcp.store.get("vm_classes", spec["id"]) is not None:
        raise ApiError("ALREADY_EXISTS", f"VM class {spec['id']} already exists")
    wcp.store.put("vm_classes", spec["id"], checked)
    return web.Response(status=204)


async def get_vm_class(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json(_vm_class_info(*_stored_vm_class(wcp, request), wcp.store.list("namespaces")))


async def update_vm_class(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.admin_user(request)
    name, stored = _stored_vm_class(wcp, request)
    spec = await _body(request)
    if isinstance(spec, dict) and spec.get("id") not in (None, name):
        raise validation.invalid(f"the update spec's id {spec['id']!r} is not the VM class {name}")
    stored.update(validation.vm_class(spec, creating=False))
    wcp.store.put("vm_classes", name, stored)
    wcp.changed.set()
    return web.Response(status=204)


async def delete_vm_class(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.admin_user(request)
    name, _ = _stored_vm_class(wcp, request)
    users = _namespaces_using(wcp.store.list("namespaces"), name)
    if users:
        raise validation.invalid(f"VM class {name} is still bound to namespaces: {', '.join(users)}")
    wcp.store.delete("vm_classes", name)
    return web.Response(status=204)


# --- clusters with workload management ----------------------------------------------------
ENABLE_SECONDS = 2.0  # how long CONFIGURING lasts after an enable, so that waiters have work
SIZE_HINTS = {"TINY", "SMALL", "MEDIUM", "LARGE"}
NETWORK_PROVIDERS = {"NSXT_CONTAINER_PLUGIN", "VSPHERE_NETWORK", "NSX_VPC"}
# The Supervisor the testbed enables at start uses NSX, so that vSphere Pods may run on it (they need
# NSX networking); a cluster enabled through the API uses what its enable spec names.
DEFAULT_NETWORK_PROVIDER = "NSXT_CONTAINER_PLUGIN"
# The NSX Manager the testbed models registered with vCenter: one edge cluster, compatible with every
# distributed switch, and its tier-0 gateway.
NSX_EDGE_CLUSTER = {"edge_cluster": "9e8b2c8a-6a3f-4f51-9d3e-0c5a7f1e2b11", "display_name": "edge-cluster-1"}
NSX_TIER0_GATEWAY = "tier0-gateway-1"
# what vCenter's enable wizard proposes for NSX: the namespace network, ingress and egress CIDRs
NSX_INGRESS_CIDR = {"address": "10.245.0.0", "prefix": 16}  # VirtualMachineService load balancers (vm_operator)
NSX_EGRESS_CIDR = {"address": "10.246.0.0", "prefix": 16}


def network_provider(stored: dict) -> str:
    return stored.get("spec", {}).get("network_provider") or DEFAULT_NETWORK_PROVIDER


def _cidr(text: str) -> dict:
    address, prefix = text.split("/")
    return {"address": address, "prefix": int(prefix)}


def _namespace_network_cidrs(wcp: "Wcp") -> list[dict]:
    """A namespace's segments are cut from these: VM Operator's VMs (10.244/16) and the pods'."""
    return [{"address": "10.244.0.0", "prefix": 16}, *([_cidr(wcp.pod_cidr)] if wcp.pod_cidr != "10.244.0.0/16" else [])]


def _config_status(stored: dict) -> str:
    if not stored.get("enabled"):
        return "REMOVING" if stored.get("disabled_at", 0) > time.time() - ENABLE_SECONDS else "DISABLED"
    return "CONFIGURING" if stored.get("enabled_at", 0) > time.time() - ENABLE_SECONDS else "RUNNING"


def _cluster_summary(cluster: str, stored: dict) -> dict:
    status = _config_status(stored)
    return {"cluster": cluster, "cluster_name": stored["name"], "config_status": status,
            "kubernetes_status": "READY" if status == "RUNNING" else "WARNING", "stats": _cluster_stats(stored)}


def _cluster_stats(stored: dict) -> dict:
    """Clusters.Stats: the cluster's capacity as vcsim reports it; the testbed accounts no use of it."""
    capacity = stored.get("capacity", {})
    return {key: capacity.get(key, 0) for key in ("cpu_capacity", "memory_capacity", "storage_capacity")} | {
        "cpu_used": 0, "memory_used": 0, "storage_used": 0}


def _service_cidr() -> dict:
    from testbed.stack import SERVICE_CIDR

    address, prefix = SERVICE_CIDR.split("/")
    return {"address": address, "prefix": int(prefix)}


def _default_policy(wcp: Wcp) -> str:
    """The storage policy ID a Supervisor enabled without one given uses (the one the testbed enables
    at start): vSAN's default policy where vcsim's PBM has it, as vCenter's enable wizard proposes."""
    by_name = {name: policy for policy, name in wcp.storage_policies.items()}
    return by_name.get("vSAN Default Storage Policy") or next(iter(sorted(wcp.storage_policies)), "")


def _enabled(wcp: Wcp, cluster: str) -> dict:
    stored = wcp.store.get("clusters", cluster)
    if stored is None or _config_status(stored) == "DISABLED":
        raise ApiError("NOT_FOUND", f"cluster {cluster} has no workload management enabled")
    return stored


async def list_clusters(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json([_cluster_summary(cluster, stored) for cluster, stored in sorted(wcp.store.list("clusters").items())
                  if _config_status(stored) != "DISABLED"])


async def get_cluster(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    cluster = request.match_info["cluster"]
    stored = _enabled(wcp, cluster)
    spec = stored.get("spec", {})
    summary = _cluster_summary(cluster, stored)
    kubernetes_messages = [] if summary["kubernetes_status"] == "READY" else [
        {"severity": "WARNING", "details": {"id": "testbed.wcp.configuring", "args": [],
                                            "default_message": "the Supervisor control plane is being configured"}}]
    info = {**summary,
            # IP addresses, no port, as vCenter reports them (the Kubernetes API is on 6443 there)
            "api_server_cluster_endpoint": wcp.supervisor_host,
            "api_server_management_endpoint": wcp.supervisor_host,
            "api_servers": [wcp.supervisor_host],
            "tls_endpoint_certificate": wcp.ca_pem,
            "size_hint": spec.get("size_hint", "SMALL"),
            "network_provider": network_provider(stored),
            "master_storage_policy": spec.get("master_storage_policy") or _default_policy(wcp),
            "ephemeral_storage_policy": _default_policy(wcp),
            "image_storage": {"storage_policy": _default_policy(wcp)},
            "kubernetes_status_messages": kubernetes_messages,
            "stat_summary": summary.pop("stats"),
            "service_cidr": _service_cidr(),
            "messages": []}
    info.update({key: spec[key] for key in REPORTED_SPEC_FIELDS if key in spec})
    if info["network_provider"] == "NSXT_CONTAINER_PLUGIN":
        info["ncp_cluster_network_info"] = await _ncp_network_info(wcp, spec)
    return _json(info)


async def _ncp_network_info(wcp: Wcp, spec: dict) -> dict:
    """Clusters.NCPClusterNetworkInfo: what an NSX Supervisor was enabled with, or the testbed's defaults."""
    given = spec.get("ncp_cluster_network_spec") or {}
    switches = (await asyncio.to_thread(wcp.compute))["switches"]
    return {"cluster_distributed_switch": given.get("cluster_distributed_switch") or (switches[0] if switches else ""),
            "nsx_edge_cluster": given.get("nsx_edge_cluster") or NSX_EDGE_CLUSTER["edge_cluster"],
            "pod_cidrs": given.get("pod_cidrs") or _namespace_network_cidrs(wcp),
            "ingress_cidrs": given.get("ingress_cidrs") or [NSX_INGRESS_CIDR],
            "egress_cidrs": given.get("egress_cidrs") or [NSX_EGRESS_CIDR],
            "default_ingress_tls_certificate": "", "nsx_tier0_gateway": NSX_TIER0_GATEWAY,
            "namespace_subnet_prefix": 28, "routed_mode": True}


# the Clusters.UpdateSpec fields the testbed keeps; a running Supervisor's network provider is fixed
UPDATABLE_FIELDS = {"size_hint", "master_storage_policy", "ephemeral_storage_policy", "image_storage",
                    "default_image_registry", "default_image_repository", "login_banner", "master_DNS",
                    "worker_DNS", "master_DNS_search_domains", "master_NTP_servers", "network_provider"}
REPORTED_SPEC_FIELDS = (UPDATABLE_FIELDS - {"size_hint", "network_provider", "master_storage_policy"}) \
    | {"master_management_network"}


def _checked_enable_spec(spec) -> dict:
    if not isinstance(spec, dict) or not spec.get("master_storage_policy"):
        raise validation.invalid("an enable spec needs master_storage_policy")
    if spec.get("size_hint", "SMALL") not in SIZE_HINTS:
        raise validation.invalid(f"size_hint must be one of {', '.join(sorted(SIZE_HINTS))}")
    if spec.get("network_provider") not in NETWORK_PROVIDERS:
        raise validation.invalid(f"network_provider must be one of {', '.join(sorted(NETWORK_PROVIDERS))}")
    _check_registry(spec)
    return spec


def _check_registry(spec: dict) -> None:
    registry = spec.get("default_image_registry")
    if registry is None:
        return
    if not isinstance(registry, dict) or not isinstance(registry.get("hostname"), str) or not registry["hostname"]:
        raise validation.invalid("default_image_registry needs a hostname")
    port = registry.get("port", 443)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise validation.invalid(f"default_image_registry port must be 1-65535, got {port!r}")


async def update_cluster(request: web.Request) -> web.Response:
    """PATCH: a partial Clusters.UpdateSpec; the Supervisor reconfigures (CONFIGURING) then runs again."""
    wcp = wcp_of(request)
    wcp.admin_user(request)
    cluster = request.match_info["cluster"]
    stored = _enabled(wcp, cluster)
    update = await _body(request)
    if not isinstance(update, dict):
        raise validation.invalid("an update spec is a JSON object")
    unknown = sorted(set(update) - UPDATABLE_FIELDS)
    if unknown:
        raise validation.invalid(f"{', '.join(unknown)}: not fields of an update spec; "
                                 "they cannot change while workload management is enabled")
    spec = stored.get("spec", {})
    provider = update.get("network_provider")
    if provider is not None and provider != network_provider(stored):
        raise validation.invalid(f"the network provider of a running Supervisor cannot change "
                                 f"({network_provider(stored)} to {provider})")
    if update.get("size_hint") not in SIZE_HINTS | {None}:
        raise validation.invalid(f"size_hint must be one of {', '.join(sorted(SIZE_HINTS))}")
    _check_registry(update)
    if _config_status(stored) != "RUNNING":
        raise validation.invalid(f"the Supervisor of cluster {cluster} is {_config_status(stored)}, not RUNNING")
    spec = {**spec, **{key: value for key, value in update.items() if value is not None}}
    wcp.store.put("clusters", cluster, {**stored, "spec": spec, "enabled_at": time.time()})
    return web.Response(status=204)


def supervisor_software_version(kubernetes_version: str) -> str:
    """The Supervisor release a kube-apiserver version belongs to, in vCenter's form."""
    return f"{kubernetes_version}+vmware.wcp.1-testbed"


def _software_info(wcp: Wcp, stored: dict) -> dict:
    # the testbed has one Kubernetes source, so its Supervisor is the newest there is: nothing to upgrade to
    return {"current_version": supervisor_software_version(wcp.kubernetes_version), "available_versions": [],
            "state": "READY", "messages": []}


async def list_software_clusters(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json([{"cluster": cluster, "cluster_name": stored["name"], **{
        key: value for key, value in _software_info(wcp, stored).items() if key != "messages"}}
        for cluster, stored in sorted(wcp.store.list("clusters").items()) if _config_status(stored) != "DISABLED"])


async def get_software_cluster(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json(_software_info(wcp, _enabled(wcp, request.match_info["cluster"])))


async def cluster_action(request: web.Request) -> web.Response:
    """POST .../clusters/{cluster}?action=enable|disable"""
    wcp = wcp_of(request)
    wcp.admin_user(request)
    cluster, action = request.match_info["cluster"], request.query.get("action")
    stored = wcp.store.get("clusters", cluster)
    if stored is None:
        raise ApiError("NOT_FOUND", f"cluster {cluster} does not exist")
    if action == "disable":
        if not stored.get("enabled"):
            raise validation.invalid(f"workload management is not enabled on cluster {cluster}")
        if any(ns["cluster"] == cluster for ns in wcp.store.list("namespaces").values()):
            raise validation.invalid(f"cluster {cluster} still has vSphere Namespaces; delete them first")
        wcp.store.put("clusters", cluster, {**stored, "enabled": False, "disabled_at": time.time()})
        return web.Response(status=204)
    if action != "enable":
        raise validation.invalid("action must be enable or disable")
    if stored.get("enabled"):
        raise ApiError("ALREADY_EXISTS", f"workload management is already enabled on cluster {cluster}")
    spec = _checked_enable_spec(await _body(request))
    wcp.store.put("clusters", cluster, {**stored, "enabled": True, "enabled_at": time.time(), "spec": spec})
    return web.Response(status=204)


def _supervisor_summary(wcp: Wcp, cluster: str, stored: dict) -> dict:
    """Supervisors.Summary.Info of the Supervisor on ``cluster``."""
    status = _config_status(stored)
    return {"name": f"supervisor-{stored['name'].lower().replace('_', '-')}",
            "APIEndpoint": wcp.supervisor_host,
            "stats": _cluster_stats(stored), "config_status": status,
            "kubernetes_status": "READY" if status == "RUNNING" else "WARNING", "messages": []}


def _supervisor(wcp: Wcp, request: web.Request) -> tuple[str, dict]:
    supervisor = request.match_info["supervisor"]
    cluster = supervisor[len(SUPERVISOR_PREFIX):] if supervisor.startswith(SUPERVISOR_PREFIX) else ""
    stored = wcp.store.get("clusters", cluster) if cluster else None
    if stored is None or _config_status(stored) == "DISABLED":
        raise ApiError("NOT_FOUND", f"supervisor {supervisor} does not exist")
    return cluster, stored


async def supervisor_summaries(request: web.Request) -> web.Response:
    wcp = wcp_of(request)
    wcp.session_user(request)
    items = [{"supervisor": _supervisor_of(cluster), "info": _supervisor_summary(wcp, cluster, stored)}
             for cluster, stored in sorted(wcp.store.list("clusters").items()) if _config_status(stored) != "DISABLED"]
    return _json({"items": items})


async def supervisor_summary(request: web.Request) -> web.Response:
    """``GET .../supervisors/{supervisor}/summary``"""
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json(_supervisor_summary(wcp, *_supervisor(wcp, request)))


async def supervisor_topology(request: web.Request) -> web.Response:
    """``GET .../supervisors/{supervisor}/topology``: the Supervisor's vSphere Zones and their clusters. The
    testbed's Supervisor is on one cluster, in one zone of its own, named after that cluster."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    cluster, _ = _supervisor(wcp, request)
    return _json([{"zone": f"zone-{cluster}", "clusters": [cluster]}])


async def _cluster_networks(wcp: Wcp, cluster: str) -> list[dict]:
    """The Supervisor's workload networks (Networks.Info): the primary workload network, and the
    namespaces that use it (all of them: none has a network of its own)."""
    stored = _enabled(wcp, cluster)
    provider = network_provider(stored)
    namespaces = sorted(name for name, ns in wcp.store.list("namespaces").items() if ns["cluster"] == cluster)
    network = {"network": "primary", "network_provider": provider, "namespaces": namespaces}
    if provider == "VSPHERE_NETWORK":  # VM Operator gives VMs addresses of 10.244/16 (controllers/vm_operator.py)
        portgroups = (await asyncio.to_thread(wcp.compute))["portgroups"]
        network["vsphere_network"] = {"portgroup": portgroups[0] if portgroups else "", "ip_assignment_mode":
                                      "STATICRANGE", "address_ranges": [{"address": "10.244.0.2", "count": 62498}],
                                      "gateway": "10.244.0.1", "subnet_mask": "255.255.0.0"}
    elif provider == "NSXT_CONTAINER_PLUGIN":
        ncp = await _ncp_network_info(wcp, stored.get("spec", {}))
        network["nsx_network"] = {"namespace_network_cidrs": ncp["pod_cidrs"], "ingress_cidrs": ncp["ingress_cidrs"],
                                  "egress_cidrs": ncp["egress_cidrs"], "nsx_tier0_gateway": ncp["nsx_tier0_gateway"],
                                  "subnet_prefix_length": ncp["namespace_subnet_prefix"], "routed_mode": True,
                                  "load_balancer_size": "SMALL"}
    return [network]


async def list_cluster_networks(request: web.Request) -> web.Response:
    """``GET .../clusters/{cluster}/networks``."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json(await _cluster_networks(wcp, request.match_info["cluster"]))


async def get_cluster_network(request: web.Request) -> web.Response:
    """``GET .../clusters/{cluster}/networks/{network}``: one Networks.Info, 404 for a network it has not."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    wanted = request.match_info["network"]
    for network in await _cluster_networks(wcp, request.match_info["cluster"]):
        if network["network"] == wanted:
            return _json(network)
    raise ApiError("NOT_FOUND", f"the Supervisor has no workload network {wanted!r}")


async def distributed_switch_compatibility(request: web.Request) -> web.Response:
    """``GET .../distributed-switch-compatibility?cluster=``: vcsim's distributed switches, each compatible
    with workload management (vcsim's switches are version 8, which a Supervisor needs at least 7)."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    cluster = request.query.get("cluster", "")
    if wcp.store.get("clusters", cluster) is None:
        raise ApiError("NOT_FOUND", f"cluster {cluster!r} does not exist")
    switches = [{"distributed_switch": switch, "compatible": True, "incompatibility_reasons": [],
                 "network_provider": "VSPHERE_NETWORK"} for switch in (await asyncio.to_thread(wcp.compute))["switches"]]
    wanted = request.query.get("compatible")
    if wanted is not None:
        switches = [item for item in switches if str(item["compatible"]).lower() == wanted.lower()]
    return _json(switches)


async def edge_cluster_compatibility(request: web.Request) -> web.Response:
    """``GET .../edge-cluster-compatibility?cluster=&distributed_switch=``: the NSX edge clusters the NSX
    Manager offers for a cluster on a switch (EdgeClusterCompatibility.Summary); the testbed models one,
    compatible with each of vcsim's distributed switches."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    cluster, switch = request.query.get("cluster", ""), request.query.get("distributed_switch", "")
    if wcp.store.get("clusters", cluster) is None:
        raise ApiError("NOT_FOUND", f"cluster {cluster!r} does not exist")
    if switch not in (await asyncio.to_thread(wcp.compute))["switches"]:
        raise ApiError("NOT_FOUND", f"distributed switch {switch!r} does not exist")
    edges = [{**NSX_EDGE_CLUSTER, "compatible": True, "incompatibility_reasons": []}]
    wanted = request.query.get("compatible")
    if wanted is not None:
        edges = [item for item in edges if str(item["compatible"]).lower() == wanted.lower()]
    return _json(edges)


async def list_vcenter_clusters(request: web.Request) -> web.Response:
    """``GET /api/vcenter/cluster``: Cluster.Summary of vcsim's clusters."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json((await asyncio.to_thread(wcp.compute))["clusters"])


async def list_vcenter_vms(request: web.Request) -> web.Response:
    """``GET /api/vcenter/vm``: VM.Summary of vcsim's VMs."""
    wcp = wcp_of(request)
    wcp.session_user(request)
    return _json((await asyncio.to_thread(wcp.compute))["vms"])


# --- JSON-RPC POST /api -----------------------------------------------------------------------
async def json_rpc(request: web.Request) -> web.StreamResponse:
    """The vAPI JSON-RPC endpoint: operations of the testbed's own API answered here, the rest by vcsim."""
    from testbed.wcp import jsonrpc

    try:
        rpc = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return await proxy(request)
    answer = await jsonrpc.invoke(request, rpc, wcp_of(request)) if isinstance(rpc, dict) else None
    return answer if answer is not None else await proxy(request)


# --- everything else goes to vcsim ----------------------------------------------------------
async def proxy(request: web.Request) -> web.StreamResponse:
    wcp = wcp_of(request)
    headers = {key: value for key, value in request.headers.items() if key.lower() not in HOP_BY_HOP}
    body = await request.read()
    session: aiohttp.ClientSession = request.app["upstream"]
    async with session.request(request.method, wcp.vcsim_url + request.path_qs, headers=headers, data=body,
                               ssl=wcp.upstream_tls, allow_redirects=False) as answer:
        payload = await answer.read()
        forwarded = {key: value for key, value in answer.headers.items() if key.lower() not in HOP_BY_HOP}
        return web.Response(status=answer.status, body=payload, headers=forwarded)


PUBLIC_CONFIG_MAPS = ("cluster-info", "vip-cluster-info")  # testbed.cluster_info.PUBLIC


async def public_config_map(request: web.Request) -> web.Response:
    """``GET /api/v1/namespaces/kube-public/configmaps/{name}`` on 443, unauthenticated: the discovery
    ConfigMaps the Tanzu CLI reads there (``vip-cluster-info``), read anonymously from the kube-apiserver;
    any other name is a Kubernetes 404, as where the Supervisor publishes no such discovery."""
    wcp, name = wcp_of(request), request.match_info["name"]
    if name not in PUBLIC_CONFIG_MAPS:
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": f'configmaps "{name}" not found', "reason": "NotFound",
                      "details": {"name": name, "kind": "configmaps"}, "code": 404}, status=404)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{wcp.apiserver_url}{request.path}", ssl=wcp.upstream_tls) as answer:
            return web.Response(status=answer.status, body=await answer.read(), content_type="application/json")


def supervisor_routes(app: web.Application) -> None:
    """What port 443 of the Supervisor's address serves: the login endpoints of ``kubectl vsphere login``
    and the public discovery ConfigMaps (the vCenter API is not there, as on a Supervisor)."""
    add = app.router.add_route
    add("GET", "/wcp/healthz", healthz)
    add("POST", "/wcp/login", login)
    add("GET", "/wcp/loginbanner", login_banner)
    add("GET", "/wcp/workloads", workloads)
    add("GET", "/api/v1/namespaces/kube-public/configmaps/{name}", public_config_map)


def routes(app: web.Application) -> None:
    """vCenter's endpoint: the vSphere Automation API (and the rest proxied to vcsim). The login
    endpoints are not here, as on vCenter: only the Supervisor's address serves them
    (``supervisor_routes``). The health check and TokenReview webhook are the testbed's own."""
    add = app.router.add_route
    add("GET", "/wcp/healthz", healthz)
    add("POST", "/wcp/tokenreview", token_review)
    add("POST", "/wcp/tokenreview/guest/{namespace}/{cluster}", token_review)
    add("POST", "/api", json_rpc)
    add("POST", "/api/session", create_session)
    add("GET", "/api/session", get_session)
    add("DELETE", "/api/session", delete_session)
    add("POST", "/rest/com/vmware/cis/session", create_rest_session)
    add("DELETE", "/rest/com/vmware/cis/session", delete_session)
    instances = "/api/vcenter/namespaces/instances"
    add("GET", instances, list_namespaces)
    add("POST", instances, create_namespace)
    add("GET", instances + "/v2", list_namespaces_v2)
    add("POST", instances + "/v2", create_namespace_v2)
    add("GET", instances + "/v2/{namespace}", get_namespace_v2)
    add("GET", instances + "/{namespace}", get_namespace)
    add("PATCH", instances + "/{namespace}", update_namespace)
    add("PUT", instances + "/{namespace}", update_namespace)
    add("DELETE", instances + "/{namespace}", delete_namespace)
    classes = "/api/vcenter/namespace-management/virtual-machine-classes"
    add("GET", classes, list_vm_classes)
    add("POST", classes, create_vm_class)
    add("GET", classes + "/{vm_class}", get_vm_class)
    add("PATCH", classes + "/{vm_class}", update_vm_class)
    add("DELETE", classes + "/{vm_class}", delete_vm_class)
    add("GET", "/api/vcenter/namespace-management/clusters", list_clusters)
    add("GET", "/api/vcenter/namespace-management/clusters/{cluster}", get_cluster)
    add("POST", "/api/vcenter/namespace-management/clusters/{cluster}", cluster_action)
    add("PATCH", "/api/vcenter/namespace-management/clusters/{cluster}", update_cluster)
    add("GET", "/api/vcenter/namespace-management/software/clusters", list_software_clusters)
    add("GET", "/api/vcenter/namespace-management/software/clusters/{cluster}", get_software_cluster)
    add("GET", "/api/vcenter/namespace-management/supervisors/summaries", supervisor_summaries)
    add("GET", "/api/vcenter/namespace-management/supervisors/{supervisor}/summary", supervisor_summary)
    add("GET", "/api/vcenter/namespace-management/supervisors/{supervisor}/topology", supervisor_topology)
    add("GET", "/api/vcenter/namespace-management/clusters/{cluster}/networks", list_cluster_networks)
    add("GET", "/api/vcenter/namespace-management/clusters/{cluster}/networks/{network}", get_cluster_network)
    add("GET", "/api/vcenter/namespace-management/distributed-switch-compatibility", distributed_switch_compatibility)
    add("GET", "/api/vcenter/namespace-management/edge-cluster-compatibility", edge_cluster_compatibility)
    add("GET", "/api/vcenter/cluster", list_vcenter_clusters)
    add("GET", "/api/vcenter/vm", list_vcenter_vms)
    services.routes(app, wcp_of)
    add("*", "/{tail:.*}", proxy)
