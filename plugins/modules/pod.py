#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pod
short_description: Manage a native vSphere pod on a vSphere Supervisor
version_added: 0.1.0
description:
  - Creates, changes and deletes a native vSphere pod (a C(v1) C(Pod) in a vSphere Namespace, run by the
    Spherelet of an ESXi host as a pod VM) through the Supervisor's Kubernetes API.
  - Changes are made with server-side apply under the field manager C(pacific.supervisor); only the
    options given are managed.
  - A pod's spec is mostly immutable; only container images and metadata change in place. Any other
    change fails with a message naming the fields, unless O(recreate=true), which deletes the pod and
    creates it again (after the server has validated the new spec).
  - vSphere Pods run only on a Supervisor with NSX networking; one on vSphere Distributed Switch (VDS)
    networking runs only Supervisor Services' pods and refuses the pod. With O(vcenter), a pod that does
    not exist yet is first checked against vCenter's facts (the namespace's cluster and its
    C(network_provider)), and the task fails before the Supervisor is asked to create it, saying so and what
    to use instead (a VM or a TKG cluster, or a namespace of an NSX Supervisor). When vCenter refuses the
    user those facts (HTTP 403), the Supervisor decides alone, with a warning.
  - O(state=restarted) deletes the pod and creates it again from its own live spec, as
    C(kubectl replace --force) does, for a pod that failed or is stuck in C(CrashLoopBackOff).
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
  - pacific.supervisor.vsphere_pods
attributes:
  check_mode:
    support: full
    description: A server-side dry run; a recreation or restart is reported (RV(recreated)) but not made.
  diff_mode:
    support: full
    description: Shows the Pod before and after, without server-managed fields.
