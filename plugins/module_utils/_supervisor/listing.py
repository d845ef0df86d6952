# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Supervisor runs, listed with one request per kind across namespaces.

A small ApiClient of its own (server + token + CA, or a kubeconfig) until the shared
``_supervisor/client.py`` lands; the lists are read raw (``_preload_content=False``) and parsed
as JSON, skipping the kubernetes package's model classes, which cost more than the request.
Nothing here knows Ansible; failures are ``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from urllib3.exceptions import HTTPError, MaxRetryError, SSLError
except ImportError as err:  # reported by the caller
    KUBERNETES_IMPORT_ERROR = err
else:
    KUBERNETES_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    Forbidden, InvalidArgument, NotFound, PacificError, TlsError, Unreachable, for_http_status)

# kind -> (group, version, plural); Pod is the core API
KINDS = {
    "VirtualMachine": ("vmoperator.vmware.com", "v1alpha3", "virtualmachines"),
    "TanzuKubernetesCluster": ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters"),
    "Cluster": ("cluster.x-k8s.io", "v1beta1", "clusters"),
    "Pod": ("", "v1", "pods"),
}
REQUEST_TIMEOUT = (10, 60)


def api_client(server=None, token=None, ca_cert=None, validate_certs=True, kubeconfig=None, context=None):
    """An ApiClient from a server and bearer token, or from a kubeconfig file."""
    if KUBERNETES_IMPORT_ERROR is not None:
        raise InvalidArgument("the kubernetes Python library is required: %s" % KUBERNETES_IMPORT_ERROR)
    configuration = k8s_client.Configuration()
    if token:
        if not server:
            raise InvalidArgument("a Supervisor token needs its server (supervisor_server)")
        configuration.host = server.rstrip("/")
        configuration.api_key = {"authorization": "Bearer " + token}
    elif kubeconfig:
        try:
            k8s_config.load_kube_config(config_file=kubeconfig, context=context,
                                        client_configuration=configuration, persist_config=False)
        except Exception as err:  # the loader raises ConfigException, IOError, YAML errors
            raise InvalidArgument("cannot use the kubeconfig %s: %s" % (kubeconfig, err))
        if server:
            configuration.host = server.rstrip("/")
    else:
        raise InvalidArgument("the Supervisor needs supervisor_token (with supervisor_server) or supervisor_kubeconfig")
    configuration.verify_ssl = bool(validate_certs)
    if ca_cert:
        configuration.ssl_ca_cert = ca_cert
    configuration.retries = 1  # one retry of a reset connection; an unreachable server fails fast
    return k8s_client.ApiClient(configuration)


def _translate(err, what, where):
    if isinstance(err, ApiException):
        cls = for_http_status(err.status) or PacificError
        reason = err.reason or ""
        try:
            reason = json.loads(err.body).get("message") or reason
        except (TypeError, ValueError, AttributeError):
            pass
        if err.status == 401:
            return cls("the Supervisor at %s refused the credentials (401 Unauthorized) listing %s" % (where, what))
        return cls("listing %s on the Supervisor at %s failed (%s): %s" % (what, where, err.status, reason),
                   status=err.status)
    reason = getattr(err, "reason", None) or err
    if isinstance(err, SSLError) or isinstance(reason, SSLError):
        return TlsError("the Supervisor's certificate at %s is not trusted (%s): set its CA file" % (where, reason))
    return Unreachable("cannot reach the Supervisor at %s: %s" % (where, reason))


def list_kind(api, kind, namespaces=None):
    """The items of ``kind`` as plain dicts: one cluster-wide request; when that is forbidden
    and ``namespaces`` are named, one request per namespace. A kind whose API the Supervisor
    does not serve lists as empty."""
    group, version, plural = KINDS[kind]
    where = api.configuration.host
    what = "%ss" % kind

    def get(namespace=None):
        options = {"_preload_content": False, "_request_timeout": REQUEST_TIMEOUT}
        try:
            if not group:
                pods = k8s_client.CoreV1Api(api)
                response = (pods.list_namespaced_pod(namespace, **options) if namespace
                            else pods.list_pod_for_all_namespaces(**options))
            else:
                custom = k8s_client.CustomObjectsApi(api)
                response = (custom.list_namespaced_custom_object(group, version, namespace, plural, **options)
                            if namespace else custom.list_cluster_custom_object(group, version, plural, **options))
            if not 200 <= response.status <= 299:
                raise ApiException(status=response.status, reason=response.reason, body=response.data)
            return json.loads(response.data)["items"]
        except (ApiException, HTTPError, MaxRetryError, OSError) as err:
            raise _translate(err, what, where)

    try:
        items = get()
    except NotFound:
        return []
    except Forbidden:
        if not namespaces:
            raise
        items = []
        for namespace in namespaces:
            try:
                items.extend(get(namespace))
            except NotFound:
                continue
    if namespaces:
        wanted = set(namespaces)
        items = [item for item in items if item.get("metadata", {}).get("namespace") in wanted]
    return items


def list_workloads(api, kinds, namespaces=None):
    """``{kind: [items]}`` for each kind asked."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise InvalidArgument("unknown Supervisor kinds %s; known: %s" % (", ".join(unknown), ", ".join(sorted(KINDS))))
    return dict((kind, list_kind(api, kind, namespaces)) for kind in kinds)
