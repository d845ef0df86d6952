# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log in to a Supervisor as ``kubectl vsphere login`` does: ``POST /wcp/login`` with HTTP Basic
credentials of a vCenter SSO user answers ``{"session_id": <JWT>}``, a bearer token for the
Supervisor's Kubernetes API (about ten hours)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import ssl

try:
    import urllib3
except ImportError:  # reported by the module through run_module's requirements
    urllib3 = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import retrying

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit  # type: ignore

LOGIN_PATH = "/wcp/login"


def default_login_url(server):
    """``/wcp/login`` on port 443 of the host of the Supervisor's API URL, where vCenter's
    load balancer serves it on a real Supervisor."""
    if not server:
        raise errors.InvalidArgument("login_url is required when server is not set")
    parts = urlsplit(server if "://" in server else "https://" + server)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = "[" + host + "]"
    return "https://{0}{1}".format(host, LOGIN_PATH)


def _server_message(body):
    """The first message of a vSphere Automation API error body, if it is one."""
    try:
        answer = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return ""
    if isinstance(answer, dict):
        for message in answer.get("messages") or []:
            if isinstance(message, dict) and message.get("default_message"):
                return message["default_message"]
        return answer.get("message") or ""
    return ""


def pool_manager(ca_cert=None, validate_certs=True, timeout=30):
    """A urllib3 pool that verifies the peer against ``ca_cert`` (or the system store)."""
    kwargs = dict(timeout=urllib3.Timeout(total=timeout), retries=False)
    if validate_certs:
        kwargs.update(cert_reqs="CERT_REQUIRED")
        if ca_cert:
            kwargs.update(ca_certs=ca_cert)
    else:
        kwargs.update(cert_reqs="CERT_NONE")
    return urllib3.PoolManager(**kwargs)


def tls_failure(err):
    """The TLS error behind a failure to connect, or None: found by type along the exception's
    chain (urllib3's ``reason``, ``__cause__``, ``__context__``), never by its text. The kubernetes
    package raises its own ``ApiException`` while handling urllib3's ``SSLError``."""
    tls_types = (ssl.SSLError,) + ((urllib3.exceptions.SSLError,) if urllib3 is not None else ())
    seen, todo = set(), [err]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, tls_types):
            return current
        reason = getattr(current, "reason", None)
        todo.extend((reason if isinstance(reason, BaseException) else None, current.__cause__, current.__context__))
    return None


def connection_error(err, url):
    """A PacificError for a urllib3 failure to reach ``url``."""
    reason = getattr(err, "reason", None) or err
    if tls_failure(err) is not None:
        return errors.TlsError(
            "the TLS certificate of {0} is not trusted ({1}); set ca_cert to the CA that signed it".format(
                url, reason))
    return errors.Unreachable("cannot reach {0}: {1}".format(url, reason))


@retrying()
def wcp_login(login_url, username, password, ca_cert=None, validate_certs=True, timeout=30, body=None):
    """The answer of ``login_url`` for ``username``: ``{"session_id": <bearer token>, ...}``.
    ``body`` adds request fields (guest cluster logins). The password goes nowhere else."""
    if not username or not password:
        raise errors.InvalidArgument("a WCP login needs both username and password")
    headers = urllib3.make_headers(basic_auth="{0}:{1}".format(username, password))
    headers["Accept"] = "application/json"
    payload = None
    if body:
        headers["Content-Type"] = "application/json"
        payload = json.dumps(body).encode("utf-8")
    http = pool_manager(ca_cert, validate_certs, timeout)
    try:
        answer = http.request("POST", login_url, headers=headers, body=payload)
    except urllib3.exceptions.HTTPError as err:
        raise connection_error(err, login_url)
    finally:
        http.clear()
    if answer.status == 401:
        raise errors.AuthenticationFailed(
            "WCP login at {0} refused the user name or password of {1}".format(login_url, username))
    if answer.status == 404 and not _server_message(answer.data):
        raise errors.NotFound("{0} is not a WCP login endpoint (HTTP 404): check login_url".format(login_url))
    error_class = errors.for_http_status(answer.status)
    if error_class is not None:
        raise error_class("WCP login at {0} failed (HTTP {1}): {2}".format(
            login_url, answer.status, _server_message(answer.data) or answer.reason))
    try:
        session = json.loads(answer.data.decode("utf-8"))
        token = session["session_id"]
    except (ValueError, KeyError, TypeError):
        raise errors.ServerError("WCP login at {0} answered without a session_id".format(login_url))
    if not isinstance(token, str) or not token:
        raise errors.ServerError("WCP login at {0} answered an empty session_id".format(login_url))
    return session


WORKLOADS_PATH = "/wcp/workloads"


def workloads_url(login_url):
    """``/wcp/workloads`` beside ``login_url`` (``.../wcp/login``)."""
    if login_url.endswith(LOGIN_PATH):
        return login_url[:-len(LOGIN_PATH)] + WORKLOADS_PATH
    parts = urlsplit(login_url)
    return "{0}://{1}{2}".format(parts.scheme, parts.netloc, WORKLOADS_PATH)


@retrying()
def wcp_workloads(login_url, username, password, ca_cert=None, validate_certs=True, timeout=30):
    """The names of the vSphere Namespaces ``username`` may use, as the Supervisor's
    ``GET /wcp/workloads`` (HTTP Basic, as ``kubectl vsphere login`` asks it) lists them."""
    url = workloads_url(login_url)
    headers = urllib3.make_headers(basic_auth="{0}:{1}".format(username, password))
    headers["Accept"] = "application/json"
    http = pool_manager(ca_cert, validate_certs, timeout)
    try:
        answer = http.request("GET", url, headers=headers)
    except urllib3.exceptions.HTTPError as err:
        raise connection_error(err, url)
    finally:
        http.clear()
    if answer.status == 401:
        raise errors.AuthenticationFailed("{0} refused the user name or password of {1}".format(url, username))
    error_class = errors.for_http_status(answer.status)
    if error_class is not None:
        raise error_class("listing the namespaces of {0} at {1} failed (HTTP {2}): {3}".format(
            username, url, answer.status, _server_message(answer.data) or answer.reason))
    try:
        workloads = json.loads(answer.data.decode("utf-8"))
        return [entry["namespace"] for entry in workloads]
    except (ValueError, KeyError, TypeError):
        raise errors.ServerError("{0} answered no list of namespaces".format(url))
