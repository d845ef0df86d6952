"""kubectl (built from the pinned k8s.io/kubernetes) and the ``kubectl vsphere login`` flow against the testbed.

The login is done as VMware documents the vSphere plugin for kubectl doing it: the Supervisor's
address read from vCenter, ``/wcp/loginbanner``, ``POST /wcp/login`` with HTTP Basic credentials
answering a JSON ``session_id``, and a kubeconfig with one context per vSphere Namespace the user
may use, its user ``wcp:<server>:<user>`` holding the session as a bearer token. kubectl then runs
with that kubeconfig as the namespace's developer, and with the admin's kubeconfig as the Supervisor
admin: discovery of VM Operator's API, ``explain`` of its CRDs, ``auth can-i``, ``get`` with the
CRDs' printer columns, a VM made with ``kubectl apply``.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import requests
import yaml

from testbed import build
from tests.conformance.conftest import judge, known_failures

pytestmark = pytest.mark.testbed

NAMESPACE = "conformance-kubectl"
VM_CLASS = "conformance-kubectl-small"
VM = "conformance-vm"
VMOP = "vmoperator.vmware.com"
VMOP_RESOURCES = ("virtualmachines", "virtualmachineclasses", "virtualmachineimages", "clustervirtualmachineimages",
                  "virtualmachineservices", "virtualmachinesetresourcepolicies")


def _http(testbed) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.verify = str(testbed.pki.ca_cert)
    return http


@pytest.fixture(scope="module")
def estate(testbed):
    """A vSphere Namespace where the developer may edit (and the viewer view), with a VM class and the vSAN
    policy, made over REST as an admin would; the Supervisor's address as vCenter reports it."""
    from tests.testbed.conftest import Vcenter, _absent, _until
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    classes, instances = ("/api/vcenter/namespace-management/virtual-machine-classes",
                          "/api/vcenter/namespaces/instances")
    vcenter.call("DELETE", f"{instances}/{NAMESPACE}")  # an aborted run's
    vcenter.call("DELETE", f"{classes}/{VM_CLASS}")
    read_namespace = _namespace_reader(testbed)
    _until(lambda: _absent(read_namespace, NAMESPACE), 60, "the namespace of an earlier run to go")
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    info = vcenter.call("GET", f"/api/vcenter/namespace-management/clusters/{cluster}").json()
    user, domain = testbed.credentials.developer_user.split("@")
    viewer, viewer_domain = testbed.credentials.viewer_user.split("@")
    assert vcenter.call("POST", classes, json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 2048}).ok
    answer = vcenter.call("POST", instances, json={
        "cluster": cluster, "namespace": NAMESPACE, "vm_service_spec": {"vm_classes": [VM_CLASS]},
        "storage_specs": [{"policy": info["master_storage_policy"]}],
        "access_list": [{"subject": user, "domain": domain, "subject_type": "USER", "role": "EDIT"},
                        {"subject": viewer, "domain": viewer_domain, "subject_type": "USER", "role": "VIEW"}]})
    assert answer.ok, answer.text
    deadline = time.monotonic() + 60
    while vcenter.call("GET", f"{instances}/{NAMESPACE}").json().get("config_status") != "RUNNING":
        assert time.monotonic() < deadline, "the namespace did not become RUNNING"
        time.sleep(0.2)
    _until(lambda: read_namespace(NAMESPACE).status.phase == "Active", 60,
           "the namespace to be Active in the Supervisor")
    _until_developer_may_edit(testbed)
    yield {"cluster": cluster, "endpoint": info["api_server_management_endpoint"]}
    vcenter.call("DELETE", f"{instances}/{NAMESPACE}")
    vcenter.call("DELETE", f"{classes}/{VM_CLASS}")


def _namespace_reader(testbed):
    """``read_namespace`` of the Supervisor, as its admin."""
    from kubernetes import client as kube, config as kube_config
    return kube.CoreV1Api(kube_config.new_client_from_config(str(testbed.layout.admin_kubeconfig))).read_namespace


