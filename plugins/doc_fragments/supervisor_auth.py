# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection to the Supervisor's Kubernetes API (the developer face).
    DOCUMENTATION = r"""
options:
  server:
    description:
      - The Supervisor's Kubernetes API URL, for example V(https://10.0.0.10:6443).
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_SERVER) is used.
      - Not needed with O(kubeconfig), which names its own server.
    type: str
  token:
    description:
      - A bearer token, as returned by M(pacific.supervisor.login). Never logged or returned.
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_TOKEN) is used.
    type: str
  kubeconfig:
    description:
      - A kubeconfig file path, or the kubeconfig itself as a dictionary.
      - If not set, the environment variables E(K8S_AUTH_KUBECONFIG) and then E(KUBECONFIG) are used.
      - Ignored when O(token) or O(username) is given.
    type: raw
  context:
    description:
      - The kubeconfig context to use; the current context when not set.
      - If not set, the environment variable E(K8S_AUTH_CONTEXT) is used.
    type: str
  username:
    description:
      - A vCenter SSO user that logs in through the Supervisor's C(/wcp/login) endpoint,
        as C(kubectl vsphere login) does. The token it gets is renewed once if it expires mid-task.
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_USERNAME) is used.
    type: str
  password:
    description:
      - The password of O(username). Never logged or returned.
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_PASSWORD) is used.
    type: str
  login_url:
    description:
      - The URL of the WCP login endpoint.
      - Defaults to C(/wcp/login) on port 443 of the host of O(server).
      - If not set, the environment variable E(PACIFIC_WCP_LOGIN_URL) is used.
    type: str
  ca_cert:
    description:
      - A PEM file of the CA that signed the Supervisor's certificate.
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_CA_CERT) is used.
    type: path
  validate_certs:
    description:
      - Whether to verify the Supervisor's TLS certificate. Leave it on outside a lab.
      - If not set, the environment variable E(PACIFIC_SUPERVISOR_VALIDATE_CERTS) is used.
    type: bool
    default: true
notes:
  - All options of this fragment can be set once for a play with
    C(module_defaults) and the action group C(group/pacific.supervisor.supervisor).
  - Exactly one way to authenticate is used, in this order - O(token), O(username)/O(password),
    O(kubeconfig).
"""
