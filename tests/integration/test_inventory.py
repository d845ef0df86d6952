"""pacific.supervisor.workloads against the testbed: ``ansible-inventory --list`` as a user runs it.

A vSphere Namespace with a VM, a native pod and a guest cluster, all made through the
Supervisor, must each show as one host with the vCenter and the Supervisor view; vcsim's own
VMs as plain VMs; the cache answers without any API; bad configuration is one clear error.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml
from kubernetes import client

from testbed.vcenter import connect, session, vm_named, vm_rows, wait_for_task
from testbed.vcenter import wcp_token
from tests.integration.conftest import collection_tree
from tests.testbed.conftest import Vcenter, _absent, _until, vds_namespace  # noqa: F401 (vds_namespace: a fixture)

pytestmark = pytest.mark.testbed

NAMESPACE = "inv-test"
VM_CLASS = "inv-small"
VMOP = ("vmoperator.vmware.com", "v1alpha3")
TKC = ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters")


@pytest.fixture(scope="module")
def estate(testbed, admin_client):
    """A namespace with VM ``web-1``, pod ``echo-1`` and a one-node guest cluster ``tkc-1``."""
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    core, objects = client.CoreV1Api(admin_client), client.CustomObjectsApi(admin_client)
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    _until(lambda: _absent(core.read_namespace, NAMESPACE), 60, "the namespace of an earlier run to go")
    vcenter.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                 json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 2048})
    cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    developer = testbed.credentials.developer_user
    answer = vcenter.call("POST", "/api/vcenter/namespaces/instances", json={
        "cluster": cluster, "namespace": NAMESPACE, "vm_service_spec": {"vm_classes": [VM_CLASS]},
        "access_list": [{"role": "EDIT", "subject_type": "USER", "subject": developer.split("@")[0],
                         "domain": developer.split("@")[1]}]})
    assert answer.status_code == 204, answer.text
    _until(lambda: objects.get_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachineclasses", VM_CLASS),
           30, "VM class bound into the namespace")
    _until(lambda: core.read_namespaced_service_account("default", NAMESPACE), 60, "the default ServiceAccount")
    objects.create_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", {
        "apiVersion": "/".join(VMOP), "kind": "VirtualMachine", "metadata": {"name": "web-1"},
        "spec": {"className": VM_CLASS, "imageName": "ubuntu-22.04", "storageClass": "vsan-default-storage-policy",
                 "powerState": "PoweredOn"}})
    core.create_namespaced_pod(NAMESPACE, {
        "metadata": {"name": "echo-1", "labels": {"app": "echo"}},
        "spec": {"containers": [{"name": "echo", "image": "pacific/echo:1.0", "args": ["-text=hi"],
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}})
    objects.create_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], {
        "apiVersion": "/".join(TKC[:2]), "kind": "TanzuKubernetesCluster", "metadata": {"name": "tkc-1"},
        "spec": {"topology": {"controlPlane": {"replicas": 1, "vmClass": VM_CLASS, "storageClass": "vsan-default-storage-policy",
                                               "tkr": {"reference": {"name": "v1.35.4---vmware.1-fips-vkr.1"}}},
                              "nodePools": []}}})
    _until(lambda: (objects.get_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", "web-1").get("status", {})
                    .get("network", {}).get("primaryIP4")), 30, "web-1 running with an IPv4")
    _until(lambda: core.read_namespaced_pod("echo-1", NAMESPACE).status.pod_ip, 30, "echo-1 running")
    _until(lambda: any(c["type"] == "Ready" and c["status"] == "True" for c in objects.get_namespaced_custom_object(
        *TKC[:2], NAMESPACE, TKC[2], "tkc-1").get("status", {}).get("conditions", [])), 90, "tkc-1 Ready")
    yield {"objects": objects, "core": core}
    objects.delete_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], "tkc-1")
    core.delete_namespaced_pod("echo-1", NAMESPACE)
    objects.delete_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", "web-1")
    _until(lambda: not objects.list_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines")["items"], 60,
           "VirtualMachines of the namespace gone")
    vcenter.call("DELETE", f"/api/vcenter/namespaces/instances/{NAMESPACE}")
    vcenter.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


@pytest.fixture(scope="module")
def inventory(testbed, tmp_path_factory):
    """``inventory(config, *args) -> CompletedProcess`` of ``ansible-inventory -i <config> --list``."""
    work = tmp_path_factory.mktemp("inventory")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VMWARE_", "PACIFIC_SUPERVISOR_", "K8S_AUTH_"))},
        "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
        "ANSIBLE_HOME": str(work / "ansible-home"),
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    counter = iter(range(1000))

    def run(config: dict, *args: str, name: str | None = None, extra_env: dict | None = None):
        path = work / (name or f"run{next(counter)}.workloads.yml")
        path.write_text(yaml.safe_dump({"plugin": "pacific.supervisor.workloads", **config}))
        return subprocess.run(["ansible-inventory", "-i", str(path), "--list", *args], cwd=work,
                              env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=300,
                              check=False)

    return run


def vcenter_options(testbed) -> dict:
    return {"hostname": "127.0.0.1", "port": testbed.layout.ports.wcp, "username": testbed.credentials.vcenter_user,
            "password": testbed.credentials.vcenter_password, "ca_cert": str(testbed.pki.ca_cert)}


def supervisor_options(testbed) -> dict:
    """The Supervisor as the namespace developer (a token of a real /wcp/login), who may not list
    across namespaces: the plugin lists the namespaces it is given, one by one."""
    creds = testbed.credentials
    return {"supervisor": True, "supervisor_server": testbed.layout.apiserver_url,
            "supervisor_token": wcp_token(testbed, creds.developer_user, creds.developer_password),
            "supervisor_namespaces": [NAMESPACE], "supervisor_ca_cert": str(testbed.pki.ca_cert)}


def _unwrap(obj: dict):
    """ansible-core 2.19 marks values from an API as untrusted: ``{"__ansible_unsafe": value}``."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def listed(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout, object_hook=_unwrap)


