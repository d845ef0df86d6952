# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection to vCenter's vSphere Automation API (the admin face).
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - The vCenter server name or address.
      - If not set, the environment variable E(VMWARE_HOST) is used.
    type: str
    required: true
  port:
    description:
      - The vCenter HTTPS port.
      - If not set, the environment variable E(VMWARE_PORT) is used.
    type: int
    default: 443
  username:
    description:
      - The vCenter user, for example V(administrator@vsphere.local).
      - If not set, the environment variable E(VMWARE_USER) is used.
    type: str
    required: true
    aliases: [user]
  password:
    description:
      - The password of O(username). It is never logged or returned.
      - If not set, the environment variable E(VMWARE_PASSWORD) is used.
    type: str
    required: true
    aliases: [pass, pwd]
  validate_certs:
    description:
      - Whether to verify vCenter's TLS certificate. Leave it on outside a lab.
      - If not set, the environment variable E(VMWARE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_cert:
    description:
      - A PEM file of the CA that signed vCenter's certificate, instead of the system trust store.
      - If not set, the environment variable E(VMWARE_CA_CERT) is used.
    type: path
notes:
  - All options of this fragment can be set once for a play with
    C(module_defaults) and the action group C(group/pacific.supervisor.vcenter).
"""
