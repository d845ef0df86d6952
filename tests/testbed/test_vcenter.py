"""vcsim, the vCenter of the testbed, through pyVmomi as a vSphere admin would use it."""
from __future__ import annotations

import ssl

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from testbed import report
from testbed.layout import HOST
from testbed.vcenter import connect, vcsim_vms

pytestmark = pytest.mark.testbed


def test_pyvmomi_logs_in_and_counts_hosts_and_vms(testbed):
    si = connect(testbed.layout)
    try:
        content = si.RetrieveContent()
        assert content.about.apiType == "VirtualCenter"
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
        hosts = view.view
        # vcsim's VPX model, as the testbed starts it: two clusters of three hosts plus one
        # standalone host, two VMs per root pool; VMs of the Supervisor's namespaces come on top
        assert len(hosts) == 7
        model = [content.searchIndex.FindByInventoryPath(f"DC0/vm/{name}") for name in vcsim_vms(si)
                 if name.startswith("DC0_")]
        assert len(model) == 6
        assert {vm.runtime.host for vm in model} <= set(hosts)
    finally:
        Disconnect(si)
    assert report.vcenter_counts(testbed)["HostSystem"] == 7


def test_vcenter_refuses_a_wrong_password(testbed):
    with pytest.raises(vim.fault.InvalidLogin):
        connect(testbed.layout, password="not-" + testbed.credentials.vcenter_password)


def test_vcenter_certificate_is_the_testbed_ca(testbed):
    context = ssl.create_default_context()  # system trust only: our CA is not in it
    with pytest.raises(ssl.SSLError):
        SmartConnect(host=HOST, port=testbed.layout.ports.vcsim, user="x", pwd="y", sslContext=context)
