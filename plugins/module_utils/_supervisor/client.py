# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection to a Supervisor's Kubernetes API, from plain connection settings.

``connect(settings)`` takes a plain dict with the keys of ``SUPERVISOR_ARGUMENT_SPEC`` (server,
token, kubeconfig, context, username, password, login_url, ca_cert, validate_certs), so modules,
the inventory plugin and the event sources build it the same way. Authentication, in order:
a bearer ``token``; ``username``/``password`` through WCP login (renewed once when the API
answers 401); a ``kubeconfig`` path or dict with an optional ``context``.

``SupervisorClient.request`` sends one request and answers the decoded JSON; every failure
becomes a ``PacificError`` whose message names what was being done (verb, kind, object,
namespace). Retryable failures (409 on a write that may be repeated, 429, 5xx, connection
errors) are retried with backoff by ``_common/retry.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
except ImportError:  # reported by the module through run_module's requirements
    urllib3 = k8s_client = k8s_config = None
    ConfigException = ValueError

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import retrying
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, login

CONNECTION_KEYS = ("server", "token", "kubeconfig", "context", "username", "password", "login_url",
                   "ca_cert", "validate_certs")
DEFAULT_TIMEOUT = 60  # seconds for one ordinary request


class Target(object):
    """What a request is about, for error messages: a verb and an object (or a collection)."""

    __slots__ = ("verb", "resource", "name", "namespace")

    def __init__(self, verb, resource=None, name=None, namespace=None):
        self.verb = verb
        self.resource = resource
        self.name = name
        self.namespace = namespace

    def describe(self):
        if self.resource is None:
            return "the Supervisor API"
        if self.name is None:
            where = " in namespace {0}".format(self.namespace) if self.namespace else ""
            return "{0} objects{1}".format(self.resource.kind, where)
        return self.resource.describe(self.name, self.namespace)


