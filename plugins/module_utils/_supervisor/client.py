# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A connection to a Supervisor's Kubernetes API, from plain connection settings.

``connect(settings)`` takes a plain dict with the keys of ``SUPERVISOR_ARGUMENT_SPEC`` (server,
token, kubeconfig, context, username, password, login_url, ca_cert, validate_certs), so modules,
the inventory plugin and the event sources build it the same way, after choosing the settings
by the collection's one rule (``_common/settings.py``). Authentication: a bearer ``token``;
``username``/``password`` through WCP login (renewed once when the API answers 401); a
``kubeconfig`` path or dict with an optional ``context``.

``SupervisorClient.request`` sends one request and answers the decoded JSON; every failure
becomes a ``PacificError`` whose message names what was being done (verb, kind, object,
namespace). Retryable failures (409 on a write that may be repeated, 429, 5xx, connection
errors) are retried with backoff by ``_common/retry.py``.

This is the one Kubernetes client of the collection. Besides ``request`` it serves:

- the modules: ``connect(params)``, ``request``, ``stream`` (the waiter), ``resource``, ``whoami``;
  ``REQUIREMENTS`` is the kubernetes import guard for ``run_module``;
- the inventory and the one list-then-watch (``informer.py``): ``list_page`` (one LIST, the raw
  JSON answer, no model classes), which ``informer.list_all`` pages through;
