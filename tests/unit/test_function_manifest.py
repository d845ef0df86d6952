"""The function builder: the Deployment and Service of a function, its policy annotations, the
checks of every option before anything is written, and who owns the replicas once it is live."""
from __future__ import annotations

import json

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import drift, kinds
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import function_manifest as fm


def params(**changes):
    built = {"name": "hello", "namespace": "team-a", "state": "present", "image": "pacific/echo:1.0"}
    built.update(changes)
    return built


def test_defaults_are_the_contract():
    deployment, service = fm.build(params())
    assert service is None
    meta = deployment["metadata"]
    assert (deployment["apiVersion"], deployment["kind"], meta["name"], meta["namespace"]) == (
        "apps/v1", "Deployment", "hello", "team-a")
    assert meta["labels"] == {"pacific.supervisor/function": "hello"}
    assert meta["annotations"] == {
        "autoscaling.knative.dev/min-scale": "0",
        "autoscaling.knative.dev/max-scale": "0",
        "autoscaling.knative.dev/target": "100",
        "autoscaling.knative.dev/target-utilization-percentage": "70",
        "autoscaling.knative.dev/window": "60s",
        "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "0s",
        "pacific.supervisor/container-concurrency": "0",
        "pacific.supervisor/readiness-path": "/",
        "pacific.supervisor/cold-start-timeout": "300s",
        "pacific.supervisor/port": "8080",
        "pacific.supervisor/idle-window": "30s",
    }
    spec = deployment["spec"]
    assert spec["replicas"] == 0
    assert spec["selector"] == {"matchLabels": {"pacific.supervisor/function": "hello"}}
    assert spec["template"]["metadata"]["labels"] == {"pacific.supervisor/function": "hello"}
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == "pacific/echo:1.0"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": 8080}


