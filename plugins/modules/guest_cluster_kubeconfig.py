#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: guest_cluster_kubeconfig
short_description: Get the admin kubeconfig of a guest Kubernetes cluster on a vSphere Supervisor
version_added: 0.1.0
description:
  - Reads the admin kubeconfig of a guest cluster (C(TanzuKubernetesCluster) or Cluster API C(Cluster)) from its
    Secret C(<cluster>-kubeconfig) (key C(value)) in the vSphere Namespace.
  - With O(dest), writes it to that file with mode C(0600), atomically; the task is changed only when the file's
    content or mode differs. Without O(dest), returns it as RV(kubeconfig).
  - With O(verify=true), checks that the kubeconfig reaches the guest's own kube-apiserver (C(GET /version)).
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: Says whether the file would change, and writes nothing.
  diff_mode:
    support: full
    description: Shows the file's state, mode and checksum before and after, never its content.
options:
  name:
    description: The guest cluster's name.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace of the cluster.
    type: str
    required: true
  dest:
    description:
      - The file to write the kubeconfig to (mode C(0600)); its directory must exist.
      - When not set, the kubeconfig is returned as RV(kubeconfig) instead.
    type: path
  verify:
    description: Check that the kubeconfig reaches the guest cluster's apiserver (C(GET /version)).
    type: bool
    default: false
notes:
  - The kubeconfig holds the guest's admin credentials. When it is returned (no O(dest)), set C(no_log) to true on
    the task so that it is not logged.
seealso:
  - module: pacific.supervisor.guest_cluster
"""

EXAMPLES = r"""
- name: Write the admin kubeconfig of tkc-1 and check it works
  pacific.supervisor.guest_cluster_kubeconfig:
    name: tkc-1
    namespace: team-a
    dest: "{{ playbook_dir }}/tkc-1.kubeconfig"
    verify: true
  register: tkc_kubeconfig

- name: Use it
  kubernetes.core.k8s_info:
    kubeconfig: "{{ tkc_kubeconfig.dest }}"
    kind: Node

- name: Get it as a value (a secret)
  pacific.supervisor.guest_cluster_kubeconfig:
    name: tkc-1
    namespace: team-a
  register: tkc_admin
  no_log: true
"""

RETURN = r"""
dest:
  description: The file written (or that would be).
  returned: when O(dest) is set
  type: str
kubeconfig:
  description: The kubeconfig document, as text. A secret.
  returned: when O(dest) is not set
  type: str
server:
  description: The guest apiserver's URL the kubeconfig names (its current context's cluster).
  returned: always
  type: str
guest_version:
  description: What the guest apiserver answered to C(GET /version).
  returned: when O(verify=true)
  type: dict
  contains:
    server:
      description: The URL reached.
      type: str
    git_version:
      description: The guest's Kubernetes version, for example C(v1.35.4).
      type: str
    major:
      description: The major version.
      type: str
    minor:
      description: The minor version.
      type: str
diff:
  description: The file before and after as C(state), C(mode) and C(sha256), never the content.
  returned: when diff mode is on and O(dest) is set
  type: dict
"""

import hashlib
import os
import tempfile

try:
    import yaml  # noqa: F401 pylint: disable=unused-import
    YAML_IMPORT_ERROR = None
except ImportError as yaml_import_error:
    YAML_IMPORT_ERROR = yaml_import_error

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import guest_clusters
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name

FILE_MODE = 0o600

ARGUMENT_SPEC = dict(
    dest=dict(type="path"),
    verify=dict(type="bool", default=False),
)


def file_state(path):
    """What the diff shows of a file: whether it is there, its mode and checksum; never its content."""
    if not os.path.exists(path):
        return {"path": path, "state": "absent"}, None
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except (IOError, OSError) as err:
        raise errors.InvalidArgument("cannot read {0}: {1}".format(path, err.strerror))
    mode = os.stat(path).st_mode & 0o7777
    return {"path": path, "state": "file", "mode": "{0:04o}".format(mode),
            "sha256": hashlib.sha256(content).hexdigest()}, content


def write(path, content):
    """Write atomically, 0600 from the first byte."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise errors.InvalidArgument("cannot write {0}: directory {1} does not exist".format(path, directory))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".kubeconfig-")
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def current_server(document):
    contexts = dict((entry.get("name"), entry.get("context") or {}) for entry in document.get("contexts") or [])
    clusters = dict((entry.get("name"), entry.get("cluster") or {}) for entry in document.get("clusters") or [])
    context = contexts.get(document.get("current-context")) or {}
    cluster = clusters.get(context.get("cluster")) or (list(clusters.values())[0] if clusters else {})
    return cluster.get("server")


def handle(params, run):
    name = check_name(params["name"], "guest cluster name", label=True)
    namespace = check_name(params["namespace"], "namespace", label=True)
    engine = Engine(connect(params), run=run)
    try:
        text = guest_clusters.kubeconfig_text(engine, namespace, name)
    except (errors.NotFound, errors.NamespaceUnreachable) as err:
        if not run.check_mode:
            raise
        # a check run before the cluster (or its namespace) is made: the file would be written
        engine.warn("{0}: check mode cannot read the kubeconfig it would write".format(err.msg))
        return {"changed": bool(params.get("dest")), "server": None, "dest": params.get("dest")}
    document = guest_clusters.parse_kubeconfig(text, name)
    result = {"changed": False, "server": current_server(document)}
    if params.get("verify"):
        result["guest_version"] = guest_clusters.guest_version(document, name)
    if not params.get("dest"):
        result["kubeconfig"] = text
        return result
    dest = params["dest"]
    before, content = file_state(dest)
    wanted = text.encode("utf-8")
    result["dest"] = dest
    result["changed"] = content != wanted or before.get("mode") != "{0:04o}".format(FILE_MODE)
    if result["changed"] and not run.check_mode:
        write(dest, wanted)
    if run.diff:
        after = {"path": dest, "state": "file", "mode": "{0:04o}".format(FILE_MODE),
                 "sha256": hashlib.sha256(wanted).hexdigest()}
        result["diff"] = {"before": before, "after": after}
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC), handle,
               requirements=(("PyYAML", YAML_IMPORT_ERROR),) + REQUIREMENTS)


if __name__ == "__main__":
    main()
