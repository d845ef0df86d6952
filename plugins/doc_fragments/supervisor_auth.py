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
      - Not needed with O(kubeconfig), which names its own server.
    type: str
  token:
    description:
      - A bearer token, as returned by M(pacific.supervisor.login). Never logged or returned.
    type: str
  username:
    description:
      - A vCenter SSO user that logs in through the Supervisor's C(/wcp/login) endpoint,
        as C(kubectl vsphere login) does. The token it gets is renewed once if it expires mid-task.
    type: str
  password:
    description:
      - The password of O(username). Never logged or returned.
    type: str
  login_url:
    description:
      - The URL of the WCP login endpoint.
      - Defaults to C(/wcp/login) on port 443 of the host of O(server).
    type: str
  kubeconfig:
    description:
      - A kubeconfig file path, or the kubeconfig itself as a dictionary.
    type: raw
  context:
    description:
      - The context of O(kubeconfig) to use; its current context when not set.
    type: str
  ca_cert:
    description:
      - A PEM file of the CA that signed the Supervisor's certificate.
      - When the connection comes from the environment, a O(ca_cert) the task sets still wins over
        E(PACIFIC_SUPERVISOR_CA_CERT).
    type: path
  validate_certs:
    description:
      - Whether to verify the Supervisor's TLS certificate; V(true) when not set. Leave it on outside a lab.
      - When the connection comes from the environment, a O(validate_certs) the task sets still wins
        over E(PACIFIC_SUPERVISOR_VALIDATE_CERTS).
    type: bool
notes:
  - All options of this fragment can be set once for a play with
    C(module_defaults) and the action group C(group/pacific.supervisor.supervisor).
  - 'Where the connection comes from. What the task names (with C(module_defaults)) wins, and
    a source is used whole: when the task names any of O(server), O(token), O(username),
    O(password), O(login_url), O(kubeconfig) and O(context), only what it names is used and the
    environment is not read, so that a token is never sent to a server from another place.'
  - 'Only when the task names none of them is the environment read, as one source - the first of
    E(PACIFIC_SUPERVISOR_TOKEN) (with E(PACIFIC_SUPERVISOR_SERVER), E(PACIFIC_SUPERVISOR_CA_CERT),
    E(PACIFIC_SUPERVISOR_VALIDATE_CERTS)); E(PACIFIC_SUPERVISOR_USERNAME) and
    E(PACIFIC_SUPERVISOR_PASSWORD) (with E(PACIFIC_SUPERVISOR_SERVER), E(PACIFIC_WCP_LOGIN_URL) and
    the same two); or a kubeconfig from E(PACIFIC_SUPERVISOR_KUBECONFIG), E(K8S_AUTH_KUBECONFIG) or
    E(KUBECONFIG) (with E(K8S_AUTH_CONTEXT); it names its own server and CA).'
  - One way to authenticate - O(token), O(username) with O(password), or O(kubeconfig). A task that
    names two (a O(token) from C(module_defaults) and a O(username) of its own) fails with one
    message; set the one not wanted to an empty string to switch it off.
"""
