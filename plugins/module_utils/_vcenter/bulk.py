# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every VM of a vCenter in one PropertyCollector fetch, with folder and resource pool paths.

One ContainerView over the root folder holds the VMs and the objects their paths run through
(folders, datacenters, compute resources, resource pools). One filter spec asks for exactly the
VM properties wanted plus ``name`` and ``parent`` of the others, read with ``RetrievePropertiesEx``
in pages of ``maxObjects`` and continued with ``ContinueRetrievePropertiesEx``. Paths are then
resolved in memory: no call per VM, whatever the size of the estate.

Nothing here knows Ansible; failures are ``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl

try:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim, vmodl
    from pyVmomi.VmomiSupport import DataObject, ManagedObject
except ImportError as err:  # reported by the caller
    PYVMOMI_IMPORT_ERROR = err
else:
    PYVMOMI_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed, InvalidArgument, PacificError, ServerError, TlsError, Unreachable)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.retry import retrying

DEFAULT_PAGE_SIZE = 1000
CONNECT_TIMEOUT = 30
# the types a VM's folder and resource pool paths run through, by their WSDL names
PATH_TYPES = ("Folder", "Datacenter", "ComputeResource", "ClusterComputeResource", "ResourcePool", "VirtualApp")


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
        raise InvalidArgument("cannot read the CA file %s: %s" % (ca_cert, err))


@retrying(attempts=3, base_delay=0.3, retry_on=lambda err: isinstance(err, Unreachable))
def connect(hostname, username, password, port=443, validate_certs=True, ca_cert=None, timeout=CONNECT_TIMEOUT):
    """A logged-in pyVmomi ServiceInstance, or a PacificError saying what went wrong."""
    if PYVMOMI_IMPORT_ERROR is not None:
        raise InvalidArgument("the pyVmomi Python library is required: %s" % PYVMOMI_IMPORT_ERROR)
    where = "%s:%s" % (hostname, port)
    context = ssl_context(validate_certs, ca_cert)
    try:
        return SmartConnect(host=hostname, port=port, user=username, pwd=password, sslContext=context,
                            httpConnectionTimeout=timeout)
    except vim.fault.InvalidLogin:
        raise AuthenticationFailed("vCenter at %s refused the user name or password of %r" % (where, username))
    except ssl.SSLCertVerificationError as err:
        raise TlsError("vCenter's certificate at %s is not trusted (%s): set ca_cert to the CA that signed it"
                       % (where, err.verify_message or err))
    except ssl.SSLError as err:
        raise TlsError("TLS with vCenter at %s failed: %s" % (where, err))
    except (socket.timeout, socket.gaierror, ConnectionError) as err:
        raise Unreachable("cannot reach vCenter at %s: %s" % (where, err))
    except OSError as err:
        raise Unreachable("cannot reach vCenter at %s: %s" % (where, err))
    except vmodl.MethodFault as err:
        raise ServerError("vCenter at %s refused the login: %s" % (where, err.msg or err))
    except Exception as err:  # pyVmomi raises bare Exceptions for non-vSphere answers
        raise Unreachable("no vSphere API at https://%s/sdk: %s" % (where, err))


def disconnect(service_instance):
    try:
        Disconnect(service_instance)
    except Exception:  # logging out is a courtesy; a dead session needs none
        pass


def check_properties(properties):
    """Refuse, before any request, a VM property path the vSphere API does not define: a path runs
    through data objects only (not arrays, not references to other objects)."""
    if PYVMOMI_IMPORT_ERROR is not None:
        raise InvalidArgument("the pyVmomi Python library is required: %s" % PYVMOMI_IMPORT_ERROR)
    for path in properties:
        kind, walked = vim.VirtualMachine, []
        for part in str(path).split("."):
            if walked and not (isinstance(kind, type) and issubclass(kind, DataObject)):
                raise InvalidArgument("unknown VirtualMachine property %r: %s is not a data object a path can "
                                      "go into" % (path, ".".join(walked)))
            try:
                kind = kind._GetPropertyInfo(part).type
            except AttributeError:
                raise InvalidArgument("unknown VirtualMachine property %r: %s has no property %r"
                                      % (path, ".".join(walked) or "VirtualMachine", part))
            walked.append(part)


