"""The REST session's control flow against a scripted HTTP layer (the real server is in tests/integration)."""
from __future__ import annotations

import io
import json
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.rest import SESSION_HEADER, VcenterSession


class Answer:
    def __init__(self, payload):
        self._payload = payload

    def read(self):
        return json.dumps(self._payload).encode() if self._payload is not None else b""


class ScriptedHttp:
    """Answers calls from a script of (status, payload); records (method, path, session header)."""

    def __init__(self, *script):
        self.script, self.calls = list(script), []

    def open(self, method, url, headers=None, data=None, **options):
        self.calls.append((method, urlsplit(url).path, (headers or {}).get(SESSION_HEADER)))
        status, payload = self.script.pop(0)
        if status >= 400:
            raise HTTPError(url, status, "no", {}, io.BytesIO(json.dumps(payload).encode()))
        return Answer(payload)


def _session(*script):
    session = VcenterSession("127.0.0.1", "admin", "secret", port=1443)
    session._http = ScriptedHttp(*script)
    return session


def _error(kind, text):
    return {"error_type": kind, "messages": [{"default_message": text}]}


def test_a_401_logs_in_once_more_and_repeats_the_call():
    session = _session((201, "s1"), (401, _error("UNAUTHENTICATED", "expired")), (201, "s2"), (200, ["ok"]))
    assert session.get("/api/x") == ["ok"]
    assert session._http.calls == [("POST", "/api/session", None), ("GET", "/api/x", "s1"),
                                   ("POST", "/api/session", None), ("GET", "/api/x", "s2")]


def test_a_second_401_is_the_users_problem():
    session = _session((201, "s1"), (401, _error("UNAUTHENTICATED", "expired")), (201, "s2"),
                       (401, _error("UNAUTHENTICATED", "still no")))
    with pytest.raises(errors.AuthenticationFailed, match="GET /api/x failed: UNAUTHENTICATED: still no"):
        session.get("/api/x")


def test_a_post_that_failed_half_way_is_not_sent_twice():
    session = _session((201, "s1"), (500, _error("ERROR", "boom")))
    with pytest.raises(errors.ServerError, match="POST /api/x failed: ERROR: boom"):
        session.call("POST", "/api/x", body={})
    assert [call[0] for call in session._http.calls] == ["POST", "POST"]  # the login and the one try


def test_a_get_that_failed_is_tried_again():
    session = _session((201, "s1"), (500, _error("ERROR", "boom")), (200, {"v": 1}))
    assert session.get("/api/x") == {"v": 1}


def test_close_logs_out_once():
    session = _session((201, "s1"), (204, None))
    session.login()
    session.close()
    session.close()
    assert session._http.calls[-1] == ("DELETE", "/api/session", "s1") and len(session._http.calls) == 2
