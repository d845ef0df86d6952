"""Stripping, diffing, redaction and name checks of the engine: what `changed` and `--diff` rest on."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import engine, names

SERVER_OBJECT = {
    "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
    "metadata": {"name": "web-1", "namespace": "team-a", "uid": "u-1", "resourceVersion": "42", "generation": 3,
                 "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "pacific.supervisor"}],
                 # VM Operator's conversion webhook keeps the hub version's data (status too) here
                 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                                 "vmoperator.vmware.com/conversion": '{"status": {"uniqueID": "vm-42"}}'},
                 "labels": {"app": "web"}, "finalizers": ["vmoperator.vmware.com/virtualmachine"]},
    "spec": {"className": "small", "powerState": "PoweredOn"},
    "status": {"powerState": "PoweredOn", "uniqueID": "vm-42"},
}


def test_strip_drops_what_the_server_manages_and_keeps_the_rest():
    stripped = engine.strip(SERVER_OBJECT)
    assert stripped == {
        "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
        "metadata": {"name": "web-1", "namespace": "team-a", "labels": {"app": "web"},
                     "finalizers": ["vmoperator.vmware.com/virtualmachine"]},
        "spec": {"className": "small", "powerState": "PoweredOn"},
    }
    assert SERVER_OBJECT["metadata"]["uid"] == "u-1"  # the input is not modified
    assert engine.strip(None) is None


def test_a_new_resource_version_or_status_is_no_change():
    after = copy.deepcopy(SERVER_OBJECT)
    after["metadata"].update(resourceVersion="43", managedFields=[])
    after["status"]["powerState"] = "PoweredOff"
    assert not engine.is_changed(SERVER_OBJECT, after)


def test_a_spec_or_label_change_is_a_change():
    after = copy.deepcopy(SERVER_OBJECT)
    after["spec"]["className"] = "large"
    assert engine.is_changed(SERVER_OBJECT, after)
    after = copy.deepcopy(SERVER_OBJECT)
    after["metadata"]["labels"]["tier"] = "front"
    assert engine.is_changed(SERVER_OBJECT, after)


def test_creation_and_deletion_are_changes():
    assert engine.is_changed(None, SERVER_OBJECT)
    assert engine.is_changed(SERVER_OBJECT, None)
    assert not engine.is_changed(None, None)


def test_diff_is_stripped_and_empty_for_absent():
    diff = engine.diff_of(None, SERVER_OBJECT)
    assert diff["before"] == {}
    assert "status" not in diff["after"] and "uid" not in diff["after"]["metadata"]


def test_secret_values_never_reach_diff_or_result():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
              "data": {"user-data": "c2VjcmV0"}, "stringData": {"password": "hunter2"}}
    diff = engine.diff_of(None, secret)
    assert diff["after"]["data"] == {"user-data": engine.REDACTED}
    assert diff["after"]["stringData"] == {"password": engine.REDACTED}
    assert "c2VjcmV0" not in repr(engine.redact(secret)) and "hunter2" not in repr(engine.redact(secret))
    # but a changed value is still a change
    changed = copy.deepcopy(secret)
    changed["data"]["user-data"] = "b3RoZXI="
    assert engine.is_changed(secret, changed)


def test_redact_drops_managed_fields_only():
    shown = engine.redact(SERVER_OBJECT)
    assert "managedFields" not in shown["metadata"]
    assert shown["status"] == SERVER_OBJECT["status"]


@pytest.mark.parametrize("name", ["web-1", "a", "a.b-c", "x" * 253])
def test_valid_subdomains(name):
    assert names.check_name(name) == name


@pytest.mark.parametrize("name", ["Web-1", "web_1", "-web", "web-", "", "x" * 254, "a..b", "a/b", None])
def test_invalid_subdomains(name):
    with pytest.raises(errors.InvalidArgument):
        names.check_name(name, "VM name")


def test_labels_refuse_dots_and_length():
    with pytest.raises(errors.InvalidArgument, match="DNS-1123 label"):
        names.check_name("a.b", "namespace", label=True)
    with pytest.raises(errors.InvalidArgument):
        names.check_name("x" * 64, "namespace", label=True)
    assert names.check_name("x" * 63, label=True)


def test_invalid_name_message_names_the_value_and_rule():
    with pytest.raises(errors.InvalidArgument) as caught:
        names.check_name("Web_1", "VM name", label=True)
    assert "VM name 'Web_1' is not a valid DNS-1123 label" in caught.value.msg


POD_MANIFEST = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo", "namespace": "team-a"},
                "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.1",
                                         "ports": [{"containerPort": 8080}]}]}}


def _as_the_server_has_it(image):
    """The pod as the apiserver answers an apply: the manifest plus the defaults it fills in."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "echo", "namespace": "team-a", "uid": "u-2", "resourceVersion": "7"},
            "spec": {"containers": [{"name": "echo", "image": image, "imagePullPolicy": "IfNotPresent",
                                     "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                     "terminationMessagePath": "/dev/termination-log",
                                     "terminationMessagePolicy": "File", "resources": {}}],
                     "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                     "securityContext": {}, "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
                     "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}]},
            "status": {"phase": "Running"}}


def test_a_pod_diff_shows_what_the_user_set_not_the_server_defaults():
    diff = engine.diff_of(_as_the_server_has_it("pacific/echo:1.0"), _as_the_server_has_it("pacific/echo:1.1"),
                          POD_MANIFEST)
    assert diff == {
        "before": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo", "namespace": "team-a"},
                   "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.0",
                                            "ports": [{"containerPort": 8080}]}]}},
        "after": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo", "namespace": "team-a"},
                  "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.1",
                                           "ports": [{"containerPort": 8080}]}]}},
    }


def test_a_diff_cut_to_the_manifest_still_shows_a_creation_and_a_removed_list_item():
    created = engine.diff_of(None, _as_the_server_has_it("pacific/echo:1.1"), POD_MANIFEST)
    assert created["before"] == {} and created["after"]["spec"] == POD_MANIFEST["spec"]
    two = _as_the_server_has_it("pacific/echo:1.0")
    two["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    shrunk = engine.diff_of(two, _as_the_server_has_it("pacific/echo:1.1"), POD_MANIFEST)
    assert [c["name"] for c in shrunk["before"]["spec"]["containers"]] == ["echo", "sidecar"]
    assert [c["name"] for c in shrunk["after"]["spec"]["containers"]] == ["echo"]


def test_metadata_is_written_one_way():
    assert names.metadata("web-1", "team-a", {"tier": 1}, {}) == {"name": "web-1", "namespace": "team-a",
                                                                  "labels": {"tier": "1"}}
    assert names.metadata("cluster-wide") == {"name": "cluster-wide"}


def test_manifest_builders_are_pure():
    """Builders turn options into manifests; only the Engine reaches the API."""
    import ast
    from pathlib import Path

    folder = Path(engine.__file__).parent
    for path in sorted(folder.glob("*_manifest.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                imported.update([node.module.rsplit(".", 1)[-1]] + [alias.name for alias in node.names])
        assert not imported & {"engine", "client", "Engine", "Target", "waiter"}, path.name
