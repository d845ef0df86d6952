#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: container
short_description: Run a container as a native vSphere pod, with docker run (or VIC) options
version_added: 0.1.0
description:
  - Takes the options of C(docker run) on a vSphere Integrated Containers (VIC) host or a Docker engine
    and makes the native-pod objects that do the same in a vSphere Namespace - a C(Pod) (or a C(Deployment)
    with O(restart=always) or O(restart=unless-stopped)), a C(Service) of type C(LoadBalancer) for published
    ports (C(ClusterIP) for exposed ones) and C(PersistentVolumeClaim)s for named volumes.
  - The same converter as M(pacific.supervisor.migrate), so a container given here and the same service in a
    compose file make the same manifests. Every option given is reported as C(mapped), C(refused) (naming the
    vSphere Pod rule it breaks - host directories, the Docker socket, C(--net=host), C(--privileged), C(--ip),
    port ranges, host addresses) or C(client_only) (C(--rm), C(--detach), C(--attach)); with any refusal
    nothing is written.
  - Objects are converged together by server-side apply, like M(pacific.supervisor.apply); objects of this
    container that the options no longer make (a port no longer published) are deleted.
  - A Pod's spec cannot change in place; change a container with O(restart=always) (a Deployment), or remove it
    with O(state=absent) first.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
  - pacific.supervisor.wait
attributes:
  check_mode:
    support: full
    description: A server-side dry run of every object.
  diff_mode:
    support: full
    description: One before/after pair per object that changes.
options:
  name:
    description: The container's name (C(--name)); names the workload, its Service and the label of its objects.
    type: str
    required: true
  namespace:
    description: The vSphere Namespace.
    type: str
    required: true
  state:
    description: Whether the container's objects should exist.
    type: str
    choices: [present, absent]
    default: present
  dialect:
    description:
      - C(vic) reads O(cpus) and O(cpuset_cpus) as a vCPU count (default 2), O(memory) with VIC's default of
        2 GB and minimum of 512 MB, and O(volume_capacities) in MB, as a VIC container host did.
    type: str
    choices: [docker, vic]
    default: docker
  image:
    description: The image (C(IMAGE)). Required with O(state=present).
    type: str
  command:
    description: The arguments after the image (C(COMMAND)).
    type: list
    elements: str
  entrypoint:
    description: The entrypoint (C(--entrypoint)).
    type: list
    elements: str
  env:
    description: Environment variables (C(--env)).
    type: dict
  labels:
    description: Labels (C(--label)); kept as annotations of the workload.
    type: dict
  publish:
    description: Published ports (C(--publish)), C([ip:][host_port:]container_port[/protocol]).
    type: list
    elements: str
  expose:
    description: Exposed ports (C(--expose)), C(port[/protocol]).
    type: list
    elements: str
  volumes:
    description:
      - Volumes (C(--volume)), C(name:/path[:ro]) for a named volume (a claim) or C(/path) for an anonymous
        one (an emptyDir). Host paths are refused.
    type: list
    elements: str
  volume_capacities:
    description: Named volume to its capacity (C(docker volume create --opt Capacity=...)); a number is MB.
    type: dict
  storage_class:
    description: The storage class of the claims.
    type: str
  volume_size:
    description: The size of a claim with no capacity given.
    type: str
    default: 1Gi
  memory:
    description: The memory limit (C(--memory)), such as C(512m) or C(2g).
    type: str
  cpus:
    description: The CPU limit (C(--cpus)); a vCPU count with O(dialect=vic).
    type: float
  cpuset_cpus:
    description: With O(dialect=vic), a vCPU count (C(--cpuset-cpus)); CPU pinning otherwise, refused.
    type: str
  hostname:
    description: The hostname (C(--hostname)).
    type: str
  user:
    description: The numeric user and group (C(--user)), C(uid[:gid]).
    type: str
  workdir:
    description: The working directory (C(--workdir)).
    type: str
  interactive:
    description: Keep stdin open (C(--interactive)).
    type: bool
  tty:
    description: Allocate a terminal (C(--tty)).
    type: bool
  restart:
    description: The restart policy (C(--restart)); C(always) and C(unless-stopped) make a Deployment.
    type: str
    choices: ["no", always, unless-stopped, on-failure]
  healthcheck:
    description: The health check (C(--health-cmd) and friends) - C(test), C(interval), C(timeout), C(retries),
      C(start_period); it becomes readiness and liveness probes.
    type: dict
  cap_add:
    description: Capabilities to add (C(--cap-add)).
    type: list
    elements: str
  cap_drop:
    description: Capabilities to drop (C(--cap-drop)).
    type: list
    elements: str
  dns:
    description: DNS servers (C(--dns)).
    type: list
    elements: str
  stop_timeout:
    description: Seconds to wait for a stop (C(--stop-timeout)).
    type: int
  stop_signal:
    description: The stop signal (C(--stop-signal)); only C(SIGTERM) can be kept.
    type: str
  privileged:
    description: C(--privileged); true is refused.
    type: bool
  network:
    description: C(--net); C(bridge) or C(default) are the namespace network, C(host) is refused.
    type: str
  links:
    description: C(--link), C(name[:alias]); an alias other than the name is refused.
    type: list
    elements: str
  ip:
    description: C(--ip); refused (the namespace network gives the address).
    type: str
  net_alias:
    description: C(--net-alias); refused.
    type: str
  detach:
    description: C(--detach); client-only (reported, nothing to do).
    type: bool
  rm:
    description: C(--rm); client-only (remove with O(state=absent)).
    type: bool
  attach:
    description: C(--attach); client-only.
    type: list
    elements: str
