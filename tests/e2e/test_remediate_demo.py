"""The last step of `make demo` (`python -m testbed remediate-demo`): the real ansible-rulebook
repairs the demo VM powered off in vCenter, and every step is told."""
from __future__ import annotations

import pytest
from kubernetes import client

from testbed import demo
from tests.collection_path import collection_tree

pytestmark = pytest.mark.testbed


def test_the_demo_vm_powered_off_in_vcenter_is_powered_on_by_the_rulebook(testbed, admin_client):
    demo.run(testbed)
    told: list[str] = []
    record = demo.remediation(testbed, str(collection_tree()), say=told.append)
    assert [line.split(".", 1)[0] for line in told] == ["1", "2", "3", "4", "5"]
    assert "VM of demo/web-1 powered off in vCenter" in told[1]
    vm = client.CustomObjectsApi(admin_client).get_namespaced_custom_object(
        "vmoperator.vmware.com", "v1alpha3", "demo", "virtualmachines", "web-1")
    assert record["scenario"] == "vm_powered_off" and record["outcome"] == "remediated"
    assert record["object"]["uid"] == vm["metadata"]["uid"]
    assert record["detail"]["moref"] == vm["status"]["uniqueID"]
    assert record["detail"]["powered_off_by"] == testbed.credentials.vcenter_user
    assert vm["status"]["powerState"] == "PoweredOn" and vm["spec"]["powerState"] == "PoweredOn"