def members(listing: dict, group: str) -> set[str]:
    return set(listing.get(group, {}).get("hosts", []))


def by_name(listing: dict, name: str) -> list[tuple[str, dict]]:
    """Hosts of vCenter VMs named ``name`` in this test's namespace folder (other namespaces, e.g. the
    demo's, may hold namesakes): a workload seen twice would show here as two hosts."""
    return [(host, hv) for host, hv in listing["_meta"]["hostvars"].items()
            if hv.get("vsphere_name") == name and hv.get("vsphere_folder", "").endswith("/" + NAMESPACE)]


def test_vcenter_vms_with_default_properties_paths_and_groups(testbed, inventory):
    listing = listed(inventory(vcenter_options(testbed)))
    hostvars = listing["_meta"]["hostvars"]
    vm = hostvars["DC0_C0_RP0_VM0"]
    assert vm["vsphere_moid"].startswith("vm-")
    assert vm["vsphere_power_state"] == "poweredOn"
    assert vm["vsphere_folder"] == "/DC0/vm" and vm["vsphere_datacenter"] == "DC0"
    assert vm["vsphere_resource_pool"] == "/DC0/host/DC0_C0/Resources"
    assert isinstance(vm["vsphere_num_cpu"], int) and isinstance(vm["vsphere_memory_mb"], int)
    assert vm["vsphere_bios_uuid"] and vm["vsphere_instance_uuid"] and vm["vsphere_guest_id"]
    assert vm["supervisor_workload_kind"] == "plain_vm"
    assert not [key for key in vm if not key.startswith(("vsphere_", "supervisor_", "ansible_"))]
    assert "DC0_C0_RP0_VM0" in members(listing, "plain_vm") & members(listing, "powered_on")


@pytest.mark.parametrize("page_size", [1, 7])
def test_every_page_size_gives_the_same_hosts(testbed, inventory, page_size):
    """Small pages: many ContinueRetrievePropertiesEx, each asked for while the page before is read."""
    def stable(listing):  # vcsim's own VMs, what no other test changes of them
        return {host: {key: hv.get(key) for key in ("vsphere_moid", "vsphere_bios_uuid", "vsphere_folder",
                                                    "vsphere_resource_pool", "vsphere_num_cpu", "vsphere_memory_mb")}
                for host, hv in listing["_meta"]["hostvars"].items() if host.startswith("DC0_")}

    whole = stable(listed(inventory(vcenter_options(testbed))))
    paged = stable(listed(inventory({**vcenter_options(testbed), "page_size": page_size})))
    assert len(whole) >= 4 and paged == whole


