# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A serverless function as namespace objects: pure builders for ``function`` and ``function_info``.

A function is a Deployment ``apps/v1`` named after it, labelled ``pacific.supervisor/function:
<name>`` (its pod template too), its scaling policy in annotations (Knative's names where they mean
the same), and optionally a LoadBalancer Service of the same name selecting its pods. The activator
(``_serverless/``) reads the annotations and owns ``spec.replicas`` once the function is live, so
the Deployment's replicas are min-scale only when it is made; afterwards the module only raises
them to a min-scale above them, through the scale subresource (``replicas_to_raise``).

Every option is checked here, before anything is written, with one message naming it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import drift, kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.names import check_name
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.pod_manifest import check_quantity

DEPLOYMENT = kinds.known("apps/v1", "Deployment")
SERVICE = kinds.known("v1", "Service")
FUNCTION_LABEL = "pacific.supervisor/function"
CONTAINER_NAME = "function"
KNATIVE = "autoscaling.knative.dev/"
OURS = "pacific.supervisor/"

# option -> (annotation, kind, default); kinds: "int" (a count), "duration", "path"
POLICY = (
    ("min_scale", KNATIVE + "min-scale", "int", 0),
    ("max_scale", KNATIVE + "max-scale", "int", 0),
    ("target", KNATIVE + "target", "int", 100),
    ("target_utilization_percentage", KNATIVE + "target-utilization-percentage", "int", 70),
    ("window", KNATIVE + "window", "duration", "60s"),
    ("scale_to_zero_pod_retention_period", KNATIVE + "scale-to-zero-pod-retention-period", "duration", "0s"),
    ("container_concurrency", OURS + "container-concurrency", "int", 0),
    ("readiness_path", OURS + "readiness-path", "path", "/"),
    ("cold_start_timeout", OURS + "cold-start-timeout", "duration", "300s"),
    ("port", OURS + "port", "int", 8080),
    ("idle_window", OURS + "idle-window", "duration", "30s"),
)
POLICY_OPTIONS = tuple(entry[0] for entry in POLICY)
POLICY_ANNOTATIONS = tuple(entry[1] for entry in POLICY)
ANNOTATION_OF = dict((entry[0], entry[1]) for entry in POLICY)

# Knative's own bounds for its stable window; the others only need to be positive (or not negative)
WINDOW_BOUNDS = (6.0, 3600.0)
DURATION = re.compile(r"^(\d+(\.\d+)?(h|ms|m|s))+$")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
SERVICE_PORT_DEFAULT = 80


