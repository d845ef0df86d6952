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
      - The vCenter server name or address. Needed, from the task or the environment.
    type: str
  port:
    description:
      - The vCenter HTTPS port; V(443) when not set.
    type: int
  username:
    description:
      - The vCenter user, for example V(administrator@vsphere.local). Needed, from the task or the environment.
    type: str
    aliases: [user]
  password:
    description:
      - The password of O(username). It is never logged or returned. Needed, from the task or the environment.
    type: str
    aliases: [pass, pwd]
  validate_certs:
    description:
      - Whether to verify vCenter's TLS certificate; V(true) when not set. Leave it on outside a lab.
      - When the connection comes from the environment, a O(validate_certs) the task sets still wins
        over E(VMWARE_VALIDATE_CERTS).
    type: bool
  ca_cert:
    description:
      - A PEM file of the CA that signed vCenter's certificate, instead of the system trust store.
      - When the connection comes from the environment, a O(ca_cert) the task sets still wins over
        E(VMWARE_CA_CERT).
    type: path
notes:
  - All options of this fragment can be set once for a play with
    C(module_defaults) and the action group C(group/pacific.supervisor.vcenter).
  - 'Where the connection comes from. What the task names (with C(module_defaults)) wins, and
    a source is used whole: when the task names any of O(hostname), O(port), O(username) and
    O(password), only what it names is used and the environment is not read. When it names none,
    they all come from the environment - E(VMWARE_HOST) (or E(VMWARE_SERVER)), E(VMWARE_PORT),
    E(VMWARE_USER) (or E(VMWARE_USERNAME)), E(VMWARE_PASSWORD), E(VMWARE_VALIDATE_CERTS) and
    E(VMWARE_CA_CERT).'
"""
