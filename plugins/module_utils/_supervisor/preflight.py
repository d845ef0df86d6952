# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks made before a change, so that bad input fails with a clear message and changes nothing.

The API server accepts a VirtualMachine naming a class or image that does not exist; the VM
Operator only reports it later in a condition. Checking first keeps a typo from leaving a
half-made VM behind. A check the caller may not make (403) is skipped: the controller's
condition (surfaced by the waiter) still reports the problem.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds

VMOP = kinds.VMOP


def namespace_exists(engine, namespace):
    """Raise NotFound when ``namespace`` does not exist; True when it does, None when we may not know."""
    try:
        found = engine.get(kinds.NAMESPACE, namespace)
    except errors.Forbidden:
        return None
    if found is None:
        raise errors.NotFound("namespace {0} does not exist".format(namespace))
    return True


def _names(items):
    return sorted((item.get("metadata") or {}).get("name") for item in items)


def vm_class_bound(engine, namespace, class_name):
    try:
        classes, _version = engine.list(kinds.known(VMOP, "VirtualMachineClass"), namespace)
    except errors.Forbidden:
        return
    if class_name not in _names(classes):
        raise errors.InvalidArgument("VirtualMachineClass {0!r} is not bound to namespace {1} (bound: {2})".format(
            class_name, namespace, ", ".join(_names(classes)) or "none"))


def vm_image_available(engine, namespace, image_name):
    """The image by object name or display name (status.name), namespaced or cluster-wide."""
    try:
        images, _version = engine.list(kinds.known(VMOP, "VirtualMachineImage"), namespace)
        cluster_images, _version = engine.list(kinds.known(VMOP, "ClusterVirtualMachineImage"))
    except errors.Forbidden:
        return
    offered = set()
    for image in images + cluster_images:
        offered.add(image["metadata"]["name"])
        display = (image.get("status") or {}).get("name")
        if display:
            offered.add(display)
    if image_name not in offered:
        raise errors.InvalidArgument("VirtualMachineImage {0!r} is not available in namespace {1} (available: {2})"
                                     .format(image_name, namespace, ", ".join(sorted(offered)) or "none"))


def check_vm_references(engine, manifest, before):
    """Before creating a VM or changing its class or image: the namespace exists, the class is
    bound to it and the image is offered there."""
    namespace = manifest["metadata"]["namespace"]
    spec, current = manifest.get("spec") or {}, (before or {}).get("spec") or {}
    if before is None:
        namespace_exists(engine, namespace)
    if spec.get("className") and spec["className"] != current.get("className"):
        vm_class_bound(engine, namespace, spec["className"])
    if spec.get("imageName") and spec["imageName"] != current.get("imageName"):
        vm_image_available(engine, namespace, spec["imageName"])