- the event sources: ``stream``, whose ``Watch`` can be closed from
  another thread (the asyncio adapter's cancellation); their settings come from
  ``_common/settings.connection_settings``.

Every ``PacificError`` raised here also carries, as fields (``_common/errors.py``), ``status``
(the HTTP status, None for a transport failure), ``reason`` (the server's own message), ``target``
(the ``Target``, or the server for a transport failure) and ``causes`` (the Status's field
causes), so that a caller with a vocabulary of its own (the inventory's option names, the event
source's watch names) words the failure from them (``PacificError.reworded``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import logging
import os
import threading

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
except ImportError as import_error:  # reported through REQUIREMENTS (modules) or by connect()
    urllib3 = k8s_client = k8s_config = None
    ConfigException = ValueError
    KUBERNETES_IMPORT_ERROR = import_error
else:
    KUBERNETES_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.settings import (
    SUPERVISOR, describe_environment)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import DEFAULT_ATTEMPTS, retrying
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, login

LOG = logging.getLogger(__name__)

CONNECTION_KEYS = SUPERVISOR.names()
DEFAULT_TIMEOUT = 60  # seconds for one ordinary request
CONNECT_TIMEOUT = 10  # seconds to open a connection (watches)

# for run_module(..., requirements=REQUIREMENTS) of every module of the developer face
REQUIREMENTS = (("kubernetes", KUBERNETES_IMPORT_ERROR),)

# kube-apiserver answers some invalid input of a write with a 500 whose Status has no reason: an
# error it did not classify ("not a metav1.Status"), such as a server-side apply that does not fit
# the schema or a value it cannot convert to the typed object (a quantity "lots"); see
# kubernetes#118476 and #139253. Its own failures carry a reason (InternalError, Timeout, ...).
WRITE_VERBS = ("apply", "create", "replace", "patch", "update")


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
    """Whether a 409 is server-side apply's conflict with another field manager (its causes say so)."""
    causes = (status.get("details") or {}).get("causes") or []
    return status.get("reason") == "Conflict" and any(cause.get("reason") == "FieldManagerConflict"
                                                      for cause in causes)


def api_error(code, body, target, server=""):
    """The PacificError for an HTTP error answer of the Kubernetes API (pure; unit-tested)."""
    status = _status_of(body)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    message = status.get("message") or text.strip()[:300]
    err = _api_error(code, status, message, target, server)
    err.status, err.reason, err.target = code, message, target
    err.causes = list((status.get("details") or {}).get("causes") or ())
    return err


def _api_error(code, status, message, target, server):
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
            return errors.NamespaceMissing("namespace {0} does not exist (while trying to {1} {2})".format(
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
    if code == 500 and status and not status.get("reason") and target.verb in WRITE_VERBS:
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
    if login.tls_failure(err) is not None:
        last = text.splitlines()[-1] if text.strip() else type(reason).__name__
        return errors.TlsError("the TLS certificate of the Supervisor API at {0} is not trusted ({1}); set "
                               "ca_cert to the CA that signed it".format(server, last), reason=last, target=server)
    return errors.Unreachable("cannot reach the Supervisor API at {0}: {1}".format(server, text), reason=text,
                              target=server)


def _check_settings(settings, prefix=""):
    """Refuse settings that cannot make a connection; ``prefix`` is how the caller's options are
    named (``supervisor_`` in the inventory), so that the message names them as the user wrote them."""
    def option(name):
        return prefix + name

    unknown = set(settings) - set(CONNECTION_KEYS)
    if unknown:
        raise errors.InvalidArgument("unknown connection settings: {0}".format(", ".join(sorted(unknown))))
    if not settings.get("token"):
        if settings.get("username") and not settings.get("password"):
            raise errors.InvalidArgument("{0} needs {1}".format(option("username"), option("password")))
        if settings.get("password") and not settings.get("username"):
            raise errors.InvalidArgument("{0} needs {1}".format(option("password"), option("username")))
    if (settings.get("token") or settings.get("username")) and not settings.get("server"):
        raise errors.InvalidArgument("{0} is required with {1} or {2}/{3}".format(
            option("server"), option("token"), option("username"), option("password")))
    if settings.get("context") and not settings.get("kubeconfig"):
        raise errors.InvalidArgument("{0} names a context of a kubeconfig: give {1} too".format(
            option("context"), option("kubeconfig")))
    if not (settings.get("token") or settings.get("username") or settings.get("kubeconfig")):
        raise errors.InvalidArgument(
            "no credentials for the Supervisor: set {0}, {1} and {2}, or {3} (or their environment variables: {4})"
            .format(option("token"), option("username"), option("password"), option("kubeconfig"),
                    describe_environment(SUPERVISOR)))
    if settings.get("ca_cert") and settings.get("validate_certs") and not os.path.isfile(settings["ca_cert"]):
        raise errors.InvalidArgument("{0} {1}: no such file".format(option("ca_cert"), settings["ca_cert"]))


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
                k8s_config.load_kube_config(config_file=os.path.expanduser(str(kubeconfig)),
                                            context=settings.get("context"), client_configuration=configuration,
                                            persist_config=False)
        except (ConfigException, IOError, OSError, ValueError, TypeError, KeyError) as err:
            # the loader's messages name files and contexts, never credentials
            raise errors.InvalidArgument("cannot use the kubeconfig {0}: {1}".format(
                "given as a dictionary" if isinstance(kubeconfig, dict) else kubeconfig, err))
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


def connect(settings, login_with=None, attempts=DEFAULT_ATTEMPTS, option_prefix=""):
    """A SupervisorClient from a plain dict of connection settings (see module docstring).
    ``login_with`` replaces the WCP login function (tests). ``attempts`` bounds the tries of
    one request; 1 for a caller that retries on its own terms (the event source's watches).
    ``option_prefix``: how the caller names the options, for error messages."""
    if KUBERNETES_IMPORT_ERROR is not None:
        raise errors.InvalidArgument("the kubernetes Python library is required: {0}".format(KUBERNETES_IMPORT_ERROR))
    # an empty string is "not set": it lets a task switch off a credential module_defaults give
    settings = dict((key, value) for key, value in settings.items()
                    if value is not None and value != "" and key in CONNECTION_KEYS)
    settings.setdefault("validate_certs", True)
    _check_settings(settings, option_prefix)
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
    client = SupervisorClient(k8s_client.ApiClient(configuration), relogin=relogin, attempts=attempts)
    if settings.get("username") and not settings.get("token"):
        def login_namespaces():
            return login.wcp_workloads(login_url, settings["username"], settings["password"],
                                       ca_cert=settings.get("ca_cert"), validate_certs=settings["validate_certs"])

        client.login_namespaces = login_namespaces
    return client


def _set_token(configuration, token):
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}


class SupervisorClient(object):
    """Requests to one Supervisor's Kubernetes API, errors translated, retries and re-login done."""

    def __init__(self, api_client, relogin=None, attempts=DEFAULT_ATTEMPTS):
        self.api_client = api_client
        self.attempts = attempts
        self.configuration = api_client.configuration
        self.server = self.configuration.host
        self._relogin = relogin
        # the names of the namespaces of a WCP login (``reach.readable_namespaces``); None for a token
        self.login_namespaces = None
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
        return self._with_relogin(retrying(self.attempts)(self._request_once), method, path, target, body, query,
                                  content_type, timeout)

    def _with_relogin(self, call, *args):
        try:
            return call(*args)
        except errors.AuthenticationFailed:
            if self._relogin is None:
                raise
            LOG.info("the Supervisor API at %s refused the token (401); logging in again", self.server)
            _set_token(self.configuration, self._relogin())
            return call(*args)

    def _request_once(self, method, path, target, body, query, content_type, timeout):
        answer = self._send(method, path, target, body, query, content_type, timeout)
        data = self._body(answer, target)
        if not data:
            return {}
        try:
            return json.loads(data)
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
        """An open WATCH (a ``Watch``): iterate it for the decoded events until the server ends
        it or no data came for ``timeout`` seconds; ``close()`` it from any thread to end it at
        once. Opening is retried and renews a refused WCP login; HTTP errors raise PacificErrors.
        The caller decides whether to watch again."""
        answer = self._with_relogin(retrying(self.attempts)(self._open_stream), path, target, query, timeout)
        return Watch(answer.response, self.server)

    def _open_stream(self, path, target, query, timeout):
        answer = self._send("GET", path, target, None, query, None, (CONNECT_TIMEOUT, timeout))
        if not 200 <= answer.status <= 299:
            self._body(answer, target)  # raises the error the answer says
        return answer

    def _body(self, answer, target):
        """The whole body of ``answer`` (its connection given back); the PacificError of an
        error status."""
        try:
            data = answer.read()
        except urllib3.exceptions.HTTPError as err:
            raise transport_error(err, self.server)
        finally:
            answer.response.release_conn()
        if not 200 <= answer.status <= 299:
            raise api_error(answer.status, data, target, self.server)
        return data

    # --- lists ---------------------------------------------------------------------------
    def list_page(self, resource, namespace=None, query=None, target=None):
        """One LIST request of a collection, as the raw JSON answer's plain dicts (the kubernetes
        package's model classes would cost more than the request). Paging, continue tokens and
        their expiry are ``informer.list_all``'s."""
        target = target or Target("list", resource, None, namespace)
        return self.request("GET", resource.path(namespace if resource.namespaced else None), target,
                            query=list(query or []))

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
        """The user name the API server gives these credentials (a SelfSubjectReview); None
        from servers older than Kubernetes 1.28, which have no such review (the credentials
        were still accepted, or this raised AuthenticationFailed)."""
        try:
            review = self.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                  Target("review credentials"),
                                  body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        except errors.NotFound:
            self.request("GET", "/api", Target("check credentials"))  # 401 still raises
            return None
        return ((review.get("status") or {}).get("userInfo") or {}).get("username")


class Watch(object):
    """An open WATCH answer: iterating it yields the decoded events as they arrive. It ends
    quietly when the server ends the watch, when a read waits longer than the timeout, or after
    ``close()``; a broken connection raises Unreachable. A watch read to its end gives its
    connection back to the pool; one left early (an exception, ``close()``) closes it, since
    what was not read would spoil the next request on it."""

    def __init__(self, response, server):
        self._response = response
        self._server = server
        self._lock = threading.Lock()
        self._state = "open"  # then "reading", then "done"
        self.closed = False

    def __iter__(self):
        buffered, complete = b"", False
        with self._lock:
            if self._state != "open":
                return
            self._state = "reading"
        try:
            for chunk in self._response.stream(8192, decode_content=True):
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line.decode("utf-8"))
            if buffered.strip() and not self.closed:
                yield json.loads(buffered.decode("utf-8"))
            complete = not self.closed
        except urllib3.exceptions.ReadTimeoutError:
            return
        except (urllib3.exceptions.HTTPError, OSError) as err:
            if self.closed:
                return
            raise transport_error(err, self._server)
        except ValueError:  # a line cut short by close(), or a server that sends no JSON
            if self.closed:
                return
            raise errors.ServerError("the Supervisor API at {0} sent a watch event that is not JSON".format(
                self._server))
        finally:
            with self._lock:
                self._state = "done"
            if not complete:
                self._response.close()
            self._response.release_conn()

    def close(self):
        """End the watch now, from any thread: a read in progress returns."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self._state == "open":  # never read: nothing to unblock, only to give back
                self._state = "done"
                self._response.close()
                self._response.release_conn()
                return
            if self._state == "done":
                return
            try:
                self._response.shutdown()  # unblocks a read in another thread
            except AttributeError:  # urllib3 before 2.3: closing is all there is
                self._response.close()
            except (ValueError, RuntimeError, OSError):  # nothing to unblock any more
                pass