def diagnosis(testbed) -> str:
    """When a developer's call fails: the namespace as the Supervisor holds it, and who deleted
    namespaces or bindings there (kube-apiserver's audit log, the WCP simulator's log)."""
    lines = []
    try:
        found = _namespace_reader(testbed)(NAMESPACE)
        lines.append(f"namespace {NAMESPACE}: phase {found.status.phase}, deletionTimestamp "
                     f"{found.metadata.deletion_timestamp}, created {found.metadata.creation_timestamp}")
    except Exception as err:  # pylint: disable=broad-except - a diagnosis never fails the diagnosis
        lines.append(f"namespace {NAMESPACE}: {str(err).splitlines()[0]}")
    audit = testbed.layout.logs / "audit-deletes.log"
    for line in audit.read_text().splitlines() if audit.exists() else []:
        if f'"{NAMESPACE}"' in line:
            event = json.loads(line)
            ref = event.get("objectRef", {})
            if ref.get("resource") in ("namespaces", "rolebindings"):
                lines.append(f"audit: {event['requestReceivedTimestamp']} {event['user']['username']} {event['verb']} "
                             f"{ref.get('resource')} {ref.get('name')} ({event.get('userAgent', '')[:40]})")
    wcp_log = testbed.layout.logs / "wcp.log"
    lines += [f"wcp: {line}" for line in (wcp_log.read_text().splitlines() if wcp_log.exists() else [])
              if NAMESPACE in line]
    return "\n".join(lines[-20:])


def _until_developer_may_edit(testbed, seconds=30):
    """Give the namespace's RoleBinding time to reach kube-apiserver's authorizer (RUNNING in vCenter
    does not wait for it): ask, as the admin, whether the developer may list VM classes there. Not an
    assertion - the calls below judge the access."""
    from kubernetes import client as kube, config as kube_config
    try:
        api = kube.AuthorizationV1Api(kube_config.new_client_from_config(str(testbed.layout.admin_kubeconfig)))
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
            "user": f"sso:{testbed.credentials.developer_user}", "resourceAttributes": {
                "namespace": NAMESPACE, "verb": "list", "group": VMOP, "resource": "virtualmachineclasses"}}}
        deadline = time.monotonic() + seconds
        while not api.create_subject_access_review(review).status.allowed and time.monotonic() < deadline:
            time.sleep(0.2)
    except Exception:  # pylint: disable=broad-except - only a wait; the calls themselves are the test
        pass


SUPERVISOR_API_PORT = 6443  # where a Supervisor serves the Kubernetes API; /wcp/login is on 443


def login_kubeconfig(testbed, server: str, token: str, namespaces: list[str], path: Path) -> Path:
    """The kubeconfig ``kubectl vsphere login`` writes: the Supervisor as a cluster named by its address,
    the API at ``https://<address>:6443``, the session as ``wcp:<server>:<user>``'s token, a context of
    that address and one per namespace."""
    user = f"wcp:{server}:{testbed.credentials.developer_user}"
    apiserver = f"https://{server}:{SUPERVISOR_API_PORT}"
    ca = base64.b64encode(testbed.pki.ca_cert.read_bytes()).decode()
    contexts = [{"name": server, "context": {"cluster": server, "user": user}}]
    contexts += [{"name": name, "context": {"cluster": server, "user": user, "namespace": name}} for name in namespaces]
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": namespaces[0] if namespaces else server,
        "clusters": [{"name": server, "cluster": {"server": apiserver, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"token": token}}], "contexts": contexts}))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def developer_login(testbed, estate, tmp_path_factory):
    """The flow's answers, by step; the kubeconfig written from them (None if the login failed); the
    Supervisor's address the flow used."""
    creds = testbed.credentials
    http = _http(testbed)
    auth = (creds.developer_user, creds.developer_password)
    server = estate["endpoint"]  # the Supervisor's address, as vCenter reports it
    base = f"https://{server}"
    steps = {"banner": http.get(f"{base}/wcp/loginbanner"), "login": http.post(f"{base}/wcp/login", auth=auth),
             "wrong": http.post(f"{base}/wcp/login", auth=(creds.developer_user, "not-the-password"))}
    steps["workloads"] = http.get(f"{base}/wcp/workloads", auth=auth)
    # tanzu context create --endpoint <address>: the discovery ConfigMap on 443, no credentials
    steps["vip-cluster-info"] = http.get(f"{base}/api/v1/namespaces/kube-public/configmaps/vip-cluster-info")
    kubeconfig = None
    if steps["login"].ok and steps["workloads"].ok:
        namespaces = [item["namespace"] for item in steps["workloads"].json()]
        kubeconfig = login_kubeconfig(testbed, server, steps["login"].json().get("session_id", ""), namespaces,
                                      tmp_path_factory.mktemp("kubectl-vsphere") / "config")
    return steps, kubeconfig, server


