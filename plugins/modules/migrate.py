#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: migrate
short_description: Move Docker compose workloads onto native vSphere pods, and report what cannot move
version_added: 0.1.0
description:
  - Reads one compose project (one or more compose files), or the containers of a Docker Engine or a vSphere
    Integrated Containers (VIC) container host, and turns each service (each container) into native-pod objects
    of a vSphere Namespace - a C(Pod) or C(Deployment), a C(Service) (type C(LoadBalancer) for published
    ports, C(ClusterIP) for exposed ones), C(PersistentVolumeClaim)s for named volumes, C(ConfigMap)s and
    C(Secret)s for compose C(configs) and C(secrets), probes from health checks, resources from CPU and
    memory options.
  - Returns a report with one entry per file, service and key - C(mapped), C(refused) (naming the vSphere
    Pod rule it breaks, such as directory binds, the Docker socket, privileged containers, host networking,
    devices, sysctls, port ranges or several isolated networks) or C(client_only). No key is ever dropped
    silently; a key the converter does not know is refused.
  - Compose files are brought to their canonical form (interpolation with defaults, C(extends), anchors
    and merge keys, C(!reset), env files, profiles, long and short syntax) by the Docker Compose CLI, the
    reference implementation of the Compose specification (C(docker compose config --format json)); it
    needs no Docker daemon.
  - With O(source=engine), the containers O(containers) picks are read with the C(docker) Python SDK (with their
    volumes and networks) and each becomes the service that C(docker run) with the same flags would be given to
    M(pacific.supervisor.container), so both make the same manifests; the report names C(docker run) flags and
    the engine's address as its file. Binds of the engine host's paths are refused; an inspected field the
    converter does not know, at a value other than the engine's default, is refused as unknown.
  - With O(mode=report) nothing is written and no Supervisor connection is needed.
  - With O(mode=apply), the objects are converged through the batch engine of M(pacific.supervisor.apply)
    (server-side apply, check mode as a server-side dry run, pruning by the project's label, waiting).
    If any key is refused, the module fails before anything is written.
author:
  - pacific.supervisor contributors (@pacific)
extends_documentation_fragment:
  - pacific.supervisor.supervisor_auth
attributes:
  check_mode:
    support: full
    description: O(mode=report) writes nothing anyway; O(mode=apply) applies as a server-side dry run.
  diff_mode:
    support: full
    description: With O(mode=apply), one before/after pair per object that changes.
requirements:
  - With O(source=compose), Docker Compose v2 or later (C(docker-compose) or the C(docker compose) plugin) on the
    managed node
  - With O(source=engine), the C(docker) Python SDK (7 or later)
options:
  source:
    description: Where the workloads come from - C(compose) files, or the containers of a Docker C(engine).
    type: str
    choices: [compose, engine]
    default: compose
  files:
    description:
      - The compose files of one project, merged in order as C(docker compose -f a -f b) merges them.
      - The report names the first file. Required with O(source=compose).
    type: list
    elements: path
  engine:
    description: With O(source=engine), how to reach the Docker Engine or VIC container host.
    type: dict
    default: {}
    suboptions:
      docker_host:
        description: The engine's address, C(tcp://host:2376), C(unix:///var/run/docker.sock) or C(ssh://user@host).
          Else C(DOCKER_HOST), else the local socket.
        type: str
      tls:
        description:
          - Talk TLS (implied by O(engine.ca_cert) or O(engine.client_cert)); VIC hosts listen on 2376 with TLS.
          - With TLS, the trust is what the task says; C(REQUESTS_CA_BUNDLE) and proxy variables are not read.
        type: bool
        default: false
      ca_cert:
        description: The CA that signed the engine's certificate.
        type: path
      client_cert:
        description: The client certificate, for an engine that verifies its clients (C(--tlsverify)).
        type: path
      client_key:
        description: The key of O(engine.client_cert).
        type: path
      validate_certs:
        description: Verify the engine's certificate.
        type: bool
        default: true
      api_version:
        description: The Engine API version to speak; C(auto) asks the engine.
        type: str
        default: auto
      timeout:
        description: Seconds to wait for one answer of the engine.
        type: int
        default: 60
  containers:
    description:
      - With O(source=engine), which containers to move; all of them (running or stopped) when nothing is given.
        Every filter given must match (labels all, names and ids any).
    type: dict
    default: {}
    suboptions:
      labels:
        description: Labels the containers carry (a value of C(null) or C('') matches any value).
        type: dict
      names:
        description: Container names.
        type: list
        elements: str
      ids:
        description: Container ids, or their prefixes.
        type: list
        elements: str
      include_stopped:
        description: Also move containers that are not running.
        type: bool
        default: true
  project_name:
    description:
      - The project's name (labels and the names compose gives volumes); compose's default otherwise.
      - With O(source=engine), the engine's name as C(docker info) gives it by default.
    type: str
  profiles:
    description: The compose profiles to enable; services of other profiles are left out by compose.
    type: list
    elements: str
    default: []
  environment:
    description: Variables for interpolation, besides the environment of the task and the project's C(.env).
    type: dict
    default: {}
  images:
    description:
      - Service name to image, for services that only C(build) (a vSphere Pod runs images from a registry).
    type: dict
    default: {}
  mode:
    description: C(report) converts only; C(apply) converts and converges the objects on the Supervisor.
    type: str
    choices: [report, apply]
    default: report
  namespace:
    description: The vSphere Namespace of the objects. Required with O(mode=apply).
    type: str
  dialect:
    description:
      - How to read CPU, memory and volume options. C(vic) as a vSphere Integrated Containers host did -
        CPUs (C(cpus), C(cpuset)) are a vCPU count (default 2), memory defaults to 2 GB with a minimum of
        512 MB, and a volume's C(Capacity) driver option is in MB.
    type: str
    choices: [docker, vic]
    default: docker
  storage_class:
    description: The storage class of the claims made for named volumes (one of the namespace's).
    type: str
  volume_size:
    description: The size of a claim whose volume names no capacity (VIC's volume-store default is 1 GB).
    type: str
    default: 1Gi
  bind_files:
    description:
      - Carry bind-mounted files (not directories) as C(ConfigMap)s mounted at the same path; refused otherwise.
    type: bool
    default: false
  flatten_networks:
    description:
      - Accept a project whose services compose keeps apart on several networks; on the Supervisor all pods
        of a namespace share its one network, so that isolation is dropped (and the report says so).
    type: bool
    default: false
  compose_binary:
    description:
      - The Docker Compose program, a path or a name on C(PATH). Else C(PACIFIC_COMPOSE_BINARY), else
        C(docker-compose) on C(PATH), else C(docker compose).
    type: str
  wait:
    description:
      - With O(mode=apply), wait until every workload is ready (a Pod running and ready, a Deployment
        with every replica available), watching rather than polling. Never waits in check mode.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds to wait before failing, at least 1.
    type: int
    default: 600
  prune:
    description:
      - With O(mode=apply), delete the objects of this project (by the label C(pacific.supervisor/compose-project))
        that the files no longer make.
    type: bool
    default: true
notes:
  - C(depends_on) orders the objects; with O(mode=apply) (not in check mode) the services a service depends on are
    created and waited for until ready (a Pod running and ready, a Deployment available, within O(wait_timeout))
    before it is written, whatever O(wait) says; O(wait) waits for the last of them too.
  - A service with no published or exposed port gets no C(Service), so other pods cannot reach it by name.
seealso:
  - module: pacific.supervisor.apply
  - module: pacific.supervisor.pod
"""

EXAMPLES = r"""
- name: What would move, and what cannot (no Supervisor needed)
  pacific.supervisor.migrate:
    files: [shop/compose.yaml]
    namespace: team-a
  register: plan

- name: Show the refusals
  ansible.builtin.debug:
    msg: "{{ plan.report | selectattr('outcome', 'equalto', 'refused') | list }}"

- name: What the containers labelled app=shop on a VIC container host become (no Supervisor needed)
  pacific.supervisor.migrate:
    source: engine
    engine:
      docker_host: tcp://vch.example.com:2376
      ca_cert: /etc/vch/ca.pem
      client_cert: /etc/vch/cert.pem
      client_key: /etc/vch/key.pem
    containers:
      labels: {app: shop}
    project_name: shop
    dialect: vic
    storage_class: wcp-default
  register: vch_plan

- name: Move a project from a VIC container host onto native pods, waiting until they are ready
  pacific.supervisor.migrate:
    files: [shop/compose.yaml, shop/compose.prod.yaml]
    project_name: shop
    profiles: [prod]
    environment: {TAG: "1.4.2"}
    images: {web: registry.example.com/shop/web:1.4.2}
    dialect: vic
    storage_class: wcp-default
    bind_files: true
    mode: apply
    namespace: team-a
    wait: true
"""

RETURN = r"""
manifests:
  description: The objects of the services that can move, in creation order (claims, ConfigMaps and Secrets,
    then each service's Service and workload after those it depends on). Secret values are masked.
  returned: always
  type: list
  elements: dict
report:
  description: One entry per file, service and key (a key whose value is a list may have one per item).
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The compose file (the first of O(files)), or the engine's address with O(source=engine).
      type: str
    service:
      description: The compose service, or the container's name with O(source=engine).
      type: str
    key:
      description: The service key (C(deploy) keys as C(deploy.resources.limits.memory)); with O(source=engine), the
        C(docker run) flag (C(--publish)), or the inspected field (C(HostConfig.Foo)) no flag names.
      type: str
    outcome:
      description: C(mapped), C(refused) or C(client_only).
      type: str
    detail:
      description: What the key became, or why it is refused (the rule it breaks) or needs nothing.
      type: str
    rule:
      description: The vSphere Pod or Kubernetes rule a refused key breaks.
      type: str
      returned: when outcome is refused
  sample:
    - {file: compose.yaml, service: proxy, key: volumes, outcome: refused,
       detail: "/var/run/docker.sock:/var/run/docker.sock (the Docker socket): a vSphere Pod has no Docker
         engine behind it and mounts no host socket (no hostPath)",
       rule: a vSphere Pod has no Docker engine behind it and mounts no host socket (no hostPath)}
refused:
  description: The services with at least one refused key; they get no manifests.
  returned: always
  type: list
  elements: str
counts:
  description: How many report entries have each outcome.
  returned: always
  type: dict
  sample: {mapped: 12, refused: 1, client_only: 0}
results:
  description: With O(mode=apply), one entry per object, as M(pacific.supervisor.apply) returns them.
  returned: when mode is apply
  type: list
  elements: dict
summary:
  description: With O(mode=apply), how many objects took each action.
  returned: when mode is apply
  type: dict
diff:
  description: With O(mode=apply) and O(ignore:--diff), one before/after pair per object that changes.
  returned: when mode is apply and diff mode is on
  type: list
  elements: dict
"""

import base64
import os

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
from ansible_collections.pacific.supervisor.plugins.module_utils._common.readiness import WAIT_ARGUMENT_SPEC
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate.table import OUTCOMES, REFUSED
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import manifests as loading

# Report mode from compose files reads files and runs the compose CLI only: the Kubernetes client
# (apply mode) and the docker SDK (source=engine) are imported when a task needs them, which keeps
# a report task's start half a second shorter (benchmarks/migrate.py) and lets it run without them.

ARGUMENT_SPEC = dict(
    source=dict(type="str", choices=["compose", "engine"], default="compose"),
    files=dict(type="list", elements="path"),
    engine=dict(type="dict", default={}, options=dict(
        docker_host=dict(type="str"),
        tls=dict(type="bool", default=False),
        ca_cert=dict(type="path"),
        client_cert=dict(type="path"),
        client_key=dict(type="path", no_log=False),
        validate_certs=dict(type="bool", default=True),
        api_version=dict(type="str", default="auto"),
        timeout=dict(type="int", default=60),
    )),
    containers=dict(type="dict", default={}, options=dict(
        labels=dict(type="dict"),
        names=dict(type="list", elements="str"),
        ids=dict(type="list", elements="str"),
        include_stopped=dict(type="bool", default=True),
    )),
    project_name=dict(type="str"),
    profiles=dict(type="list", elements="str", default=[]),
    environment=dict(type="dict", default={}),
    images=dict(type="dict", default={}),
    mode=dict(type="str", choices=["report", "apply"], default="report"),
    namespace=dict(type="str"),
    dialect=dict(type="str", choices=list(convert.DIALECTS), default="docker"),
    storage_class=dict(type="str"),
    volume_size=dict(type="str", default=convert.DEFAULT_VOLUME_SIZE),
    bind_files=dict(type="bool", default=False),
    flatten_networks=dict(type="bool", default=False),
    compose_binary=dict(type="str"),
    prune=dict(type="bool", default=True),
    **WAIT_ARGUMENT_SPEC
)


def _refusals(report):
    lines = ["{0}: service {1}, key {2}: {3}".format(e["file"], e["service"], e["key"], e["detail"])
             for e in report if e["outcome"] == REFUSED]
    return lines


def _decoded(value):
    try:
        return base64.b64decode(value).decode("utf-8")
    except (ValueError, TypeError):
        return value


def _options(params):
    return convert.Options(dialect=params["dialect"], storage_class=params["storage_class"],
                           volume_size=params["volume_size"], bind_files=params["bind_files"],
                           flatten_networks=params["flatten_networks"], images=params["images"])


def convert_engine(params):
    """``(manifests, report, refused, project name)`` of the containers the task picks on its engine."""
    if params.get("files"):
        raise errors.InvalidArgument("files are read with source=compose; source=engine reads containers")
    settings = dict(params.get("engine") or {})
    if not settings.get("docker_host"):
        settings["docker_host"] = os.environ.get("DOCKER_HOST")
    from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import engine_source

    connection = engine_source.Connection(**settings)
    picked = params.get("containers") or {}
    inspected, volumes, _networks, images, host_name = engine_source.read(
        connection, picked, include_stopped=picked.get("include_stopped", True))
    if not inspected:
        raise errors.InvalidArgument("no container of the engine at {0} matches {1}".format(
            connection.address, engine_source.engine_filters(picked) or "(all)"))
    project = convert.k8s_name(params["project_name"] or host_name) or "docker"
    made, report, refused = engine_source.convert_engine(inspected, volumes, images, connection.address,
                                                         _options(params), project, namespace=params["namespace"])
    return made, report, refused, project


def convert_project(params, warn=None):
    """``(manifests, report, refused, project name)`` of the task's compose files (or engine)."""
    if params.get("source") == "engine":
        return convert_engine(params)
    if not params["files"]:
        raise errors.InvalidArgument("files needs at least one compose file")
    cli = compose.find_cli(params["compose_binary"])
    project, warnings = compose.canonical(params["files"], cli, project_name=params["project_name"],
                                          profiles=params["profiles"], environment=params["environment"])
    for line in warnings:
        if warn:
            warn("docker compose: {0}".format(line))
    made, report, refused = convert.convert(project, params["files"][0], _options(params), namespace=params["namespace"])
    return made, report, refused, convert.k8s_name(project.get("name") or "compose") or "compose"


def _check_ownership(engine, items, project):
    """Refuse to take over objects of the same name that another project (or someone else) made:
    compose services are named alike across projects (db, web), and server-side apply would
    silently turn one project's db into another's."""
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch

    batch.read_live(engine, items)
    taken = []
    for item in items:
        labels = ((item.before or {}).get("metadata") or {}).get("labels") or {}
        if item.before is not None and labels.get(convert.PROJECT_LABEL) != project:
            owner = labels.get(convert.PROJECT_LABEL)
            taken.append("{0} {1} ({2})".format(item.resource.kind, item.name, "of compose project {0}".format(owner)
                                                if owner else "not made by migrate"))
    if taken:
        raise errors.InvalidArgument("nothing was written: namespace {0} already holds objects of these names that are "
                                     "not of compose project {1}: {2}".format(items[0].namespace, project,
                                                                              ", ".join(taken)))


DEPENDS_ON = "pacific.supervisor/depends-on"


def waves(items):
    """``items`` in waves of ``depends_on``: a service's objects go one wave after the latest of
    the services it depends on; claims, ConfigMaps and Secrets (no service) go first."""
    service_of = dict((id(item), ((item.desired.get("metadata") or {}).get("labels") or {}).get(convert.SERVICE_LABEL))
                      for item in items)
    needs = {}
    for item in items:
        annotation = ((item.desired.get("metadata") or {}).get("annotations") or {}).get(DEPENDS_ON)
        if annotation and service_of[id(item)]:
            needs[service_of[id(item)]] = [name for name in annotation.split(",") if name]
    depth = {}

    def depth_of(service, trail=()):
        if service not in depth:
            others = [depth_of(other, trail + (service,)) + 1 for other in needs.get(service, [])
                      if other not in trail + (service,) and other in set(service_of.values())]
            depth[service] = max(others or [0])
        return depth[service]
    grouped = {}
    for item in items:
        service = service_of[id(item)]
        grouped.setdefault(depth_of(service) if service else 0, []).append(item)
    return [grouped[number] for number in sorted(grouped)]


def handle(params, run):
    if params["mode"] == "apply" and not params["namespace"]:
        raise errors.InvalidArgument("namespace is required with mode=apply")
    made, report, refused, project = convert_project(params, run.warn)
    secrets = loading.secret_values([(m, None) for m in made])
    run.conceal(secrets + [_decoded(value) for value in secrets])
    counts = dict((outcome, sum(1 for e in report if e["outcome"] == outcome)) for outcome in OUTCOMES)
    outcome = {"changed": False, "manifests": made, "report": report, "refused": refused, "counts": counts}
    if params["mode"] == "report":
        return outcome
    if refused:
        lines = _refusals(report)
        raise errors.InvalidArgument("nothing was written: {0} of the project cannot move to native pods:\n{1}".format(
            ", ".join(refused), "\n".join(lines)), refused=refused, report=report)
    if not made:
        raise errors.InvalidArgument("the compose project has no services to move")
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import connect
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine

    label = (convert.PROJECT_LABEL, project) if params["prune"] else None
    engine = Engine(connect(params), run=run)
    loaded = [(m, "compose project {0}: {1} {2}".format(project, m["kind"], m["metadata"]["name"])) for m in made]
    items = batch.prepare(engine, loaded, default_namespace=params["namespace"], label=label)
    _check_ownership(engine, items, project)
    ordered = waves(items)
    if len(ordered) > 1:  # depends_on: what a service depends on is up before it is written
        changed, results, diffs = batch.converge_waves(engine, ordered, check_mode=run.check_mode, label=label,
                                                       wait=params["wait"], wait_timeout=params["wait_timeout"])
    else:
        changed, results, diffs = batch.converge(engine, items, state="present", check_mode=run.check_mode,
                                                 label=label, wait=params["wait"], wait_timeout=params["wait_timeout"])
    summary = {}
    for result in results:
        summary[result["action"]] = summary.get(result["action"], 0) + 1
    outcome.update(changed=changed, results=results, summary=summary)
    if run.diff:
        outcome["diff"] = diffs
    return outcome


def _requirements():
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import REQUIREMENTS

    return REQUIREMENTS


def main():
    run_module(supervisor_spec(ARGUMENT_SPEC), handle, requirements=_requirements,
               needs_connection=lambda params: params.get("mode") == "apply")


if __name__ == "__main__":
    main()
