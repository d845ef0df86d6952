# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacific.supervisor.function_activator: the scale-to-zero front of a namespace's functions.

A thin adapter: the routing, holding, probing and scaling live in
``plugins/module_utils/_serverless/`` (``activator.py``, ``autoscaler.py``, ``feeds.py``, ``source.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: An HTTP activator for scale-to-zero functions on native pods, and their scaling events.
description:
  - An ansible-rulebook event source that is also an HTTP server (as the webhook source is). It
    serves the I(functions) of the given namespaces - Deployments labelled
    C(pacific.supervisor/function=<name>), named C(<name>), their policy in annotations (see
    M(pacific.supervisor.function)) - at C(http://<host>:<port>/function/<namespace>/<name>/...)
    and, by Host header, at C(<name>.<namespace>.<domain>).
  - It counts every request in flight per function, held or sent. A request for a function at
    zero is held (at most O(queue_size) per function, then C(503) with C(Retry-After)) while the
    activator scales the Deployment through its scale subresource, sees the new pod, probes its
    readiness path until it answers, and sends held requests on in the order they came. A request
    still held at the function's cold-start timeout is answered C(504), naming the function.
  - No pod is sent more requests at once than its container concurrency; the function is scaled
    out and in by concurrency with Knative's stable and panic windows; after its idle window
    with nothing in flight the activator stops routing to the function first, then scales it to
    zero (what arrives meanwhile is held and wakes it again).
  - It watches the functions' Deployments and Pods and the namespaces' EndpointSlices through the
    collection's list-then-watch, so it needs only a namespace's RBAC - get, list and watch
    Deployments, Pods and EndpointSlices; patch C(deployments/scale) - which a namespace's
    developer (EDIT) has.
  - 'Once every first list is done and the server listens, the source logs (at INFO, shown by
    C(ansible-rulebook -v)) a line that begins with C(pacific.supervisor.function_activator ready).'
  - 'Events, each with C(type), C(namespace), C(name) and C(time) (UTC): C(function_scaled) (C(from), C(to),
    C(reason) - C(wake), C(stable), C(panic) or C(idle) -, C(in_flight), C(held) and C(ready_pods) when it was decided,
    C(request_ms)); C(function_cold_start) (C(from_zero), C(held), C(replicas), C(pod),
    C(duration_ms) and C(timings) - C(scale_ms), C(pod_seen_ms), C(ready_ms) - from the first held
    request); C(function_cold_start_failed) (C(cold_start_timeout_s), C(waited_ms), C(held),
    C(pods), C(replicas), C(failures) - failed wakes in a row -, C(escalate) - whether C(failures)
    reached O(escalate_after) - and C(error) when the scale request itself failed).'
  - C(GET /_activator/stats) answers the activator's counts as JSON (per function and pod, in
    flight now and at most); C(GET /_activator/healthz) answers C(ok).
