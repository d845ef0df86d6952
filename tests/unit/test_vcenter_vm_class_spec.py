"""VM class options -> API fields -> the PATCH of what differs."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import vm_class_spec as spec

CURRENT = spec.normalized({"id": "small", "cpu_count": 2, "memory_MB": 2048, "cpu_reservation": 0,
                           "memory_reservation": 50, "description": "", "devices": {}, "config_status": "READY"})


def _params(**given):
    params = dict.fromkeys(spec.FIELDS)
    params["name"] = "small"
    params.update(given)
    return params


def test_unchanged_options_patch_nothing():
    assert spec.update_spec(CURRENT, spec.desired_fields(_params(cpu_count=2, memory_mb=2048))) == {}


def test_changed_options_patch_only_themselves_in_api_spelling():
    assert spec.update_spec(CURRENT, spec.desired_fields(_params(cpu_count=2, memory_mb=4096, description="x"))) == {
        "memory_MB": 4096, "description": "x"}


def test_devices_in_api_spelling_and_empty_lists_dropped():
    fields = spec.desired_fields(_params(devices={"vgpu_devices": [{"profile_name": "grid-2q"}],
                                                  "dynamic_direct_path_io_devices": None}))
    assert fields == {"devices": {"vgpu_devices": [{"profile_name": "grid-2q"}]}}
    assert spec.update_spec(spec.after(CURRENT, fields), fields) == {}


def test_create_needs_cpu_and_memory():
    with pytest.raises(InvalidArgument, match="needs memory_mb"):
        spec.create_spec("small", spec.desired_fields(_params(cpu_count=2)))
    assert spec.create_spec("small", spec.desired_fields(_params(cpu_count=2, memory_mb=1))) == {
        "id": "small", "cpu_count": 2, "memory_MB": 1}


@pytest.mark.parametrize(("given", "message"), [
    ({"name": "Small"}, "not valid"), ({"cpu_count": 0}, "at least 1"), ({"memory_mb": -1}, "at least 1"),
    ({"memory_reservation": 101}, "0 to 100"), ({"cpu_reservation": -1}, "0 to 100"),
])
def test_bad_options_are_refused(given, message):
    with pytest.raises(InvalidArgument, match=message):
        spec.check_settings(_params(**given))


def test_returned_classes_name_memory_and_devices_as_the_options_do():
    answer = {"id": "gpu", "cpu_count": 2, "memory_MB": 4096,
              "devices": {"dynamic_direct_path_IO_devices": [{"vendor_id": 1, "device_id": 2}]}}
    shown = spec.with_option_names(answer)
    assert shown["memory_mb"] == 4096 and shown["memory_MB"] == 4096  # the old key stays, deprecated
    assert shown["devices"]["dynamic_direct_path_io_devices"] == [{"vendor_id": 1, "device_id": 2}]
    assert "memory_mb" not in answer  # the answer itself is not changed
    assert spec.with_option_names({}) == {}
