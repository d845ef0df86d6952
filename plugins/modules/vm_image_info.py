#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_image_info
short_description: List the VM images a vSphere Namespace offers, and the content libraries behind them
version_added: 0.1.0
description:
  - Lists, through the Supervisor's Kubernetes API, the images a VM in a vSphere Namespace may be
    made from, as a namespace's user sees them - the namespace's C(VirtualMachineImage) objects (one
    per item of each content library associated with the namespace) and the Supervisor's
    C(ClusterVirtualMachineImage) objects (from the libraries associated with every namespace), both
    C(vmoperator.vmware.com/v1alpha3).
  - For each image, the content library it comes from, read from the image registry
    (C(imageregistry.vmware.com)) - the C(ContentLibraryItem) its C(spec.providerRef) names, and that
    item's C(ContentLibrary) (C(ClusterContentLibraryItem) and C(ClusterContentLibrary) for cluster
    images).
  - Needs only what a namespace's developer (EDIT) or viewer (VIEW) may read. A kind the credentials
    may not read at the cluster scope, or a Supervisor without the image registry, leaves those
    images or libraries out with a warning; a namespace they may not read is an error.
  - The image's RV(images[].name) or RV(images[].display_name) is what
    O(pacific.supervisor.vm#module:image_name) takes.
author:
  - pacific.supervisor contributors (@pacific)
options:
  namespace:
    description: The vSphere Namespace whose images to list.
    type: str
    required: true
  names:
    description: Only the images with these names (C(vmi-...)) or display names.
    type: list
    elements: str
  content_library:
    description: Only the images from this content library, given by its display name or its vCenter identifier.
    type: str
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: pacific.supervisor.vm
  - module: pacific.supervisor.storage_class_info
  - module: pacific.supervisor.namespace
    description: associates content libraries with a namespace (admin face).
"""

EXAMPLES = r"""
- name: The images team-a may make VMs from
  pacific.supervisor.vm_image_info:
    namespace: team-a
  register: team_a_images

- name: Their display names
  ansible.builtin.debug:
    msg: "{{ team_a_images.images | map(attribute='display_name') | list }}"

- name: Is ubuntu-22.04 there, and ready?
  pacific.supervisor.vm_image_info:
    namespace: team-a
    names: [ubuntu-22.04]
  register: ubuntu
  failed_when: ubuntu.images | selectattr('ready') | list | length == 0

- name: The images of one content library
  pacific.supervisor.vm_image_info:
    namespace: team-a
    content_library: ubuntu-images
  register: from_library
"""

RETURN = r"""
images:
  description:
    - The images offered in O(namespace) - its own (C(VirtualMachineImage)) first, then the Supervisor's
      (C(ClusterVirtualMachineImage)), each sorted by display name and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The object's name (the VMI ID, C(vmi-) and 17 hex digits).
      type: str
    display_name:
      description: The name of the content library item, what vSphere Client shows.
      type: str
    kind:
      description: C(VirtualMachineImage) (of the namespace) or C(ClusterVirtualMachineImage) (of the Supervisor).
      type: str
    namespace:
      description: The namespace of a C(VirtualMachineImage); null for a cluster image.
      type: str
    type:
      description: C(OVF), C(ISO) or C(VM) (what the library item holds).
      type: str
    ready:
      description: Whether its C(Ready) condition is true, that is, VMs can be made from it.
      type: bool
    os:
      description: The guest OS VM Operator read from the image (C(id), C(type), C(version)); null values when not known.
      type: dict
    firmware:
      description: C(bios) or C(efi), when known.
      type: str
    hardware_version:
      description: The virtual hardware version, when known.
      type: int
    capabilities:
      description: Capabilities the image declares.
      type: list
      elements: str
    product:
      description: The OVF product section (C(product), C(vendor), C(version), C(full_version)).
      type: dict
    provider:
      description: The image registry object it comes from (C(api_version), C(kind), C(name)).
      type: dict
    provider_item_id:
      description: The vCenter identifier of the content library item.
      type: str
    content_library:
      description:
        - The content library behind the image (C(name), C(id), C(resource_name), C(kind)); null when it
          cannot be read or the image does not come from one.
      type: dict
    conditions:
      description: Its conditions (C(type), C(status), C(reason), C(message)).
      type: list
      elements: dict
  sample:
    - name: vmi-0a0044d7c690bcbea
      display_name: ubuntu-22.04
      kind: VirtualMachineImage
      namespace: team-a
      type: OVF
      ready: true
      os: {id: ubuntu64Guest, type: Linux, version: "22.04"}
      firmware: efi
      hardware_version: 19
      capabilities: []
      product: {product: Ubuntu, vendor: Canonical, version: "22.04", full_version: null}
      provider: {api_version: imageregistry.vmware.com/v1alpha2, kind: ContentLibraryItem, name: clitem-6d6a9ad5f2e1c4b3a}
      provider_item_id: e1968c25-dd84-4506-8dc7-9beacb6b688e
      content_library: {name: ubuntu-images, id: 5d4e9a3c-2b1f-4e8d-9c7a-1f2e3d4c5b6a, resource_name: cl-b1d4c7e9f0a2d3e4f,
                        kind: ContentLibrary}
      conditions: [{type: Ready, status: "True", reason: Ready, message: ""}]
content_libraries:
  description:
    - The content libraries behind the images listed, sorted by name, each with the names of its images.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The library's name, as vSphere Client shows it.
      type: str
    id:
      description: The library's vCenter identifier (what O(pacific.supervisor.namespace#module:content_libraries) also takes).
      type: str
    resource_name:
      description: The name of its C(ContentLibrary) or C(ClusterContentLibrary) object.
      type: str
    kind:
      description: C(ContentLibrary) (associated with the namespace) or C(ClusterContentLibrary) (with the Supervisor).
      type: str
    namespace:
      description: The namespace of a C(ContentLibrary); null for a C(ClusterContentLibrary).
      type: str
    type:
      description: C(LOCAL) or C(SUBSCRIBED).
      type: str
    ready:
      description: Whether its C(Ready) condition is true.
      type: bool
    images:
      description: The names of the images listed that come from it.
      type: list
      elements: str
  sample:
    - name: ubuntu-images
      id: 5d4e9a3c-2b1f-4e8d-9c7a-1f2e3d4c5b6a
      resource_name: cl-b1d4c7e9f0a2d3e4f
      kind: ContentLibrary
      namespace: team-a
      type: LOCAL
      ready: true
      images: [vmi-0a0044d7c690bcbea]
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import image_catalog
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists

ARGUMENT_SPEC = dict(
    namespace=dict(type="str", required=True),
    names=dict(type="list", elements="str"),
    content_library=dict(type="str"),
)


def _wanted(image, params):
    names = params.get("names")
    if names and image["name"] not in names and image["display_name"] not in names:
        return False
    wanted_library, library = params.get("content_library"), image["content_library"]
    if wanted_library is not None:
        return library is not None and wanted_library in (library["name"], library["id"])
    return True


def handle(params, run):
    namespace = check_name(params["namespace"], "namespace", label=True)
    engine = Engine(connect(params))
    catalog = image_catalog.read(engine, namespace)
    if not any(image.get("kind") == "VirtualMachineImage" for image in catalog.images):
        namespace_exists(engine, namespace)  # no images of a namespace that is not there is a typo
    images, libraries = [], {}
    for found in catalog.images:
        library = catalog.library_of(found)
        image = image_catalog.summarize_image(found, library)
        if not _wanted(image, params):
            continue
        images.append(image)
        if library is not None:
            key = (library["kind"], library["namespace"], library["resource_name"])
            libraries.setdefault(key, dict(library, images=[]))["images"].append(image["name"])
    images.sort(key=lambda image: (image["kind"] != "VirtualMachineImage", image["display_name"] or "",
                                   image["name"]))
    for library in libraries.values():
        library["images"].sort()
    for warning in catalog.warnings:
        run.warn(warning)
    return {"changed": False, "images": images,
            "content_libraries": sorted(libraries.values(), key=lambda library: (library["name"] or "",
                                                                                 library["resource_name"]))}


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle, requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