def test_the_fast_reader_reads_what_pyvmomi_reads(testbed):
    """The pipelined pages, read straight into plain data, against pyVmomi's own deserializer on
    the same vCenter: the same VMs with the same values, the same path objects."""
    from ansible_collections.pacific.supervisor.plugins.module_utils._inventory.hosts import DEFAULT_PROPERTIES
    from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.bulk import fetch_vms, inventory_paths

    def own(vms):  # vcsim's own VMs: other tests' VMs may come and go between the two fetches
        return {vm["moid"]: {k: v for k, v in vm.items() if k not in ("guest.ipAddress", "runtime.powerState")}
                for vm in vms if vm["name"].startswith("DC0_")}

    with session(testbed.layout) as si:
        fast_vms, fast_parents = fetch_vms(si, DEFAULT_PROPERTIES, page_size=3)
        typed_vms, typed_parents = fetch_vms(si, DEFAULT_PROPERTIES, page_size=3, via_pyvmomi=True)
    assert len(own(fast_vms)) >= 4 and own(fast_vms) == own(typed_vms)
    fast_path, typed_path = inventory_paths(fast_parents), inventory_paths(typed_parents)
    for vm in own(fast_vms).values():
        assert fast_path(vm["parent"]) == typed_path(vm["parent"]) == ("/DC0/vm", "DC0")
        assert fast_path(vm["resourcePool"]) == typed_path(vm["resourcePool"])
        assert fast_path(vm["resourcePool"])[0].startswith("/DC0/host/")
    assert all(isinstance(vm["config.hardware.numCPU"], int) for vm in fast_vms)


def test_a_supervisor_vm_is_one_host_with_both_views(testbed, inventory, estate):
    listing = listed(inventory({**vcenter_options(testbed), **supervisor_options(testbed)}))
    hostvars = listing["_meta"]["hostvars"]
    vm = estate["objects"].get_namespaced_custom_object(*VMOP, NAMESPACE, "virtualmachines", "web-1")
    assert [pair[0] for pair in by_name(listing, "web-1")] == [f"{NAMESPACE}/web-1"]
    web = hostvars[f"{NAMESPACE}/web-1"]
    assert web["vsphere_moid"] == web["supervisor_unique_id"] == vm["status"]["uniqueID"]
    assert web["vsphere_bios_uuid"] == vm["status"]["biosUUID"]
    assert web["supervisor_node_name"] == vm["status"]["host"] and web["supervisor_node_name"]  # its ESXi host
    assert web["vsphere_folder"] == f"/DC0/vm/Namespaces/{NAMESPACE}"
    assert web["vsphere_resource_pool"].endswith(f"/Resources/{NAMESPACE}")
    assert (web["supervisor_class"], web["supervisor_power_state"]) == (VM_CLASS, "PoweredOn")
    assert web["supervisor_conditions"]["VirtualMachineCreated"] is True
    assert web["ansible_host"] == vm["status"]["network"]["primaryIP4"]  # vcsim reports no guest IP
    assert f"{NAMESPACE}/web-1" in members(listing, "vm") & members(listing, "namespace_inv_test") & members(
        listing, "powered_on")


def test_a_native_pod_is_one_host_with_its_pod_vm(testbed, inventory, estate):
    listing = listed(inventory({**vcenter_options(testbed), **supervisor_options(testbed)}))
    pod = estate["core"].read_namespaced_pod("echo-1", NAMESPACE)
    assert [pair[0] for pair in by_name(listing, "echo-1")] == [f"{NAMESPACE}/echo-1"]
    echo = listing["_meta"]["hostvars"][f"{NAMESPACE}/echo-1"]
    assert echo["supervisor_kind"] == "Pod" and echo["supervisor_pod_phase"] == "Running"
    assert echo["vsphere_guest_id"].startswith("crxPod")
    assert echo["ansible_host"] == pod.status.pod_ip
    assert f"{NAMESPACE}/echo-1" in members(listing, "pod_vm") & members(listing, "namespace_inv_test")


