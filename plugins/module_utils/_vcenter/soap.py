# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter's SOAP side through pyVmomi: inventory names and storage policies in bulk.

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

# inventory kinds a user may name, and the managed object type of each
KINDS = {"cluster": "ClusterComputeResource", "network": "Network", "datastore": "Datastore"}
PBM_VERSION = "pbm.version.version11"


def _ssl_context(validate_certs, ca_cert):
    if not validate_certs:
        return ssl._create_unverified_context()  # pylint: disable=protected-access
    # always a context: without one pyVim skips verification for loopback hosts
    return ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()


class VcenterInventory(object):
    """A pyVmomi session; use it as a context manager."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, ca_cert=None):
        self.hostname, self.port = hostname, port
        self._credentials = (username, password)
        self._context = _ssl_context(validate_certs, ca_cert)
        self._si = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def connect(self):
        if self._si is not None:
            return self._si
        where = "vCenter at {0}:{1}".format(self.hostname, self.port)
        username, password = self._credentials
        try:
            self._si = SmartConnect(host=self.hostname, port=self.port, user=username, pwd=password,
                                    sslContext=self._context)
        except vim.fault.InvalidLogin:
            raise errors.AuthenticationFailed("{0} refused the credentials of {1}".format(where, username))
        except ssl.SSLCertVerificationError as err:
            raise errors.TlsError("{0}: its certificate is not trusted ({1}); set ca_cert to the CA that "
                                  "signed it".format(where, err.verify_message or err))
        except (socket.error, ssl.SSLError) as err:
            raise errors.Unreachable("cannot reach {0}: {1}".format(where, err))
        return self._si

    def close(self):
        if self._si is not None:
            try:
                Disconnect(self._si)
            except Exception:  # pylint: disable=broad-except
                pass  # logging out of a dead session is no failure
            self._si = None

    def names(self, kinds=tuple(KINDS)):
        """``{kind: {name: [moref id, ...]}}`` for the given kinds, in one PropertyCollector call."""
        content = self.connect().RetrieveContent()
        types = [getattr(vim, KINDS[kind]) for kind in kinds]
        view = content.viewManager.CreateContainerView(content.rootFolder, types, True)
        try:
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view, skip=True,
                    selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                        name="view", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind_type, pathSet=["name"])
                         for kind_type in types])
            found = {kind: {} for kind in kinds}
            kind_of = dict((KINDS[kind], kind) for kind in kinds)
            collector = content.propertyCollector
            page = collector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
            while page is not None:
                for item in page.objects:
                    kind = _kind(item.obj, kind_of)
                    if kind is not None:
                        name = item.propSet[0].val if item.propSet else item.obj._moId
                        found[kind].setdefault(name, []).append(item.obj._moId)
                page = collector.ContinueRetrievePropertiesEx(page.token) if page.token else None
            return found
        finally:
            view.Destroy()

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
