# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every VM of a vCenter in one PropertyCollector fetch, with folder and resource pool paths.

One ContainerView over the root folder holds the VMs, and one filter spec asks for exactly the
VM properties wanted, read with ``RetrievePropertiesEx`` in pages of ``maxObjects`` and continued
with ``ContinueRetrievePropertiesEx``. A second, small view and fetch gives ``name`` and ``parent``
of the objects their paths run through (folders, datacenters, compute resources, resource pools);
kept apart, the server matches each VM against one property spec, not seven. Paths are then
resolved in memory: no call per VM, whatever the size of the estate.

Nothing here knows Ansible; failures are ``PacificError``s.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from pyVmomi import vim, vmodl
    from pyVmomi.VmomiSupport import DataObject, ManagedObject
except ImportError as err:  # reported by the caller
    PYVMOMI_IMPORT_ERROR = err
else:
    PYVMOMI_IMPORT_ERROR = None

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import (
    AuthenticationFailed, InvalidArgument, PacificError, ServerError, Unreachable)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import retrieve

DEFAULT_PAGE_SIZE = 1000
# the types a VM's folder and resource pool paths run through, by their WSDL names
PATH_TYPES = ("Folder", "Datacenter", "ComputeResource", "ClusterComputeResource", "ResourcePool", "VirtualApp")


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
                kind = retrieve.internals().property_type(kind, part)
            except AttributeError:
                raise InvalidArgument("unknown VirtualMachine property %r: %s has no property %r"
                                      % (path, ".".join(walked) or "VirtualMachine", part))
            walked.append(part)


def _filter_spec(view, prop_set):
    collector = vmodl.query.PropertyCollector
    traverse_view = collector.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    return collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse_view])],
                                propSet=prop_set)


def _vm_spec(view, vm_properties):
    return _filter_spec(view, [vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine,
                                                                          pathSet=list(vm_properties))])


def _path_spec(view):
    spec = vmodl.query.PropertyCollector.PropertySpec
    return _filter_spec(view, [spec(type=getattr(vim, name), pathSet=["name", "parent"]) for name in PATH_TYPES])


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


TEMPLATE, CONNECTION_STATE = "config.template", "runtime.connectionState"
# VMs whose files vCenter cannot reach (their properties are mostly unset): of no use to a play
INACCESSIBLE_STATES = ("orphaned", "inaccessible")


def usable(values, templates=False, inaccessible=False):
    """Whether a VM (its properties read) belongs in the inventory: not a template unless
    ``templates``, not orphaned or inaccessible unless ``inaccessible``."""
    if not templates and values.get(TEMPLATE) is True:
        return False
    if not inaccessible and values.get(CONNECTION_STATE) in INACCESSIBLE_STATES:
        return False
    return True


def fetch_vms(service_instance, properties, page_size=DEFAULT_PAGE_SIZE, templates=False, inaccessible=False,
              timeout=None, via_pyvmomi=False, checked=False):
    """``(vms, parents)``: one dict per VM (``moid`` plus each property read, unset ones absent,
    managed object references as their moids) and ``{moid: (type, name, parent moid)}`` of every
    folder, datacenter, compute resource and resource pool, for ``inventory_paths``.

    Templates and orphaned or inaccessible VMs are left out unless ``templates`` /
    ``inaccessible``; what that takes is read along, and dropped from the records unless asked for.
    ``timeout`` bounds each wait for a page instead of the session's timeout (vCenter may compute
    every page before it sends the first).

    The answers are read by ``retrieve`` straight into plain data; ``via_pyvmomi`` reads them with
    pyVmomi's deserializer and ``plain`` instead (several times slower: the reference the fast
    reader is tested against). ``checked``: the caller has already run ``check_properties`` on
    ``properties`` (the inventory does, before it connects)."""
    if not checked:
        check_properties(properties)
    content = service_instance.RetrieveContent()
    views = []
    vms, parents = [], {}
    extra = [path for path, wanted in ((TEMPLATE, not templates), (CONNECTION_STATE, not inaccessible))
             if wanted and path not in properties]
    try:
        views.append(content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True))
        views.append(content.viewManager.CreateContainerView(
            content.rootFolder, [getattr(vim, name) for name in PATH_TYPES], True))
        # the VMs first: a folder or pool one of them is in, made meanwhile, is then in the second fetch
        specs = (_vm_spec(views[0], list(properties) + extra), _path_spec(views[1]))
        for spec in specs:
            if via_pyvmomi:
                objects = _typed_objects(content.propertyCollector, spec, page_size)
            else:
                objects = _plain_objects(content.propertyCollector, spec, page_size, timeout)
            for type_name, moid, values in objects:
                if type_name == "VirtualMachine":
                    if not usable(values, templates, inaccessible):
                        continue
                    for path in extra:
                        values.pop(path, None)
                    values["moid"] = moid
                    vms.append(values)
                else:
                    parents[moid] = (type_name, values.get("name"), values.get("parent"))
    except PacificError:
        raise
    except (vmodl.MethodFault, OSError, retrieve.HTTPException) as err:  # HTTP: an answer neither 200 nor a fault
        raise _translate(err, properties)
    except (SyntaxError, ValueError, KeyError, AttributeError, TypeError) as err:  # retrieve.UNREADABLE
        raise ServerError("vCenter's answer to the inventory fetch is not what the vSphere API describes: %s" % err)
    finally:
        for view in views:
            try:
                view.Destroy()
            except Exception:  # pylint: disable=broad-except  # the session may be gone; the view goes with it
                pass
    return vms, parents


def _plain_objects(collector, spec, page_size, timeout):
    types = dict((name, getattr(vim, name)) for name in ("VirtualMachine",) + PATH_TYPES)
    return retrieve.retrieve(collector, spec, page_size, types, timeout)


def _typed_objects(collector, spec, page_size):
    for objects in _pages(collector, spec, page_size):
        for item in objects:
            yield item.obj._wsdlName, item.obj._moId, dict((prop.name, plain(prop.val)) for prop in item.propSet)


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
        for prop in retrieve.internals().property_list(value):
            item = getattr(value, prop.name)
            # not ``item != []``: a managed object compares itself by moid and fails on a list
            if item is not None and not (isinstance(item, list) and not item):
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