options:
  namespaces:
    description:
      - The namespaces whose functions are served.
    type: list
    elements: str
    required: true
  host:
    description:
      - The address to listen on.
    type: str
    default: 0.0.0.0
  port:
    description:
      - The port to listen on (0 takes a free one, logged in the ready line).
    type: int
    default: 8080
  domain:
    description:
      - The domain of Host-header routing, C(<name>.<namespace>.<domain>); empty switches it off.
    type: str
    default: functions.local
  queue_size:
    description:
      - How many requests may be held per function; the next ones are answered C(503) with C(Retry-After).
    type: int
    default: 10000
  escalate_after:
    description:
      - Failed wakes in a row of one function from which its C(function_cold_start_failed) events
        say C(escalate=true).
    type: int
    default: 3
  record_file:
    description:
      - A file to which every event is appended as one JSON line (made 0600), before the rulebook
        gets it.
    type: path
  tick:
    description:
      - Seconds between two autoscaling decisions (and idle checks).
    type: float
    default: 0.25
  server:
    description:
      - The Supervisor's Kubernetes API URL. Not needed with O(kubeconfig).
    type: str
  token:
    description:
      - A bearer token.
    type: str
  username:
    description:
      - A vCenter SSO user that logs in through C(/wcp/login); the token is renewed when refused.
    type: str
  password:
    description:
      - The password of O(username).
    type: str
  login_url:
    description:
      - The WCP login URL; C(https://<host of server>/wcp/login) when not set.
    type: str
  kubeconfig:
    description:
      - A kubeconfig file path, or the kubeconfig as a dictionary.
    type: raw
  context:
    description:
      - The context of O(kubeconfig); its current one when not set.
    type: str
  ca_cert:
    description:
      - A PEM file of the CA that signed the Supervisor's certificate.
      - When the connection comes from the environment, this still wins over E(PACIFIC_SUPERVISOR_CA_CERT).
    type: path
  validate_certs:
    description:
      - Whether to verify the Supervisor's TLS certificate; V(true) when not set.
      - When the connection comes from the environment, this still wins over
        E(PACIFIC_SUPERVISOR_VALIDATE_CERTS).
    type: bool
notes:
  - 'Where the connection comes from, as for the modules: what the arguments name wins, and a
    source is used whole. When they name any of O(server), O(token), O(username), O(password),
    O(login_url), O(kubeconfig) and O(context), only what they name is used. When they name none,
    the environment is read as one source - the first of E(PACIFIC_SUPERVISOR_TOKEN) (with
    E(PACIFIC_SUPERVISOR_SERVER), E(PACIFIC_SUPERVISOR_CA_CERT), E(PACIFIC_SUPERVISOR_VALIDATE_CERTS));
    E(PACIFIC_SUPERVISOR_USERNAME) and E(PACIFIC_SUPERVISOR_PASSWORD) (with E(PACIFIC_SUPERVISOR_SERVER)
    and E(PACIFIC_WCP_LOGIN_URL)); a kubeconfig from E(PACIFIC_SUPERVISOR_KUBECONFIG),
    E(K8S_AUTH_KUBECONFIG) or E(KUBECONFIG) (with E(K8S_AUTH_CONTEXT)).'
  - One way to authenticate - O(token), O(username) with O(password), or O(kubeconfig); arguments
    that name two fail the activation with one message.
  - Listens without TLS; put it behind a LoadBalancer Service or an ingress that terminates TLS.
  - The bearer token is never logged and never part of an event.
requirements:
  - kubernetes
  - urllib3
  - aiohttp
"""

EXAMPLES = r"""
- name: Serve the functions of team-a and record their scaling
  hosts: localhost
  sources:
    - name: functions
      pacific.supervisor.function_activator:
        namespaces: [team-a]
        port: 8080
        domain: functions.example.com
        server: https://10.0.0.10:6443
        token: "{{ sv_token }}"
        ca_cert: /etc/pki/supervisor-ca.pem
  rules:
    - name: A cold start failed
      condition: event.type == "function_cold_start_failed"
      action:
        debug:
"""

import os
import runpy

# _collection.py, next to this file, is the one place that explains and solves how a source
# that ansible-rulebook runs with runpy imports this collection's module_utils
HERE = os.path.dirname(os.path.abspath(__file__))
source = runpy.run_path(os.path.join(HERE, "_collection.py"))["import_module"](
    HERE, "plugins.module_utils._serverless.source")


async def main(queue, args):
    """ansible-rulebook's entry point: serve the functions and emit their events onto ``queue``
    until cancelled."""
    await source.run(queue, args)


if __name__ == "__main__":
    # a quick look from a shell: python function_activator.py NAMESPACE [PORT] (connection from
    # the environment, as `eval "$(python -m testbed env)"` sets it)
    import asyncio
    import json
    import logging
    import sys

    class _Printer(object):
        async def put(self, event):
            print(json.dumps(event, sort_keys=True), flush=True)

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_Printer(), {"namespaces": sys.argv[1].split(","),
                                  "port": int(sys.argv[2]) if len(sys.argv) > 2 else 8080}))
