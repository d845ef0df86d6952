#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: namespace_info
short_description: List vSphere Namespaces, or read one in full
version_added: 0.1.0
description:
  - Reads vSphere Namespaces through vCenter's namespaces API.
  - Without O(name), a summary of every namespace (cluster, description, configuration status, usage).
    With O(name), that namespace in full (limits, storage, VM service, access list, messages).
author:
  - pacific.supervisor contributors (@pacific)
options:
  name:
    description:
      - The namespace to read in full. A namespace that does not exist gives an empty list, not a failure.
    type: str
    aliases: [namespace]
extends_documentation_fragment:
  - pacific.supervisor.vcenter_auth
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing changes.
"""

EXAMPLES = r"""
- name: Every namespace
  pacific.supervisor.namespace_info:
  register: all_namespaces

- name: One namespace in full
  pacific.supervisor.namespace_info:
    name: team-a
  register: team_a

- name: Its pod limit
  ansible.builtin.debug:
    msg: "{{ team_a.namespaces[0].resource_spec.pod_limit | default('unlimited') }}"
"""

RETURN = r"""
namespaces:
  description:
    - Without O(name), one summary per namespace, sorted by name; with O(name), zero or one namespace in full.
    - Every entry has C(name).
    - In full, C(resource_spec) has each limit under the name of the
      M(pacific.supervisor.namespace) option that sets it (C(cpu_limit), C(memory_limit),
      C(storage_limit), C(pod_limit)); the API's own names C(storage_request_limit) and C(pod_count)
      are returned too, deprecated, and will be removed in 0.3.0.
  returned: always
  type: list
  elements: dict
  sample:
    - name: team-a
      cluster: domain-c8
      description: Team A's workloads
      config_status: RUNNING
      stats: {cpu_used: 0, memory_used: 0, storage_used: 0}
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    VCENTER_ARGUMENT_SPEC, run_module, with_connection)
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import namespace_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import rest_session
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.resources import Namespaces

ARGUMENT_SPEC = dict(name=dict(type="str", aliases=["namespace"]))


def handle(params, run):
    with rest_session(params) as session:
        namespaces = Namespaces(session)
        if params["name"] is None:
            found = [dict(summary, name=summary.get("namespace")) for summary in namespaces.list()]
            return {"changed": False, "namespaces": sorted(found, key=lambda summary: summary["name"] or "")}
        info = namespaces.get(params["name"])
    if info is None:
        return {"changed": False, "namespaces": []}
    return {"changed": False, "namespaces": [dict(namespace_spec.with_option_names(info), name=params["name"])]}


def main():
    run_module(with_connection(ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC), handle)


if __name__ == "__main__":
    main()