options:
  name:
    description: The Pod's name, a DNS-1123 subdomain.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace the pod runs in.
    type: str
    required: true
  state:
    description:
      - Whether the pod should exist.
      - V(restarted) deletes the existing pod and creates it again from its live spec (its labels,
        annotations and spec, not its node or status; the Spherelet places it again); it is always a
        change. The new spec is validated by the server before the pod is deleted. It takes none of the
        spec options (O(containers), O(restart_policy), O(labels), O(annotations)); a pod that does not
        exist, or that a controller owns (delete it instead; the controller replaces it), is an error.
    type: str
    choices: [present, absent, restarted]
    default: present
  containers:
    description: The pod's containers. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: The container's name, a DNS-1123 label.
        type: str
        required: true
      image:
        description: The container image. The only container field that changes in place.
        type: str
        required: true
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
      ports:
        description: Ports the container listens on.
        type: list
        elements: dict
        suboptions:
          container_port:
            description: The port number.
            type: int
            required: true
          name:
            description: A name for the port, a DNS-1123 label.
            type: str
          protocol:
            description: The protocol.
            type: str
            choices: [TCP, UDP, SCTP]
            default: TCP
      resources:
        description: CPU and memory the container requests (for placement on an ESXi host) and may use.
        type: dict
        suboptions:
          requests:
            description: Requested amounts, for example C(cpu=500m) and C(memory=512Mi).
            type: dict
          limits:
            description: Limits, for example C(cpu=1) and C(memory=1Gi).
            type: dict
      image_pull_policy:
        description: When to pull the image.
        type: str
        choices: [Always, IfNotPresent, Never]
      working_dir:
        description: The working directory of the entrypoint.
        type: str
  restart_policy:
    description:
      - What the Spherelet does when a container exits. C(Never) and C(OnFailure) suit run-to-completion pods.
      - The server's default is C(Always).
    type: str
    choices: [Always, OnFailure, Never]
  labels:
    description: Labels of the Pod (used by Services' selectors). Labels set by others are kept.
    type: dict
  annotations:
    description: Annotations of the Pod. Annotations set by others are kept.
    type: dict
  recreate:
    description:
      - When the requested spec differs from the live pod's in a field a pod cannot change in place
        (command, args, env, ports, resources, restart policy, the set of containers), delete the pod and
        create it again instead of failing.
    type: bool
    default: false
  force_conflicts:
    description: Take over fields another field manager owns instead of failing.
    type: bool
    default: false
notes:
  - O(wait=true) waits until the pod is C(Running) with all containers ready, or C(Succeeded) for a
    run-to-completion pod. A pod that fails meanwhile (phase C(Failed), a container in C(CrashLoopBackOff)
    or unable to pull its image) ends the wait at once with the reason, including the containers' last
    termination reasons.
seealso:
  - module: pacific.supervisor.pod_info
"""

EXAMPLES = r"""
- name: An echo server as a native vSphere pod, waiting until it runs
  pacific.supervisor.pod:
    server: https://10.0.0.10:6443
    token: "{{ supervisor_token }}"
    name: echo
    namespace: team-a
    labels:
      app: echo
    containers:
      - name: echo
        image: hashicorp/http-echo:1.0
        args: ["-text=hello", "-listen=:5678"]
        ports:
          - container_port: 5678
        resources:
          requests: {cpu: 250m, memory: 256Mi}
          limits: {cpu: 500m, memory: 512Mi}
    wait: true
  register: echo

- name: Where it runs
  ansible.builtin.debug:
    msg: "{{ echo.pod.pod_ip }} on ESXi host {{ echo.pod.node }}"

- name: A new command line; a pod cannot change it in place, so recreate it
  pacific.supervisor.pod:
    name: echo
    namespace: team-a
    containers:
      - name: echo
        image: hashicorp/http-echo:1.0
        args: ["-text=bonjour", "-listen=:5678"]
    recreate: true
    wait: true

- name: Its container keeps crashing; make the pod again from its own spec
  pacific.supervisor.pod:
    name: echo
    namespace: team-a
    state: restarted
    wait: true
  register: restarted

- name: Remove it
  pacific.supervisor.pod:
    name: echo
    namespace: team-a
    state: absent
    wait: true
"""

RETURN = r"""
pod:
  description: The pod after the change (what it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: The Pod's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    labels:
      description: Its labels.
      type: dict
    phase:
      description: C(Pending), C(Running), C(Succeeded), C(Failed) or C(Unknown).
      type: str
    node:
      description: The node it runs on, which on a Supervisor is an ESXi host.
      type: str
    host_ip:
      description: The address of that host.
      type: str
    pod_ip:
      description: The pod's IP address.
      type: str
    restart_policy:
      description: Its restart policy.
      type: str
    containers:
      description: Per container, its state and why it last ended.
      type: list
      elements: dict
      contains:
        name:
          description: The container's name.
          type: str
        image:
          description: Its image.
          type: str
        ready:
          description: Whether it is ready.
          type: bool
        restart_count:
          description: How often it has been restarted.
          type: int
        state:
          description: C(running), C(waiting) or C(terminated).
          type: str
        reason:
          description: Why it is waiting or terminated, for example C(CrashLoopBackOff).
          type: str
        message:
          description: The message that goes with RV(pod.containers[].reason).
          type: str
        exit_code:
          description: Its exit code, when terminated.
          type: int
        last_termination_reason:
          description: Why it last terminated, for example C(Error) or C(OOMKilled).
          type: str
        last_exit_code:
          description: The exit code of its last termination.
          type: int
    conditions:
      description: The pod's conditions.
      type: list
      elements: dict
    ready:
      description: Whether it is Running and ready, or Succeeded.
      type: bool
    state_message:
      description: Why it is not ready yet, or why it failed.
      type: str
    resource:
      description: The whole Pod object.
      type: dict
  sample:
    name: echo
    namespace: team-a
    phase: Running
    node: esxi-01.example.com
    pod_ip: 10.244.1.5
    ready: true
recreated:
  description:
    - Whether the pod was (in check mode, would be) deleted and created again for an immutable change.
    - Always true with O(state=restarted).
  returned: with O(state=present) or O(state=restarted)
  type: bool
immutable_changes:
  description: The fields that could not change in place, when RV(recreated) is true; empty for a restart.
  returned: with O(state=present) or O(state=restarted)
  type: list
  elements: str
diff:
  description:
    - The Pod before and after (with O(ignore:--diff)), cut to the fields the module sets, so the
      defaults the server fills in (C(dnsPolicy), C(terminationMessagePath), ...) are not shown.
    - A removal shows the Pod as it was.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import names, pod_manifest
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine, diff_of
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.preflight import namespace_exists
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import (
    VCENTER_LOOKUP_SPEC, vsphere_pod_support)

ARGUMENT_SPEC = dict(
    # its own state: restarted besides present and absent
    state=dict(type="str", choices=["present", "absent", "restarted"], default="present"),
    containers=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        image=dict(type="str", required=True),
        command=dict(type="list", elements="str"),
        args=dict(type="list", elements="str"),
        env=dict(type="dict"),
        ports=dict(type="list", elements="dict", options=dict(
            container_port=dict(type="int", required=True),
            name=dict(type="str"),
            protocol=dict(type="str", choices=["TCP", "UDP", "SCTP"], default="TCP"),
        )),
        resources=dict(type="dict", options=dict(
            requests=dict(type="dict"),
            limits=dict(type="dict"),
        )),
        image_pull_policy=dict(type="str", choices=["Always", "IfNotPresent", "Never"]),
        working_dir=dict(type="str"),
    )),
    restart_policy=dict(type="str", choices=list(pod_manifest.RESTART_POLICIES)),
    labels=dict(type="dict"),
    annotations=dict(type="dict"),
    recreate=dict(type="bool", default=False),
    force_conflicts=dict(type="bool", default=False),
)
ARGUMENT_SPEC.update(WAIT_ARGUMENT_SPEC)
ARGUMENT_SPEC.update(VCENTER_LOOKUP_SPEC)