def _supervisor_address(testbed, estate) -> str | None:
    """The endpoint vCenter reports is an address of the Supervisor's own (not vCenter's), whose
    certificate names it, serving /wcp/login on 443 and the Kubernetes API on 6443."""
    endpoint = estate["endpoint"] or ""
    if ":" in endpoint:
        return (f"api_server_management_endpoint is {endpoint!r}, a host:port; a Supervisor's "
                "is its control plane address, serving /wcp/login on 443 and the Kubernetes API on 6443")
    if endpoint == testbed.layout.vcenter_url.split("://", 1)[1].rsplit(":", 1)[0]:
        return f"the Supervisor's address {endpoint} is vCenter's"
    http = _http(testbed)
    try:
        login = http.post(f"https://{endpoint}/wcp/login", timeout=10)
        version = http.get(f"https://{endpoint}:{SUPERVISOR_API_PORT}/version", timeout=10)
    except requests.RequestException as err:
        return f"https://{endpoint}: {type(err).__name__}: {err}"
    if login.status_code != 401:
        return f"POST /wcp/login without credentials is {login.status_code}"
    if version.status_code != 200 or "gitVersion" not in version.text:
        return f"GET :{SUPERVISOR_API_PORT}/version is {version.status_code}"
    return None


def test_login_at_the_supervisor_address(testbed, estate):
    judge("kubectl vsphere login --server=<the Supervisor's address from vCenter>", _supervisor_address(testbed, estate))


def _jwt(answer: requests.Response) -> str | None:
    if answer.status_code != 200:
        return f"{answer.status_code}: {answer.text[:200]}"
    token = answer.json().get("session_id") if answer.headers.get("Content-Type", "").startswith(
        "application/json") else None
    return None if isinstance(token, str) and token.count(".") == 2 else f"no JWT session_id in {answer.text[:200]}"


LOGIN_STEPS = {
    "kubectl vsphere login: GET /wcp/loginbanner": ("banner", lambda answer: None if answer.status_code == 200
                                                    else f"{answer.status_code}: {answer.text[:200]}"),
    "kubectl vsphere login: POST /wcp/login (HTTP Basic) answers a session_id": ("login", _jwt),
    "kubectl vsphere login: POST /wcp/login with a wrong password is 401": (
        "wrong", lambda answer: None if answer.status_code == 401 else f"{answer.status_code}, vCenter answers 401"),
    "kubectl vsphere login: GET /wcp/workloads lists the developer's namespace": (
        "workloads", lambda answer: None if answer.ok and NAMESPACE in [item.get("namespace") for item in answer.json()]
        else f"{answer.status_code}: {answer.text[:200]}"),
}


def _vip_cluster_info(answer: requests.Response) -> str | None:
    """As the Tanzu CLI parses it (``clusterInfoConfig``): ``data.kubeconfig``, a kubeconfig whose cluster
    is the Supervisor's API on 6443 of its address, with the CA that signs it."""
    if answer.status_code != 200:
        return f"{answer.status_code}: {answer.text[:200]}"
    clusters = (yaml.safe_load((answer.json().get("data") or {}).get("kubeconfig") or "{}") or {}).get("clusters") or []
    cluster = clusters[0].get("cluster", {}) if clusters else {}
    server = cluster.get("server", "")
    if not server.endswith(f":{SUPERVISOR_API_PORT}") or not cluster.get("certificate-authority-data"):
        return f"the kubeconfig's cluster is {cluster!r}"
    return None


LOGIN_STEPS["tanzu context create: GET kube-public/vip-cluster-info on 443 (no credentials)"] = (
    "vip-cluster-info", _vip_cluster_info)


@pytest.mark.parametrize("name", LOGIN_STEPS)
def test_login_step(developer_login, name):
    step, check = LOGIN_STEPS[name]
    judge(name, check(developer_login[0][step]))