def _status_of(body):
    """A Kubernetes Status object from an error body, or {} when it is not one."""
    try:
        decoded = json.loads(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    except (ValueError, AttributeError):
        return {}
    return decoded if isinstance(decoded, dict) and decoded.get("kind") == "Status" else {}


def _field_conflict(status):
    message = status.get("message") or ""
    return status.get("reason") == "Conflict" and ("conflict" in message.lower()) and "Apply failed" in message


def api_error(code, body, target, server=""):
    """The PacificError for an HTTP error answer of the Kubernetes API (pure; unit-tested)."""
    status = _status_of(body)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    message = status.get("message") or text.strip()[:300]
    details = status.get("details") or {}
    what = target.describe()
    if code == 401:
        return errors.AuthenticationFailed(
            "the Supervisor API{0} refused the credentials (HTTP 401 Unauthorized): the token is wrong or "
            "has expired; log in again (pacific.supervisor.login) or give username and password so that "
            "the token is renewed".format(" at " + server if server else ""))
    if code == 403:
        return errors.Forbidden("forbidden: not allowed to {0} {1}: {2}".format(target.verb, what, message))
    if code == 404:
        if target.namespace and details.get("kind") == "namespaces":
            return errors.NotFound("namespace {0} does not exist (while trying to {1} {2})".format(
                target.namespace, target.verb, what))
        if not status and target.resource is not None:
            return errors.NotFound("the Supervisor does not serve {0} ({1}): is the API installed?".format(
                target.resource.kind, target.resource.api_version))
        return errors.NotFound("{0} not found: {1}".format(what, message))
    if code == 409:
        if status.get("reason") == "AlreadyExists":
            return errors.AlreadyExists("{0} already exists".format(what))
        if _field_conflict(status):
            err = errors.Conflict(
                "cannot {0} {1}: fields are owned by another field manager; set force_conflicts to "
                "take them over. {2}".format(target.verb, what, message))
            err.retryable = False  # the same request would meet the same owner
            return err
        return errors.Conflict("{0} changed while we tried to {1} it: {2}".format(what, target.verb, message))
    error_class = errors.for_http_status(code) or errors.ServerError
    if code == 500 and "failed to create typed patch object" in message:
        # server-side apply answers a manifest that does not fit the schema with a 500
        error_class = errors.InvalidArgument
    if error_class is errors.InvalidArgument:
        return errors.InvalidArgument("the Supervisor refused to {0} {1}: {2}".format(target.verb, what, message))
    if error_class is errors.Throttled:
        return errors.Throttled("the Supervisor API is throttling requests (HTTP 429): {0}".format(message))
    return error_class("the Supervisor API failed to {0} {1} (HTTP {2}): {3}".format(target.verb, what, code, message))


def transport_error(err, server):
    """The PacificError for a failure to talk to the API at all (urllib3 or an SSL ApiException)."""
    reason = getattr(err, "reason", None) or err
    text = str(reason)
    if (urllib3 is not None and isinstance(reason, urllib3.exceptions.SSLError)) or "SSLError" in text \
            or "CERTIFICATE_VERIFY_FAILED" in text:
        return errors.TlsError("the TLS certificate of the Supervisor API at {0} is not trusted ({1}); set ca_cert "
                               "to the CA that signed it".format(server, text.splitlines()[-1]))
    return errors.Unreachable("cannot reach the Supervisor API at {0}: {1}".format(server, text))


def _check_settings(settings):
    unknown = set(settings) - set(CONNECTION_KEYS)
    if unknown:
        raise errors.InvalidArgument("unknown connection settings: {0}".format(", ".join(sorted(unknown))))
    if not settings.get("token"):  # a token wins; username/password are then unused
        if settings.get("username") and not settings.get("password"):
            raise errors.InvalidArgument("username needs password")
        if settings.get("password") and not settings.get("username"):
            raise errors.InvalidArgument("password needs username")
    if (settings.get("token") or settings.get("username")) and not settings.get("server"):
        raise errors.InvalidArgument("server is required with token or username/password")
    if not (settings.get("token") or settings.get("username") or settings.get("kubeconfig")):
        raise errors.InvalidArgument(
            "no credentials for the Supervisor: set token, username and password, or kubeconfig")


def _configuration(settings):
    """A kubernetes Configuration from settings (the credential is filled in by the caller)."""
    configuration = k8s_client.Configuration()
    kubeconfig = settings.get("kubeconfig")
    if not (settings.get("token") or settings.get("username")) and kubeconfig:
        try:
            if isinstance(kubeconfig, dict):
                k8s_config.load_kube_config_from_dict(kubeconfig, context=settings.get("context"),
                                                      client_configuration=configuration)
            else:
                k8s_config.load_kube_config(config_file=str(kubeconfig), context=settings.get("context"),
                                            client_configuration=configuration)
        except (ConfigException, IOError, OSError, ValueError, TypeError, KeyError) as err:
            # the loader's messages name files and contexts, never credentials
            raise errors.InvalidArgument("cannot use the kubeconfig: {0}".format(err))
        if settings.get("server"):
            configuration.host = settings["server"]
    else:
        configuration.host = settings["server"]
    configuration.host = configuration.host.rstrip("/")
    if "://" not in configuration.host:
        configuration.host = "https://" + configuration.host
    if settings.get("ca_cert"):
        configuration.ssl_ca_cert = settings["ca_cert"]
    if settings.get("validate_certs") is False:
        configuration.verify_ssl = False
    configuration.retries = False  # retries are ours (_common/retry.py), not urllib3's
    return configuration


def connect(settings, login_with=None):
    """A SupervisorClient from a plain dict of connection settings (see module docstring).
    ``login_with`` replaces the WCP login function (tests)."""
    if k8s_client is None:
        raise errors.InvalidArgument("the kubernetes Python library is required")
    # an empty string is "not set": it lets a task switch off a credential module_defaults give
    settings = dict((key, value) for key, value in settings.items()
                    if value is not None and value != "" and key in CONNECTION_KEYS)
    settings.setdefault("validate_certs", True)
    _check_settings(settings)
    configuration = _configuration(settings)
    relogin = None
    if settings.get("token"):
        _set_token(configuration, settings["token"])
    elif settings.get("username"):
        login_url = settings.get("login_url") or login.default_login_url(settings["server"])
        do_login = login_with or login.wcp_login

        def relogin():
            answer = do_login(login_url, settings["username"], settings["password"], ca_cert=settings.get("ca_cert"),
                              validate_certs=settings["validate_certs"])
            return answer["session_id"]

        _set_token(configuration, relogin())
    return SupervisorClient(k8s_client.ApiClient(configuration), relogin=relogin)


def _set_token(configuration, token):
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}


