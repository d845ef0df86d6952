# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vSphere Automation API session: ``POST /api/session`` once, the session header on every call.

A call answered 401 (the session expired or was revoked) logs in again and is repeated once;
a second 401 is the user's problem (wrong password, account locked). Transport failures and
5xx/429 answers are retried by ``_common/retry.py``. Errors become ``PacificError``s carrying
the server's own message (``{"error_type", "messages": [{"default_message"}]}``).
Nothing here knows Ansible; ``ansible.module_utils.urls`` is only an HTTP client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl

from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.urls import Request

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import retrying

SESSION_HEADER = "vmware-api-session-id"
DEFAULT_TIMEOUT = 30
# the session resource of each flavour of the API: /api (vSphere 7+) and the older /rest, which
# wraps every answer in {"value": ...} and is where vcsim serves the content library API
SESSION_PATHS = {"api": "/api/session", "rest": "/rest/com/vmware/cis/session"}
# methods whose repetition does no more than their first success (PATCH sets the fields it names)
REPEATABLE = frozenset(("GET", "HEAD", "PUT", "PATCH", "DELETE"))


def error_message(status, body):
    """The server's words for a failed call, from a vSphere Automation error body if there is one."""
    return error_parts(status, body)[1]


def error_parts(status, body):
    """``(error_type, message)`` of a failed call: the vSphere Automation error type
    (``ALREADY_EXISTS``, ``NOT_FOUND``, ...; None when the body has none) and the server's words."""
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    if isinstance(document, dict) and "value" in document and isinstance(document["value"], dict):
        document = document["value"]  # the older /rest flavour wraps errors in "value"
    if isinstance(document, dict):
        texts = [m.get("default_message") for m in document.get("messages") or [] if isinstance(m, dict)]
        texts = [text for text in texts if text]
        kind = document.get("error_type") or document.get("type", "").rsplit(".", 1)[-1].upper()
        if texts:
            return kind or None, "{0}: {1}".format(kind, "; ".join(texts)) if kind else "; ".join(texts)
        if kind:
            return kind, kind
    text = (body or "").strip()
    return None, "HTTP {0}{1}".format(status, ": " + text[:300] if text else "")


def not_done(err):
    """Whether a failed call surely did nothing, so that even a POST may be sent again."""
    return (isinstance(err, errors.Throttled) or err.status == 503
            or err.details.get("refused") is True)


def quoted(identifier):
    """An identifier as one path segment."""
    return quote(str(identifier), safe="")


class VcenterSession(object):
    """One authenticated session against ``https://hostname:port``; use it as a context manager."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, ca_cert=None,
                 timeout=DEFAULT_TIMEOUT, flavour="api"):
        self.flavour = flavour
        self.base_url = "https://{0}:{1}".format(hostname, port)
        self.username = username
        self._password = password
        self._session_id = None
        self._http = Request(validate_certs=validate_certs, ca_path=ca_cert, timeout=timeout,
                             use_netrc=False, follow_redirects="none",
                             headers={"Accept": "application/json"})

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- session --------------------------------------------------------------------------
    def login(self):
        answer = self._send("POST", SESSION_PATHS[self.flavour], auth=True)
        if not isinstance(answer, str) or not answer:
            raise errors.ServerError("POST {0} did not return a session id".format(SESSION_PATHS[self.flavour]))
        self._session_id = answer
        return answer

    def close(self):
        """End the session on the server (best effort: a dead session needs no logout)."""
        if self._session_id is None:
            return
        try:
            self._send("DELETE", SESSION_PATHS[self.flavour])
        except errors.PacificError:
            pass
        self._session_id = None

    # --- calls ----------------------------------------------------------------------------
    def call(self, method, path, body=None, query=None):
        """The decoded JSON answer of ``method path`` (None when the answer has no body)."""
        if self._session_id is None:
            self.login()
        try:
            return self._send(method, path, body=body, query=query)
        except errors.AuthenticationFailed:
            # the session expired or was revoked since we logged in: once more, with a new one
            self.login()
            return self._send(method, path, body=body, query=query)

    def get(self, path, query=None):
        return self.call("GET", path, query=query)

    def get_or_none(self, path, query=None):
        """GET, or None when the object does not exist."""
        try:
            return self.call("GET", path, query=query)
        except errors.NotFound:
            return None

    def _send(self, method, path, body=None, query=None, auth=False):
        """One call, retried when that is safe: any retryable failure of a call that can be
        repeated, only "not done" answers (429, 503, connection refused) of a POST."""
        retry_on = None if method in REPEATABLE else not_done
        return retrying(retry_on=retry_on)(self._send_once)(method, path, body=body, query=query, auth=auth)

    def _send_once(self, method, path, body=None, query=None, auth=False):
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        options = {}
        if auth:
            options = dict(url_username=self.username, url_password=self._password, force_basic_auth=True)
        elif self._session_id is not None:
            headers[SESSION_HEADER] = self._session_id
        what = "{0} {1}".format(method, path)
        try:
            answer = self._http.open(method, url, headers=headers,
                                     data=json.dumps(body) if body is not None else None, **options)
            payload = answer.read()
        except HTTPError as err:
            raise self._http_error(what, err, auth)
        except URLError as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise errors.TlsError("{0}: vCenter's certificate is not trusted ({1}); set ca_cert to the CA "
                                      "that signed it".format(self.base_url, reason.verify_message or reason))
            raise errors.Unreachable("{0}: cannot reach vCenter at {1}: {2}".format(what, self.base_url, reason),
                                     refused=isinstance(reason, ConnectionRefusedError))
        except (socket.timeout, ConnectionError, ssl.SSLError) as err:
            raise errors.Unreachable("{0}: cannot reach vCenter at {1}: {2}".format(what, self.base_url, err),
                                     refused=isinstance(err, ConnectionRefusedError))
        if not payload:
            return None
        try:
            document = json.loads(payload)
        except ValueError:
            raise errors.ServerError("{0}: the answer is not JSON".format(what))
        if self.flavour == "rest" and isinstance(document, dict) and "value" in document:
            return document["value"]
        return document

    def _http_error(self, what, err, auth):
        try:
            body = err.read().decode("utf-8", "replace")
        except Exception:  # pylint: disable=broad-except
            body = ""  # the body of an error answer is a courtesy
        kind, message = error_parts(err.code, body)
        if auth and err.code == 401:
            return errors.AuthenticationFailed(
                "vCenter at {0} refused the credentials of {1}: {2}".format(self.base_url, self.username, message))
        error_class = errors.for_http_status(err.code) or errors.ServerError
        if kind == "ALREADY_EXISTS":
            error_class = errors.AlreadyExists
        return error_class("{0} failed: {1}".format(what, message), status=err.code)
