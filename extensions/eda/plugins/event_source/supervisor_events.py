# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pacific.supervisor.supervisor_events: transitions of Supervisor objects, for ansible-rulebook.

A thin adapter: the watching, resuming and de-duplication live in
``plugins/module_utils/_supervisor/events.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
short_description: Transitions of vSphere Supervisor objects, from the Supervisor's Kubernetes API.
description:
  - An ansible-rulebook event source that lists, then watches, the chosen kinds in the chosen
    namespaces of a vSphere Supervisor and emits one event per I(transition) - an object added or
    deleted, a condition, phase, power state, container state or exhausted quota that changed -
    and one per occurrence of a Kubernetes Event.
  - It resumes a dropped watch from the last resourceVersion it saw and lists again after
    C(410 Gone); a transition already emitted is never emitted again (the last state of every
    object is kept by uid and compared). Reconnects wait an exponential delay, capped by
    O(reconnect_max_delay), with jitter.
  - Bad arguments, an unknown kind, a bad label selector or refused credentials fail the
    activation at start, with one message.
  - 'Once every first list is done, the source logs (at INFO, shown by C(ansible-rulebook -v)) a
    line that begins with C(pacific.supervisor.supervisor_events ready): from then on every
    change is a transition.'
  - 'Every event has the keys C(change) (one of C(added), C(deleted), C(snapshot), C(condition),
    C(phase), C(power_state), C(container), C(quota), C(event)), C(kind), C(api_version),
    C(namespace), C(name), C(uid), C(resource_version), C(labels), C(owner_kind) (the kind of the controlling owner
    of the object, empty when it has none: a Cluster API Cluster that realises a TanzuKubernetesCluster has
    V(TanzuKubernetesCluster)), C(from), C(to), C(reason) and C(message).'
  - C(condition) events add C(condition) (its type); C(from) and C(to) are
    C({status, reason, message}) or null. A condition changes when its status or reason does.
  - C(phase) and C(power_state) events have the old and new value in C(from) and C(to).
  - C(container) events (pods) add C(container) and C(restart_count); C(from)/C(to) are the
    container's state (C(Running), or the reason it waits or ended, such as C(CrashLoopBackOff)).
  - C(quota) events (ResourceQuota) have the lists of used-up resources in C(from)/C(to) and add
    C(hard) and C(used).
  - C(added), C(deleted) and C(snapshot) events add C(state), the compared facets of the object.
  - C(event) events (kind C(Event)) describe the involved object in C(kind), C(namespace),
    C(name) and C(uid) and add C(event_type) (C(Normal) or C(Warning)), C(count), C(event_uid),
    C(event_name), C(source_component), C(first_timestamp) and C(last_timestamp).
options:
  kinds:
    description:
      - What to watch, by kind name (or plural). One of C(VirtualMachine)
        (vmoperator.vmware.com/v1alpha3), C(TanzuKubernetesCluster) (run.tanzu.vmware.com/v1alpha3),
        C(Cluster) and C(Machine) (cluster.x-k8s.io/v1beta1), C(Pod), C(Namespace),
        C(ResourceQuota) and C(Event) (v1).
      - An entry may be a dictionary C({kind, api_version}) to watch another served version.
    type: list
    elements: raw
    required: true
  namespaces:
    description:
      - The namespaces to watch; all of them when not set. For C(Namespace), the namespaces'
        own names.
    type: list
    elements: str
  label_selector:
    description:
      - A Kubernetes label selector, such as C(app=web,tier!=db), for every kind but C(Event).
    type: str
  initial_snapshot:
    description:
      - Emit one C(snapshot) event per object (and each existing Kubernetes Event) found by the
        first list. Without it, the first list is only the baseline for later transitions.
    type: bool
    default: false
  event_reasons:
    description:
      - Only Kubernetes Events with one of these reasons (such as C(CreateFailure), C(BackOff)).
    type: list
    elements: str
  reconnect_max_delay:
    description:
      - The longest wait, in seconds, between two reconnect attempts.
    type: float
    default: 30
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
  - Each kind and namespace is watched in a thread of its own; the event loop is never blocked,
    and a slow rulebook slows the watches rather than queueing without bound.
requirements:
  - kubernetes
  - urllib3
"""

EXAMPLES = r"""
- name: React to Supervisor workloads
  hosts: localhost
  sources:
    - name: supervisor
      pacific.supervisor.supervisor_events:
        server: https://10.0.0.10:6443
        username: devops@vsphere.local
        password: "{{ sso_password }}"
        ca_cert: /etc/pki/supervisor-ca.pem
        namespaces: [team-a]
        kinds: [VirtualMachine, Pod, ResourceQuota, Event]
        event_reasons: [CreateFailure, BackOff]
  rules:
    - name: A VM failed to be created
      condition: >-
        event.kind == "VirtualMachine" and event.change == "condition"
        and event.condition == "VirtualMachineCreated" and event.to.status == "False"
      action:
        # the collection's entry playbook: deletes the VM and makes it again from its own spec
        run_playbook:
          name: pacific.supervisor.remediation_vm_failed
          extra_vars:
            remediation_record_file: /var/log/eda/remediation.jsonl
    - name: A VM was powered off
      condition: event.change == "power_state" and event.to == "PoweredOff"
      action:
        debug:
"""

import os
import runpy

# _collection.py, next to this file, is the one place that explains and solves how a source
# that ansible-rulebook runs with runpy imports this collection's module_utils
HERE = os.path.dirname(os.path.abspath(__file__))
events = runpy.run_path(os.path.join(HERE, "_collection.py"))["import_module"](
    HERE, "plugins.module_utils._supervisor.events")


async def main(queue, args):
    """ansible-rulebook's entry point: emit transitions onto ``queue`` until cancelled."""
    await events.run(queue, args)


if __name__ == "__main__":
    # a quick look from a shell: python supervisor_events.py Pod,VirtualMachine (connection from
    # the environment, as `eval "$(python -m testbed env)"` sets it)
    import asyncio
    import json
    import sys

    class _Printer(object):
        async def put(self, event):
            print(json.dumps(event, sort_keys=True))

    asyncio.run(main(_Printer(), {"kinds": sys.argv[1].split(",") if len(sys.argv) > 1 else ["Pod"]}))
