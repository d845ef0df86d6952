"""Pure logic of the testbed, without starting anything."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from testbed import build, crds
from testbed.credentials import Credentials
from testbed.errors import TestbedError
from testbed.layout import REPO_ROOT, Layout


def test_cache_prefix_escapes_capitals_as_the_module_cache_does():
    assert crds.UpstreamCrds("github.com/BurntSushi/toml", "*").cache_prefix() == "github.com/!burnt!sushi/toml"


def test_newest_module_wins_and_pre_releases_are_ignored(tmp_path):
    upstream = crds.UpstreamCrds("example.com/org/op", "*.yaml")
    for version in ("v1.9.0", "v1.10.0", "v1.11.0-rc.1", "v1.2.3"):
        (tmp_path / "example.com" / "org" / f"op@{version}" / "config" / "crd" / "bases").mkdir(parents=True)
    (tmp_path / "example.com" / "org" / "op@v9.0.0").mkdir()  # no CRDs in it: not a candidate
    assert crds.newest_module_dir(tmp_path, upstream).name == "op@v1.10.0"


def test_missing_module_names_the_fix(tmp_path):
    with pytest.raises(TestbedError, match="python -m testbed build"):
        crds.newest_module_dir(tmp_path, crds.UPSTREAM[0])


def test_own_tkc_crd_is_structural_and_served_as_v1alpha3():
    own = [doc for label, path in crds.sources() if label.startswith("testbed/") for doc in crds.read_manifests(path)]
    assert [doc["metadata"]["name"] for doc in own] == ["tanzukubernetesclusters.run.tanzu.vmware.com",
                                                        "tanzukubernetesreleases.run.tanzu.vmware.com"]
    assert own[1]["spec"]["scope"] == "Cluster"
    version = own[0]["spec"]["versions"][0]
    assert version["name"] == "v1alpha3" and version["storage"] is True
    topology = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["topology"]
    assert set(topology["properties"]) == {"controlPlane", "nodePools"}


def test_the_pinned_kubernetes_release_is_stamped_with_its_tags_commit():
    # a version bump in tools/go.mod without its commit here would leave /version's gitCommit unstamped
    version = build.kubernetes_version()
    assert version in build.RELEASE_COMMITS
    flags = build._ldflags("kube-apiserver")
    assert f"k8s.io/component-base/version.gitCommit={build.RELEASE_COMMITS[version]}" in flags
    # a guest release stamped "+testbed" is no real tag: no commit is claimed for it
    assert "gitCommit" not in build._ldflags("kube-apiserver-1.34")


def test_credentials_are_created_once_and_kept_private(tmp_path):
    path = tmp_path / "credentials.json"
    first = Credentials.load_or_create(path)
    assert Credentials.load_or_create(path) == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert first.admin_token != first.nobody_token
    lines = first.token_file_lines().splitlines()
    assert lines[0].endswith('"system:masters"') and "system:masters" not in lines[1]


def test_ports_follow_the_base(monkeypatch):
    monkeypatch.setenv("PACIFIC_TESTBED_PORT_BASE", "40000")
    ports = Layout.from_env().ports
    assert {ports.etcd_client, ports.apiserver, ports.vcsim} <= set(range(40001, 40010))
    assert len({*vars(ports).values()}) == len(vars(ports))


def test_cli_rejects_an_unknown_command():
    done = subprocess.run([sys.executable, "-m", "testbed", "explode"], cwd=REPO_ROOT,
                          capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_a_daemon_is_found_right_after_its_start(tmp_path):
    """The kernel may show an empty command line just after exec; that is no reason to think
    the daemon died (it once made `up` roll back a healthy start)."""
    from dataclasses import replace

    from testbed import processes

    layout = replace(Layout.from_env(), state=tmp_path)
    layout.ensure_dirs()
    missed = 0
    for _ in range(100):
        processes.start(layout, processes.Daemon("sleeper", ["/bin/sleep", "5"], port=1))
        missed += processes.running_pid(layout, "sleeper") is None
        processes.stop(layout, "sleeper")
    assert missed == 0


@pytest.mark.parametrize("policy, storage_class", [
    ("vSAN Default Storage Policy", "vsan-default-storage-policy"),
    ("Host-local PMem Default Storage Policy", "host-local-pmem-default-storage-policy"),
    ("  Gold_Tier (SSD) -- v2 ", "gold-tier-ssd-v2"),
])
def test_storage_class_is_named_after_the_policy_name(policy, storage_class):
    from testbed.wcp.mirror import quota_hard, storage_class_name

    assert storage_class_name(policy) == storage_class
    info = {"storage_specs": [{"policy": "id-1", "limit": 100}]}
    assert quota_hard(info, {"id-1": policy}) == {f"{storage_class}.storageclass.storage.k8s.io/requests.storage": "100Mi"}


def test_a_namespace_carries_its_supervisors_network_provider_and_vds_refuses_pods():
    from testbed import admission
    from testbed.wcp.mirror import desired_objects

    vds = desired_objects("team-b", {"cluster": "domain-c61"}, {}, {}, "VSPHERE_NETWORK")[0]
    nsx = desired_objects("team-a", {"cluster": "domain-c8"}, {}, {}, "NSXT_CONTAINER_PLUGIN")[0]
    assert admission.refuses_pods(vds["metadata"]["labels"]) and not admission.refuses_pods(nsx["metadata"]["labels"])
    assert admission.binding()["spec"]["matchResources"]["namespaceSelector"]["matchLabels"] == {
        admission.NETWORK_PROVIDER_LABEL: "VSPHERE_NETWORK"}
    assert admission.policy()["spec"]["validations"][0]["reason"] == "Forbidden"


def test_a_relist_queues_the_pods_deleted_while_no_watch_ran():
    """A force-deleted pod is gone at once: if no watch saw it go, the next list must still
    bring its teardown (its pod VM and process), and leave the listed pods alone."""
    from types import SimpleNamespace

    from kubernetes import client

    from testbed.controllers.spherelet import Spherelet

    spherelet = Spherelet(client.ApiClient(), vsphere=None, faults=None)
    spherelet.ips = {("team-a", "kept"): "10.0.0.1", ("team-a", "gone"): "10.0.0.2", ("team-b", "kept"): "10.0.0.3"}

    def pod(namespace, name):
        return SimpleNamespace(metadata=SimpleNamespace(namespace=namespace, name=name))

    spherelet._forget_missing([pod("team-a", "kept"), pod("team-b", "kept"), pod("team-b", "new")])
    assert spherelet.queue._pending == [("team-a", "gone")]


def test_a_wcp_revocation_voids_the_tokens_of_the_same_second_issued_before_it():
    import time

    from testbed.wcp import tokens

    key = b"k" * 32
    before = tokens.issue(key, "devops@vsphere.local")
    revoked_at = time.time()
    after = tokens.issue(key, "devops@vsphere.local")

    def authenticated(token):
        return tokens.review(key, {"spec": {"token": token}}, not_before=revoked_at)["status"]["authenticated"]

    assert (authenticated(before), authenticated(after)) == (False, True)


def test_guest_tokens_name_the_user_and_its_sso_groups_and_nothing_more():
    """Inside a guest cluster the token is ``sso:<user>`` with its SSO groups as ``sso:`` groups: what it may
    do there is what the guest's RBAC binds to those names (no blanket group for every login)."""
    from testbed.wcp import tokens

    key = b"k" * 32
    token = tokens.issue(key, "administrator@vsphere.local", guest="ns-1/tkc", groups=["Administrators@vsphere.local"])
    user = tokens.review(key, {"spec": {"token": token}}, guest="ns-1/tkc")["status"]["user"]
    assert (user["username"], user["groups"]) == ("sso:administrator@vsphere.local",
                                                  ["sso:Administrators@vsphere.local", "system:authenticated"])
    viewer = tokens.issue(key, "viewer@vsphere.local", guest="ns-1/tkc")
    assert tokens.review(key, {"spec": {"token": viewer}}, guest="ns-1/tkc")["status"]["user"]["groups"] == [
        "system:authenticated"]


