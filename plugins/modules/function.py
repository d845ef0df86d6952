#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: function
short_description: Manage a scale-to-zero function of native vSphere pods on a vSphere Supervisor
version_added: 0.1.0
description:
  - Creates, changes and deletes a serverless function, that is a C(Deployment) of native vSphere pods in a vSphere
    Namespace, labelled C(pacific.supervisor/function=<name>), with its scaling policy in annotations that use
    Knative's names where they mean the same (C(autoscaling.knative.dev/min-scale), C(max-scale), C(target),
    C(target-utilization-percentage), C(window), C(scale-to-zero-pod-retention-period)) and
    C(pacific.supervisor/...) for the rest; optionally a C(LoadBalancer) Service of the same name.
  - These are ordinary namespace objects a namespace developer (EDIT) may make; nothing cluster-wide is
    installed. The activator (the event source C(pacific.supervisor.function_activator)) reads the
    annotations, holds requests for a function at zero, wakes it and scales it by concurrency.
  - The Deployment is made with min-scale replicas. From then on the activator owns C(spec.replicas);
    a later run leaves them as they are (and reports no change) unless O(min_scale) is above them,
    and then raises them through the scale subresource, as the activator does.
  - Changes are made with server-side apply under the field manager C(pacific.supervisor); every option
    is checked before anything is written. An option left out keeps what the live function has (its
    policy, its container's fields, the labels and annotations an earlier run set).
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
attributes:
  check_mode:
    support: full
    description: A server-side dry run of every write.
  diff_mode:
    support: full
    description: Shows the Deployment (and the Service) before and after, without server-managed fields.
options:
  name:
    description: The function's name, a DNS-1123 label starting with a letter; it names the Deployment and the Service.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace the function runs in.
    type: str
    required: true
  state:
    description: Whether the function should exist. V(absent) deletes its Service and its Deployment (and so its pods).
    type: str
    choices: [present, absent]
    default: present
  image:
    description: The container image of the function's pods. Required with O(state=present).
    type: str
  command:
    description: The entrypoint, instead of the image's.
    type: list
    elements: str
  args:
    description: Arguments to the entrypoint.
    type: list
    elements: str
  env:
    description: Environment variables, name to value, in this order.
    type: dict
  image_pull_policy:
    description: When to pull the image.
    type: str
    choices: [Always, IfNotPresent, Never]
  resources:
    description: CPU and memory each pod requests (for placement on an ESXi host) and may use.
    type: dict
    suboptions:
      requests:
        description: Requested amounts, for example C(cpu=250m) and C(memory=256Mi).
        type: dict
      limits:
        description: Limits, for example C(cpu=1) and C(memory=512Mi).
        type: dict
  port:
    description:
      - The port the function's container serves HTTP on (C(pacific.supervisor/port)), 1 to 65535.
      - Unset, a new function gets V(8080) and a live one keeps what it has.
    type: int
  readiness_path:
    description:
      - The path the activator (and the pod's readiness probe) asks until the pod answers (C(pacific.supervisor/readiness-path)).
      - Unset, a new function gets V(/) and a live one keeps what it has.
    type: str
  min_scale:
    description:
      - The fewest pods the function runs (C(autoscaling.knative.dev/min-scale)); V(0) scales to zero when idle.
      - Unset, a new function gets V(0) and a live one keeps what it has.
    type: int
  max_scale:
    description:
      - The most pods the activator scales to (C(autoscaling.knative.dev/max-scale)); V(0) is unbounded.
        Not below O(min_scale).
      - Unset, a new function gets V(0) and a live one keeps what it has.
    type: int
  target:
    description:
      - Concurrent requests per pod the activator aims at (C(autoscaling.knative.dev/target)), at least 1.
      - Unset, a new function gets V(100) and a live one keeps what it has.
    type: int
  target_utilization_percentage:
    description:
      - The share of O(target) the activator scales for (C(autoscaling.knative.dev/target-utilization-percentage)), 1 to 100.
      - Unset, a new function gets V(70) and a live one keeps what it has.
    type: int
  window:
    description:
      - The stable window over which concurrency is averaged (C(autoscaling.knative.dev/window)), a duration
        such as C(60s) or C(1m30s), or a number of seconds; between 6 s and 1 h, as Knative's.
      - Unset, a new function gets V(60s) and a live one keeps what it has.
    type: raw
  scale_to_zero_pod_retention_period:
    description:
      - How long the last pod is kept after the function went idle (C(autoscaling.knative.dev/scale-to-zero-pod-retention-period)).
      - Unset, a new function gets V(0s) and a live one keeps what it has.
    type: raw
  idle_window:
    description:
      - How long a function has no request in flight before the activator scales it to zero (C(pacific.supervisor/idle-window)).
      - Unset, a new function gets V(30s) and a live one keeps what it has.
    type: raw
  container_concurrency:
    description:
      - The most requests the activator sends one pod at a time (C(pacific.supervisor/container-concurrency)),
        0 to 1000; V(0) is unbounded.
      - Unset, a new function gets V(0) and a live one keeps what it has.
    type: int
  cold_start_timeout:
    description:
      - How long a request held for a function at zero waits for a ready pod before the activator answers 504
        (C(pacific.supervisor/cold-start-timeout)).
      - Unset, a new function gets V(300s) and a live one keeps what it has.
    type: raw
  service:
    description:
      - V(true) makes a C(LoadBalancer) Service named after the function that selects its pods (it reaches
        running pods directly; a function at zero is woken only through the activator).
      - V(false) deletes that Service if the function has one. Unset leaves it as it is.
    type: bool
  service_port:
    description: The Service's port, with O(service=true). Unset, a new function gets V(80) and a live one keeps what it has.
    type: int
  labels:
    description: Labels of the Deployment and its pods, besides C(pacific.supervisor/function). Labels set by others are kept.
    type: dict
  annotations:
    description: Annotations of the Deployment, besides the policy's (which only the options above set).
    type: dict
  activator_url:
    description:
      - The activator's base URL, for example C(http://activator.team-a.example.com:8080); RV(url) is the
        function's address there. Nothing is asked of it.
    type: str
  force_conflicts:
    description: Take over fields another field manager owns instead of failing.
    type: bool
    default: false
notes:
  - O(wait=true) waits until the Deployment controller has seen the Deployment's latest spec and, for a
    O(min_scale) above 0, until that many pods are ready. A stalled rollout ends the wait at once.
  - The module never lowers C(spec.replicas); scaling in and to zero is the activator's.
seealso:
  - module: pacific.supervisor.function_info
"""

EXAMPLES = r"""
- name: A function at zero, woken by the activator on its first request
  pacific.supervisor.function:
    name: hello
    namespace: team-a
    image: registry.example.com/team-a/hello:1.0
    env: {GREETING: hello}
    port: 8080
    readiness_path: /healthz
    target: 10
    container_concurrency: 20
    max_scale: 5
    idle_window: 30s
    cold_start_timeout: 60s
    resources:
      requests: {cpu: 250m, memory: 256Mi}
    activator_url: http://activator.team-a.example.com:8080
    wait: true
  register: hello

- name: Where to send requests
  ansible.builtin.debug:
    msg: "{{ hello.url }} ({{ hello.scale.replicas }} replicas now)"

- name: Keep one pod warm from now on, behind a LoadBalancer Service too
  pacific.supervisor.function:
    name: hello
    namespace: team-a
    image: registry.example.com/team-a/hello:1.0
    min_scale: 1
    service: true
    wait: true

- name: Remove it
  pacific.supervisor.function:
    name: hello
    namespace: team-a
    state: absent
    wait: true
"""

RETURN = r"""
function:
  description: The function after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
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
      description:
        - Its scaling policy as the annotations say, option name to value (counts as numbers, durations as
          written, such as C(60s)).
      type: dict
    scale:
      description: Its replicas asked for, ready and available.
      type: dict
    labels:
      description: The Deployment's labels.
      type: dict
    service:
      description: Its LoadBalancer Service (name, type, ports, ip), or null.
      type: dict
  sample:
    name: hello
    namespace: team-a
    image: registry.example.com/team-a/hello:1.0
    url: http://activator.team-a.example.com:8080/function/team-a/hello/
    policy: {min_scale: 0, max_scale: 5, target: 10, target_utilization_percentage: 70, window: 60s,
             scale_to_zero_pod_retention_period: 0s, container_concurrency: 20, readiness_path: /healthz,
             cold_start_timeout: 60s, port: 8080, idle_window: 30s}
    scale: {replicas: 0, ready_replicas: 0, available_replicas: 0}
url:
  description: The function's address at the activator, C(<activator_url>/function/<namespace>/<name>/); null without O(activator_url) or when absent.
  returned: always
  type: str
  sample: http://activator.team-a.example.com:8080/function/team-a/hello/
scale:
  description: The function's replicas now (C(replicas)), and how many are ready and available; null when absent.
  returned: always
  type: dict
  sample: {replicas: 0, ready_replicas: 0, available_replicas: 0}
deployment:
  description: The whole Deployment (what it would be, in check mode); null when absent.
  returned: always
  type: dict
service:
  description: The whole Service, or null when the function has none.
  returned: always
  type: dict
raised_replicas:
  description: The replicas the module raised the Deployment to for O(min_scale), or null when it left them.
  returned: with O(state=present)
  type: int
diff:
  description:
    - With O(ignore:--diff), one before/after pair per object (the Deployment, then the Service when it is
      managed), cut to the fields the module sets; C(before_header) and C(after_header) name the object.
  returned: when diff mode is on
  type: list
  elements: dict
"""

import copy

from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import function_manifest as fm
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine, redact, reporting_change
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists

ARGUMENT_SPEC = dict(
    image=dict(type="str"),
    command=dict(type="list", elements="str"),
    args=dict(type="list", elements="str"),
    env=dict(type="dict"),
    image_pull_policy=dict(type="str", choices=["Always", "IfNotPresent", "Never"]),
    resources=dict(type="dict", options=dict(
        requests=dict(type="dict"),
        limits=dict(type="dict"),
    )),
    port=dict(type="int"),
    readiness_path=dict(type="str"),
    min_scale=dict(type="int"),
    max_scale=dict(type="int"),
    target=dict(type="int"),
    target_utilization_percentage=dict(type="int"),
    window=dict(type="raw"),
    scale_to_zero_pod_retention_period=dict(type="raw"),
    idle_window=dict(type="raw"),
    container_concurrency=dict(type="int"),
    cold_start_timeout=dict(type="raw"),
    service=dict(type="bool"),
    service_port=dict(type="int"),
    labels=dict(type="dict"),
    annotations=dict(type="dict"),
    activator_url=dict(type="str"),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)


def _headed(diff, resource, name, namespace):
    header = resource.describe(name, namespace)
    return dict(diff, before_header=header, after_header=header)


def handle(params, run):
    deployment, service = fm.build(params)  # every option checked before anything is asked
    name, namespace = params["name"], params["namespace"]
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    if params["state"] == "absent":
        return absent(engine, deployment, service, params, run)
    before = _function_deployment(engine, name, namespace)
    if before is None:
        namespace_exists(engine, namespace)
    service_before = _function_service(engine, name, namespace, params.get("service"))
    if before is not None:
        # options left out keep what the live function has (checked again: min_scale against its max_scale)
        params = fm.carry_over(params, before, engine.field_manager, service_before)
        deployment, service = fm.build(params)
    min_scale = fm.policy(params)["min_scale"]
    # a live function's replicas are the activator's: the apply leaves them out
    manifest = deployment if before is None else fm.without_replicas(deployment)
    outcome = engine.ensure(manifest, check_mode=run.check_mode, before=before)
    changed, live = outcome["changed"], outcome["object"]
    deployment_diff = outcome["diff"]
    raised = fm.replicas_to_raise(before, min_scale)
    if raised is not None:
        engine.scale(fm.DEPLOYMENT, name, namespace, raised, dry_run=run.check_mode)
        changed = True
        deployment_diff = copy.deepcopy(deployment_diff)
        deployment_diff["before"].setdefault("spec", {})["replicas"] = before["spec"].get("replicas", 1)
        deployment_diff["after"].setdefault("spec", {})["replicas"] = raised
        if not run.check_mode:
            engine.changes.record(fm.DEPLOYMENT.describe(name, namespace), deployment_diff)
        live = copy.deepcopy(live)
        live.setdefault("spec", {})["replicas"] = raised
    diffs = [_headed(deployment_diff, fm.DEPLOYMENT, name, namespace)]
    live_service, service_diff = _service(engine, service, service_before, params, run)
    if service_diff is not None:
        changed = changed or service_diff.pop("changed")
        diffs.append(_headed(service_diff, fm.SERVICE, name, namespace))
    if params["wait"] and not run.check_mode:
        with reporting_change(changed):
            live = engine.wait_ready(fm.DEPLOYMENT, name, namespace, timeout=params["wait_timeout"],
                                     readiness=fm.readiness_for(min_scale))
    summary = fm.summarize(live, live_service, params.get("activator_url"))
    result = {"changed": changed, "function": dict((k, v) for k, v in summary.items() if k != "deployment"),
              "url": summary["url"], "scale": summary["scale"], "deployment": redact(live),
              "service": redact(live_service),
              "raised_replicas": raised}
    if run.diff:
        result["diff"] = diffs
    return result


def _service(engine, service, live, params, run):
    """The Service after the run and its diff (with ``changed``), or (live, None) when it is left alone.
    ``live``: the function's Service as read before any write (with O(service) set)."""
    name, namespace = params["name"], params["namespace"]
    if service is not None:
        outcome = engine.ensure(service, check_mode=run.check_mode, before=live)
        return outcome["object"], dict(outcome["diff"], changed=outcome["changed"])
    if params.get("service") is False:
        if live is None:
            return None, None
        outcome = engine.ensure({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}},
                                state="absent", check_mode=run.check_mode, before=live)
        return None, dict(outcome["diff"], changed=outcome["changed"])
    live = engine.get(fm.SERVICE, name, namespace)
    return (live if live is not None and _is_ours(live, name) else None), None


def _function_service(engine, name, namespace, wanted):
    """The function's live Service, or None (also when O(service) is unset: nothing asked). A Service
    of that name that is not the function's is refused with O(service=true), left alone with false."""
    if wanted is None:
        return None
    live = engine.get(fm.SERVICE, name, namespace)
    if live is not None and not _is_ours(live, name):
        if not wanted:
            return None
        raise errors.AlreadyExists("{0} exists and is not the function's (it has no label {1}={2})".format(
            fm.SERVICE.describe(name, namespace), fm.FUNCTION_LABEL, name))
    return live


def _function_deployment(engine, name, namespace):
    """The function's live Deployment, or None; a Deployment of that name that is not a function
    (no ``pacific.supervisor/function`` label of its name) is refused, not taken over or deleted."""
    live = engine.get(fm.DEPLOYMENT, name, namespace)
    if live is not None and not fm.is_function(live):
        raise errors.AlreadyExists("{0} exists and is not a function (it has no label {1}={2}); "
                                   "choose another name".format(fm.DEPLOYMENT.describe(name, namespace),
                                                                fm.FUNCTION_LABEL, name))
    return live


def _is_ours(service, name):
    """Whether a Service is the function's (a namesake someone else made is not touched)."""
    return ((service.get("metadata") or {}).get("labels") or {}).get(fm.FUNCTION_LABEL) == name


def absent(engine, deployment, service, params, run):
    name, namespace = params["name"], params["namespace"]
    changed, diffs = False, []
    live_service = engine.get(fm.SERVICE, name, namespace)
    if live_service is not None and _is_ours(live_service, name):
        outcome = engine.ensure(service, state="absent", check_mode=run.check_mode, before=live_service)
        changed = outcome["changed"]
        diffs.append(_headed(outcome["diff"], fm.SERVICE, name, namespace))
    outcome = engine.ensure(deployment, state="absent", check_mode=run.check_mode, wait=params["wait"],
                            wait_timeout=params["wait_timeout"], before=_function_deployment(engine, name, namespace))
    changed = changed or outcome["changed"]
    diffs.insert(0, _headed(outcome["diff"], fm.DEPLOYMENT, name, namespace))
    result = {"changed": changed, "function": None, "url": None, "scale": None, "deployment": None,
              "service": None}
    if run.diff:
        result["diff"] = diffs
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               required_if=[("state", "present", ["image"])],
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
