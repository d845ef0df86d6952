# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks made before a change, so that bad input fails with a clear message and changes nothing.

The API server accepts a VirtualMachine naming a class or image that does not exist; the VM
Operator only reports it later in a condition. Checking first keeps a typo from leaving a
half-made VM behind. The checks read only what a namespace's developer (EDIT) may read. A check
that cannot be made is never skipped silently: it fails, or (a check run in a namespace not made
yet, or not the caller's) says so in a warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, reach, storage_classes

VMOP = kinds.VMOP


def namespace_exists(engine, namespace):
    """Raise NotFound when ``namespace`` does not exist, NamespaceUnreachable when these
    credentials cannot see into it (a check run only warns: an earlier task may make it); True
    when it is there for them, None when a check run goes on without it."""
    state = engine.namespace_state(namespace)
    if state == reach.MISSING:
        raise errors.NotFound("namespace {0} does not exist".format(namespace))
    if state == reach.HIDDEN:
        hidden = engine.hidden_error(namespace)
        if not engine.check_mode:
            raise hidden
        engine.warn_hidden(namespace)
        engine.warn("check mode cannot check what namespace {0} holds (VM classes, images)".format(namespace))
        return None
    return True


def _unseen(engine, namespace):
    """A check run in a namespace these credentials cannot see into: the checks of its content
    cannot be made (``namespace_exists`` warned)."""
    return engine.check_mode and engine.namespace_state(namespace) == reach.HIDDEN


def _names(items):
    return sorted((item.get("metadata") or {}).get("name") for item in items)


def vm_class_bound(engine, namespace, class_name):
    if _unseen(engine, namespace):
        return
    classes, _version = engine.list(kinds.known(VMOP, "VirtualMachineClass"), namespace)
    if class_name not in _names(classes):
        raise errors.InvalidArgument("VirtualMachineClass {0!r} is not bound to namespace {1} (bound: {2})".format(
            class_name, namespace, ", ".join(_names(classes)) or "none"))


def vm_image_available(engine, namespace, image_name):
    """The image by object name or display name (status.name), namespaced or cluster-wide. The
    namespace's images are read first; the cluster's only when the image is not among them (a
    Supervisor may not let a developer read those: then the image is not known to be offered, and
    that is the error)."""
    if _unseen(engine, namespace):
        return
    images, _version = engine.list(kinds.known(VMOP, "VirtualMachineImage"), namespace)
    if _offers(images, image_name):
        return
    unread = ""
    try:
        cluster_images, _version = engine.list(kinds.known(VMOP, "ClusterVirtualMachineImage"))
    except errors.Forbidden as err:
        cluster_images, unread = [], "; the cluster's images (ClusterVirtualMachineImage) could not be read: " + err.msg
    except errors.NotFound:  # a Supervisor that serves no cluster images
        cluster_images = []
    if _offers(cluster_images, image_name):
        return
    offered = set()
    for image in images + cluster_images:
        offered.add(image["metadata"]["name"])
        display = (image.get("status") or {}).get("name")
        if display:
            offered.add(display)
    raise errors.InvalidArgument("VirtualMachineImage {0!r} is not available in namespace {1} (available: {2}){3}"
                                 .format(image_name, namespace, ", ".join(sorted(offered)) or "none", unread))


def _offers(images, image_name):
    """Whether one of ``images`` is ``image_name`` by object name or display name (status.name)."""
    return any(image["metadata"]["name"] == image_name or (image.get("status") or {}).get("name") == image_name
               for image in images)


def storage_class_offered(engine, namespace, name):
    """The storage class is one the namespace may use - named in its ResourceQuota, as a
    Supervisor names every storage policy assigned to a namespace - or at least one that exists.
    A class that exists nowhere is the typo this check is for; a quota or StorageClass that
    cannot be read is said in a warning, not skipped silently."""
    if _unseen(engine, namespace):
        return
    try:
        quotas, _version = engine.list(storage_classes.RESOURCE_QUOTA, namespace)
    except errors.Forbidden as err:
        engine.warn("cannot check storage class {0!r}: the quotas of namespace {1} could not be read: {2}".format(
            name, namespace, err.msg))
        return
    offered = sorted(storage_classes.limits_in(quotas))
    if name in offered:
        return
    try:
        found = engine.get(storage_classes.STORAGE_CLASS, name)
    except errors.Forbidden as err:
        engine.warn("cannot check storage class {0!r}: StorageClasses could not be read: {1}".format(name, err.msg))
        return
    if found is None:
        raise errors.InvalidArgument("storage class {0!r} does not exist (namespace {1} may use: {2})".format(
            name, namespace, ", ".join(offered) or "no class named in its quota"))


def check_vm_references(engine, manifest, before):
    """Before creating a VM or changing its class, image or storage class: the namespace exists,
    the class is bound to it, the image is offered there and the storage class exists."""
    namespace = manifest["metadata"]["namespace"]
    spec, current = manifest.get("spec") or {}, (before or {}).get("spec") or {}
    if before is None:
        namespace_exists(engine, namespace)
    if spec.get("className") and spec["className"] != current.get("className"):
        vm_class_bound(engine, namespace, spec["className"])
    if spec.get("imageName") and spec["imageName"] != current.get("imageName"):
        vm_image_available(engine, namespace, spec["imageName"])
    if spec.get("storageClass") and spec["storageClass"] != current.get("storageClass"):
        storage_class_offered(engine, namespace, spec["storageClass"])
