#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: function_info
short_description: List the scale-to-zero functions of a vSphere Supervisor
version_added: 0.1.0
description:
  - Lists serverless functions (C(Deployment) objects labelled C(pacific.supervisor/function) with their own
    name, as M(pacific.supervisor.function) makes them) with their scaling policy, their current scale and
    their LoadBalancer Service, in one request per kind.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
options:
  namespace:
    description:
      - The vSphere Namespace to list. Every namespace the credentials may read when not set (a namespace
        developer's through its WCP login, which needs O(username) and O(password)).
      - A namespace that does not exist, or that the credentials have no access to, is an error.
    type: str
  names:
    description: Only the functions of these names.
    type: list
    elements: str
  activator_url:
    description: The activator's base URL; each function's RV(functions[].url) is its address there.
    type: str
seealso:
  - module: pacific.supervisor.function
"""

EXAMPLES = r"""
- name: The functions of team-a and how far each is scaled
  pacific.supervisor.function_info:
    namespace: team-a
    activator_url: http://activator.team-a.example.com:8080
  register: found

- name: The functions at zero
  ansible.builtin.debug:
    msg: "{{ found.functions | selectattr('scale.replicas', 'equalto', 0) | map(attribute='name') | list }}"
"""

RETURN = r"""
functions:
  description: The functions, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The function's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    image:
      description: The image of its pods.
      type: str
    url:
      description: Its address at the activator, or null without O(activator_url).
      type: str
    policy:
      description: Its scaling policy as its annotations say, option name to value (see M(pacific.supervisor.function)).
      type: dict
    scale:
      description: Its replicas asked for (C(replicas)), ready (C(ready_replicas)) and available (C(available_replicas)).
      type: dict
    labels:
      description: The Deployment's labels.
      type: dict
    service:
      description: Its LoadBalancer Service (name, type, ports, ip), or null.
      type: dict
    deployment:
      description: The whole Deployment.
      type: dict
  sample:
    - name: hello
      namespace: team-a
      url: http://activator.team-a.example.com:8080/function/team-a/hello/
      policy: {min_scale: 0, max_scale: 5, target: 10, container_concurrency: 20, idle_window: 30s}
      scale: {replicas: 0, ready_replicas: 0, available_replicas: 0}
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import function_manifest as fm, selection
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine, redact

ARGUMENT_SPEC = dict(
    namespace=dict(type="str"),
    names=dict(type="list", elements="str"),
    activator_url=dict(type="str"),
)


def handle(params, run):
    namespace = params.get("namespace")
    selection.check_selection(params)
    fm.check_activator_url(params.get("activator_url"))
    engine = Engine(connect(params), run=run)
    deployments = selection.selected_items(engine, fm.DEPLOYMENT, params, selector=fm.FUNCTION_LABEL,
                                           keep=fm.is_function)
    services = {}
    if deployments:
        for service in engine.list_readable(fm.SERVICE, namespace, label_selector=fm.FUNCTION_LABEL):
            metadata = service.get("metadata") or {}
            if (metadata.get("labels") or {}).get(fm.FUNCTION_LABEL) == metadata.get("name"):
                services[(metadata.get("namespace"), metadata.get("name"))] = service
    functions = [fm.summarize(redact(item), services.get((item["metadata"].get("namespace"), item["metadata"]["name"])),
                              params.get("activator_url"))
                 for item in deployments]
    return {"changed": False, "functions": selection.by_name(functions)}


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle,
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