def test_guest_auth_sync_bindings_are_one_per_owner_or_edit_subject_as_vsphere_names_them():
    """KB 424897's ClusterRoleBindings: ``vmware-system-auth-sync-wcp:<ns>:<user|group>:<domain>:<name>`` ->
    cluster-admin, for each OWNER/EDIT subject (the mirror's admin/edit RoleBindings) and the administrators
    group; VIEW subjects get none."""
    from types import SimpleNamespace

    from testbed.controllers.guest_access import desired

    def mirrored(role, kind, name):
        return SimpleNamespace(role_ref=SimpleNamespace(name=role), subjects=[SimpleNamespace(kind=kind, name=name)])

    wanted = desired("vsphere-ns-1", [mirrored("edit", "User", "sso:devops@vsphere.local"),
                                      mirrored("admin", "Group", "sso:test@vsphere.local"),
                                      mirrored("view", "User", "sso:viewer@vsphere.local")])
    assert {name: (body["roleRef"]["name"], [(s["kind"], s["name"]) for s in body["subjects"]])
            for name, body in wanted.items()} == {
        "vmware-system-auth-sync-wcp:vsphere-ns-1:group:vsphere.local:administrators":
            ("cluster-admin", [("Group", "sso:Administrators@vsphere.local")]),
        "vmware-system-auth-sync-wcp:vsphere-ns-1:group:vsphere.local:test":
            ("cluster-admin", [("Group", "sso:test@vsphere.local")]),
        "vmware-system-auth-sync-wcp:vsphere-ns-1:user:vsphere.local:devops":
            ("cluster-admin", [("User", "sso:devops@vsphere.local")]),
    }