def _filter_spec(view, vm_properties):
    collector = vmodl.query.PropertyCollector
    traverse_view = collector.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    prop_set = [collector.PropertySpec(type=vim.VirtualMachine, pathSet=list(vm_properties))]
    prop_set += [collector.PropertySpec(type=getattr(vim, name), pathSet=["name", "parent"]) for name in PATH_TYPES]
    return collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse_view])],
                                propSet=prop_set)


def _pages(collector, spec, page_size):
    options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size)
    result = collector.RetrievePropertiesEx([spec], options)
    while result is not None:
        yield result.objects
        if not result.token:
            return
        result = collector.ContinueRetrievePropertiesEx(result.token)


def _translate(err, properties):
    if isinstance(err, vmodl.query.InvalidProperty):
        return InvalidArgument("unknown VirtualMachine property %r (asked: %s)"
                               % (err.name, ", ".join(sorted(properties))))
    if isinstance(err, vim.fault.NotAuthenticated):
        return AuthenticationFailed("the vCenter session ended during the inventory fetch")
    if isinstance(err, vmodl.MethodFault):
        return ServerError("vCenter failed the inventory fetch: %s" % (err.msg or type(err).__name__))
    return Unreachable("vCenter connection failed during the inventory fetch: %s" % err)


def fetch_vms(service_instance, properties, page_size=DEFAULT_PAGE_SIZE):
    """``(vms, parents)``: one dict per VM (``moid`` plus each property read, unset ones absent,
    managed object references as their moids) and ``{moid: (type, name, parent moid)}`` of every
    folder, datacenter, compute resource and resource pool, for ``inventory_paths``."""
    check_properties(properties)
    content = service_instance.RetrieveContent()
    view = content.viewManager.CreateContainerView(
        content.rootFolder, [vim.VirtualMachine] + [getattr(vim, name) for name in PATH_TYPES], True)
    vms, parents = [], {}
    try:
        for objects in _pages(content.propertyCollector, _filter_spec(view, properties), page_size):
            for item in objects:
                obj = item.obj
                values = dict((prop.name, prop.val) for prop in item.propSet)
                if isinstance(obj, vim.VirtualMachine):
                    record = dict((name, plain(value)) for name, value in values.items())
                    record["moid"] = obj._moId
                    vms.append(record)
                else:
                    parent = values.get("parent")
                    parents[obj._moId] = (obj._wsdlName, values.get("name"), parent._moId if parent else None)
    except PacificError:
        raise
    except (vmodl.MethodFault, OSError) as err:
        raise _translate(err, properties)
    finally:
        try:
            view.Destroy()
        except Exception:  # the session may be gone; the view goes with it
            pass
    return vms, parents


def custom_field_names(service_instance):
    """``{key: name}`` of the custom attributes defined in vCenter (one property read)."""
    manager = service_instance.RetrieveContent().customFieldsManager
    if manager is None:
        return {}
    try:
        return dict((field.key, field.name) for field in manager.field or [])
    except vmodl.MethodFault as err:
        raise _translate(err, ["customValue"])


_PLAIN_TYPES = (type(None), bool, int, float, str)


def plain(value):
    """A pyVmomi value as plain JSON-able data: enums and typed numbers become their builtin
    types, references their moids, data objects dicts."""
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, str):  # enums, property paths
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):  # pyVmomi's long, short, byte
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, ManagedObject):
        return value._moId
    if isinstance(value, DataObject):
        out = {}
        for prop in value._GetPropertyList():
            item = getattr(value, prop.name)
            if item is not None and item != []:
                out[prop.name] = plain(item)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def inventory_paths(parents):
    """A function ``moid -> (path, datacenter name)`` over ``parents`` (see ``fetch_vms``), memoized:
    ``/DC0/vm/Namespaces/team-a`` for a folder, ``/DC0/host/DC0_C0/Resources/team-a`` for a pool."""
    memo = {}

    def resolve(moid):
        if moid is None or moid not in parents:
            return "", None
        if moid in memo:
            return memo[moid]
        kind, name, parent = parents[moid]
        above, datacenter = resolve(parent)
        if kind == "Datacenter":
            datacenter = name
        memo[moid] = ("%s/%s" % (above, name), datacenter)
        return memo[moid]

    return resolve