class SupervisorClient(object):
    """Requests to one Supervisor's Kubernetes API, errors translated, retries and re-login done."""

    def __init__(self, api_client, relogin=None):
        self.api_client = api_client
        self.configuration = api_client.configuration
        self.server = self.configuration.host
        self._relogin = relogin
        self._discovered = {}

    @property
    def token(self):
        """The bearer token in use (None with client-certificate kubeconfigs). A secret."""
        value = self.configuration.api_key.get("BearerToken") or self.configuration.api_key.get("authorization")
        if value and value.startswith("Bearer "):
            value = value[len("Bearer "):]
        return value

    def close(self):
        self.api_client.close()

    # --- requests ------------------------------------------------------------------------
    def request(self, method, path, target, body=None, query=None, content_type=None, timeout=DEFAULT_TIMEOUT):
        """Send one request; the decoded JSON answer. ``target`` (a Target) names what it is
        about for error messages. Retried when the failure is retryable; renewed login once
        on 401 when username/password allow it."""
        return self._with_relogin(self._request_retrying, method, path, target, body, query, content_type, timeout)

    def _with_relogin(self, call, *args):
        try:
            return call(*args)
        except errors.AuthenticationFailed:
            if self._relogin is None:
                raise
            _set_token(self.configuration, self._relogin())
            return call(*args)

    @retrying()
    def _request_retrying(self, method, path, target, body, query, content_type, timeout):
        answer = self._send(method, path, target, body, query, content_type, timeout)
        try:
            data = answer.read()
        except urllib3.exceptions.HTTPError as err:
            raise transport_error(err, self.server)
        finally:
            answer.response.release_conn()
        if not 200 <= answer.status <= 299:
            raise api_error(answer.status, data, target, self.server)
        if not data:
            return {}
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError:
            raise errors.ServerError("the Supervisor API answered {0} {1} with something that is not JSON".format(
                method, path))

    def _send(self, method, path, target, body, query, content_type, timeout):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        request = self.api_client.param_serialize(method, path, query_params=list(query or []),
                                                  header_params=headers, body=body, auth_settings=["BearerToken"])
        try:
            return self.api_client.call_api(*request, _request_timeout=timeout)
        except urllib3.exceptions.HTTPError as err:
            raise transport_error(err, self.server)
        except k8s_client.ApiException as err:  # the library's wrapping of SSL errors
            raise transport_error(err, self.server)

    def stream(self, path, target, query, timeout):
        """The events of a watch request, decoded, one at a time, until the server ends it.
        ``timeout`` bounds the wait for data. Connection failures and HTTP errors raise
        PacificErrors; the caller decides whether to watch again."""
        answer = self._with_relogin(self._open_stream, path, target, query, timeout)
        buffered = b""
        try:
            for chunk in answer.response.stream(8192, decode_content=True):
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line.decode("utf-8"))
            if buffered.strip():
                yield json.loads(buffered.decode("utf-8"))
        except urllib3.exceptions.ReadTimeoutError:
            return
        except urllib3.exceptions.HTTPError as err:
            raise transport_error(err, self.server)
        finally:
            answer.response.release_conn()

    @retrying()
    def _open_stream(self, path, target, query, timeout):
        answer = self._send("GET", path, target, None, query, None, (10, timeout))
        if not 200 <= answer.status <= 299:
            data = answer.read()
            answer.response.release_conn()
            raise api_error(answer.status, data, target, self.server)
        return answer

    # --- kinds ---------------------------------------------------------------------------
    def resource(self, api_version, kind):
        """The Resource for apiVersion/kind: from kinds.py, else from API discovery of that
        group/version (one request, cached). Unknown kinds are an InvalidArgument."""
        known = kinds.known(api_version, kind)
        if known is not None:
            return known
        if not api_version or not kind:
            raise errors.InvalidArgument("a manifest needs apiVersion and kind")
        if api_version not in self._discovered:
            path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            try:
                self._discovered[api_version] = self.request("GET", path, Target("discover"))
            except errors.NotFound:
                raise errors.InvalidArgument("the Supervisor does not serve the API {0}".format(api_version))
        for entry in self._discovered[api_version].get("resources") or []:
            if entry.get("kind") == kind and "/" not in entry.get("name", ""):
                return kinds.Resource(api_version, kind, entry["name"], namespaced=entry.get("namespaced", True))
        raise errors.InvalidArgument("the Supervisor's API {0} has no kind {1}".format(api_version, kind))

    # --- identity ------------------------------------------------------------------------
    def whoami(self):
        """The user name the API server gives these credentials (a SelfSubjectReview)."""
        review = self.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", Target("review credentials"),
                              body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        return ((review.get("status") or {}).get("userInfo") or {}).get("username")