def test_image_registry_objects_are_named_as_the_supervisor_names_them():
    """VM Operator's VMI ID: the first 17 hex digits of the SHA-1 of the item's UUID without dashes
    (its documentation's example); libraries and items are named the same way."""
    from testbed.wcp.libraries import image_name, item_resource_name, library_resource_name

    assert image_name("e1968c25-dd84-4506-8dc7-9beacb6b688e") == "vmi-0a0044d7c690bcbea"
    assert item_resource_name("e1968c25-dd84-4506-8dc7-9beacb6b688e") == "clitem-0a0044d7c690bcbea"
    assert library_resource_name("e1968c25-dd84-4506-8dc7-9beacb6b688e") == "cl-0a0044d7c690bcbea"


def test_env_gives_the_developer_login_for_the_developer_face(tmp_path):
    """`python -m testbed env`: the developer face logs in as the namespace developer; the admin's
    token has a name of its own, which no module reads."""
    env = {**os.environ, "PACIFIC_TESTBED_STATE": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-m", "testbed", "env"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, check=True)
    exported = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    creds = Credentials.load_or_create(tmp_path / "state" / "credentials.json")
    assert exported["PACIFIC_SUPERVISOR_USERNAME"] == creds.developer_user == "devops@vsphere.local"
    assert exported["PACIFIC_SUPERVISOR_PASSWORD"] == creds.developer_password
    # the Supervisor at its own address, with /wcp/login where the collection looks by default
    assert exported["PACIFIC_SUPERVISOR_SERVER"].endswith(":6443") and "PACIFIC_WCP_LOGIN_URL" not in exported
    assert "127.0.0.1" not in exported["PACIFIC_SUPERVISOR_SERVER"]
    assert exported["PACIFIC_ADMIN_TOKEN"] == creds.admin_token
    assert not {"PACIFIC_SUPERVISOR_TOKEN", "KUBECONFIG", "PACIFIC_DEVELOPER_PASSWORD"} & exported.keys()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the 9.1 bindings deprecate some 8.0 types
def test_json_rpc_encodes_rest_answers_as_the_idl_declares():
    """vAPI's JSON-RPC encoding: structures named, optionals wrapped, a missing required field refused."""
    pytest.importorskip("com.vmware.vcenter.namespace_management_client")
    from testbed.wcp import jsonrpc

    binding = jsonrpc._output_type([(jsonrpc.NAMESPACE_MANAGEMENT, "VirtualMachineClasses.Info")])
    rest = [{"id": "small", "cpu_count": 2, "memory_MB": 2048, "cpu_reservation": 0, "memory_reservation": 0,
             "description": "", "devices": {}, "config_status": "READY", "namespaces": ["a"], "vms": [],
             "messages": []}]
    [encoded] = jsonrpc.encode(binding, rest)
    fields = encoded["STRUCTURE"]["com.vmware.vcenter.namespace_management.virtual_machine_classes.info"]
    assert fields["memory_MB"] == 2048 and fields["namespaces"] == ["a"]
    assert fields["cpu_reservation"] == {"OPTIONAL": 0} and fields["config_spec"] == {"OPTIONAL": None}
    with pytest.raises(jsonrpc.NotEncodable, match="cpu_count"):
        jsonrpc.encode(binding, [{**rest[0], "cpu_count": None}])


def test_a_second_test_session_gets_a_testbed_of_its_own(tmp_path, monkeypatch):
    """Two sessions on one machine: the second is given the next test testbed, not the first's."""
    from testbed import pytest_plugin
    monkeypatch.setenv("PACIFIC_TESTBED_HOME", str(tmp_path))
    monkeypatch.delenv("PACIFIC_TESTBED_STATE", raising=False)
    first, first_lock = pytest_plugin.claimed_layout()
    second, second_lock = pytest_plugin.claimed_layout()
    try:
        assert first.state == tmp_path / "test-state" and first.ports.base == pytest_plugin.TEST_PORT_BASE
        assert second.state == tmp_path / "test1-state" and second.ports.base == pytest_plugin.TEST_PORT_BASE - 2000
        assert first.pod_network.subnet != second.pod_network.subnet
    finally:
        first_lock.close()
        second_lock.close()
    again, again_lock = pytest_plugin.claimed_layout()  # released: the first testbed is free again
    again_lock.close()
    assert again.state == tmp_path / "test-state"


def test_a_named_testbed_in_use_is_refused_clearly(tmp_path, monkeypatch):
    from testbed import pytest_plugin
    monkeypatch.setenv("PACIFIC_TESTBED_STATE", str(tmp_path / "mine"))
    _, held = pytest_plugin.claimed_layout()
    try:
        with pytest.raises(pytest.UsageError, match="another test session uses the testbed in .*mine"):
            pytest_plugin.claimed_layout()
    finally:
        held.close()


def test_relays_open_relay_replace_and_release_an_address():
    """The pass-through behind a guest cluster's VIP: bytes go to 127.0.0.1:<target> and back, a
    second open with the same key is a no-op, close frees the address's port at once."""
    import socket
    import socketserver
    import threading

    from testbed.passthrough import Relays

    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            while data := self.request.recv(1024):
                self.request.sendall(data.upper())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as probe:  # a free port on a loopback address of its own
        probe.bind(("127.0.0.77", 0))
        port = probe.getsockname()[1]
    relays = Relays()
    try:
        relays.open("ns/a", "127.0.0.77", port, server.server_address[1])
        relays.open("ns/a", "127.0.0.77", port, server.server_address[1])
        assert relays.listening("ns/a") == ("127.0.0.77", port, server.server_address[1])
        with socket.create_connection(("127.0.0.77", port), timeout=5) as client:
            client.sendall(b"through the vip")
            assert client.recv(1024) == b"THROUGH THE VIP"
        relays.close("ns/a")
        assert relays.listening("ns/a") is None
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.77", port), timeout=5).close()
        relays.close("ns/a")  # closing again is harmless
    finally:
        relays.close("ns/a")
        server.shutdown()
        server.server_close()
