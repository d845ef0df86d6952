"""`python -m testbed fault NAME ...`: inject a fault into the running testbed, or undo it."""
from __future__ import annotations

from testbed.errors import TestbedError
from testbed.faults import REVOCATIONS, STANDING, FaultBook
from testbed.stack import Testbed
from testbed.vcenter import session, wait_for_task

ACTIONS = ("power-off", "guest-cluster-unhealthy", "quota-exhausted", "apiserver-restart")
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
    from pyVmomi import vim

    with session(testbed.layout) as si:
        vm = vim.VirtualMachine(moref, si._stub)
        wanted = "poweredOn" if on else "poweredOff"
        if vm.runtime.powerState != wanted:
            wait_for_task(vm.PowerOnVM_Task() if on else vm.PowerOffVM_Task())


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
    if fault == "guest-cluster-unhealthy":
        if not (namespace and name):
            raise TestbedError("guest-cluster-unhealthy needs --namespace and --name of a guest cluster")
        return _guest_cluster_unhealthy(testbed, namespace, name, undo)
    if fault == "quota-exhausted":
        if not namespace:
            raise TestbedError("quota-exhausted needs --namespace")
        return _quota_exhausted(testbed, book, namespace, undo)
    if fault == "apiserver-restart":
        if undo:
            return "apiserver-restart: nothing to undo"
        testbed.stop("kube-apiserver")
        testbed.up(log=lambda line: None)
        return "kube-apiserver restarted"
    raise TestbedError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")


def _guest_cluster_unhealthy(testbed: Testbed, namespace: str, cluster: str, undo: bool) -> str:
    """Power off the VM of one worker Machine (the control plane's if there is no worker)."""
    from kubernetes import client

    with testbed.admin_client() as api_client:
        machines = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
            "cluster.x-k8s.io", "v1beta1", namespace, "machines",
            label_selector=f"cluster.x-k8s.io/cluster-name={cluster}")["items"]
    if not machines:
        raise TestbedError(f"guest cluster {namespace}/{cluster} has no Machines")
    if undo:
        for machine in machines:
            _set_power(testbed, _vm_moref(testbed, namespace, machine["metadata"]["name"]), on=True)
        return f"every Machine of {namespace}/{cluster} powered on"
    workers = [m for m in machines if "cluster.x-k8s.io/control-plane" not in m["metadata"].get("labels", {})]
    victim = sorted(m["metadata"]["name"] for m in workers or machines)[0]
    _set_power(testbed, _vm_moref(testbed, namespace, victim), on=False)
    return f"Machine {namespace}/{victim} failed: its VM is powered off"


def _quota_exhausted(testbed: Testbed, book: FaultBook, namespace: str, undo: bool) -> str:
    """Lower the vSphere Namespace's pod limit (in vCenter) to the pods it runs now."""
    import requests
    from kubernetes import client

    http = requests.Session()
    http.trust_env, http.verify = False, str(testbed.pki.ca_cert)
    creds, base = testbed.credentials, testbed.layout.vcenter_url
    http.headers["vmware-api-session-id"] = http.post(
        base + "/api/session", auth=(creds.vcenter_user, creds.vcenter_password)).json()
    path = f"{base}/api/vcenter/namespaces/instances/{namespace}"
    info = http.get(path)
    if info.status_code != 200:
        raise TestbedError(f"vSphere Namespace {namespace}: {info.status_code} {info.text}")
    if undo:
        saved = book.take_saved(f"quota-exhausted/{namespace}")
        if saved is None:
            return f"quota-exhausted was not injected in {namespace}"
        http.patch(path, json={"resource_spec": saved}).raise_for_status()
        return f"limits of {namespace} restored"
    with testbed.admin_client() as api_client:
        # what the quota counts: pods neither finished nor on their way out
        pods = len([pod for pod in client.CoreV1Api(api_client).list_namespaced_pod(namespace).items
                    if pod.status.phase not in ("Succeeded", "Failed") and not pod.metadata.deletion_timestamp])
    resource_spec = info.json().get("resource_spec") or {}
    book.save(f"quota-exhausted/{namespace}", resource_spec)
    http.patch(path, json={"resource_spec": {**resource_spec, "pod_count": pods}}).raise_for_status()
    return f"pod limit of {namespace} lowered to the {pods} pods it runs"