def lines_with(*words: str) -> Callable[[str], str | None]:
    def check(out: str) -> str | None:
        missing = [word for word in words if word not in out]
        return f"no {', '.join(missing)} in {out[:300]!r}" if missing else None
    return check


def answer_is(expected: str) -> Callable[[str], str | None]:
    return lambda out: None if out.strip() == expected else f"answered {out.strip()[:200]!r}, a Supervisor answers {expected!r}"


def json_items(*names: str) -> Callable[[str], str | None]:
    def check(out: str) -> str | None:
        found = [item["metadata"]["name"] for item in json.loads(out).get("items", [])]
        missing = [name for name in names if name not in found]
        return f"no {', '.join(missing)} among {found}" if missing else (None if found else "no items")
    return check


def columns(*headers: str) -> Callable[[str], str | None]:
    def check(out: str) -> str | None:
        first = out.splitlines()[0].split() if out.strip() else []
        missing = [header for header in headers if header not in first]
        return f"no column {', '.join(missing)} in {first}" if missing else None
    return check


def version(out: str) -> str | None:
    server = json.loads(out).get("serverVersion", {})
    if not server.get("gitVersion", "").startswith("v1."):
        return f"gitVersion {server.get('gitVersion')!r}"
    if server.get("buildDate", "").startswith("1970"):
        return f"buildDate {server.get('buildDate')!r}: a release's build is stamped with its date"
    if not re.fullmatch(r"[0-9a-f]{40}", server.get("gitCommit", "")):
        return f"gitCommit {server.get('gitCommit')!r}: a release's build is stamped with its tag's commit"
    return None


# what earlier calls told later ones: the VM's address in its status, its inventory path in vCenter
SEEN: dict[str, str] = {}


def vm_status(out: str) -> str | None:
    vm = json.loads(out)
    status = vm.get("status", {})
    SEEN["ip"] = (status.get("network") or {}).get("primaryIP4") or ""
    missing = [key for key in ("uniqueID", "biosUUID", "instanceUUID", "zone", "hardwareVersion", "volumes")
               if not status.get(key)]
    if not (status.get("storage") or {}).get("usage"):
        missing.append("storage.usage")
    if not {"kind", "name"} <= set((vm.get("spec") or {}).get("image") or {}):
        return "no spec.image {kind, name}: VM Operator's webhook resolves it from spec.imageName"
    interfaces = (status.get("network") or {}).get("interfaces") or []
    if missing:
        return f"no {', '.join(missing)} in status"
    if not SEEN["ip"] or not any(SEEN["ip"] in [a.get("address", "").split("/")[0] for a in
                                                (i.get("ip") or {}).get("addresses", [])] for i in interfaces):
        return f"primaryIP4 {SEEN['ip']!r} is on none of the interfaces {interfaces}"
    return None


def node_name(out: str) -> str | None:
    """The ESXi host a VM runs on, as VM Operator reports it (v1alpha5's status.nodeName)."""
    SEEN["host"] = out.strip()
    return None if SEEN["host"] else "no status.nodeName: VM Operator reports the VM's ESXi host by its vCenter name"


def same_host(out: str) -> str | None:
    return None if out.strip() == SEEN.get("host") else \
        f"answered {out.strip()!r}, the VM's status.nodeName is {SEEN.get('host')!r}"


def runs_on_that_host(out: str) -> str | None:
    hosts = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.strip().startswith("Host:")]
    return None if hosts == [SEEN.get("host")] else \
        f"vCenter runs the VM on {hosts}, its status.nodeName is {SEEN.get('host')!r}"


def in_namespace_folder(out: str) -> str | None:
    paths = [line for line in out.splitlines() if line.endswith(f"/vm/Namespaces/{NAMESPACE}/{VM}")]
    if len(paths) != 1:
        return f"{out.strip()!r}: vCenter keeps a namespace's VMs in the folder Namespaces/{NAMESPACE}"
    SEEN["path"], SEEN["folder"] = paths[0], paths[0].rsplit("/", 1)[0]
    return None


def same_ip(out: str) -> str | None:
    return None if out.strip() == SEEN.get("ip") else \
        f"vCenter's guest IP is {out.strip()!r}, the VM's status.network.primaryIP4 {SEEN.get('ip')!r}"


