"""Stripping, diffing, redaction and name checks of the engine: what `changed` and `--diff` rest on."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import engine

SERVER_OBJECT = {
    "apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
    "metadata": {"name": "web-1", "namespace": "team-a", "uid": "u-1", "resourceVersion": "42", "generation": 3,
                 "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "pacific.supervisor"}],
                 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
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
    assert engine.check_name(name) == name


@pytest.mark.parametrize("name", ["Web-1", "web_1", "-web", "web-", "", "x" * 254, "a..b", "a/b", None])
def test_invalid_subdomains(name):
    with pytest.raises(errors.InvalidArgument):
        engine.check_name(name, "VM name")


def test_labels_refuse_dots_and_length():
    with pytest.raises(errors.InvalidArgument, match="DNS-1123 label"):
        engine.check_name("a.b", "namespace", label=True)
    with pytest.raises(errors.InvalidArgument):
        engine.check_name("x" * 64, "namespace", label=True)
    assert engine.check_name("x" * 63, label=True)


def test_invalid_name_message_names_the_value_and_rule():
    with pytest.raises(errors.InvalidArgument) as caught:
        engine.check_name("Web_1", "VM name", label=True)
    assert "VM name 'Web_1' is not a valid DNS-1123 label" in caught.value.msg
