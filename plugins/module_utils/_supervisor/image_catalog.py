# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM images a namespace offers, and the content libraries behind them, as its users read them.

VM Operator makes a ``VirtualMachineImage`` in a namespace for each item of the content libraries
associated with it, and a ``ClusterVirtualMachineImage`` for each item of the libraries associated
with the whole Supervisor. An image's ``spec.providerRef`` names the image registry's
``ContentLibraryItem`` (or ``ClusterContentLibraryItem``) it comes from; the item names its
library: ``spec.libraryName`` in ``imageregistry.vmware.com/v1alpha2``,
``status.contentLibraryRef.name`` in ``v1alpha1``. The library's display name is in its status, its
vCenter identifier in ``spec.id`` (``spec.uuid`` in ``v1alpha1``).

``read(engine, namespace)`` reads it all with one LIST per kind; ``summarize_image`` and
``summarize_library`` give the shapes the ``vm_image_info`` module returns. A kind the caller may not
read, or a Supervisor without the image registry, leaves the libraries unknown and says so in
``warnings``, never silently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds

IMAGE_REGISTRY = "imageregistry.vmware.com"
VIRTUAL_MACHINE_IMAGE = kinds.known(kinds.VMOP, "VirtualMachineImage")
CLUSTER_VIRTUAL_MACHINE_IMAGE = kinds.known(kinds.VMOP, "ClusterVirtualMachineImage")
# image registry kinds: (kind, plural, namespaced)
ITEM_KINDS = {"ContentLibraryItem": ("contentlibraryitems", True),
              "ClusterContentLibraryItem": ("clustercontentlibraryitems", False)}
LIBRARY_OF_ITEM = {"ContentLibraryItem": "ContentLibrary", "ClusterContentLibraryItem": "ClusterContentLibrary"}
LIBRARY_KINDS = {"ContentLibrary": ("contentlibraries", True),
                 "ClusterContentLibrary": ("clustercontentlibraries", False)}


def _ready(obj):
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _conditions(obj):
    return [dict((key, c.get(key)) for key in ("type", "status", "reason", "message"))
            for c in (obj.get("status") or {}).get("conditions") or []]


def library_of_item(item):
    """The name of the library object an image registry item belongs to (either API version)."""
    spec, status = item.get("spec") or {}, item.get("status") or {}
    return spec.get("libraryName") or (status.get("contentLibraryRef") or {}).get("name")


def summarize_library(library):
    """A ContentLibrary or ClusterContentLibrary as the module returns it (without its images)."""
    metadata, spec, status = library.get("metadata") or {}, library.get("spec") or {}, library.get("status") or {}
    kind = library.get("kind")
    subscribed = status.get("type") == "Subscribed" or bool(status.get("subscriptionInfo"))
    return {
        "name": status.get("name"),
        "id": spec.get("id") or spec.get("uuid"),
        "resource_name": metadata.get("name"),
        "kind": kind,
        "namespace": metadata.get("namespace"),
        "type": "SUBSCRIBED" if subscribed else "LOCAL",
        "ready": _ready(library),
    }


def summarize_image(image, library=None):
    """A VirtualMachineImage or ClusterVirtualMachineImage as the module returns it; ``library`` is
    ``summarize_library`` of the library behind it, or None when not known."""
    metadata, spec, status = image.get("metadata") or {}, image.get("spec") or {}, image.get("status") or {}
    provider = spec.get("providerRef") or {}
    os_info, product = status.get("osInfo") or {}, status.get("productInfo") or {}
    return {
        "name": metadata.get("name"),
        "display_name": status.get("name"),
        "kind": image.get("kind"),
        "namespace": metadata.get("namespace"),
        "type": status.get("type"),
        "ready": _ready(image),
        "os": {"id": os_info.get("id"), "type": os_info.get("type"), "version": os_info.get("version")},
        "firmware": status.get("firmware"),
        "hardware_version": status.get("hardwareVersion"),
        "capabilities": sorted(status.get("capabilities") or []),
        "product": {"product": product.get("product"), "vendor": product.get("vendor"),
                    "version": product.get("version"), "full_version": product.get("fullVersion")},
        "provider": {"api_version": provider.get("apiVersion"), "kind": provider.get("kind"),
                     "name": provider.get("name")},
        "provider_item_id": status.get("providerItemID"),
        "content_library": None if library is None else dict(
            (key, library[key]) for key in ("name", "id", "resource_name", "kind")),
        "conditions": _conditions(image),
    }


class Catalog(object):
    """What one LIST per kind found: images, items and libraries, and what could not be read."""

    def __init__(self):
        self.images = []
        self.items = {}       # (kind, namespace, name) -> item
        self.libraries = {}   # (kind, namespace, name) -> library
        self.warnings = []

    def library_of(self, image):
        """``summarize_library`` of the library behind ``image``, or None."""
        provider = (image.get("spec") or {}).get("providerRef") or {}
        kind = provider.get("kind")
        if kind not in ITEM_KINDS:
            return None
        scope = (image.get("metadata") or {}).get("namespace") if ITEM_KINDS[kind][1] else None
        item = self.items.get((kind, scope, provider.get("name")))
        if item is None:
            return None
        library_kind = LIBRARY_OF_ITEM[kind]
        library = self.libraries.get((library_kind, scope, library_of_item(item)))
        return None if library is None else summarize_library(library)


def _registry_version(engine):
    """The image registry's preferred group version, or None when the Supervisor has none."""
    try:
        group = engine.api_group(IMAGE_REGISTRY)
    except errors.NotFound:
        return None
    return (group.get("preferredVersion") or {}).get("groupVersion")


def _list(engine, catalog, resource, namespace):
    """The items of one LIST; a kind the credentials may not read gives [] and a warning."""
    try:
        items, _version = engine.list(resource, namespace)
    except errors.Forbidden as err:
        catalog.warnings.append("{0} are not listed: {1}".format(resource.plural, err.msg))
        return []
    except errors.NotFound:
        return []  # the kind is not served here
    for item in items:
        item.setdefault("kind", resource.kind)
        item.setdefault("apiVersion", resource.api_version)
    return items


def read(engine, namespace):
    """The images offered in ``namespace`` (its own, then the Supervisor's), with their libraries.

    The namespaced images are read first: a namespace the credentials may not read fails here
    (Forbidden, or NotFound for one that does not exist), before anything else is asked."""
    catalog = Catalog()
    images, _version = engine.list(VIRTUAL_MACHINE_IMAGE, namespace)
    for image in images:
        image.setdefault("kind", VIRTUAL_MACHINE_IMAGE.kind)
    catalog.images = images + _list(engine, catalog, CLUSTER_VIRTUAL_MACHINE_IMAGE, None)
    version = _registry_version(engine)
    if version is None:
        catalog.warnings.append("the Supervisor serves no {0} API: the content libraries behind the images "
                                "are not known".format(IMAGE_REGISTRY))
        return catalog
    for table, target in ((ITEM_KINDS, catalog.items), (LIBRARY_KINDS, catalog.libraries)):
        for kind, (plural, namespaced) in table.items():
            resource = kinds.Resource(version, kind, plural, namespaced=namespaced)
            scope = namespace if namespaced else None
            for found in _list(engine, catalog, resource, scope):
                target[(kind, scope, (found.get("metadata") or {}).get("name"))] = found
    return catalog