def handle(params, run):
    if params["state"] == "restarted":
        return restart(params, run)
    manifest = pod_manifest.build(params)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    if params["state"] == "absent":
        outcome = engine.ensure(manifest, state="absent", check_mode=run.check_mode, wait=params["wait"],
                                wait_timeout=params["wait_timeout"])
        return _result(outcome, run, pod=None)
    before = engine.get(pod_manifest.POD, params["name"], params["namespace"])
    if before is None:
        namespace_exists(engine, params["namespace"])
        _check_vsphere_pods(params, run)
    immutable = pod_manifest.immutable_changes(manifest, before)
    if immutable:
        return recreate(engine, manifest, before, immutable, params, run)
    try:
        outcome = engine.ensure(manifest, check_mode=run.check_mode, wait=params["wait"],
                                wait_timeout=params["wait_timeout"], before=before,
                                readiness=pod_manifest.readiness)
    except errors.InvalidArgument as err:
        if before is None or not pod_manifest.immutable_refusal(err):
            raise
        # the server knows of an immutable field we do not compare: same choice as above
        return recreate(engine, manifest, before, ["spec (the server refused the change in place)"], params, run)
    return _result(outcome, run, pod=pod_manifest.summarize(outcome["object"]), recreated=False)


def _check_vsphere_pods(params, run):
    """Fail, before the Supervisor is asked, when vCenter says the namespace's Supervisor runs no user pod.
    A vCenter that will not tell (a namespace developer needs no vCenter privilege to run pods) leaves the
    Supervisor to decide, with a warning."""
    try:
        support = vsphere_pod_support(params, params["namespace"])
    except errors.Forbidden as err:
        run.warn("whether vSphere Pods run in namespace {0} is not known, vCenter would not tell: {1}".format(
            params["namespace"], err.msg))
        return
    if support is not None and not support["available"]:
        raise errors.InvalidArgument("cannot create {0}: {1}".format(
            pod_manifest.POD.describe(params["name"], params["namespace"]), support["reason"]),
            target=params["namespace"], network_provider=support["network_provider"], cluster=support["cluster"])


def restart(params, run):
    """Delete the pod and create it again from its live spec."""
    given = [option for option in pod_manifest.RESTART_REFUSED if params.get(option) is not None]
    if given:
        raise errors.InvalidArgument("state=restarted makes the pod again from its own spec; do not give {0}".format(
            ", ".join(given)))
    names.check_name(params["name"], "pod name")
    names.check_name(params["namespace"], "namespace", label=True)
    engine = Engine(connect(params), force_conflicts=params["force_conflicts"], run=run)
    before = engine.get(pod_manifest.POD, params["name"], params["namespace"])
    if before is None:
        raise errors.NotFound("{0} does not exist: there is nothing to restart".format(
            pod_manifest.POD.describe(params["name"], params["namespace"])))
    manifest = pod_manifest.restart_manifest(before)
    params = dict(params, recreate=True)
    return recreate(engine, manifest, before, [], params, run)


def recreate(engine, manifest, before, immutable, params, run):
    """Delete and create again, for a change a live pod cannot take; only with ``recreate``."""
    what = pod_manifest.POD.describe(params["name"], params["namespace"])
    if not params["recreate"]:
        raise errors.InvalidArgument(
            "{0} cannot change in place: {1} {2} immutable on a pod; set recreate: true to delete and "
            "recreate it".format(what, ", ".join(immutable), "is" if len(immutable) == 1 else "are"))
    # validate the new pod before deleting the old one, so a bad spec leaves the pod running
    would_be = pod_manifest.validate_as_new(engine, manifest)
    if run.check_mode:
        outcome = {"changed": True, "object": would_be, "diff": diff_of(before, would_be, manifest)}
        return _result(outcome, run, pod=pod_manifest.summarize(would_be), recreated=True, immutable=immutable)
    engine.ensure(manifest, state="absent", wait=True, wait_timeout=params["wait_timeout"], before=before)
    outcome = engine.ensure(manifest, wait=params["wait"], wait_timeout=params["wait_timeout"], before=None,
                            readiness=pod_manifest.readiness)
    outcome["diff"] = diff_of(before, outcome["object"], manifest)
    return _result(outcome, run, pod=pod_manifest.summarize(outcome["object"]), recreated=True,
                   immutable=immutable)


def _result(outcome, run, pod, recreated=None, immutable=None):
    result = {"changed": outcome["changed"], "pod": pod}
    if recreated is not None:
        result["recreated"] = recreated
        result["immutable_changes"] = immutable or []
    if run.diff:
        result["diff"] = outcome["diff"]
    return result


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle,
               required_if=[("state", "present", ["containers"])],
               requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