def vcenter_vm(out: str) -> str | None:
    answer = json.loads(out)
    vms = answer.get("virtualMachines") or answer.get("VirtualMachines") or []
    if len(vms) != 1:
        return f"{len(vms)} VMs in the answer"
    config, guest = vms[0].get("config") or {}, vms[0].get("guest") or {}
    managed = config.get("managedBy") or {}
    if (managed.get("extensionKey"), managed.get("type")) != ("com.vmware.vcenter.wcp", "VirtualMachine"):
        return f"managedBy is {managed!r}; VM Service VMs are managed by com.vmware.vcenter.wcp, type VirtualMachine"
    if guest.get("toolsRunningStatus") != "guestToolsRunning" or guest.get("ipAddress") != SEEN.get("ip"):
        return f"guest tools {guest.get('toolsRunningStatus')!r}, IP {guest.get('ipAddress')!r}"
    nics = [device for device in (config.get("hardware") or {}).get("device", []) if device.get("macAddress")]
    return None if nics else "no network adapter"


def guest_login(out: str, kubeconfig: str = "guest-kubeconfig") -> str | None:
    """The answer of POST /wcp/login for a guest cluster: the token, server and CA kubectl vsphere login
    writes into a context named by the cluster."""
    answer = json.loads(out)
    missing = [key for key in ("session_id", "guest_cluster_server", "guest_cluster_ca") if not answer.get(key)]
    if missing:
        return f"no {', '.join(missing)} in {out[:200]}"
    host, _, port = answer["guest_cluster_server"].rpartition(":")
    if port != str(GUEST_API_PORT) or host in ("127.0.0.1", "localhost", SEEN.get("supervisor")):
        return (f"guest_cluster_server is {answer['guest_cluster_server']!r}; a TKG cluster's API is its "
                f"control-plane VIP (not the Supervisor's address) on port {GUEST_API_PORT}")
    SEEN["guest_server"] = answer["guest_cluster_server"]
    config = Path(SEEN["home"]) / kubeconfig
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": GUEST,
        "clusters": [{"name": GUEST, "cluster": {"server": f"https://{answer['guest_cluster_server']}",
                                                  "certificate-authority-data": answer["guest_cluster_ca"]}}],
        "users": [{"name": f"wcp:{GUEST}", "user": {"token": answer["session_id"]}}],
        "contexts": [{"name": GUEST, "context": {"cluster": GUEST, "user": f"wcp:{GUEST}"}}]}))
    SEEN[kubeconfig.replace("-", "_")] = str(config)
    return None


def forbidden(verb: str, resource: str) -> Callable[[str], str | None]:
    """kubectl's error for a request the cluster's RBAC refuses (403 Forbidden), read from stderr."""
    def check(err: str) -> str | None:
        return None if "Forbidden" in err and f'cannot {verb} resource "{resource}"' in err else err.strip()[-300:]
    return check


GUEST_API_PORT = 6443  # where a TKG cluster's control-plane VIP serves its Kubernetes API


def the_guest_login_server(out: str) -> str | None:
    """An endpoint the guest cluster reports (``host:port``) is the server its login gave: its VIP, 6443."""
    if "guest_server" not in SEEN:
        return "no guest_cluster_server from the guest login"
    return None if out.strip() == SEEN["guest_server"] else f"{out.strip()!r}, the login gave {SEEN['guest_server']!r}"


def kubeconfig_secret_server(out: str) -> str | None:
    """The ``<cluster>-kubeconfig`` Secret's kubeconfig names the guest login's server."""
    if "guest_server" not in SEEN:
        return "no guest_cluster_server from the guest login"
    config = yaml.safe_load(base64.b64decode(out))
    servers = [c["cluster"]["server"] for c in config.get("clusters", [])]
    return None if servers == [f"https://{SEEN['guest_server']}"] else f"servers {servers}, not the login's"


VM_MANIFEST = {"apiVersion": f"{VMOP}/v1alpha3", "kind": "VirtualMachine", "metadata": {"name": VM},
               "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04",
                        "storageClass": "vsan-default-storage-policy", "powerState": "PoweredOn"}}


