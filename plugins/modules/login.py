#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: login
short_description: Log in to a vSphere Supervisor with vCenter SSO credentials
version_added: 0.1.0
description:
  - Logs in to a Supervisor's WCP login endpoint with a vCenter SSO user name and password, as
    C(kubectl vsphere login) does, and returns the bearer token for the Supervisor's Kubernetes API.
  - The token is checked against the Kubernetes API, which also tells the user name it stands for.
  - Optionally writes (or updates) a kubeconfig file, mode C(0600), with a cluster, user and context for
    the Supervisor. A token already in that file that still works for the same user, and stays valid for
    at least an hour, is kept, so repeated runs do not rewrite the file.
  - The returned RV(token) is a secret; set C(no_log) on the task, or use only O(dest).
author: pacific.supervisor contributors (@pacific-supervisor)
attributes:
  check_mode:
    support: full
    description: Logs in (which changes nothing on the server) but does not write O(dest).
  diff_mode:
    support: none
    description: A login changes nothing that a diff could show.
options:
  server:
    description:
      - The Supervisor's Kubernetes API URL, for example V(https://10.0.0.10:6443).
    type: str
  username:
    description:
      - The vCenter SSO user to log in as, for example V(devops@vsphere.local).
    type: str
  password:
    description:
      - The password of O(username). Never logged or returned.
    type: str
  login_url:
    description:
      - The URL of the WCP login endpoint; C(/wcp/login) on port 443 of the host of O(server) when not set.
    type: str
  ca_cert:
    description:
      - A PEM file of the CA that signed the Supervisor's certificate. It is also written into O(dest).
    type: path
  validate_certs:
    description:
      - Whether to verify the Supervisor's TLS certificate; V(true) when not set. Leave it on outside a lab.
    type: bool
  token:
    description:
      - Not used - a login always authenticates with O(username) and O(password). Accepted so that
        the C(module_defaults) of the group C(group/pacific.supervisor.supervisor) apply to this module too.
    type: str
  kubeconfig:
    description:
      - Not used, as O(token).
    type: raw
  context:
    description:
      - Not used, as O(token).
    type: str
  dest:
    description:
      - A kubeconfig file to write the login into; other clusters, users and contexts in it are kept.
      - Created with mode C(0600); its directory must exist.
    type: path
  context_name:
    description:
      - The name of the context written to O(dest); O(namespace), else the server's host, when not set.
    type: str
  namespace:
    description: The default namespace of the context written to O(dest).
    type: str
notes:
  - 'Where the login comes from, as for the other modules: when the task names any of O(server),
    O(username), O(password) and O(login_url), only what it names is used; when it names none,
    the environment gives them whole - E(PACIFIC_SUPERVISOR_USERNAME), E(PACIFIC_SUPERVISOR_PASSWORD),
    E(PACIFIC_SUPERVISOR_SERVER), E(PACIFIC_WCP_LOGIN_URL), E(PACIFIC_SUPERVISOR_CA_CERT) and
    E(PACIFIC_SUPERVISOR_VALIDATE_CERTS). O(ca_cert) and O(validate_certs) set in the task win over the environment.'
seealso:
  - module: pacific.supervisor.vm
"""

EXAMPLES = r"""
- name: Log in as a developer and keep the kubeconfig for later plays and kubectl
  pacific.supervisor.login:
    server: https://10.0.0.10:6443
    username: devops@vsphere.local
    password: "{{ vault_devops_password }}"
    ca_cert: /etc/pki/supervisor-ca.pem
    dest: "{{ lookup('env', 'HOME') }}/.kube/supervisor"
    namespace: team-a
  no_log: true
  register: supervisor_login

- name: Use the token for the rest of the play
  pacific.supervisor.vm_info:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_login.token }}"
    ca_cert: /etc/pki/supervisor-ca.pem
    namespace: team-a
"""

RETURN = r"""
token:
  description: The bearer token for the Supervisor's Kubernetes API. A secret.
  returned: success
  type: str
username:
  description:
    - The Kubernetes user name the token stands for, for example C(sso:devops@vsphere.local).
    - Null when the Supervisor's Kubernetes is older than 1.28 (no SelfSubjectReview).
  returned: success
  type: str
server:
  description: The Supervisor's Kubernetes API URL.
  returned: success
  type: str
