"""The Engine API routes of the simulated VIC host (aiohttp), versioned (``/v1.25/...``) or not.

Paths, query parameters and bodies follow the Docker Engine API reference; errors are
``{"message": ...}`` with the status the reference gives (404 no such object, 409 conflict).
"""
from __future__ import annotations

import json

from aiohttp import web

from testbed.vic.host import EngineError, Host

API_VERSION = "1.25"  # what a VIC 1.5 host answers
MIN_API_VERSION = "1.19"


def _filters(request: web.Request) -> dict:
    """The ``filters`` query parameter, in either encoding the clients send: ``{"label": ["a=b"]}``
    (the SDK) or ``{"label": {"a=b": true}}`` (the CLI)."""
    text = request.query.get("filters")
    if not text:
        return {}
    try:
        given = json.loads(text)
    except ValueError:
        raise EngineError(400, f"invalid filter: {text}")
    if not isinstance(given, dict):
        raise EngineError(400, f"invalid filter: {text}")
    return {name: list(values) if isinstance(values, list) else [k for k, on in values.items() if on]
            for name, values in given.items()}


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        return await request.json(loads=json.loads)
    except ValueError:
        raise EngineError(400, "invalid JSON body")


def make_app(host: Host) -> web.Application:
    routes = web.RouteTableDef()

    def headers() -> dict:
        return {"Api-Version": API_VERSION, "Docker-Experimental": "false", "OSType": "linux",
                "Server": "Docker/v1.5.6-testbed (linux)", "Cache-Control": "no-cache, no-store, must-revalidate"}

    @routes.route("GET", "/_ping")
    @routes.route("HEAD", "/_ping")
    async def ping(request):
        return web.Response(text="OK" if request.method == "GET" else "", headers=headers())

    @routes.get("/version")
    async def version(request):
        return web.json_response({
            "Version": "v1.5.6-testbed", "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "testbed", "GoVersion": "go1.8.7", "Os": "linux", "Arch": "amd64",
            "KernelVersion": "4.4.41-1.ph1-esx", "BuildTime": "2019-12-11T00:00:00Z",
            "Platform": {"Name": "vSphere Integrated Containers"},
            "Components": [{"Name": "Engine", "Version": "v1.5.6-testbed",
                            "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION}}]},
            headers=headers())

    @routes.get("/info")
    async def info(request):
        return web.json_response(host.info(), headers=headers())

    # --- containers ---------------------------------------------------------------------------
    @routes.get("/containers/json")
    async def containers(request):
        return web.json_response(host.list_containers(_filters(request), _flag(request, "all")))

    @routes.post("/containers/create")
    async def create_container(request):
        return web.json_response(host.create_container(request.query.get("name"), await _body(request)), status=201)

    @routes.get("/containers/{ref}/json")
    async def inspect_container(request):
        with host.lock:
            return web.json_response(host.find_container(request.match_info["ref"]))

    @routes.post("/containers/{ref}/start")
    async def start(request):
        return web.Response(status=204 if host.start(request.match_info["ref"]) else 304)

    @routes.post("/containers/{ref}/stop")
    async def stop(request):
        return web.Response(status=204 if host.stop(request.match_info["ref"]) else 304)

    @routes.post("/containers/{ref}/wait")
    async def wait(request):
        host.find_container(request.match_info["ref"])
        return web.json_response({"StatusCode": 0, "Error": None})

    @routes.delete("/containers/{ref}")
    async def remove_container(request):
        host.remove_container(request.match_info["ref"], force=_flag(request, "force"), volumes=_flag(request, "v"))
        return web.Response(status=204)

    # --- volumes ------------------------------------------------------------------------------
    @routes.get("/volumes")
    async def volumes(request):
        return web.json_response({"Volumes": host.list_volumes(_filters(request)), "Warnings": None})

    @routes.post("/volumes/create")
    async def create_volume(request):
        return web.json_response(host.create_volume(await _body(request)), status=201)

    @routes.get("/volumes/{name}")
    async def inspect_volume(request):
        return web.json_response(host.find_volume(request.match_info["name"]))

    @routes.delete("/volumes/{name}")
    async def remove_volume(request):
        host.remove_volume(request.match_info["name"], force=_flag(request, "force"))
        return web.Response(status=204)

    # --- networks -----------------------------------------------------------------------------
    @routes.get("/networks")
    async def networks(request):
        return web.json_response(host.list_networks(_filters(request)))

    @routes.post("/networks/create")
    async def create_network(request):
        return web.json_response(host.create_network(await _body(request)), status=201)

    @routes.get("/networks/{ref}")
    async def inspect_network(request):
        with host.lock:
            return web.json_response(host.network_view(host.find_network(request.match_info["ref"])))

    @routes.delete("/networks/{ref}")
    async def remove_network(request):
        host.remove_network(request.match_info["ref"])
        return web.Response(status=204)

    # --- images: a VIC host pulls on create; it keeps no image this simulator could show -------
    @routes.get("/images/{ref:.*}/json")
    async def inspect_image(request):
        raise EngineError(404, f"No such image: {request.match_info['ref']}")

    @web.middleware
    async def engine_errors(request, handler):
        try:
            response = await handler(request)
        except EngineError as err:
            return web.json_response({"message": err.message}, status=err.status, headers=headers())
        except web.HTTPNotFound:
            return web.json_response({"message": f"page not found: {request.method} {request.path}"}, status=404)
        except web.HTTPMethodNotAllowed:
            return web.json_response({"message": f"method not allowed: {request.method} {request.path}"},
                                     status=405)
        return response

    @web.middleware
    async def api_versions(request, handler):
        """A version above ours is refused as the daemon refuses it, so a client negotiates down."""
        asked = request.match_info.get("api_version")
        if asked and tuple(int(p) for p in asked[1:].split(".")) > tuple(int(p) for p in API_VERSION.split(".")):
            return web.json_response({"message": f"client version {asked[1:]} is too new. Maximum supported "
                                                 f"API version is {API_VERSION}"}, status=400, headers=headers())
        return await handler(request)

    app = web.Application(middlewares=[engine_errors, api_versions])
    for route in routes:  # /v1.25/containers/json is /containers/json
        app.router.add_route(route.method, route.path, route.handler)
        app.router.add_route(route.method, "/{api_version:v[0-9]+\\.[0-9]+}" + route.path, route.handler)
    return app
