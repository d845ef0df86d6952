"""Supervisor Services as vCenter registers them (``/api/vcenter/namespace-management/supervisor-services``).

A service is registered from a version's definition, sent base64-encoded: a Carvel ``Package``
(with its ``PackageMetadata``), a definition in the vSphere application service format, or plain
Kubernetes YAML (``custom_spec``, which names the service and version itself). vCenter reads the
service's ID, name and version from the definition: for Carvel the Package's ``spec.refName`` and
``spec.version`` and the metadata's ``displayName``; for the vSphere format (whose schema VMware
does not publish) the testbed reads ``id``, ``displayName``, ``version``, ``description`` and
``eula``. A registered service and each of its versions are ACTIVATED
until deactivated; a service is removed once deactivated. Installing a service on a Supervisor is
not modelled: no Supervisor runs a registered service.
"""
from __future__ import annotations

import base64
import binascii
import json

import yaml
from aiohttp import web

from testbed.wcp import validation
from testbed.wcp.errors import ApiError

TABLE = "supervisor_services"


def _definition(spec) -> tuple[dict, str]:
    """(what a version's definition says, its content type) from a CreateSpec or a version CreateSpec."""
    if not isinstance(spec, dict):
        raise validation.invalid("a Supervisor Service spec is a JSON object")
    kinds = [kind for kind in ("carvel_spec", "vsphere_spec", "custom_spec") if spec.get(kind)]
    if len(kinds) != 1:
        raise validation.invalid("a Supervisor Service spec needs exactly one of carvel_spec, vsphere_spec and "
                                 "custom_spec")
    version_spec = spec[kinds[0]].get("version_spec", spec[kinds[0]])
    if kinds[0] == "custom_spec":  # plain Kubernetes YAML: the spec itself names the service and version
        custom = spec[kinds[0]]
        service = custom.get("supervisor_service") or custom.get("service")
        if not version_spec.get("version") or not version_spec.get("content"):
            raise validation.invalid("a custom_spec version needs a version and content")
        return {"id": service or "", "version": str(version_spec["version"]),
                "display_name": version_spec.get("display_name") or custom.get("display_name") or service or "",
                "description": version_spec.get("description") or custom.get("description") or "", "eula": "",
                "content": version_spec["content"]}, "CUSTOM_YAML"
    try:
        text = base64.b64decode(version_spec.get("content") or "", validate=True).decode()
        documents = [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)]
    except (binascii.Error, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        raise validation.invalid("the version's content is not a base64-encoded YAML definition") from None
    if kinds[0] == "carvel_spec":
        package = next((doc for doc in documents if doc.get("kind") == "Package"), None)
        metadata = next((doc for doc in documents if doc.get("kind") == "PackageMetadata"), {})
        if not package or not (package.get("spec") or {}).get("refName") or not package["spec"].get("version"):
            raise validation.invalid("the Carvel content has no Package with spec.refName and spec.version")
        meta_spec = metadata.get("spec") or {}
        return {"id": package["spec"]["refName"], "version": str(package["spec"]["version"]),
                "display_name": meta_spec.get("displayName") or package["spec"]["refName"],
                "description": meta_spec.get("shortDescription") or meta_spec.get("longDescription") or "",
                "eula": (package["spec"].get("licenses") or [""])[0], "content": version_spec["content"]}, "CARVEL_APPS_YAML"
    definition = documents[0] if documents else {}
    if not definition.get("id") or not definition.get("version"):
        raise validation.invalid("the vSphere service definition needs an id and a version")
    if definition.get("eula") and not (version_spec.get("accept_EULA") or version_spec.get("accept_eula")):
        raise validation.invalid("the service version has a EULA: accept_EULA must be true")
    return {"id": str(definition["id"]), "version": str(definition["version"]),
            "display_name": definition.get("displayName") or str(definition["id"]),
            "description": definition.get("description") or "", "eula": definition.get("eula") or "",
            "content": version_spec["content"]}, "VSPHERE_APPS_YAML"


def _version_record(definition: dict, content_type: str, trusted: bool) -> dict:
    return {"display_name": definition["display_name"], "description": definition["description"],
            "EULA": definition["eula"], "content": definition["content"], "content_type": content_type,
            "trust_verified": trusted, "registered_by_default": False, "state": "ACTIVATED"}


async def _body(request: web.Request):
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise validation.invalid("the request body is not valid JSON") from None


def _service(wcp, service: str) -> dict:
    stored = wcp.store.get(TABLE, service)
    if stored is None:
        raise ApiError("NOT_FOUND", f"Supervisor Service {service} is not registered")
    return stored


def routes(app: web.Application, wcp_of) -> None:
    base = "/api/vcenter/namespace-management/supervisor-services"

    async def create(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.admin_user(request)
        spec = await _body(request)
        definition, content_type = _definition(spec)
        if wcp.store.get(TABLE, definition["id"]) is not None:
            raise ApiError("ALREADY_EXISTS", f"Supervisor Service {definition['id']} is already registered")
        trusted = bool((spec.get("vsphere_spec") or {}).get("version_spec", {}).get("trusted_provider"))
        wcp.store.put(TABLE, definition["id"], {
            "display_name": definition["display_name"], "description": definition["description"], "state": "ACTIVATED",
            "versions": {definition["version"]: _version_record(definition, content_type, trusted)}})
        return web.Response(status=204)

    async def list_services(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.session_user(request)
        return web.json_response([{"supervisor_service": service, "display_name": stored["display_name"],
                                   "state": stored["state"]}
                                  for service, stored in sorted(wcp.store.list(TABLE).items())])

    async def get(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.session_user(request)
        stored = _service(wcp, request.match_info["service"])
        return web.json_response({"display_name": stored["display_name"], "description": stored["description"],
                                  "state": stored["state"], "must_be_installed": False,
                                  "has_default_versions_registered": False})

    async def set_state(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.admin_user(request)
        service = request.match_info["service"]
        stored = _service(wcp, service)
        action = request.query.get("action")
        if action not in ("activate", "deactivate"):
            raise validation.invalid("action must be activate or deactivate")
        version = request.match_info.get("version")
        target = stored if version is None else stored["versions"].get(version)
        if target is None:
            raise ApiError("NOT_FOUND", f"Supervisor Service {service} has no version {version}")
        target["state"] = "ACTIVATED" if action == "activate" else "DEACTIVATED"
        wcp.store.put(TABLE, service, stored)
        return web.Response(status=204)

    async def delete(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.admin_user(request)
        service = request.match_info["service"]
        stored = _service(wcp, service)
        if stored["state"] != "DEACTIVATED":
            raise validation.invalid(f"Supervisor Service {service} is ACTIVATED; deactivate it before removing it")
        wcp.store.delete(TABLE, service)
        return web.Response(status=204)

    async def list_versions(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.session_user(request)
        stored = _service(wcp, request.match_info["service"])
        return web.json_response([{"version": version, "display_name": record["display_name"],
                                   "description": record["description"], "state": record["state"]}
                                  for version, record in sorted(stored["versions"].items())])

    async def create_version(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.admin_user(request)
        service = request.match_info["service"]
        stored = _service(wcp, service)
        spec = await _body(request)
        definition, content_type = _definition(spec)
        if definition["id"] != service:
            raise validation.invalid(f"the content defines Supervisor Service {definition['id']}, not {service}")
        if definition["version"] in stored["versions"]:
            raise ApiError("ALREADY_EXISTS", f"Supervisor Service {service} already has version {definition['version']}")
        trusted = bool((spec.get("vsphere_spec") or {}).get("trusted_provider"))
        stored["versions"][definition["version"]] = _version_record(definition, content_type, trusted)
        wcp.store.put(TABLE, service, stored)
        return web.Response(status=204)

    async def get_version(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.session_user(request)
        service, version = request.match_info["service"], request.match_info["version"]
        record = _service(wcp, service)["versions"].get(version)
        if record is None:
            raise ApiError("NOT_FOUND", f"Supervisor Service {service} has no version {version}")
        return web.json_response(record)

    async def delete_version(request: web.Request) -> web.Response:
        wcp = wcp_of(request)
        wcp.admin_user(request)
        service, version = request.match_info["service"], request.match_info["version"]
        stored = _service(wcp, service)
        record = stored["versions"].get(version)
        if record is None:
            raise ApiError("NOT_FOUND", f"Supervisor Service {service} has no version {version}")
        if record["state"] != "DEACTIVATED":
            raise validation.invalid(f"version {version} of {service} is ACTIVATED; deactivate it before removing it")
        del stored["versions"][version]
        wcp.store.put(TABLE, service, stored)
        return web.Response(status=204)

    add = app.router.add_route
    add("GET", base, list_services)
    add("POST", base, create)
    add("GET", base + "/{service}", get)
    add("PATCH", base + "/{service}", set_state)
    add("DELETE", base + "/{service}", delete)
    add("GET", base + "/{service}/versions", list_versions)
    add("POST", base + "/{service}/versions", create_version)
    add("GET", base + "/{service}/versions/{version}", get_version)
    add("PATCH", base + "/{service}/versions/{version}", set_state)
    add("DELETE", base + "/{service}/versions/{version}", delete_version)