def test_guest_cluster_nodes_are_grouped_with_the_cluster_endpoint(testbed, inventory, estate):
    listing = listed(inventory({**vcenter_options(testbed), **supervisor_options(testbed)}))
    tkc = estate["objects"].get_namespaced_custom_object(*TKC[:2], NAMESPACE, TKC[2], "tkc-1")
    endpoint = tkc["status"]["apiEndpoints"][0]
    nodes = members(listing, "guest_cluster_inv_test_tkc_1")
    assert len(nodes) == 1 and nodes <= members(listing, "guest_cluster_node")
    node = listing["_meta"]["hostvars"][nodes.pop()]
    assert node["supervisor_guest_cluster_role"] == "control_plane" and node["vsphere_moid"]
    assert node["supervisor_guest_cluster_endpoint"] == f"{endpoint['host']}:{endpoint['port']}"
    group_vars = listing["guest_cluster_inv_test_tkc_1"].get("vars") or listing["_meta"]["hostvars"][
        next(iter(members(listing, "guest_cluster_inv_test_tkc_1")))]
    assert group_vars["supervisor_guest_cluster_kind"] == "TanzuKubernetesCluster"
    assert group_vars["supervisor_guest_cluster_ready"] is True
    # on vSphere 8 the TKC is realised as a Cluster API Cluster of its ClusterClass, its VMs in a folder of their own
    assert (group_vars["supervisor_guest_cluster_capi_cluster"], group_vars["supervisor_guest_cluster_class"]) == (
        "tkc-1", "tanzukubernetescluster")
    assert node["vsphere_folder"] == f"/DC0/vm/Namespaces/{NAMESPACE}/tkc-1"


def test_compose_groups_and_keyed_groups(testbed, inventory, estate):
    listing = listed(inventory({
        **vcenter_options(testbed), **supervisor_options(testbed),
        "compose": {"ansible_user": "'ubuntu' if (vsphere_guest_id | default('')).startswith('ubuntu') else 'root'",
                    "cpus_times_two": "vsphere_num_cpu * 2"},
        "groups": {"two_cpus": "vsphere_num_cpu == 2"},
        "keyed_groups": [{"key": "supervisor_namespace | default('none')", "prefix": "ns"},
                         {"key": "vsphere_guest_id", "prefix": "os"}],
    }))
    web = listing["_meta"]["hostvars"][f"{NAMESPACE}/web-1"]
    assert web["ansible_user"] == "ubuntu" and web["cpus_times_two"] == 4
    assert f"{NAMESPACE}/web-1" in members(listing, "two_cpus") & members(listing, "ns_inv_test") & members(
        listing, "os_ubuntu64Guest")
    assert "DC0_C0_RP0_VM0" in members(listing, "ns_none")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_cache_hit_calls_no_api(testbed, inventory, tmp_path):
    cache = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"),
             "cache_timeout": 3600}
    first = listed(inventory({**vcenter_options(testbed), **cache}, name="cached.workloads.yml"))
    assert list((tmp_path / "cache").iterdir()), "the first run fills the cache"
    nowhere = {**vcenter_options(testbed), "port": _free_port(), **supervisor_options(testbed),
               "supervisor_server": f"https://127.0.0.1:{_free_port()}", **cache}
    second = listed(inventory(nowhere, name="cached.workloads.yml"))
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    # the same file without the cache really has nothing to talk to
    refreshed = inventory(nowhere, "--flush-cache", name="cached.workloads.yml")
    assert refreshed.returncode != 0 and "cannot reach vCenter" in refreshed.stderr


@pytest.mark.parametrize(("change", "message"), [
    ({"password": "wrong"}, "wrong user name or password"),
    ({"properties": ["name", "config.noSuchProperty"]}, "unknown VirtualMachine property 'config.noSuchProperty'"),
    ({"port": None}, "cannot reach vCenter at 127.0.0.1:"),
    ({"ca_cert": None}, "is not trusted"),
    ({"supervisor": True, "supervisor_token": "not-a-token"}, "refused the credentials"),
    ({"page_size": 0}, "page_size must be at least 1"),
], ids=["wrong-password", "unknown-property", "unreachable", "untrusted-certificate", "bad-supervisor-token",
        "page-size-zero"])
def test_bad_configuration_is_one_clear_error(testbed, inventory, change, message):
    config = {**vcenter_options(testbed), **change}
    if "port" in change:
        config["port"] = _free_port()
    if "ca_cert" in change:
        config.pop("ca_cert")
    if change.get("supervisor"):
        config.update({"supervisor_server": testbed.layout.apiserver_url, "supervisor_ca_cert": str(testbed.pki.ca_cert)})
    done = inventory(config)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_credentials_from_the_environment(testbed, inventory):
    options = vcenter_options(testbed)
    env = {"VMWARE_HOST": options["hostname"], "VMWARE_PORT": str(options["port"]), "VMWARE_USER": options["username"],
           "VMWARE_PASSWORD": options["password"], "VMWARE_CA_CERT": options["ca_cert"]}
    listing = listed(inventory({}, extra_env=env))
    assert "DC0_C0_RP0_VM0" in listing["_meta"]["hostvars"]


