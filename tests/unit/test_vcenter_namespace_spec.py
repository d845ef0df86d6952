"""Namespace settings -> API fields -> the PATCH of what differs (pure logic of the namespace module)."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import namespace_spec as spec

CURRENT = spec.normalized({
    "cluster": "domain-c8", "description": "team a", "config_status": "RUNNING",
    "storage_specs": [{"policy": "p-2"}, {"policy": "p-1", "limit": 100}],
    "resource_spec": {"cpu_limit": 1000, "memory_limit": 2048},
    "vm_service_spec": {"vm_classes": ["small", "large"]},
    "access_list": [{"subject": "devops", "domain": "vsphere.local", "subject_type": "USER", "role": "EDIT"}],
})


def _params(**given):
    params = {"name": "team-a", "storage_policies": None, "access": None}
    params.update({option: None for option in spec.LIMITS})
    params.update(given)
    return params


def test_normalized_sorts_lists_and_fills_defaults():
    assert CURRENT["storage_specs"] == [{"policy": "p-1", "limit": 100}, {"policy": "p-2", "limit": None}]
    assert CURRENT["vm_service_spec"] == {"vm_classes": ["large", "small"], "content_libraries": []}
    assert spec.normalized({})["resource_spec"] == {} and spec.normalized({})["description"] == ""


def test_nothing_given_changes_nothing():
    assert spec.update_spec(CURRENT, spec.desired_fields({}, CURRENT)) == {}


def test_same_values_in_another_order_change_nothing():
    fields = spec.desired_fields({"storage_specs": [{"policy": "p-2", "limit": None}, {"policy": "p-1", "limit": 100}],
                                  "vm_classes": ["small", "large", "small"], "cluster": "domain-c8",
                                  "access": list(reversed(CURRENT["access_list"]))}, CURRENT)
    assert spec.update_spec(CURRENT, fields) == {}


def test_one_limit_patches_resource_spec_keeping_the_others():
    patch = spec.update_spec(CURRENT, spec.desired_fields({"limits": {"pod_count": 10, "cpu_limit": None}}, CURRENT))
    assert patch == {"resource_spec": {"cpu_limit": 1000, "memory_limit": 2048, "pod_count": 10}}


def test_content_libraries_keep_the_vm_classes():
    patch = spec.update_spec(CURRENT, spec.desired_fields({"content_libraries": ["lib-1"]}, CURRENT))
    assert patch == {"vm_service_spec": {"vm_classes": ["large", "small"], "content_libraries": ["lib-1"]}}


def test_only_changed_fields_are_patched():
    fields = spec.desired_fields({"description": "team a", "access": [
        {"subject": "devops", "domain": "vsphere.local", "subject_type": "USER", "role": "VIEW"}]}, CURRENT)
    assert list(spec.update_spec(CURRENT, fields)) == ["access_list"]


def test_a_namespace_cannot_move():
    with pytest.raises(InvalidArgument, match="cannot move"):
        spec.update_spec(CURRENT, spec.desired_fields({"cluster": "domain-c9"}, CURRENT))


def test_storage_entries_without_a_limit_leave_the_key_out():
    patch = spec.update_spec(CURRENT, spec.desired_fields({"storage_specs": [{"policy": "p-3", "limit": None}]},
                                                          CURRENT))
    assert spec.api_patch(patch) == {"storage_specs": [{"policy": "p-3"}]}
    assert spec.after(CURRENT, patch)["storage_specs"] == [{"policy": "p-3", "limit": None}]


def test_create_spec_needs_a_cluster_and_names_the_namespace():
    with pytest.raises(InvalidArgument, match="cluster is required"):
        spec.create_spec("team-a", {})
    created = spec.create_spec("team-a", spec.desired_fields({"cluster": "domain-c8", "limits": {"cpu_limit": 5}}))
    assert created == {"namespace": "team-a", "cluster": "domain-c8", "resource_spec": {"cpu_limit": 5},
                       "storage_specs": []}


@pytest.mark.parametrize(("given", "message"), [
    ({"name": "Team_A"}, "not valid"),
    ({"name": "a" * 64}, "not valid"),
    ({"cpu_limit": -1}, "cpu_limit must be zero or more"),
    ({"storage_policies": [{"name": "gold", "limit": -5}]}, "limit of storage policy 'gold'"),
    ({"storage_policies": [{"name": "gold", "limit": 1}, {"name": "gold", "limit": 2}]}, "listed twice"),
    ({"access": [{"subject": "ann", "domain": "x", "subject_type": "USER", "role": "EDIT"},
                 {"subject": "Ann", "domain": "x", "subject_type": "USER", "role": "VIEW"}]}, "two roles"),
])
def test_bad_settings_are_refused_before_anything_happens(given, message):
    with pytest.raises(InvalidArgument, match=message):
        spec.check_settings(_params(**given))


def test_good_settings_pass():
    spec.check_settings(_params(cpu_limit=0, storage_policies=[{"name": "gold", "limit": None}]))


def test_returned_limits_are_named_as_the_options():
    answer = {"cluster": "domain-c8", "resource_spec": {"cpu_limit": 1000, "pod_count": 20,
                                                        "storage_request_limit": 10240}}
    shown = spec.with_option_names(answer)
    assert shown["resource_spec"] == {"cpu_limit": 1000, "pod_limit": 20, "pod_count": 20,
                                      "storage_limit": 10240, "storage_request_limit": 10240}
    assert "pod_limit" not in answer["resource_spec"]
    assert spec.with_option_names({}) == {}
