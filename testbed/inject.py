"""`python -m testbed fault NAME ...`: inject a fault into the running testbed, or undo it."""
from __future__ import annotations

import ssl

from testbed.errors import TestbedError
from testbed.faults import REVOCATIONS, STANDING, FaultBook
from testbed.layout import HOST
from testbed.stack import Testbed

ACTIONS = ("power-off", "apiserver-restart")
FAULTS = STANDING + REVOCATIONS + ACTIONS


def _vm_moref(testbed: Testbed, namespace: str, name: str) -> str:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    with testbed.admin_client() as api_client:
        try:
            vm = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
                "vmoperator.vmware.com", "v1alpha3", namespace, "virtualmachines", name)
        except ApiException as err:
            raise TestbedError(f"VirtualMachine {namespace}/{name}: {err.status} {err.reason}") from None
    moref = vm.get("status", {}).get("uniqueID")
    if not moref:
        raise TestbedError(f"VirtualMachine {namespace}/{name} has no VM in vCenter yet")
    return moref


def _set_power(testbed: Testbed, moref: str, on: bool) -> None:
    from pyVim.connect import Disconnect, SmartConnect
    from pyVim.task import WaitForTask
    from pyVmomi import vim

    creds = testbed.credentials
    si = SmartConnect(host=HOST, port=testbed.layout.ports.vcsim, user=creds.vcenter_user,
                      pwd=creds.vcenter_password,
                      sslContext=ssl.create_default_context(cafile=str(testbed.pki.ca_cert)))
    try:
        vm = vim.VirtualMachine(moref, si._stub)
        wanted = "poweredOn" if on else "poweredOff"
        if vm.runtime.powerState != wanted:
            WaitForTask(vm.PowerOnVM_Task() if on else vm.PowerOffVM_Task())
    finally:
        Disconnect(si)


def apply(testbed: Testbed, fault: str, namespace: str | None, name: str | None, undo: bool) -> str:
    """Inject (or undo) ``fault``; return a line saying what was done."""
    book = FaultBook(testbed.layout.faults_file)
    if fault in STANDING:
        if not namespace:
            raise TestbedError(f"{fault} needs --namespace (and optionally --name)")
        if undo:
            return f"{fault} undone" if book.undo(fault, namespace, name) else f"{fault} was not injected"
        book.inject(fault, namespace, name)
        return f"{fault} injected for {namespace}/{name or '*'}"
    if fault in REVOCATIONS:
        if undo:
            return f"{fault}: nothing to undo, new logins work"
        book.revoke(fault)
        return f"{fault}: credentials issued until now are void"
    if fault == "power-off":
        if not (namespace and name):
            raise TestbedError("power-off needs --namespace and --name of a VirtualMachine")
        _set_power(testbed, _vm_moref(testbed, namespace, name), on=undo)
        return f"VM of {namespace}/{name} powered {'on' if undo else 'off'} in vCenter"
    if fault == "apiserver-restart":
        if undo:
            return "apiserver-restart: nothing to undo"
        testbed.stop("kube-apiserver")
        testbed.up(log=lambda line: None)
        return "kube-apiserver restarted"
    raise TestbedError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