@pytest.fixture
def tagged_vm(testbed):
    """Tag ``env/prod`` attached to vcsim's DC0_C0_RP0_VM1, through the vSphere tagging API."""
    import requests

    http = requests.Session()
    http.trust_env = False
    http.verify = str(testbed.pki.ca_cert)
    base = f"{testbed.layout.vcenter_url}/rest/com/vmware/cis"
    answer = http.post(f"{base}/session", auth=(testbed.credentials.vcenter_user, testbed.credentials.vcenter_password))
    answer.raise_for_status()
    http.headers["vmware-api-session-id"] = answer.json()["value"]
    category = http.post(f"{base}/tagging/category", json={"create_spec": {
        "name": "inv-env", "description": "", "cardinality": "MULTIPLE", "associable_types": []}}).json()["value"]
    tag = http.post(f"{base}/tagging/tag", json={"create_spec": {
        "name": "prod", "description": "", "category_id": category}}).json()["value"]
    listing = listed_plain(testbed)
    moid = listing["DC0_C0_RP0_VM1"]
    attached = http.post(f"{base}/tagging/tag-association/id:{tag}?~action=attach",
                         json={"object_id": {"id": moid, "type": "VirtualMachine"}})
    assert attached.ok, attached.text
    yield moid
    http.delete(f"{base}/tagging/tag/id:{tag}")
    http.delete(f"{base}/tagging/category/id:{category}")


def listed_plain(testbed) -> dict[str, str]:
    """VM name -> moid of vcsim's VMs, read with pyVmomi (not through the plugin under test)."""
    with session(testbed.layout) as si:
        return {name: vm._moId for name, _parent, vm in vm_rows(si)}


def test_tags_when_asked(testbed, inventory, tagged_vm):
    listing = listed(inventory({**vcenter_options(testbed), "with_tags": True}))
    hostvars = listing["_meta"]["hostvars"]
    assert hostvars["DC0_C0_RP0_VM1"]["vsphere_tags"] == ["prod"]
    assert hostvars["DC0_C0_RP0_VM1"]["vsphere_tag_categories"] == {"inv-env": ["prod"]}
    assert hostvars["DC0_C0_RP0_VM0"]["vsphere_tags"] == []
    without = listed(inventory(vcenter_options(testbed)))
    assert "vsphere_tags" not in without["_meta"]["hostvars"]["DC0_C0_RP0_VM1"]


def test_custom_attributes_when_asked(testbed, inventory):
    from pyVim.connect import Disconnect
    from pyVmomi import vim

    si = connect(testbed.layout)
    content = si.RetrieveContent()
    manager = content.customFieldsManager
    field = next((f for f in manager.field if f.name == "inv-owner"), None) or manager.AddCustomFieldDef(
        name="inv-owner", moType=vim.VirtualMachine)
    vm = vm_named(si, "DC0_C0_RP0_VM1")
    manager.SetField(entity=vm, key=field.key, value="team-a")
    try:
        listing = listed(inventory({**vcenter_options(testbed), "with_custom_attributes": True}))
        assert listing["_meta"]["hostvars"]["DC0_C0_RP0_VM1"]["vsphere_custom_attributes"]["inv-owner"] == "team-a"
    finally:
        manager.RemoveCustomFieldDef(key=field.key)
        Disconnect(si)


def test_templates_are_left_out_unless_asked(testbed, inventory):
    """A template (a clone of vcsim's DC0_C0_RP0_VM0 marked as one) is no host, unless include_templates."""
    import uuid

    from pyVim.connect import Disconnect
    from pyVmomi import vim

    si = connect(testbed.layout)
    source = vm_named(si, "DC0_C0_RP0_VM0")
    name = f"inv-template-{uuid.uuid4().hex[:8]}"
    template = wait_for_task(source.CloneVM_Task(folder=source.parent, name=name, spec=vim.vm.CloneSpec(
        location=vim.vm.RelocateSpec(), template=True, powerOn=False)))
    try:
        assert template.config.template
        by_default = listed(inventory(vcenter_options(testbed)))["_meta"]["hostvars"]
        assert name not in by_default and "DC0_C0_RP0_VM0" in by_default
        asked = listed(inventory({**vcenter_options(testbed), "include_templates": True}))["_meta"]["hostvars"]
        assert asked[name]["vsphere_moid"] == template._moId
        # what the filter reads along is not shown unless asked for
        assert not [key for key in asked[name] if "template" in key or "connection" in key]
        shown = listed(inventory({**vcenter_options(testbed), "include_templates": True,
                                  "properties": ["name", "config.template"]}))["_meta"]["hostvars"]
        assert shown[name]["vsphere_config_template"] is True
        assert shown["DC0_C0_RP0_VM0"]["vsphere_config_template"] is False
    finally:
        # vcsim keeps a destroyed template in container views (a member whose every read fails
        # with ManagedObjectNotFound): make it a VM again first
        template.MarkAsVirtualMachine(pool=source.resourcePool, host=source.runtime.host)
        wait_for_task(template.Destroy_Task())
        Disconnect(si)


