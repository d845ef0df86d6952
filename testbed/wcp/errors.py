"""vSphere Automation API errors: an HTTP status and ``{"error_type", "messages"}``."""
from __future__ import annotations

import json

from aiohttp import web

STATUS = {
    "INVALID_ARGUMENT": 400,
    "ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "UNAUTHORIZED": 403,
    "NOT_FOUND": 404,
    "SERVICE_UNAVAILABLE": 503,
}


class ApiError(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type
        self.message = message

    def response(self) -> web.Response:
        body = {
            "error_type": self.error_type,
            "messages": [{"id": f"testbed.wcp.{self.error_type.lower()}", "default_message": self.message, "args": []}],
        }
        return web.Response(status=STATUS[self.error_type], text=json.dumps(body), content_type="application/json")