# --- checking options ---------------------------------------------------------------------------
def parse_duration(value, what):
    """Seconds of ``value``: a number of seconds, or a Go-style duration (``60s``, ``1m30s``,
    ``500ms``, ``1h``). Raise InvalidArgument naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise errors.InvalidArgument("{0} must be a duration such as 60s, 1m30s or 500ms, not {1!r}".format(what, value))
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip()
        if re.match(r"^\d+(\.\d+)?$", text):
            seconds = float(text)
        elif DURATION.match(text):
            seconds = sum(float(number) * UNIT_SECONDS[unit] for number, unit in DURATION_PART.findall(text))
        else:
            raise errors.InvalidArgument(
                "{0} must be a duration such as 60s, 1m30s or 500ms, not {1!r}".format(what, value))
    if seconds < 0:
        raise errors.InvalidArgument("{0} must not be negative, not {1!r}".format(what, value))
    return seconds


def format_duration(seconds):
    """How an annotation writes a duration: whole seconds as ``60s``, anything finer in ``ms``."""
    millis = int(round(seconds * 1000))
    return "{0}s".format(millis // 1000) if millis % 1000 == 0 else "{0}ms".format(millis)


def _count(params, option, default, minimum=0, maximum=None):
    value = params.get(option)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidArgument("{0} must be a whole number, not {1!r}".format(option, value))
    if value < minimum or (maximum is not None and value > maximum):
        bound = "at least {0}".format(minimum) if maximum is None else "between {0} and {1}".format(minimum, maximum)
        raise errors.InvalidArgument("{0} must be {1}, not {2}".format(option, bound, value))
    return value


def policy(params):
    """The function's policy from the module's options, checked, with the defaults filled in:
    option -> value (counts as int, durations as seconds, the readiness path as given)."""
    checked = {
        "min_scale": _count(params, "min_scale", 0),
        "max_scale": _count(params, "max_scale", 0),
        "target": _count(params, "target", 100, minimum=1),
        "target_utilization_percentage": _count(params, "target_utilization_percentage", 70, minimum=1, maximum=100),
        "container_concurrency": _count(params, "container_concurrency", 0, maximum=1000),
        "port": _count(params, "port", 8080, minimum=1, maximum=65535),
    }
    if checked["max_scale"] and checked["min_scale"] > checked["max_scale"]:
        raise errors.InvalidArgument("min_scale ({0}) must not be above max_scale ({1}; 0 means unbounded)".format(
            checked["min_scale"], checked["max_scale"]))
    for option, kind, default in ((entry[0], entry[2], entry[3]) for entry in POLICY):
        if kind != "duration":
            continue
        given = params.get(option)
        checked[option] = parse_duration(default if given is None else given, option)
    low, high = WINDOW_BOUNDS
    if not low <= checked["window"] <= high:
        raise errors.InvalidArgument("window must be between {0} and {1} (as Knative's), not {2!r}".format(
            format_duration(low), format_duration(high), params.get("window")))
    for option in ("cold_start_timeout", "idle_window"):
        if checked[option] <= 0:
            raise errors.InvalidArgument("{0} must be above 0, not {1!r}".format(option, params.get(option)))
    path = params.get("readiness_path")
    path = "/" if path is None else path
    if not isinstance(path, str) or not path.startswith("/") or any(c.isspace() for c in path):
        raise errors.InvalidArgument("readiness_path must be a URL path starting with '/', not {0!r}".format(path))
    checked["readiness_path"] = path
    return checked


def annotations_of(checked):
    """The policy annotations (all strings) of a checked policy."""
    built = {}
    for option, annotation, kind in (entry[:3] for entry in POLICY):
        value = checked[option]
        built[annotation] = format_duration(value) if kind == "duration" else str(value)
    return built


def check_function_name(name):
    """A function's name: a DNS-1123 label that starts with a letter, as its Service's must."""
    check_name(name, "function name", label=True)
    if not name[0].isalpha():
        raise errors.InvalidArgument("function name {0!r} must start with a letter (it names a Service)".format(name))
    return name


def check_activator_url(url):
    """``url`` without a trailing '/', when it is an http(s) URL with a host; None stays None."""
    if url is None or url == "":
        return None
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url):
        raise errors.InvalidArgument(
            "activator_url must be an http or https URL such as http://activator.example.com:8080, not {0!r}".format(url))
    return url.rstrip("/")


def function_url(activator_url, namespace, name):
    """Where the activator serves the function, or None without an activator URL."""
    base = check_activator_url(activator_url)
    if base is None:
        return None
    return "{0}/function/{1}/{2}/".format(base, namespace, name)


# --- building ----------------------------------------------------------------------------------
def _env(env):
    built = []
    for key, value in (env or {}).items():
        if not key:
            raise errors.InvalidArgument("an environment variable needs a name")
        built.append({"name": str(key), "value": "" if value is None else str(value)})
    return built


def _resources(resources):
    built = {}
    for part in ("requests", "limits"):
        amounts = dict((key, check_quantity(value, "resources.{0}.{1}".format(part, key)))
                       for key, value in ((resources or {}).get(part) or {}).items() if value is not None)
        if amounts:
            built[part] = amounts
    return built


def _container(params, checked):
    if not params.get("image"):
        raise errors.InvalidArgument("image is required with state=present")
    container = {"name": CONTAINER_NAME, "image": params["image"]}
    for option, field in (("command", "command"), ("args", "args"), ("image_pull_policy", "imagePullPolicy")):
        if params.get(option) is not None:
            container[field] = params[option]
    if params.get("env"):
        container["env"] = _env(params["env"])
    container["ports"] = [{"name": "http", "containerPort": checked["port"], "protocol": "TCP"}]
    resources = _resources(params.get("resources"))
    if resources:
        container["resources"] = resources
    # the pod is Ready (and in the Service's endpoints) when its readiness path answers
    container["readinessProbe"] = {"httpGet": {"path": checked["readiness_path"], "port": checked["port"]},
                                   "periodSeconds": 1, "failureThreshold": 1}
    return container


def _labels(name, given):
    labels = dict((str(key), str(value)) for key, value in (given or {}).items())
    if labels.get(FUNCTION_LABEL, name) != name:
        raise errors.InvalidArgument("labels may not set {0}: it is the function's name".format(FUNCTION_LABEL))
    labels[FUNCTION_LABEL] = name
    return labels


def _annotations(checked, given):
    annotations = dict((str(key), str(value)) for key, value in (given or {}).items())
    clash = sorted(key for key in annotations if key in POLICY_ANNOTATIONS)
    if clash:
        raise errors.InvalidArgument("annotations may not set {0}: use the options of the same meaning".format(
            ", ".join(clash)))
    annotations.update(annotations_of(checked))
    return annotations


def build(params):
    """``(deployment, service)`` manifests of the ``function`` module's options; ``service`` is None
    without O(service). The Deployment's ``spec.replicas`` is min-scale: right for a new function
    only (``without_replicas`` for a live one). For ``state=absent`` only names are checked."""
    name = check_function_name(params.get("name"))
    namespace = check_name(params.get("namespace"), "namespace", label=True)
    check_activator_url(params.get("activator_url"))
    if params.get("state", "present") == "absent":
        identity = {"name": name, "namespace": namespace}
        return ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": dict(identity)},
                {"apiVersion": "v1", "kind": "Service", "metadata": dict(identity)})
    checked = policy(params)
    labels = _labels(name, params.get("labels"))
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels,
                     "annotations": _annotations(checked, params.get("annotations"))},
        "spec": {
            "replicas": checked["min_scale"],
            "selector": {"matchLabels": {FUNCTION_LABEL: name}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [_container(params, checked)]},
            },
        },
    }
    service = None
    if params.get("service"):
        service_port = _count(params, "service_port", SERVICE_PORT_DEFAULT, minimum=1, maximum=65535)
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": {FUNCTION_LABEL: name}},
            "spec": {
                "type": "LoadBalancer",
                "selector": {FUNCTION_LABEL: name},
                "ports": [{"name": "http", "port": service_port, "targetPort": checked["port"], "protocol": "TCP"}],
            },
        }
    elif params.get("service_port") is not None:
        raise errors.InvalidArgument("service_port goes with service: true")
    return deployment, service


def without_replicas(deployment):
    """The Deployment manifest for a live function: ``spec.replicas`` left out, since the activator
    owns it (an apply that left it in would take it back, or conflict with the activator's scale)."""
    spec = dict(deployment["spec"])
    spec.pop("replicas", None)
    return dict(deployment, spec=spec)


def replicas_to_raise(live, min_scale):
    """The replicas a live Deployment must be raised to for ``min_scale``, or None when it already
    runs at least that many (the activator's choice above min-scale stands)."""
    if live is None:
        return None
    current = (live.get("spec") or {}).get("replicas", 1)
    return min_scale if current < min_scale else None


def _owned_keys(live, where, manager):
    """The keys of the map at ``where`` (``("metadata", "labels")``) that ``manager`` applied in ``live``."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            fields = entry.get("fieldsV1")
            fields = json.loads(fields) if isinstance(fields, str) else (fields or {})
            return set(path[len(where)] for path in drift.owned_paths(fields)
                       if path[:len(where)] == where and len(path) > len(where))
    return set()


def carry_over(params, live, manager, live_service=None):
    """``params`` with the options left out filled from the live function ``live`` (None: new), so
    that an option left out keeps what an earlier run set, as everywhere in the collection: the
    policy from its annotations, the container's fields from its pod template, and the labels and
    annotations our ``manager`` applied. A new function takes the defaults instead."""
    if live is None:
        return params
    filled = dict(params)
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    for option, value in policy_of(live).items():
        if filled.get(option) is None and ANNOTATION_OF[option] in annotations:
            filled[option] = value
    containers = ((((live.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    container = next((c for c in containers if c.get("name") == CONTAINER_NAME), {})
    for option, field in (("command", "command"), ("args", "args"), ("image_pull_policy", "imagePullPolicy"),
                          ("resources", "resources")):
        if filled.get(option) is None and container.get(field):
            filled[option] = container[field]
    if filled.get("env") is None and container.get("env"):
        filled["env"] = dict((e.get("name"), e.get("value", "")) for e in container["env"] if "valueFrom" not in e)
    metadata = live.get("metadata") or {}
    if filled.get("labels") is None:
        keys = _owned_keys(live, ("metadata", "labels"), manager) - set([FUNCTION_LABEL])
        filled["labels"] = dict((key, value) for key, value in (metadata.get("labels") or {}).items() if key in keys)
    if filled.get("annotations") is None:
        keys = _owned_keys(live, ("metadata", "annotations"), manager) - set(POLICY_ANNOTATIONS)
        filled["annotations"] = dict((key, value) for key, value in (metadata.get("annotations") or {}).items()
                                     if key in keys)
    return filled


# --- reading back -----------------------------------------------------------------------------
def policy_of(deployment):
    """The policy a live Deployment's annotations say, option -> value, unparsable values as given."""
    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    read = {}
    for option, annotation, kind, default in POLICY:
        value = annotations.get(annotation)
        if value is None:
            value = default
        if kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                pass
        read[option] = value
    return read


def scale_of(deployment):
    """Replicas asked for and ready, of a live Deployment (zeros for None)."""
    spec, status = (deployment or {}).get("spec") or {}, (deployment or {}).get("status") or {}
    return {"replicas": spec.get("replicas", 0) if deployment else 0,
            "ready_replicas": status.get("readyReplicas", 0) or 0,
            "available_replicas": status.get("availableReplicas", 0) or 0}


def readiness_for(min_scale):
    """What ready means for a function: its Deployment seen by the controller at its generation,
    and, for a min-scale above 0, that many replicas ready. A stalled rollout fails at once."""
    def verdict(obj):
        status = obj.get("status") or {}
        progressing = kinds.conditions_of(obj).get("Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            return kinds.Verdict(kinds.FAILED, "rollout stalled: {0}".format(progressing.get("message") or ""))
        if status.get("observedGeneration", 0) < (obj.get("metadata") or {}).get("generation", 0):
            return kinds.Verdict(kinds.PENDING, "waiting for the controller to see the latest spec")
        ready = status.get("readyReplicas", 0) or 0
        if ready >= min_scale:
            return kinds.Verdict(kinds.READY)
        return kinds.Verdict(kinds.PENDING, "{0} of {1} replicas (min_scale) ready".format(ready, min_scale))
    return verdict


def _image(deployment):
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    chosen = next((c for c in containers if c.get("name") == CONTAINER_NAME), containers[0] if containers else {})
    return chosen.get("image")


def summarize(deployment, service=None, activator_url=None):
    """What the modules return of one function (None when there is none)."""
    if deployment is None:
        return None
    metadata = deployment.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    ingress = (((service or {}).get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return {
        "name": name,
        "namespace": namespace,
        "image": _image(deployment),
        "url": function_url(activator_url, namespace, name),
        "policy": policy_of(deployment),
        "scale": scale_of(deployment),
        "labels": metadata.get("labels") or {},
        "service": None if service is None else {
            "name": (service.get("metadata") or {}).get("name"),
            "type": (service.get("spec") or {}).get("type"),
            "ports": (service.get("spec") or {}).get("ports") or [],
            "ip": next((entry.get("ip") or entry.get("hostname") for entry in ingress), None),
        },
        "deployment": deployment,
    }


def is_function(deployment):
    """Whether a Deployment is a function: it carries the label with its own name."""
    metadata = deployment.get("metadata") or {}
    return (metadata.get("labels") or {}).get(FUNCTION_LABEL) == metadata.get("name")
