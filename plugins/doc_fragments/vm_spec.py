# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The parts of a VM Service VM's spec that vm and vm_cluster share (network, bootstrap, volumes);
    # their argument spec is VM_SPEC_ARGUMENT_SPEC in module_utils/_supervisor/vm_manifest.py.
    DOCUMENTATION = r"""
options:
  network_interfaces:
    description:
      - The VM's network interfaces, in order. Without it, the VM gets the namespace's default network.
    type: list
    elements: dict
    suboptions:
      name:
        description: The interface's name in the VM, a DNS-1123 label such as C(eth0).
        type: str
        required: true
      network:
        description: The name of the network to attach to.
        type: str
      network_kind:
        description: The kind of network, for example C(Network), C(SubnetSet) or C(VirtualNetwork).
        type: str
      network_api_version:
        description: The API version of O(network_interfaces[].network_kind).
        type: str
      addresses:
        description:
          - Static IPv4 or IPv6 addresses with their prefix length, for example C(192.168.1.10/24) or
            C(2001:db8::a/64); not with DHCP of the same family.
        type: list
        elements: str
      gateway4:
        description:
          - The IPv4 gateway of a static configuration (an IPv4 address in O(network_interfaces[].addresses)
            is needed), or C(None) to ignore the network provider's gateway.
        type: str
      gateway6:
        description:
          - The IPv6 gateway of a static configuration (an IPv6 address in O(network_interfaces[].addresses)
            is needed), or C(None) to ignore the network provider's gateway.
        type: str
      dhcp4:
        description: Whether the interface uses DHCP for IPv4.
        type: bool
      dhcp6:
        description: Whether the interface uses DHCP for IPv6.
        type: bool
      mtu:
        description: The interface's MTU, 68 to 65535.
        type: int
      nameservers:
        description: DNS servers for this interface, as IPv4 or IPv6 addresses.
        type: list
        elements: str
      search_domains:
        description: DNS search domains for this interface.
        type: list
        elements: str
  bootstrap:
    description: How the guest is configured on first boot; one of O(bootstrap.cloud_init) and O(bootstrap.sysprep).
    type: dict
    suboptions:
      cloud_init:
        description: Cloud-Init (Linux) or Cloudbase-Init (Windows) configuration.
        type: dict
        suboptions:
          user_data:
            description:
              - Inline cloud-config user data. Stored in the Secret C(<name>-bootstrap) (after O(name)); never logged.
              - Mutually exclusive with O(bootstrap.cloud_init.secret_name).
            type: str
          secret_name:
            description: An existing Secret in the namespace that holds the cloud-config.
            type: str
          secret_key:
            description: The key of the cloud-config in O(bootstrap.cloud_init.secret_name).
            type: str
            default: user-data
          ssh_authorized_keys:
            description: Public SSH keys for the guest's default user.
            type: list
            elements: str
          instance_id:
            description: The cloud-init instance ID; the VM's BIOS UUID when not set.
            type: str
      sysprep:
        description: Windows sysprep configuration, as a raw answer file.
        type: dict
        suboptions:
          unattend:
            description:
              - An inline sysprep answer file (XML). Stored in the Secret C(<name>-bootstrap) (after O(name)); never logged.
              - Mutually exclusive with O(bootstrap.sysprep.secret_name).
            type: str
          secret_name:
            description: An existing Secret in the namespace that holds the answer file.
            type: str
          secret_key:
            description: The key of the answer file in O(bootstrap.sysprep.secret_name).
            type: str
            default: unattend
  volumes:
    description: PersistentVolumeClaims to attach to the VM.
    type: list
    elements: dict
    suboptions:
      name:
        description: The volume's name in the VM, a DNS-1123 label.
        type: str
        required: true
      claim_name:
        description: The PersistentVolumeClaim in the namespace.
        type: str
        required: true
      read_only:
        description: Whether to attach the volume read-only.
        type: bool
"""