def test_supervisor_from_a_kubeconfig_limited_to_namespaces(testbed, inventory, estate):
    listing = listed(inventory({**vcenter_options(testbed), "supervisor": True,
                                "supervisor_kubeconfig": str(testbed.layout.admin_kubeconfig),
                                "supervisor_namespaces": [NAMESPACE], "supervisor_kinds": ["VirtualMachine"]}))
    web = listing["_meta"]["hostvars"][f"{NAMESPACE}/web-1"]
    assert web["supervisor_kind"] == "VirtualMachine" and web["vsphere_moid"] == web["supervisor_unique_id"]
    # pods were not asked for: the pod VM is there with vCenter's view only
    echo = by_name(listing, "echo-1")
    assert len(echo) == 1 and "supervisor_kind" not in echo[0][1] and echo[0][1]["supervisor_workload_kind"] == "pod_vm"


def test_a_vaulted_password(testbed, inventory, tmp_path):
    secret = tmp_path / "vault-pass"
    secret.write_text("inventory-vault-secret\n")
    encrypted = subprocess.run(
        # the password on stdin: a generated one may start with "-", which the command line reads as an option
        [os.path.join(os.path.dirname(sys.executable), "ansible-vault"), "encrypt_string", "--vault-password-file",
         str(secret), "--stdin-name", "password"], input=testbed.credentials.vcenter_password,
        capture_output=True, text=True, check=True, env={**os.environ, "ANSIBLE_HOME": str(tmp_path)}).stdout
    options = {k: v for k, v in vcenter_options(testbed).items() if k != "password"}
    config = tmp_path / "vaulted.workloads.yml"
    config.write_text(yaml.safe_dump({"plugin": "pacific.supervisor.workloads", **options}) + encrypted)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VMWARE_")}
    done = subprocess.run(["ansible-inventory", "-i", str(config), "--list", "--vault-password-file", str(secret)],
                          env={**clean, "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
                               "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "1",
                               "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"},
                          capture_output=True, text=True, timeout=300, check=False)
    assert "DC0_C0_RP0_VM0" in listed(done)["_meta"]["hostvars"]
    assert testbed.credentials.vcenter_password not in config.read_text()


def test_a_developer_token_without_namespaces_says_what_to_give(testbed, inventory, estate):
    """A developer may not list across namespaces, and a bare token does not tell which namespaces
    are theirs: one clear error, not an inventory silently missing the Supervisor's workloads."""
    options = {**vcenter_options(testbed), **supervisor_options(testbed)}
    del options["supervisor_namespaces"]
    done = inventory(options)
    assert done.returncode != 0
    assert "give namespace, or username and password instead of a token" in done.stderr, done.stderr[-2000:]


def test_a_namespace_on_a_vds_supervisor_says_it_runs_no_vsphere_pods(testbed, inventory, vds_namespace):
    options = {**supervisor_options(testbed), "supervisor_namespaces": [vds_namespace], "supervisor_kinds": ["Pod"]}
    done = inventory({**vcenter_options(testbed), **options}, "--export")  # group variables as such
    listing = listed(done)
    group = listing[f"namespace_{vds_namespace.replace('-', '_')}"]
    assert group["vars"]["supervisor_vsphere_pods"] is False
    assert group["vars"]["supervisor_network_provider"] == "VSPHERE_NETWORK"
    assert "vSphere Distributed Switch (VDS) networking" in group["vars"]["supervisor_vsphere_pods_reason"]
    assert "vSphere Pods are not available in vSphere Namespace " + vds_namespace in " ".join(done.stderr.split())