def test_options_become_annotations_and_the_pod_template():
    deployment, service = fm.build(params(
        min_scale=2, max_scale=5, target=10, target_utilization_percentage=50, window="1m30s",
        scale_to_zero_pod_retention_period=5, container_concurrency=4, readiness_path="/healthz",
        cold_start_timeout="1500ms", port=9000, idle_window="2s", env={"A": 1}, args=["--x"],
        resources={"requests": {"cpu": "250m", "memory": "256Mi"}}, labels={"tier": "api"},
        annotations={"owner": "team-a"}, service=True, service_port=8081))
    annotations = deployment["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "2"
    assert annotations["autoscaling.knative.dev/window"] == "90s"
    assert annotations["autoscaling.knative.dev/scale-to-zero-pod-retention-period"] == "5s"
    assert annotations["pacific.supervisor/cold-start-timeout"] == "1500ms"
    assert annotations["pacific.supervisor/readiness-path"] == "/healthz"
    assert annotations["owner"] == "team-a"
    assert all(isinstance(value, str) for value in annotations.values())
    assert deployment["spec"]["replicas"] == 2
    assert deployment["metadata"]["labels"] == {"tier": "api", "pacific.supervisor/function": "hello"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["args"] == ["--x"]
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"}}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 9000}
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["selector"] == {"pacific.supervisor/function": "hello"}
    assert service["spec"]["ports"] == [{"name": "http", "port": 8081, "targetPort": 9000, "protocol": "TCP"}]
    assert fm.policy_of(deployment)["window"] == "90s"
    assert fm.policy_of(deployment)["min_scale"] == 2


@pytest.mark.parametrize("changes, words", [
    ({"min_scale": 3, "max_scale": 2}, "min_scale (3) must not be above max_scale (2"),
    ({"min_scale": -1}, "min_scale must be at least 0, not -1"),
    ({"target": 0}, "target must be at least 1, not 0"),
    ({"target_utilization_percentage": 101}, "target_utilization_percentage must be between 1 and 100"),
    ({"container_concurrency": 1001}, "container_concurrency must be between 0 and 1000"),
    ({"port": 70000}, "port must be between 1 and 65535"),
    ({"window": "soon"}, "window must be a duration such as 60s"),
    ({"window": "2s"}, "window must be between 6s and 3600s"),
    ({"idle_window": "0s"}, "idle_window must be above 0"),
    ({"cold_start_timeout": "-5s"}, "cold_start_timeout must be a duration"),
    ({"scale_to_zero_pod_retention_period": True}, "scale_to_zero_pod_retention_period must be a duration"),
    ({"readiness_path": "healthz"}, "readiness_path must be a URL path starting with '/'"),
    ({"name": "9lives"}, "must start with a letter"),
    ({"name": "Hello"}, "not a valid DNS-1123 label"),
    ({"image": None}, "image is required"),
    ({"activator_url": "activator:8080"}, "activator_url must be an http or https URL"),
    ({"labels": {"pacific.supervisor/function": "other"}}, "labels may not set pacific.supervisor/function"),
    ({"annotations": {"autoscaling.knative.dev/target": "5"}}, "annotations may not set autoscaling.knative.dev/target"),
    ({"service_port": 80}, "service_port goes with service: true"),
    ({"service": True, "service_port": 0}, "service_port must be between 1 and 65535"),
    ({"resources": {"limits": {"cpu": "lots"}}}, "resources.limits.cpu 'lots' is not a Kubernetes quantity"),
])
def test_bad_options_fail_before_anything_is_built(changes, words):
    with pytest.raises(errors.InvalidArgument) as raised:
        fm.build(params(**changes))
    assert words in raised.value.msg


def test_absent_needs_only_names():
    deployment, service = fm.build({"name": "hello", "namespace": "team-a", "state": "absent"})
    assert deployment == {"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "hello", "namespace": "team-a"}}
    assert service["kind"] == "Service"


@pytest.mark.parametrize("given, seconds, written", [
    ("60s", 60, "60s"), ("1m30s", 90, "90s"), ("500ms", 0.5, "500ms"), ("1h", 3600, "3600s"),
    (45, 45, "45s"), ("2.5s", 2.5, "2500ms"), ("10", 10, "10s"),
])
def test_durations(given, seconds, written):
    assert fm.parse_duration(given, "x") == seconds
    assert fm.format_duration(fm.parse_duration(given, "x")) == written


def test_url_at_the_activator():
    assert fm.function_url("http://127.0.0.1:8080/", "team-a", "hello") == "http://127.0.0.1:8080/function/team-a/hello/"
    assert fm.function_url(None, "team-a", "hello") is None


def _live(replicas, owner_fields):
    """A live Deployment whose spec.replicas our apply owns (owner_fields has it) or not."""
    deployment = fm.build(params())[0]
    live = json.loads(json.dumps(deployment))
    live["spec"]["replicas"] = replicas
    live["metadata"]["managedFields"] = [
        {"manager": "pacific.supervisor", "operation": "Apply", "fieldsV1": owner_fields},
        {"manager": "function-activator", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    ]
    return live


def test_a_live_function_keeps_the_activators_replicas():
    desired = fm.build(params())[0]
    # the activator scaled it to 3 through the scale subresource: the field is its own now
    live = _live(3, {"f:metadata": {"f:labels": {"f:pacific.supervisor/function": {}}}})
    manifest = fm.without_replicas(desired)
    assert "replicas" not in manifest["spec"]
    assert "replicas" in desired["spec"]  # the builder's own manifest is untouched
    # carried over, nothing of ours puts replicas back; the apply leaves the activator's 3
    assert "replicas" not in drift.carry_over(live, manifest, "pacific.supervisor")["spec"]
    assert fm.replicas_to_raise(live, 0) is None
    assert fm.replicas_to_raise(live, 3) is None
    assert fm.replicas_to_raise(live, 5) == 5


def test_replicas_we_still_own_are_carried_at_their_live_value():
    desired = fm.build(params())[0]
    live = _live(0, {"f:spec": {"f:replicas": {}}})
    carried = drift.carry_over(live, fm.without_replicas(desired), "pacific.supervisor")
    assert carried["spec"]["replicas"] == 0  # not dropped (which would reset them to 1)


def test_readiness_by_min_scale():
    def deployment(generation=2, observed=2, ready=0):
        return {"metadata": {"generation": generation}, "spec": {"replicas": 4},
                "status": {"observedGeneration": observed, "readyReplicas": ready}}
    at_zero, warm = fm.readiness_for(0), fm.readiness_for(2)
    assert at_zero(deployment()).state == kinds.READY
    assert at_zero(deployment(observed=1)).state == kinds.PENDING
    assert warm(deployment(ready=1)).state == kinds.PENDING
    assert "1 of 2 replicas" in warm(deployment(ready=1)).message
    assert warm(deployment(ready=2)).state == kinds.READY
    stalled = deployment()
    stalled["status"]["conditions"] = [{"type": "Progressing", "status": "False",
                                        "reason": "ProgressDeadlineExceeded", "message": "too slow"}]
    assert warm(stalled).state == kinds.FAILED


def test_summary():
    deployment, service = fm.build(params(service=True))
    deployment["status"] = {"readyReplicas": 1, "availableReplicas": 1}
    deployment["spec"]["replicas"] = 2
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "10.0.0.5"}]}}
    summary = fm.summarize(deployment, service, "http://a:1")
    assert summary["scale"] == {"replicas": 2, "ready_replicas": 1, "available_replicas": 1}
    assert summary["url"] == "http://a:1/function/team-a/hello/"
    assert summary["service"]["ip"] == "10.0.0.5"
    assert summary["image"] == "pacific/echo:1.0"
    assert fm.summarize(None) is None
    assert fm.is_function(deployment)


def test_options_left_out_keep_what_the_live_function_has():
    first = fm.build(params(max_scale=4, window="1m", env={"A": "1"}, labels={"tier": "api"},
                            annotations={"owner": "me"}, resources={"requests": {"cpu": "250m"}}))[0]
    live = json.loads(json.dumps(first))
    live["metadata"]["labels"]["someone-else"] = "x"
    live["metadata"]["managedFields"] = [{"manager": "pacific.supervisor", "operation": "Apply", "fieldsV1": {
        "f:metadata": {"f:labels": {"f:tier": {}, "f:pacific.supervisor/function": {}},
                       "f:annotations": {"f:owner": {}}}}}]
    filled = fm.carry_over(params(target=20), live, "pacific.supervisor")
    again = fm.build(filled)[0]
    annotations = again["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/max-scale"] == "4"
    assert annotations["autoscaling.knative.dev/window"] == "60s"
    assert annotations["autoscaling.knative.dev/target"] == "20"
    assert annotations["owner"] == "me"
    assert again["metadata"]["labels"] == {"tier": "api", "pacific.supervisor/function": "hello"}
    container = again["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}]
    assert container["resources"] == {"requests": {"cpu": "250m"}}
    # checked against what it keeps: a min-scale above the live max-scale fails
    with pytest.raises(errors.InvalidArgument, match="must not be above max_scale"):
        fm.build(fm.carry_over(params(min_scale=5), live, "pacific.supervisor"))
    assert fm.carry_over(params(), None, "pacific.supervisor") == params()
