# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes ApiClient for the Supervisor from a token, a WCP login or a kubeconfig.

Used by the event source until the shared ``client.py`` lands; it knows nothing of Ansible or
asyncio. A WCP login (``POST login_url`` with HTTP Basic, answered with ``{"session_id": JWT}``)
can be repeated with ``relogin()`` when the token is refused (401) mid-watch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported by the callers
    from urlparse import urlparse

try:
    import urllib3
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
except ImportError as err:
    KUBERNETES_IMPORT_ERROR = err
else:
    KUBERNETES_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed,
    InvalidArgument,
    TlsError,
    Unreachable,
    for_http_status,
)

# option -> environment variables read when the option is not given (as the modules do)
ENVIRONMENT = {
    "server": ("PACIFIC_SUPERVISOR_SERVER",),
    "token": ("PACIFIC_SUPERVISOR_TOKEN",),
    "kubeconfig": ("K8S_AUTH_KUBECONFIG", "KUBECONFIG"),
    "context": ("K8S_AUTH_CONTEXT",),
    "username": ("PACIFIC_SUPERVISOR_USERNAME",),
    "password": ("PACIFIC_SUPERVISOR_PASSWORD",),
    "login_url": ("PACIFIC_WCP_LOGIN_URL",),
    "ca_cert": ("PACIFIC_SUPERVISOR_CA_CERT",),
    "validate_certs": ("PACIFIC_SUPERVISOR_VALIDATE_CERTS",),
}
AUTH_OPTIONS = ("token", "username", "kubeconfig")


def connection_options(args, environ=None):
    """The connection options from ``args``, each missing one from its environment variable.

    Which way to authenticate is decided by what ``args`` names first (token, then username,
    then kubeconfig); the environment is only asked when ``args`` names none of them."""
    environ = os.environ if environ is None else environ
    options = {}
    explicit_auth = any(args.get(name) for name in AUTH_OPTIONS)
    for name, variables in ENVIRONMENT.items():
        value = args.get(name)
        if value is None and not (explicit_auth and name in AUTH_OPTIONS + ("password",)):
            value = next((environ[v] for v in variables if environ.get(v)), None)
        options[name] = value
    if isinstance(options["validate_certs"], str):
        options["validate_certs"] = options["validate_certs"].lower() not in ("0", "false", "no", "off")
    if options["validate_certs"] is None:
        options["validate_certs"] = True
    return options


class SupervisorConnection(object):
    """Builds and keeps one ``kubernetes.client.ApiClient``; re-logs in on demand."""

    def __init__(self, server=None, token=None, kubeconfig=None, context=None, username=None,
                 password=None, login_url=None, ca_cert=None, validate_certs=True):
        if KUBERNETES_IMPORT_ERROR is not None:
            raise InvalidArgument("the supervisor event source needs the Python packages kubernetes "
                                  "and urllib3: {0}".format(KUBERNETES_IMPORT_ERROR))
        self.server = server
        self.token = token
        self.kubeconfig = kubeconfig
        self.context = context
        self.username = username
        self.password = password
        self.login_url = login_url
        self.ca_cert = ca_cert
        self.validate_certs = validate_certs
        self.method = "token" if token else "login" if username else "kubeconfig" if kubeconfig else None
        if self.method is None:
            raise InvalidArgument("no credentials for the Supervisor: give token, username and password "
                                  "(WCP login) or kubeconfig")
        if self.method in ("token", "login") and not server:
            raise InvalidArgument("server is required with {0}".format(
                "token" if self.method == "token" else "username/password"))
        if self.method == "login" and not password:
            raise InvalidArgument("password is required with username {0}".format(username))
        if ca_cert and validate_certs and not os.path.isfile(ca_cert):
            raise InvalidArgument("ca_cert {0}: no such file".format(ca_cert))
        self._api_client = None

    @property
    def relogin_possible(self):
        return self.method == "login"

    def api_client(self):
        if self._api_client is None:
            configuration = self._configuration()
            if self.method == "login":
                self._set_token(configuration, self._login())
            self._api_client = k8s_client.ApiClient(configuration)
        return self._api_client

    def relogin(self):
        """A fresh WCP token for the client (after a 401); raises AuthenticationFailed if refused."""
        self._set_token(self.api_client().configuration, self._login())

    def close(self):
        if self._api_client is not None:
            self._api_client.close()
            self._api_client = None

    # --- internals -----------------------------------------------------------------------
    def _configuration(self):
        configuration = k8s_client.Configuration()
        if self.method == "kubeconfig":
            try:
                if isinstance(self.kubeconfig, dict):
                    k8s_config.load_kube_config_from_dict(self.kubeconfig, context=self.context,
                                                          client_configuration=configuration)
                else:
                    k8s_config.load_kube_config(config_file=os.path.expanduser(self.kubeconfig),
                                                context=self.context, client_configuration=configuration)
            except (ConfigException, IOError, OSError, ValueError) as err:
                raise InvalidArgument("kubeconfig {0}: {1}".format(
                    "(dictionary)" if isinstance(self.kubeconfig, dict) else self.kubeconfig, err))
            if self.server:
                configuration.host = self.server
        else:
            configuration.host = self.server
            if self.method == "token":
                self._set_token(configuration, self.token)
        if self.ca_cert:
            configuration.ssl_ca_cert = self.ca_cert
        if not self.validate_certs:
            configuration.verify_ssl = False
        configuration.host = configuration.host.rstrip("/")
        return configuration

    @staticmethod
    def _set_token(configuration, token):
        configuration.api_key = {"authorization": token}
        configuration.api_key_prefix = {"authorization": "Bearer"}

    def _default_login_url(self):
        parsed = urlparse(self.server)
        return "https://{0}/wcp/login".format(parsed.hostname)

    def _login(self):
        url = self.login_url or self._default_login_url()
        if self.validate_certs:
            http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=self.ca_cert)
        else:
            http = urllib3.PoolManager(cert_reqs="CERT_NONE")
        headers = urllib3.util.make_headers(basic_auth="{0}:{1}".format(self.username, self.password))
        try:
            answer = http.request("POST", url, headers=headers, timeout=urllib3.Timeout(connect=10, read=30),
                                  retries=False)
        except urllib3.exceptions.SSLError as err:
            raise TlsError("WCP login at {0}: the certificate is not trusted ({1}); set ca_cert".format(url, err))
        except urllib3.exceptions.HTTPError as err:
            raise Unreachable("WCP login at {0}: {1}".format(url, err))
        finally:
            http.clear()
        if answer.status == 401:
            raise AuthenticationFailed("WCP login as {0} at {1} refused (401): wrong username or password".format(
                self.username, url))
        error = for_http_status(answer.status)
        if error is not None:
            raise error("WCP login as {0} at {1}: HTTP {2}".format(self.username, url, answer.status))
        try:
            return json.loads(answer.data.decode("utf-8"))["session_id"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationFailed("WCP login at {0} did not answer with a session_id".format(url))
