"""The Pod builder, what a live pod can change in place, and what the pod modules return."""
from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client, engine, kinds, pod_manifest

PARAMS = {
    "name": "echo", "namespace": "team-a", "state": "present", "labels": {"app": "echo"}, "annotations": None,
    "restart_policy": "Never",
    "containers": [{
        "name": "echo", "image": "pacific/echo:1.0", "command": None, "args": ["-text=hi"],
        "env": {"ECHO_TEXT": "hello", "PORT": 8080},
        "ports": [{"container_port": 8080, "name": "http", "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": 1, "memory": None}},
        "image_pull_policy": None, "working_dir": None,
    }],
}


def params(**changes):
    built = copy.deepcopy(PARAMS)
    built.update(changes)
    return built


def test_build_sets_only_what_is_given():
    assert pod_manifest.build(params()) == {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "echo", "namespace": "team-a", "labels": {"app": "echo"}},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "echo", "image": "pacific/echo:1.0", "args": ["-text=hi"],
            "env": [{"name": "ECHO_TEXT", "value": "hello"}, {"name": "PORT", "value": "8080"}],
            "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}],
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1"}},
        }]},
    }


def test_absent_needs_no_containers():
    assert pod_manifest.build(params(state="absent", containers=None)) == {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo", "namespace": "team-a", "labels": {"app": "echo"}}}


@pytest.mark.parametrize("changes, message", [
    ({"name": "Echo_1"}, "pod name 'Echo_1' is not a valid DNS-1123 subdomain"),
    ({"namespace": "team.a"}, "namespace 'team.a' is not a valid DNS-1123 label"),
    ({"containers": []}, "a pod needs at least one container"),
    ({"containers": [{"name": "App", "image": "x"}]}, "container name 'App' is not a valid DNS-1123 label"),
    ({"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}, "container name 'a' is used twice"),
    ({"containers": [{"name": "a", "image": ""}]}, "container a needs an image"),
    ({"containers": [{"name": "a", "image": "x", "ports": [{"container_port": 0}]}]},
     "container a: container_port must be between 1 and 65535, not 0"),
    ({"containers": [{"name": "a", "image": "x", "ports": [{"container_port": 80, "protocol": "HTTP"}]}]},
     "container a: protocol must be one of TCP, UDP, SCTP, not 'HTTP'"),
    ({"containers": [{"name": "a", "image": "x", "resources": {"limits": {"memory": "lots"}}}]},
     "container a: resources.limits.memory 'lots' is not a Kubernetes quantity"),
    ({"restart_policy": "Sometimes"}, "restart_policy must be one of Always, OnFailure, Never"),
])
def test_bad_input_is_refused_before_any_request(changes, message):
    with pytest.raises(errors.InvalidArgument) as raised:
        pod_manifest.build(params(**changes))
    assert str(raised.value).startswith(message)


def live(manifest):
    """The pod as the server has it: our fields plus defaults, quantities canonical."""
    obj = copy.deepcopy(manifest)
    obj["metadata"].update(uid="u-1", resourceVersion="7")
    for container in obj["spec"]["containers"]:
        container.update(terminationMessagePath="/dev/termination-log", imagePullPolicy="IfNotPresent")
        limits = container.get("resources", {}).get("limits", {})
        if limits.get("cpu") == "1":
            limits["cpu"] = "1000m"  # what another spelling of the same amount looks like
    obj["spec"].update(dnsPolicy="ClusterFirst", nodeName="dc0-c0-h0")
    return obj


def test_the_same_spec_has_no_immutable_change_despite_defaults_and_spelling():
    manifest = pod_manifest.build(params())
    assert pod_manifest.immutable_changes(manifest, live(manifest)) == []
    assert pod_manifest.immutable_changes(manifest, None) == []


def test_image_and_labels_change_in_place():
    manifest = pod_manifest.build(params())
    changed = pod_manifest.build(params(labels={"app": "echo", "tier": "front"}, containers=[
        dict(PARAMS["containers"][0], image="pacific/echo:1.1")]))
    assert pod_manifest.immutable_changes(changed, live(manifest)) == []


@pytest.mark.parametrize("container_changes, expected", [
    ({"env": {"ECHO_TEXT": "bye", "PORT": 8080}}, ["containers[echo].env"]),
    ({"args": ["-text=bye"]}, ["containers[echo].args"]),
    ({"command": ["/bin/echo"]}, ["containers[echo].command"]),
    ({"ports": [{"container_port": 9090, "name": "http", "protocol": "TCP"}]}, ["containers[echo].ports"]),
    ({"resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"cpu": 1}}},
     ["containers[echo].resources"]),
])
def test_container_fields_a_pod_cannot_change_are_named(container_changes, expected):
    manifest = pod_manifest.build(params())
    changed = pod_manifest.build(params(containers=[dict(PARAMS["containers"][0], **container_changes)]))
    assert pod_manifest.immutable_changes(changed, live(manifest)) == expected


def test_restart_policy_and_container_set_are_immutable():
    manifest = pod_manifest.build(params())
    assert pod_manifest.immutable_changes(pod_manifest.build(params(restart_policy="Always")),
                                          live(manifest)) == ["restartPolicy"]
    two = pod_manifest.build(params(containers=PARAMS["containers"] + [{"name": "side", "image": "busybox"}]))
    assert pod_manifest.immutable_changes(two, live(manifest)) == ["containers (names: echo -> echo, side)"]


def test_an_unset_restart_policy_is_the_servers_default():
    manifest = pod_manifest.build(params(restart_policy=None))
    server = live(manifest)
    server["spec"]["restartPolicy"] = "Always"
    assert pod_manifest.immutable_changes(manifest, server) == []
    assert pod_manifest.immutable_changes(pod_manifest.build(params(restart_policy="Always")),
                                          live(manifest)) == []


def test_quantities_compare_by_amount():
    assert pod_manifest._quantity("500m") == pod_manifest._quantity("0.5")
    assert pod_manifest._quantity("1Gi") == pod_manifest._quantity("1024Mi")
    assert pod_manifest._quantity("1G") != pod_manifest._quantity("1Gi")
    assert pod_manifest._quantity("lots") == "lots"


@pytest.mark.parametrize("value", ["500m", "2", 2, 0.5, "512Mi", "1Gi", "1e3", "1.5", ".5", "+1"])
def test_quantities_the_api_takes_pass(value):
    assert pod_manifest.check_quantity(value, "cpu") == str(value)


@pytest.mark.parametrize("value", ["lots", "1 Gi", "1GB", "-1", "", "1.2.3", "Mi"])
def test_quantities_the_api_refuses_are_refused_first(value):
    with pytest.raises(errors.InvalidArgument, match="is not a Kubernetes quantity"):
        pod_manifest.check_quantity(value, "cpu")


def test_immutable_refusal_is_recognised_by_the_servers_cause_not_its_words():
    status = {"kind": "Status", "code": 422, "reason": "Invalid", "message": "Pod \"echo\" is invalid: spec: Forbidden: ...",
              "details": {"name": "echo", "kind": "Pod", "causes": [
                  {"reason": "FieldValueForbidden", "message": "Forbidden: pod updates may not change fields other than",
                   "field": "spec"}]}}
    refusal = client.api_error(422, json.dumps(status), client.Target("apply", kinds.POD, "echo", "a"))
    assert pod_manifest.immutable_refusal(refusal)
    assert pod_manifest.immutable_refusal(refusal.reworded("in my words"))
    required = dict(status, details={"causes": [{"reason": "FieldValueRequired", "field": "spec.containers[0].image"}]})
    assert not pod_manifest.immutable_refusal(client.api_error(422, json.dumps(required), client.Target("apply")))
    # the words alone are not the refusal
    assert not pod_manifest.immutable_refusal(errors.InvalidArgument("spec: Forbidden: pod updates may not change fields"))
    assert not pod_manifest.immutable_refusal(errors.Forbidden("pod updates may not change fields"))


class RecordingClient(object):
    def __init__(self, answer):
        self.answer = answer
        self.requests = []

    def request(self, method, path, target, body=None, query=None, content_type=None):
        self.requests.append((method, path, body, query))
        return copy.deepcopy(self.answer)


def test_validate_as_new_is_a_dry_run_create_under_a_generated_name():
    manifest = pod_manifest.build(params())
    recording = RecordingClient({"metadata": {"name": "echo-x7k2p", "generateName": "echo-", "namespace": "team-a"},
                                 "spec": manifest["spec"]})
    would_be = pod_manifest.validate_as_new(engine.Engine(recording), manifest)
    (method, path, body, query), = recording.requests
    assert (method, path) == ("POST", "/api/v1/namespaces/team-a/pods")
    assert body["metadata"] == {"generateName": "echo-", "namespace": "team-a", "labels": {"app": "echo"}}
    assert ("dryRun", "All") in query
    assert would_be["metadata"] == {"name": "echo", "namespace": "team-a"}
    assert manifest["metadata"]["name"] == "echo"  # the manifest itself is untouched


def live_pod(**metadata):
    meta = {"name": "echo", "namespace": "team-a", "uid": "u-1", "resourceVersion": "42",
            "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"app": "echo"},
            "managedFields": [{"manager": "pacific.supervisor"}]}
    meta.update(metadata)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": "esxi-01", "restartPolicy": "Never",
                     "containers": [{"name": "echo", "image": "pacific/echo:1.0", "args": ["-text=hi"]}]},
            "status": {"phase": "Failed"}}


def test_a_restart_makes_the_pod_again_from_its_spec_without_its_node_status_or_server_fields():
    live = live_pod(annotations={"team": "a"})
    manifest = pod_manifest.restart_manifest(live)
    assert manifest == {"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "echo", "namespace": "team-a", "labels": {"app": "echo"},
                                     "annotations": {"team": "a"}},
                        "spec": {"restartPolicy": "Never", "containers": live["spec"]["containers"]}}
    assert live["spec"]["nodeName"] == "esxi-01", "the live pod is left as it was"


def test_a_pod_a_controller_owns_is_not_restarted_but_left_to_its_controller():
    owned = live_pod(ownerReferences=[{"kind": "ReplicaSet", "name": "web-5d9", "controller": True}])
    with pytest.raises(errors.InvalidArgument, match="owned by ReplicaSet web-5d9: delete it"):
        pod_manifest.restart_manifest(owned)
    merely_referenced = live_pod(ownerReferences=[{"kind": "ConfigMap", "name": "c"}])
    assert pod_manifest.restart_manifest(merely_referenced)["metadata"]["name"] == "echo"