GUEST = "conformance-tkc"
TKC_MANIFEST = {"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster", "metadata": {"name": GUEST},
                "spec": {"topology": {"controlPlane": {"replicas": 1, "vmClass": VM_CLASS,
                                                       "storageClass": "vsan-default-storage-policy",
                                                       "tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}},
                                      "nodePools": [{"name": "workers", "replicas": 0, "vmClass": VM_CLASS,
                                                     "storageClass": "vsan-default-storage-policy"}]}}}


@dataclass(frozen=True)
class Call:
    # "admin", "developer" (through the kubectl vsphere login kubeconfig), "govc" (vCenter's admin), "login" /
    # "viewer-login" (a guest login as the developer / the Can View user), "guest" / "viewer-guest" (kubectl
    # with the kubeconfig written from it)
    who: str
    args: tuple[str, ...]
    check: Callable[[str], str | None] = lambda out: None
    name: str = ""
    stdin: str | None = None
    ok_exit: tuple[int, ...] = (0,)  # `auth can-i` answers "no" with exit 1
    stderr: bool = False  # check what kubectl writes to stderr (a refusal) rather than stdout

    @property
    def id(self) -> str:
        return self.name or f"kubectl ({self.who}) {' '.join(self.args)}"


CALLS = [
    Call("admin", ("version", "-o", "json"), version, name="kubectl version (the Supervisor's)"),
    Call("admin", ("api-resources", f"--api-group={VMOP}", "-o", "name"),
         lines_with(*[f"{resource}.{VMOP}" for resource in VMOP_RESOURCES])),
    Call("admin", ("api-versions",), lines_with(f"{VMOP}/v1alpha3", "cluster.x-k8s.io/v1beta1",
                                                "run.tanzu.vmware.com/v1alpha3")),
    Call("admin", ("explain", "virtualmachines.spec.className", f"--api-version={VMOP}/v1alpha3"),
         lines_with("className", "VirtualMachine")),
    Call("admin", ("explain", "virtualmachineclasses.spec", f"--api-version={VMOP}/v1alpha3"),
         lines_with("hardware", "policies")),
    Call("admin", ("get", "nodes", "-o", "name"), lambda out: None if out.count("node/") >= 1 else "no Nodes"),
    Call("admin", ("get", "clustervirtualmachineimages", "-o", "json"), json_items()),
    Call("admin", ("get", "virtualmachineclasses", "-n", NAMESPACE, "-o", "json"), json_items(VM_CLASS)),
    Call("admin", ("auth", "can-i", "list", "namespaces"), answer_is("yes")),
    Call("developer", ("auth", "can-i", "create", f"virtualmachines.{VMOP}", "-n", NAMESPACE), answer_is("yes")),
    # -A: the question is cluster-wide (in its own namespace the developer's edit role may read it, as the
    # aggregated view role grants namespaces get/list)
    Call("developer", ("auth", "can-i", "list", "namespaces", "-A"), answer_is("no"), ok_exit=(1,)),
    Call("developer", ("auth", "can-i", "create", f"virtualmachines.{VMOP}", "-n", "kube-system"), answer_is("no"),
         ok_exit=(1,)),
    Call("developer", ("get", "tanzukubernetesreleases", "-o", "name"), lambda out: None if out.strip() else "none"),
    Call("developer", ("get", "storageclasses", "-o", "name"), lines_with("vsan-default-storage-policy")),
    Call("developer", ("get", "virtualmachineclasses", "-o", "name"), lines_with(VM_CLASS)),
    Call("developer", ("get", "virtualmachineimages,clustervirtualmachineimages", "-o", "name"),
         lambda out: None if "clustervirtualmachineimage" in out else f"no images: {out[:200]!r}"),
    Call("developer", ("apply", "-f", "-"), lines_with(VM), stdin=json.dumps(VM_MANIFEST),
         name="kubectl (developer) apply -f vm.yaml"),
    Call("developer", ("wait", f"virtualmachines.{VMOP}/{VM}", "--for=jsonpath={.status.powerState}=PoweredOn",
                       "--timeout=60s"), lines_with("condition met")),
    Call("developer", ("get", "vm", VM, "-o", "wide"), columns("NAME", "POWER-STATE", "CLASS", "IMAGE", "PRIMARY-IP4"),
         name="kubectl (developer) get vm -o wide"),
    Call("developer", ("get", "vm", VM, "-o", "jsonpath={.status.network.primaryIP4}"),
         lambda out: None if out.count(".") == 3 else f"no primaryIP4: {out!r}"),
    Call("developer", ("get", "vm", VM, "-o", "json"), vm_status, name="kubectl (developer) get vm: status as VM Operator fills it"),
    # the ESXi host: v1alpha5's status.nodeName (kubectl reads the preferred version), v1alpha3's status.host
    # through VM Operator's conversion webhook
    Call("developer", ("get", "vm", VM, "-o", "jsonpath={.status.nodeName}"), node_name),
    Call("developer", ("get", f"virtualmachines.v1alpha3.{VMOP}", VM, "-o", "jsonpath={.status.host}"), same_host),
    Call("developer", ("get", "availabilityzones,zones", "-o", "name"),
         lambda out: None if {line.split("/")[0] for line in out.split()} >= {
             "availabilityzone.topology.tanzu.vmware.com", "zone.topology.tanzu.vmware.com"} else f"no zones: {out!r}",
         name="kubectl (developer) get availabilityzones,zones (vSphere Zones of the Supervisor and the namespace)"),
    # the same VM in vCenter, as an admin finds it with govc
    Call("govc", ("find", "/", "-type", "m", "-name", VM), in_namespace_folder,
         name="govc find -type m (a VM made through the Supervisor)"),
    Call("govc", ("ls", "{folder}"), lines_with(VM), name="govc ls (its vSphere Namespace's folder)"),
    Call("govc", ("vm.ip", "-wait=30s", "{path}"), same_ip, name="govc vm.ip (a VM made through the Supervisor)"),
    Call("govc", ("vm.info", "-json", "{path}"), vcenter_vm, name="govc vm.info -json (a VM made through the Supervisor)"),
    Call("govc", ("vm.info", "{path}"), runs_on_that_host, name="govc vm.info (the host of a VM made through the Supervisor)"),
    Call("govc", ("vm.info", "-e", "{path}"), lines_with("vmservice.namespacedName", f"{NAMESPACE}/{VM}"),
         name="govc vm.info -e (a VM made through the Supervisor)"),
    Call("developer", ("delete", f"virtualmachines.{VMOP}", VM, "--wait=true", "--timeout=60s"), lines_with("deleted")),
    # a guest cluster: made by the developer, logged in to by name as kubectl vsphere login does
    Call("developer", ("apply", "-f", "-"), lines_with(GUEST), stdin=json.dumps(TKC_MANIFEST),
         name="kubectl (developer) apply -f tkc.yaml"),
    Call("developer", ("wait", f"tanzukubernetesclusters.run.tanzu.vmware.com/{GUEST}", "--for=condition=Ready",
                       "--timeout=120s"), lines_with("condition met")),
    Call("developer", ("get", "clusters.cluster.x-k8s.io", "-o", "name"), lines_with(f"cluster.cluster.x-k8s.io/{GUEST}"),
         name="kubectl (developer) get clusters.cluster.x-k8s.io (the TKC as a Cluster API Cluster)"),
    Call("login", (json.dumps({"guest_cluster_name": GUEST}),), guest_login,
         name="kubectl vsphere login --tanzu-kubernetes-cluster-name (no namespace)"),
    Call("guest", ("get", "namespaces", "-o", "name"), lines_with("namespace/kube-system", "namespace/default"),
         name="kubectl (guest cluster admin) get namespaces"),
    Call("guest", ("auth", "can-i", "*", "*"), answer_is("yes"), name="kubectl (guest cluster admin) auth can-i '*' '*'"),
    Call("guest", ("version", "-o", "json"),
         lambda out: None if json.loads(out).get("serverVersion", {}).get("minor") == "35" else out[:200],
         name="kubectl (guest cluster admin) version, at the guest login's <VIP>:6443"),
    # a Can View user of the namespace logs in to the guest cluster too, and is refused there (KB 424897)
    Call("viewer-login", (json.dumps({"guest_cluster_name": GUEST}),),
         lambda out: guest_login(out, "viewer-guest-kubeconfig"),
         name="kubectl vsphere login --tanzu-kubernetes-cluster-name (a Can View user)"),
    Call("viewer-guest", ("get", "pods"), forbidden("list", "pods"), ok_exit=(1,), stderr=True,
         name="kubectl (Can View user, guest cluster) get pods: Forbidden"),
    # the guest's endpoint, as the Cluster, the TKC and the kubeconfig Secret report it: the login's VIP:6443
    Call("developer", ("get", "clusters.cluster.x-k8s.io", GUEST, "-o",
                       "jsonpath={.spec.controlPlaneEndpoint.host}:{.spec.controlPlaneEndpoint.port}"),
         the_guest_login_server, name="kubectl (developer) get cluster: spec.controlPlaneEndpoint is <VIP>:6443"),
    Call("developer", ("get", "tanzukubernetesclusters.run.tanzu.vmware.com", GUEST, "-o",
                       "jsonpath={.status.apiEndpoints[0].host}:{.status.apiEndpoints[0].port}"),
         the_guest_login_server, name="kubectl (developer) get tkc: status.apiEndpoints is <VIP>:6443"),
    Call("developer", ("get", "secret", f"{GUEST}-kubeconfig", "-o", "jsonpath={.data.value}"),
         kubeconfig_secret_server, name="kubectl (developer) get secret <cluster>-kubeconfig: its server is <VIP>:6443"),
    Call("developer", ("delete", f"tanzukubernetesclusters.run.tanzu.vmware.com", GUEST, "--wait=true",
                       "--timeout=120s"), lines_with("deleted")),
]


@pytest.fixture(scope="module")
def kubectl(testbed, developer_login, tmp_path_factory):
    binaries = build.binary_paths(testbed.layout)
    home = tmp_path_factory.mktemp("kubectl-home")
    kubeconfigs = {"admin": str(testbed.layout.admin_kubeconfig), "developer": str(developer_login[1] or "")}
    creds = testbed.credentials
    govc_env = {"GOVC_URL": testbed.layout.vcenter_url, "GOVC_USERNAME": creds.vcenter_user,
                "GOVC_PASSWORD": creds.vcenter_password, "GOVC_TLS_CA_CERTS": str(testbed.pki.ca_cert),
                "GOVMOMI_HOME": str(home)}

    SEEN["home"] = str(home)
    SEEN["supervisor"] = developer_login[2]
    http = _http(testbed)

    def run(who: str, args: tuple[str, ...], stdin: str | None) -> subprocess.CompletedProcess:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
        if who in ("login", "viewer-login"):  # the plugin's POST /wcp/login, at the Supervisor's address
            answer = http.post(f"https://{developer_login[2]}/wcp/login", json=json.loads(args[0]),
                               auth=(creds.developer_user, creds.developer_password) if who == "login"
                               else (creds.viewer_user, creds.viewer_password))
            return subprocess.CompletedProcess(args, 0 if answer.status_code == 200 else 1, answer.text, answer.text)
        if who == "govc":
            args = tuple(arg.format(**SEEN) for arg in args)
            return subprocess.run([str(binaries["govc"]), *args], env={**env, **govc_env}, capture_output=True,
                                  text=True, timeout=120)
        binary = binaries["kubectl"]
        env["KUBECONFIG"] = SEEN[f"{who.replace('-', '_')}_kubeconfig"] if who in ("guest", "viewer-guest") \
            else kubeconfigs[who]
        context = ["-n", NAMESPACE] if who == "developer" and "-n" not in args and args[0] in (
            "apply", "wait", "get", "delete") else []
        return subprocess.run([str(binary), *args, *context], env=env, input=stdin, capture_output=True, text=True,
                              timeout=120)
    return run


@pytest.mark.parametrize("call", CALLS, ids=[call.id for call in CALLS])
def test_kubectl(testbed, kubectl, developer_login, call):
    if call.who == "developer" and developer_login[1] is None:
        judge(call.id, "no kubeconfig: the kubectl vsphere login flow failed")
        return
    try:
        done = kubectl(call.who, call.args, call.stdin)
    except KeyError as err:
        judge(call.id, f"no {err} from the calls before")
        return
    if done.returncode not in call.ok_exit:
        why = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
        if call.who == "developer" and call.id not in known_failures():
            why += "\n" + diagnosis(testbed)
        judge(call.id, why)
        return
    judge(call.id, call.check(done.stderr if call.stderr else done.stdout))
