"""How the WCP simulator reads a Supervisor Service version's definition (no testbed needed)."""
from __future__ import annotations

import base64

import pytest

from testbed.wcp import services
from testbed.wcp.errors import ApiError
from tests.conformance.test_govc import carvel_package


def _content(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_carvel_package_names_the_service_and_version():
    definition, content_type = services._definition(
        {"carvel_spec": {"version_spec": {"content": _content(carvel_package("1.2.3", "echo.example.com"))}}})
    assert content_type == "CARVEL_APPS_YAML"
    assert (definition["id"], definition["version"], definition["display_name"]) == \
        ("echo.example.com", "1.2.3", "Conformance echo")


def test_a_version_spec_without_its_wrapper_is_read_too():
    definition, _ = services._definition({"carvel_spec": {"content": _content(carvel_package("2.0.0", "x.example"))}})
    assert definition["version"] == "2.0.0"


def test_custom_spec_names_itself():
    definition, content_type = services._definition({"custom_spec": {
        "supervisor_service": "plain.example.com", "display_name": "Plain",
        "version_spec": {"version": "0.1.0", "content": _content("kind: ConfigMap\n")}}})
    assert (content_type, definition["id"], definition["version"]) == ("CUSTOM_YAML", "plain.example.com", "0.1.0")


@pytest.mark.parametrize("spec", [
    {},
    {"carvel_spec": {"content": "not base64!"}},
    {"carvel_spec": {"content": _content("kind: PackageMetadata\n")}},
    {"vsphere_spec": {"version_spec": {"content": _content("id: a\nversion: 1\neula: read me\n")}}},
])
def test_what_vcenter_refuses(spec):
    with pytest.raises(ApiError) as refused:
        services._definition(spec)
    assert refused.value.error_type == "INVALID_ARGUMENT"
