# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The vCenter a pod module may ask whether a namespace's Supervisor runs vSphere Pods.
    DOCUMENTATION = r"""
options:
  vcenter:
    description:
      - The vCenter of the Supervisor, to ask whether the namespace's Supervisor can run vSphere Pods, from
        the namespace's cluster (C(/api/vcenter/namespaces/instances/{namespace})) and that cluster's
        C(network_provider). A Supervisor on vSphere Distributed Switch (VDS) networking
        (C(VSPHERE_NETWORK)) runs only Supervisor Services' vSphere Pods; user pods need NSX networking.
      - Without it the module asks only the Supervisor, which refuses a pod on a VDS Supervisor with its
        own message.
      - Only what is given here is used; the C(VMWARE_*) environment variables are not read.
    type: dict
    suboptions:
      hostname:
        description: vCenter's address.
        type: str
        required: true
      port:
        description: vCenter's HTTPS port.
        type: int
        default: 443
      username:
        description:
          - A vCenter SSO user; the task's O(username) (the Supervisor login's) when not given.
          - It needs to read the namespace and its cluster's Supervisor in vCenter (System.Read on the
            namespace and on its vSphere cluster, as the vSphere Automation API reference says of these
            calls). A namespace developer often has no vCenter privilege at all; give a read-only vCenter
            account here then.
          - Give O(vcenter.username) and O(vcenter.password) together, or neither.
        type: str
      password:
        description: That user's password; the task's O(password) when neither is given.
        type: str
      validate_certs:
        description: Whether to check vCenter's certificate.
        type: bool
        default: true
      ca_cert:
        description: A CA file to trust for vCenter.
        type: path
"""