login_url:
  description: The WCP login URL that was used.
  returned: success
  type: str
expires:
  description: When the token expires (seconds since the epoch), when the token says so.
  returned: success
  type: int
dest:
  description: The kubeconfig file written (or that would be, in check mode).
  returned: when O(dest) is set
  type: str
context:
  description: The context in O(dest) that holds this login.
  returned: when O(dest) is set
  type: str
"""

import os
import tempfile

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kubeconfig
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.login import default_login_url, wcp_login

try:
    import yaml
    YAML_IMPORT_ERROR = None
except ImportError as import_error:
    YAML_IMPORT_ERROR = import_error

MIN_LIFETIME = 3600  # a kept token must last at least this long
FILE_MODE = 0o600

ARGUMENT_SPEC = dict(
    dest=dict(type="path"),
    context_name=dict(type="str"),
    namespace=dict(type="str"),
)


def _connection(params, token):
    return dict(server=params["server"], token=token, ca_cert=params.get("ca_cert"),
                validate_certs=params["validate_certs"])


def _still_works(params, token, username):
    """Whether ``token`` authenticates as ``username`` and lasts a while yet."""
    if not token or not kubeconfig.lasts(token, MIN_LIFETIME):
        return False
    try:
        return connect(_connection(params, token)).whoami() == username
    except errors.AuthenticationFailed:
        return False


def _read(dest):
    if not os.path.exists(dest):
        return None
    try:
        with open(dest) as handle:
            document = yaml.safe_load(handle)
    except (IOError, OSError, yaml.YAMLError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__  # never the file's content
        raise errors.InvalidArgument("cannot read the kubeconfig {0}: {1}".format(dest, reason))
    if document is not None and not isinstance(document, dict):
        raise errors.InvalidArgument("{0} is not a kubeconfig file".format(dest))
    return document


def _check_dest(dest):
    """Refuse a ``dest`` whose directory is missing, before anything is asked or written."""
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise errors.InvalidArgument("cannot write the kubeconfig {0}: {1} {2}".format(
            dest, directory, "is not a directory" if os.path.exists(directory) else "does not exist"))


def _write(dest, document):
    """Write atomically, 0600 from the first byte."""
    directory = os.path.dirname(os.path.abspath(dest))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".kubeconfig-")
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "w") as out:
            yaml.safe_dump(document, out, default_flow_style=False)
        os.rename(temporary, dest)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def handle(params, run):
    if not params.get("server"):
        raise errors.InvalidArgument("server is required")
    if not params.get("username") or not params.get("password"):
        raise errors.InvalidArgument("login needs username and password")
    if params.get("dest"):
        _check_dest(params["dest"])
    login_url = params.get("login_url") or default_login_url(params["server"])
    answer = wcp_login(login_url, params["username"], params["password"], ca_cert=params.get("ca_cert"),
                       validate_certs=params["validate_certs"])
    token = answer["session_id"]
    username = connect(_connection(params, token)).whoami()
    result = {"changed": False, "server": params["server"], "login_url": login_url, "username": username}
    if params.get("dest"):
        dest = params["dest"]
        existing = _read(dest)
        kept = kubeconfig.token_of(existing, params["server"], params["username"])
        if kept != token and _still_works(params, kept, username):
            token = kept
        ca_pem = None
        if params.get("ca_cert"):
            with open(params["ca_cert"]) as handle_ca:
                ca_pem = handle_ca.read()
        document = kubeconfig.merged(existing, params["server"], token, params["username"], ca_pem=ca_pem,
                                     insecure=not params["validate_certs"], context=params.get("context_name"),
                                     namespace=params.get("namespace"))
        wrong_mode = existing is not None and (os.stat(dest).st_mode & 0o777) != FILE_MODE
        result["changed"] = document != existing or wrong_mode
        if result["changed"] and not run.check_mode:
            _write(dest, document)
        result.update(dest=dest, context=document["current-context"])
    result["token"] = token
    expiry = kubeconfig.token_expiry(token)
    if expiry is not None:
        result["expires"] = expiry
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle, requirements=(("PyYAML", YAML_IMPORT_ERROR),) + REQUIREMENTS,
               methods=("login",))


if __name__ == "__main__":
    main()
