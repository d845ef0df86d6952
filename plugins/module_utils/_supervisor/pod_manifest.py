# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Native vSphere pod (v1 Pod) manifests from module options, the summary the modules return
of one, and what a pod's spec lets change in place. Shared by ``pod`` and ``pod_info``.

A pod's spec is mostly immutable: only container images (and a few scheduling fields this
collection does not set) may change on a live pod. ``immutable_changes`` names what the desired
manifest would change besides those, so a module can refuse clearly or recreate the pod.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name, metadata as object_metadata

POD = kinds.POD
RESTART_POLICIES = ("Always", "OnFailure", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# how the API server refuses an update that touches a field a live pod cannot change: a 422 whose
# Status names the cause FieldValueForbidden on the field "spec" (data, not its message's words)
IMMUTABLE_CAUSE = {"reason": "FieldValueForbidden", "field": "spec"}
# container fields this collection sets, option -> Pod field
CONTAINER_FIELDS = (
    ("image", "image"),
    ("command", "command"),
    ("args", "args"),
    ("image_pull_policy", "imagePullPolicy"),
    ("working_dir", "workingDir"),
)
MUTABLE_CONTAINER_FIELDS = ("image",)
QUANTITY = re.compile(r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")


def _env(env):
    """``env`` as the Pod wants it: a list of name/value pairs, in the order given."""
    built = []
    for name, value in (env or {}).items():
        if not name:
            raise errors.InvalidArgument("an environment variable needs a name")
        built.append({"name": str(name), "value": "" if value is None else str(value)})
    return built


def _ports(container_name, ports):
    built = []
    for port in ports or []:
        number = port.get("container_port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            raise errors.InvalidArgument("container {0}: container_port must be between 1 and 65535, not {1!r}".format(
                container_name, number))
        entry = {"containerPort": number, "protocol": port.get("protocol") or "TCP"}
        if entry["protocol"] not in PROTOCOLS:
            raise errors.InvalidArgument("container {0}: protocol must be one of {1}, not {2!r}".format(
                container_name, ", ".join(PROTOCOLS), entry["protocol"]))
        if port.get("name"):
            entry["name"] = check_name(port["name"], "port name of container {0}".format(container_name), label=True)
        built.append(entry)
    return built


def check_quantity(value, what):
    """``value`` as a string, when it is a Kubernetes quantity (``500m``, ``2``, ``512Mi``); the
    server would refuse anything else only with an internal error (HTTP 500)."""
    text = str(value).strip()
    if not QUANTITY.match(text):
        raise errors.InvalidArgument("{0} {1!r} is not a Kubernetes quantity (for example 500m, 2, 512Mi or 1Gi)"
                                     .format(what, value))
    return text


def _resources(container_name, resources):
    built = {}
    for part in ("requests", "limits"):
        amounts = dict((key, check_quantity(value, "container {0}: resources.{1}.{2}".format(container_name, part, key)))
                       for key, value in ((resources or {}).get(part) or {}).items() if value is not None)
        if amounts:
            built[part] = amounts
    return built


def _containers(containers):
    if not containers:
        raise errors.InvalidArgument("a pod needs at least one container")
    built, seen = [], set()
    for container in containers:
        name = check_name(container.get("name"), "container name", label=True)
        if name in seen:
            raise errors.InvalidArgument("container name {0!r} is used twice".format(name))
        seen.add(name)
        if not container.get("image"):
            raise errors.InvalidArgument("container {0} needs an image".format(name))
        entry = {"name": name}
        for option, field in CONTAINER_FIELDS:
            if container.get(option) is not None:
                entry[field] = container[option]
        if container.get("env"):
            entry["env"] = _env(container["env"])
        if container.get("ports"):
            entry["ports"] = _ports(name, container["ports"])
        resources = _resources(name, container.get("resources"))
        if resources:
            entry["resources"] = resources
        built.append(entry)
    return built


def build(params):
    """The Pod manifest of the ``pod`` module's options. Only options that are set appear, so
    server-side apply leaves other fields to the server's defaults and other managers."""
    name = check_name(params.get("name"), "pod name")
    namespace = check_name(params.get("namespace"), "namespace", label=True)
    metadata = object_metadata(name, namespace, params.get("labels"), params.get("annotations"))
    if params.get("state", "present") == "absent":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata}
    spec = {"containers": _containers(params.get("containers"))}
    if params.get("restart_policy") is not None:
        if params["restart_policy"] not in RESTART_POLICIES:
            raise errors.InvalidArgument("restart_policy must be one of {0}".format(", ".join(RESTART_POLICIES)))
        spec["restartPolicy"] = params["restart_policy"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


# --- what may change in place -------------------------------------------------------------------
def _quantity(value):
    """A resource quantity in a comparable form; what the server writes back for what we sent.
    Exact for the common spellings (``500m`` == ``0.5``, ``1Gi`` == ``1024Mi``)."""
    text = str(value)
    binary = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
    decimal = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
    try:
        for suffix, factor in binary.items():
            if text.endswith(suffix):
                return float(text[:-2]) * factor
        if text and text[-1] in decimal:
            return float(text[:-1]) * decimal[text[-1]]
        return float(text)
    except ValueError:
        return text


def _comparable_resources(resources):
    return dict((part, dict((key, _quantity(value)) for key, value in (resources.get(part) or {}).items()))
                for part in ("requests", "limits") if resources.get(part))


def _port_key(port):
    return (port.get("containerPort"), port.get("protocol") or "TCP", port.get("name"))


def immutable_changes(desired, current):
    """The fields ``desired`` would change on the live pod ``current`` that a pod cannot change
    in place, as readable paths (``containers[web].command``, ``restartPolicy``); [] when an
    in-place apply would do. Only the fields this collection sets are compared; the server's
    defaults for the rest do not count."""
    if current is None:
        return []
    want, have = desired.get("spec") or {}, current.get("spec") or {}
    changes = []
    if "restartPolicy" in want and want["restartPolicy"] != have.get("restartPolicy", "Always"):
        changes.append("restartPolicy")
    live = dict((c.get("name"), c) for c in have.get("containers") or [])
    wanted_names = [c["name"] for c in want.get("containers") or []]
    if sorted(wanted_names) != sorted(live):
        changes.append("containers (names: {0} -> {1})".format(", ".join(sorted(live)), ", ".join(sorted(wanted_names))))
        return changes
    for container in want.get("containers") or []:
        running = live[container["name"]]
        for field in sorted(container):
            if field in ("name",) + MUTABLE_CONTAINER_FIELDS:
                continue
            value, present = container[field], running.get(field)
            if field == "resources":
                same = _comparable_resources(value) == _comparable_resources(present or {})
            elif field == "ports":
                same = sorted(_port_key(p) for p in value) == sorted(_port_key(p) for p in present or [])
            else:
                same = value == present
            if not same:
                changes.append("containers[{0}].{1}".format(container["name"], field))
    return changes


def validate_as_new(engine, manifest):
    """What the server would make of ``manifest`` as a new pod: a dry-run create under a generated
    name, since the name is still taken by the pod to replace. Refusals raise as a create would."""
    return engine.create(manifest, dry_run=True, resource=POD, generate_name=True)


# what a pod's spec holds that belongs to the pod it was, not to the one made from it
_PLACEMENT = ("nodeName",)
RESTART_REFUSED = ("containers", "restart_policy", "labels", "annotations")


def restart_manifest(live):
    """The manifest that makes ``live`` again: its labels, annotations and spec, without its node
    (the Spherelet places the new pod), status or server-set metadata. A pod a controller owns is
    refused: deleting it is enough, its controller makes the replacement."""
    metadata = live.get("metadata") or {}
    what = POD.describe(metadata.get("name"), metadata.get("namespace"))
    owner = next((o for o in metadata.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is not None:
        raise errors.InvalidArgument("{0} is owned by {1} {2}: delete it and its controller replaces it".format(
            what, owner.get("kind"), owner.get("name")))
    spec = dict((key, value) for key, value in (live.get("spec") or {}).items() if key not in _PLACEMENT)
    fresh = object_metadata(metadata.get("name"), metadata.get("namespace"), metadata.get("labels"),
                            metadata.get("annotations"))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": fresh, "spec": spec}


def immutable_refusal(err):
    """Whether a PacificError from applying to a live pod is the server refusing an immutable change."""
    return isinstance(err, errors.InvalidArgument) and any(
        all(cause.get(key) == value for key, value in IMMUTABLE_CAUSE.items()) for cause in err.causes)


# --- what the modules return --------------------------------------------------------------------
def _container_summary(status):
    state = status.get("state") or {}
    current = next((key for key in ("running", "waiting", "terminated") if state.get(key)), None)
    details = state.get(current) or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    return {
        "name": status.get("name"),
        "image": status.get("image"),
        "ready": bool(status.get("ready")),
        "restart_count": status.get("restartCount", 0),
        "state": current,
        "reason": details.get("reason"),
        "message": details.get("message"),
        "exit_code": details.get("exitCode"),
        "last_termination_reason": last.get("reason"),
        "last_exit_code": last.get("exitCode"),
    }


def readiness(obj):
    """The pod's verdict (kinds.pod), with the containers' last termination reasons added to a failure."""
    verdict = kinds.pod(obj)
    if verdict.state != kinds.FAILED:
        return verdict
    ended = []
    for status in (obj.get("status") or {}).get("containerStatuses") or []:
        last = (status.get("lastState") or {}).get("terminated") or {}
        if last and "exit code" not in verdict.message:
            ended.append("container {0} last terminated: {1} (exit code {2})".format(
                status.get("name"), last.get("reason", "unknown"), last.get("exitCode")))
    return kinds.Verdict(kinds.FAILED, "; ".join([verdict.message] + ended))


def summarize(obj):
    """What the modules return of one Pod: phase, node (the ESXi host), addresses, containers;
    the whole object under ``resource``. None stays None."""
    if obj is None:
        return None
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    verdict = readiness(obj)
    return {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "labels": metadata.get("labels") or {},
        "phase": status.get("phase"),
        "node": spec.get("nodeName"),
        "host_ip": status.get("hostIP"),
        "pod_ip": status.get("podIP"),
        "restart_policy": spec.get("restartPolicy"),
        "containers": [_container_summary(s) for s in status.get("containerStatuses") or []],
        "conditions": status.get("conditions") or [],
        "ready": verdict.state == kinds.READY,
        "state_message": verdict.message,
        "resource": obj,
    }