seealso:
  - module: pacific.supervisor.migrate
  - module: pacific.supervisor.pod
"""

EXAMPLES = r"""
- name: What `docker run -d --name web -p 8080:80 -m 1g --cpus 2 -v web-data:/data nginx` on a VIC host becomes
  pacific.supervisor.container:
    name: web
    namespace: team-a
    dialect: vic
    image: nginx:1.27
    publish: ["8080:80"]
    memory: 1g
    cpus: 2
    volumes: ["web-data:/data"]
    volume_capacities: {web-data: 2048}
    storage_class: wcp-default
    restart: always
    detach: true
    wait: true

- name: Remove it
  pacific.supervisor.container:
    name: web
    namespace: team-a
    state: absent
"""

RETURN = r"""
report:
  description: One entry per option given, by its C(docker run) flag - C(mapped), C(refused) (with C(rule)) or
    C(client_only) - as in M(pacific.supervisor.migrate) (C(file) is null).
  returned: always
  type: list
  elements: dict
manifests:
  description: The objects the options make (none when one is refused).
  returned: always
  type: list
  elements: dict
results:
  description: One entry per object, as M(pacific.supervisor.apply) returns them.
  returned: when nothing is refused
  type: list
  elements: dict
diff:
  description: One before/after pair per object that changes.
  returned: when diff mode is on
  type: list
  elements: dict
"""

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    NAMESPACED_NAME_SPEC, STATE_SPEC, run_module, supervisor_spec)
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import convert, run_options
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate.table import REFUSED
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS, connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine, check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC

ARGUMENT_SPEC = dict(
    dialect=dict(type="str", choices=list(convert.DIALECTS), default="docker"),
    image=dict(type="str"),
    command=dict(type="list", elements="str"),
    entrypoint=dict(type="list", elements="str"),
    env=dict(type="dict"),
    labels=dict(type="dict"),
    publish=dict(type="list", elements="str"),
    expose=dict(type="list", elements="str"),
    volumes=dict(type="list", elements="str"),
    volume_capacities=dict(type="dict"),
    storage_class=dict(type="str"),
    volume_size=dict(type="str", default=convert.DEFAULT_VOLUME_SIZE),
    memory=dict(type="str"),
    cpus=dict(type="float"),
    cpuset_cpus=dict(type="str"),
    hostname=dict(type="str"),
    user=dict(type="str"),
    workdir=dict(type="str"),
    interactive=dict(type="bool"),
    tty=dict(type="bool"),
    restart=dict(type="str", choices=["no", "always", "unless-stopped", "on-failure"]),
    healthcheck=dict(type="dict"),
    cap_add=dict(type="list", elements="str"),
    cap_drop=dict(type="list", elements="str"),
    dns=dict(type="list", elements="str"),
    stop_timeout=dict(type="int"),
    stop_signal=dict(type="str"),
    privileged=dict(type="bool"),
    network=dict(type="str"),
    links=dict(type="list", elements="str"),
    ip=dict(type="str"),
    net_alias=dict(type="str"),
    detach=dict(type="bool"),
    rm=dict(type="bool"),
    attach=dict(type="list", elements="str"),
    **WAIT_ARGUMENT_SPEC
)


def build(params):
    """``(manifests, report, refused)`` of the task's options."""
    name = check_name(params["name"], "container name", label=True)
    if params["state"] == "present" and not params.get("image"):
        raise errors.InvalidArgument("image is required with state=present")
    project, extra = run_options.project_of(dict(params, name=name))
    options = convert.Options(dialect=params["dialect"], storage_class=params.get("storage_class"),
                              volume_size=params.get("volume_size") or convert.DEFAULT_VOLUME_SIZE)
    made, report, refused = convert.convert(project, None, options, namespace=params["namespace"])
    report = run_options.flag_report(report, {name: extra})
    if any(entry["outcome"] == REFUSED for entry in report):
        refused = [name]
        made = []
    return made, report, refused


def _identities(params):
    """The objects a container of this name may have made, for state=absent. Named volumes stay
    (their claims hold data; `docker rm` keeps named volumes too)."""
    metadata = {"name": params["name"], "namespace": params["namespace"]}
    return [{"apiVersion": "v1", "kind": "Pod", "metadata": dict(metadata)},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": dict(metadata)},
            {"apiVersion": "v1", "kind": "Service", "metadata": dict(metadata)}]


def handle(params, run):
    check_name(params["name"], "container name", label=True)
    if params["state"] == "absent":
        made, report = _identities(params), []
    else:
        made, report, refused = build(params)
        if refused:
            raise errors.InvalidArgument("nothing was written: container {0} cannot run as a native pod: {1}".format(
                params["name"], "; ".join("{0}: {1}".format(e["key"], e["detail"])
                                          for e in report if e["outcome"] == REFUSED)), report=report)
    engine = Engine(connect(params), run=run)
    label = (convert.PROJECT_LABEL, params["name"]) if params["state"] == "present" else None
    loaded = [(m, "container {0}: {1} {2}".format(params["name"], m["kind"], m["metadata"]["name"])) for m in made]
    items = batch.prepare(engine, loaded, label=label)
    changed, results, diffs = batch.converge(engine, items, state=params["state"], check_mode=run.check_mode,
                                             label=label, wait=params["wait"], wait_timeout=params["wait_timeout"])
    outcome = {"changed": changed, "manifests": made if params["state"] == "present" else [], "report": report,
               "results": results}
    if run.diff:
        outcome["diff"] = diffs
    return outcome


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC, NAMESPACED_NAME_SPEC, STATE_SPEC), handle, requirements=REQUIREMENTS)


if __name__ == "__main__":
    main()
