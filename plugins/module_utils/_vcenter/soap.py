# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter's SOAP side through pyVmomi: the session, inventory names and storage policies in bulk.

``connect()`` is the one way to log in (the inventory's bulk fetch uses it too).

``names()`` reads the name of every cluster, network and datastore in one PropertyCollector
call over a container view (no object-by-object walking); ``storage_policies()`` asks the
Storage Policy (PBM) service for every storage profile in two calls. The caller resolves names
against these maps (``_vcenter/names.py``). Nothing here knows Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import SoapStubAdapter, pbm, vim, vmodl
except ImportError as err:  # reported by the module through run_module(requirements=...)
    PYVMOMI_IMPORT_ERROR = err
else:
    PYVMOMI_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import retrying

# for run_module(..., requirements=REQUIREMENTS) of the modules that reach vCenter's SOAP API
REQUIREMENTS = (("pyVmomi", PYVMOMI_IMPORT_ERROR),)

# inventory kinds a user may name, and the managed object type of each
KINDS = {"cluster": "ClusterComputeResource", "network": "Network", "datastore": "Datastore"}
PBM_VERSION = "pbm.version.version11"
CONNECT_TIMEOUT = 30


def ssl_context(validate_certs=True, ca_cert=None):
    """A client TLS context. pyVmomi turns verification off for localhost when given none, so
    one is always passed explicitly."""
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()
    except (OSError, ssl.SSLError) as err:
        raise errors.InvalidArgument("cannot read the CA file %s: %s" % (ca_cert, err))


@retrying(attempts=3, base_delay=0.3, retry_on=lambda err: isinstance(err, errors.Unreachable))
def connect(hostname, username, password, port=443, validate_certs=True, ca_cert=None, timeout=CONNECT_TIMEOUT):
    """A logged-in pyVmomi ServiceInstance, or a PacificError saying what went wrong. The one way
    this collection opens a SOAP session (the inventory's bulk fetch and the name lookups alike)."""
    if PYVMOMI_IMPORT_ERROR is not None:
        raise errors.InvalidArgument("the pyVmomi Python library is required: %s" % PYVMOMI_IMPORT_ERROR)
    where = "%s:%s" % (hostname, port)
    context = ssl_context(validate_certs, ca_cert)
    try:
        return SmartConnect(host=hostname, port=port, user=username, pwd=password, sslContext=context,
                            httpConnectionTimeout=timeout)
    except vim.fault.InvalidLogin:
        raise errors.AuthenticationFailed("vCenter at %s refused the credentials of %s: wrong user name or password"
                                          % (where, username))
    except ssl.SSLCertVerificationError as err:
        raise errors.TlsError("vCenter at %s: its certificate is not trusted (%s); set ca_cert to the CA that signed it"
                              % (where, err.verify_message or err))
    except ssl.SSLError as err:
        raise errors.TlsError("TLS with vCenter at %s failed: %s" % (where, err))
    except (socket.timeout, socket.gaierror, OSError) as err:
        raise errors.Unreachable("cannot reach vCenter at %s: %s" % (where, err))
    except vmodl.MethodFault as err:
        raise errors.ServerError("vCenter at %s refused the login: %s" % (where, err.msg or err))
    except Exception as err:  # pylint: disable=broad-except  # pyVmomi raises bare Exceptions for non-vSphere answers
        raise errors.Unreachable("no vSphere API at https://%s/sdk: %s" % (where, err))


def disconnect(service_instance):
    try:
        Disconnect(service_instance)
    except Exception:  # pylint: disable=broad-except  # logging out is a courtesy; a dead session needs none
        pass


class VcenterInventory(object):
    """A pyVmomi session; use it as a context manager."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, ca_cert=None):
        self.hostname, self.port = hostname, port
        self._credentials = (username, password)
        self._validate_certs, self._ca_cert = validate_certs, ca_cert
        self._context = ssl_context(validate_certs, ca_cert)
        self._si = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def connect(self):
        if self._si is None:
            username, password = self._credentials
            self._si = connect(self.hostname, username, password, port=self.port,
                               validate_certs=self._validate_certs, ca_cert=self._ca_cert)
        return self._si

    def close(self):
        if self._si is not None:
            disconnect(self._si)
            self._si = None

    def names(self, kinds=tuple(KINDS)):
        """``{kind: {name: [moref id, ...]}}`` for the given kinds, in one PropertyCollector call."""
        found = {kind: {} for kind in kinds}
        kind_of = dict((KINDS[kind], kind) for kind in kinds)
        for obj, name in named_objects(self.connect(), [KINDS[kind] for kind in kinds]):
            kind = _kind(obj, kind_of)
            if kind is not None:
                found[kind].setdefault(name, []).append(obj._moId)
        return found

    def storage_policies(self):
        """``{policy name: [policy id, ...]}`` of the storage requirement profiles."""
        # PBM trusts the vim session, passed in the vcSessionCookie SOAP header
        stub = SoapStubAdapter(host=self.hostname, port=self.port, path="/pbm", version=PBM_VERSION,
                               sslContext=self._context,
                               requestContext={"vcSessionCookie": session_cookie_value(self.connect())})
        manager = pbm.ServiceInstance("ServiceInstance", stub).RetrieveContent().profileManager
        ids = manager.PbmQueryProfile(resourceType=pbm.profile.ResourceType(resourceType="STORAGE"),
                                      profileCategory="REQUIREMENT")
        found = {}
        for profile in manager.PbmRetrieveContent(profileIds=ids) if ids else []:
            found.setdefault(profile.name, []).append(profile.profileId.uniqueId)
        return found


def named_objects(si, type_names):
    """``(managed object, name)`` of every object of the given vim types, read with the
    PropertyCollector in pages. An object deleted while it is read is left out, where reading
    ``name`` off a container view's members would fail on it."""
    content = si.RetrieveContent()
    types = [getattr(vim, type_name) for type_name in type_names]
    view = content.viewManager.CreateContainerView(content.rootFolder, types, True)
    try:
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                obj=view, skip=True,
                selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                    name="view", path="view", skip=False, type=vim.view.ContainerView)])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind_type, pathSet=["name"])
                     for kind_type in types])
        collector = content.propertyCollector
        page = collector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while page is not None:
            for item in page.objects:
                yield item.obj, (item.propSet[0].val if item.propSet else item.obj._moId)
            page = collector.ContinueRetrievePropertiesEx(page.token) if page.token else None
    finally:
        view.Destroy()


def session_cookie_value(si):
    """The value of the ``vmware_soap_session`` cookie (vCenter quotes it, vcsim does not)."""
    cookie = si._stub.cookie  # pylint: disable=protected-access
    return cookie.split(";", 1)[0].split("=", 1)[-1].strip().strip('"')


def _kind(obj, kind_of):
    """Our kind of a managed object (a DistributedVirtualPortgroup is a Network too)."""
    for type_name, kind in kind_of.items():
        if isinstance(obj, getattr(vim, type_name)):
            return kind
    return None
