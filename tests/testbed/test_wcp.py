"""The WCP simulator: /wcp/login with kube-apiserver, and vSphere Namespaces mirrored into Kubernetes."""
from __future__ import annotations

import time

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from testbed.wcp import tokens
from tests.testbed.conftest import Vcenter, _absent, _until

pytestmark = pytest.mark.testbed

VM_CLASS = "wcp-test-small"
VSAN_POLICY = "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"  # vcsim's "vSAN Default Storage Policy"


@pytest.fixture(scope="module")
def admin(testbed) -> Vcenter:
    return Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)


@pytest.fixture(scope="module")
def cluster(admin) -> str:
    clusters = admin.call("GET", "/api/vcenter/namespace-management/clusters").json()
    assert [c["config_status"] for c in clusters] == ["RUNNING"]
    return clusters[0]["cluster"]


@pytest.fixture(scope="module")
def vm_class(admin):
    admin.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")  # an aborted run's
    answer = admin.call("POST", "/api/vcenter/namespace-management/virtual-machine-classes",
                        json={"id": VM_CLASS, "cpu_count": 2, "memory_MB": 2048, "memory_reservation": 50})
    assert answer.status_code == 204, answer.text
    yield VM_CLASS
    admin.call("DELETE", f"/api/vcenter/namespace-management/virtual-machine-classes/{VM_CLASS}")


def _wait(predicate, timeout: float = 30.0, what: str = "condition"):
    return _until(predicate, timeout, what)


def _namespace_spec(cluster, name, **extra):
    return {"cluster": cluster, "namespace": name, **extra}


@pytest.fixture
def namespaces(admin):
    """Names of vSphere Namespaces a test makes: gone before (an aborted run's) and after it."""
    made = []
    for leftover in admin.call("GET", "/api/vcenter/namespaces/instances").json():
        if leftover["namespace"].startswith("wcp-"):
            admin.call("DELETE", f"/api/vcenter/namespaces/instances/{leftover['namespace']}")
    yield made
    for name in made:
        admin.call("DELETE", f"/api/vcenter/namespaces/instances/{name}")


def test_namespace_is_mirrored_into_kubernetes(admin, cluster, vm_class, admin_client, namespaces):
    core, rbac = client.CoreV1Api(admin_client), client.RbacAuthorizationV1Api(admin_client)
    spec = _namespace_spec(
        cluster, "wcp-team-a", description="team A",
        access_list=[{"role": "EDIT", "subject_type": "USER", "subject": "devops", "domain": "vsphere.local"}],
        resource_spec={"cpu_limit": 4000, "memory_limit": 8192, "memory_limit_default": 512},
        storage_specs=[{"policy": VSAN_POLICY, "limit": 10240}],
        vm_service_spec={"vm_classes": [vm_class]},
    )
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json=spec)
    assert answer.status_code == 204, answer.text
    namespaces.append("wcp-team-a")

    quota = _wait(lambda: core.read_namespaced_resource_quota("wcp-resource-quota", "wcp-team-a"),
                  what="ResourceQuota of wcp-team-a")
    assert quota.spec.hard == {"limits.cpu": "4", "limits.memory": "8Gi",
                               "vsan-default-storage-policy.storageclass.storage.k8s.io/requests.storage": "10Gi"}
    storage_class = client.StorageV1Api(admin_client).read_storage_class("vsan-default-storage-policy")
    assert storage_class.parameters == {"storagePolicyID": VSAN_POLICY}
    binding = _wait(lambda: rbac.list_namespaced_role_binding("wcp-team-a").items, what="RoleBinding")[0]
    assert binding.role_ref.name == "edit"
    assert [s.name for s in binding.subjects] == ["sso:devops@vsphere.local"]
    limits = core.read_namespaced_limit_range("wcp-limit-range", "wcp-team-a")
    assert limits.spec.limits[0].default == {"memory": "512Mi"}
    vm_classes = _wait(lambda: client.CustomObjectsApi(admin_client).list_namespaced_custom_object(
        "vmoperator.vmware.com", "v1alpha3", "wcp-team-a", "virtualmachineclasses")["items"], what="VM classes")
    # through VM Operator's conversion (written at v1alpha3, stored at v1alpha5): quantities in canonical form,
    # an unset quantity as 0
    assert [(c["metadata"]["name"], c["spec"]["hardware"]["cpus"], c["spec"]["hardware"]["memory"])
            for c in vm_classes] == [(vm_class, 2, "2Gi")]
    assert vm_classes[0]["spec"]["policies"]["resources"]["requests"]["memory"] == "1Gi"

    info = _wait(lambda: (lambda i: i if i["config_status"] == "RUNNING" else None)(
        admin.call("GET", "/api/vcenter/namespaces/instances/wcp-team-a").json()), what="RUNNING")
    assert info["cluster"] == cluster and info["description"] == "team A"
    listed = [s["namespace"] for s in admin.call("GET", "/api/vcenter/namespaces/instances").json()]
    assert [name for name in listed if name.startswith("wcp-")] == ["wcp-team-a"]


def test_update_and_delete_follow_into_kubernetes(admin, cluster, admin_client, namespaces):
    core, rbac = client.CoreV1Api(admin_client), client.RbacAuthorizationV1Api(admin_client)
    access = [{"role": "VIEW", "subject_type": "GROUP", "subject": "auditors", "domain": "vsphere.local"}]
    admin.call("POST", "/api/vcenter/namespaces/instances",
               json=_namespace_spec(cluster, "wcp-team-b", access_list=access, resource_spec={"memory_limit": 1024}))
    namespaces.append("wcp-team-b")
    _wait(lambda: rbac.list_namespaced_role_binding("wcp-team-b").items, what="first RoleBinding")

    owner = [{"role": "OWNER", "subject_type": "USER", "subject": "devops", "domain": "vsphere.local"}]
    answer = admin.call("PATCH", "/api/vcenter/namespaces/instances/wcp-team-b",
                        json={"access_list": owner, "resource_spec": {"memory_limit": 2048}})
    assert answer.status_code == 204, answer.text
    _wait(lambda: core.read_namespaced_resource_quota("wcp-resource-quota", "wcp-team-b").spec.hard
          == {"limits.memory": "2Gi"}, what="raised memory limit")
    _wait(lambda: [(b.role_ref.name, b.subjects[0].kind) for b in rbac.list_namespaced_role_binding("wcp-team-b").items]
          == [("admin", "User")], what="the OWNER binding alone")

    assert admin.call("DELETE", "/api/vcenter/namespaces/instances/wcp-team-b").status_code == 204
    namespaces.remove("wcp-team-b")
    assert admin.call("GET", "/api/vcenter/namespaces/instances/wcp-team-b").status_code == 404
    _wait(lambda: _absent(core.read_namespace, "wcp-team-b") or core.read_namespace("wcp-team-b").metadata.deletion_timestamp,
          what="Namespace deletion")


def test_a_new_role_for_the_same_subject_rebinds(admin, cluster, admin_client, namespaces):
    """roleRef is immutable in Kubernetes: EDIT -> OWNER for one user must still reach RBAC."""
    rbac = client.RbacAuthorizationV1Api(admin_client)
    path = "/api/vcenter/namespaces/instances/wcp-rebind"
    entry = {"role": "EDIT", "subject_type": "USER", "subject": "devops", "domain": "vsphere.local"}
    admin.call("POST", "/api/vcenter/namespaces/instances",
               json=_namespace_spec(cluster, "wcp-rebind", access_list=[entry]))
    namespaces.append("wcp-rebind")
    _wait(lambda: [b.role_ref.name for b in rbac.list_namespaced_role_binding("wcp-rebind").items] == ["edit"],
          what="the EDIT binding")
    assert admin.call("PATCH", path, json={"access_list": [{**entry, "role": "OWNER"}]}).status_code == 204
    _wait(lambda: [b.role_ref.name for b in rbac.list_namespaced_role_binding("wcp-rebind").items] == ["admin"],
          what="the OWNER binding in its place")
    _wait(lambda: admin.call("GET", path).json()["config_status"] == "RUNNING", what="RUNNING, not ERROR")


def test_wcp_login_token_is_honoured_by_kube_apiserver_per_namespace(testbed, admin, cluster, namespaces):
    access = [{"role": "EDIT", "subject_type": "USER", "subject": "devops", "domain": "vsphere.local"}]
    admin.call("POST", "/api/vcenter/namespaces/instances",
               json=_namespace_spec(cluster, "wcp-login-a", access_list=access))
    admin.call("POST", "/api/vcenter/namespaces/instances", json=_namespace_spec(cluster, "wcp-login-b"))
    namespaces.extend(["wcp-login-a", "wcp-login-b"])
    creds = testbed.credentials
    answer = admin.http.post(testbed.layout.supervisor_login_url,
                             auth=(creds.developer_user, creds.developer_password), headers={"vmware-api-session-id": ""})
    assert answer.status_code == 200
    token = answer.json()["session_id"]

    def status(namespace: str, bearer: str = token) -> int:
        return admin.http.get(f"{testbed.layout.apiserver_url}/api/v1/namespaces/{namespace}/configmaps",
                              headers={"Authorization": f"Bearer {bearer}"}).status_code

    _wait(lambda: status("wcp-login-a") == 200, what="access to wcp-login-a")
    assert status("wcp-login-b") == 403

    key = testbed.jwt_key_file.read_bytes()
    assert status("wcp-login-a", tokens.issue(key, creds.developer_user, lifetime=-60)) == 401
    assert status("wcp-login-a", tokens.issue(b"not-the-key" * 3, creds.developer_user)) == 401


def test_wcp_login_refuses_a_wrong_password(testbed, admin):
    answer = admin.http.post(testbed.layout.supervisor_login_url,
                             auth=(testbed.credentials.developer_user, "wrong"))
    assert answer.status_code == 401 and "session_id" not in answer.text


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"namespace": "Team_A"}, "not a valid name"),
        ({"cluster": "domain-c999"}, "not a cluster with workload management"),
        ({"resource_spec": {"cpu_limit": -1}}, "non-negative"),
        ({"resource_spec": {"gpu_limit": 1}}, "unknown fields: gpu_limit"),
        ({"access_list": [{"role": "GOD", "subject_type": "USER", "subject": "x", "domain": "d"}]}, "role"),
        ({"vm_service_spec": {"vm_classes": ["no-such-class"]}}, "unknown VM classes: no-such-class"),
        ({"colour": "blue"}, "unknown fields: colour"),
        ({"storage_specs": [{"policy": "wcp-default"}]}, "unknown storage policy: wcp-default"),
    ],
    ids=["invalid-name", "unknown-cluster", "negative-limit", "unknown-limit", "bad-role", "unknown-class",
         "unknown-field", "unknown-policy"],
)
def test_bad_namespace_spec_is_one_clear_error_and_creates_nothing(admin, cluster, admin_client, change, complaint):
    spec = {**_namespace_spec(cluster, "wcp-bad"), **change}
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json=spec)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error_type"] == "INVALID_ARGUMENT" and complaint in body["messages"][0]["default_message"]
    assert admin.call("GET", f"/api/vcenter/namespaces/instances/{spec['namespace']}").status_code == 404
    time.sleep(0.2)
    with pytest.raises(ApiException) as raised:
        client.CoreV1Api(admin_client).read_namespace(spec["namespace"].lower().replace("_", "-"))
    assert raised.value.status == 404


def test_sessions_and_privileges(testbed, cluster):
    anonymous = requests.get(testbed.layout.vcenter_url + "/api/vcenter/namespaces/instances",
                             verify=str(testbed.pki.ca_cert))
    assert anonymous.status_code == 401 and anonymous.json()["error_type"] == "UNAUTHENTICATED"
    developer = Vcenter(testbed, testbed.credentials.developer_user, testbed.credentials.developer_password)
    answer = developer.call("POST", "/api/vcenter/namespaces/instances", json=_namespace_spec(cluster, "wcp-dev"))
    assert answer.status_code == 403 and answer.json()["error_type"] == "UNAUTHORIZED"
    assert developer.call("GET", "/api/session").json()["user"] == testbed.credentials.developer_user
    assert developer.call("DELETE", "/api/session").status_code == 204
    assert developer.call("GET", "/api/session").status_code == 401


def test_vm_class_lifecycle_and_bound_class_cannot_go(admin, cluster, namespaces):
    path = "/api/vcenter/namespace-management/virtual-machine-classes"
    assert admin.call("POST", path, json={"id": "wcp-tmp", "cpu_count": 0, "memory_MB": 1}).status_code == 400
    assert admin.call("POST", path, json={"id": "wcp-tmp", "cpu_count": 1, "memory_MB": 512}).status_code == 204
    assert admin.call("POST", path, json={"id": "wcp-tmp", "cpu_count": 1, "memory_MB": 512}).json()[
        "error_type"] == "ALREADY_EXISTS"
    assert admin.call("PATCH", f"{path}/wcp-tmp", json={"cpu_count": 4}).status_code == 204
    assert admin.call("GET", f"{path}/wcp-tmp").json()["cpu_count"] == 4
    admin.call("POST", "/api/vcenter/namespaces/instances",
               json=_namespace_spec(cluster, "wcp-classy", vm_service_spec={"vm_classes": ["wcp-tmp"]}))
    namespaces.append("wcp-classy")
    listed = {c["id"]: c["namespaces"] for c in admin.call("GET", path).json()}
    assert listed["wcp-tmp"] == ["wcp-classy"]
    refused = admin.call("DELETE", f"{path}/wcp-tmp")
    assert refused.status_code == 400 and "wcp-classy" in refused.text
    admin.call("DELETE", "/api/vcenter/namespaces/instances/wcp-classy")
    namespaces.remove("wcp-classy")
    assert admin.call("DELETE", f"{path}/wcp-tmp").status_code == 204
    assert admin.call("GET", f"{path}/wcp-tmp").status_code == 404


def test_soap_reaches_vcsim_through_the_vcenter_endpoint(testbed):
    from testbed import report

    assert report.vcenter_counts(testbed)["VirtualMachine"] >= 4


def test_namespaces_survive_a_wcp_restart(testbed, admin, cluster, namespaces):
    admin.call("POST", "/api/vcenter/namespaces/instances", json=_namespace_spec(cluster, "wcp-durable"))
    namespaces.append("wcp-durable")
    assert testbed.stop("wcp")
    testbed.up()
    fresh = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    assert fresh.call("GET", "/api/vcenter/namespaces/instances/wcp-durable").status_code == 200
    admin.http.headers["vmware-api-session-id"] = fresh.http.headers["vmware-api-session-id"]


def test_enable_and_disable_workload_management_on_a_cluster(admin, vcenter_si):
    from pyVmomi import vim

    clusters = "/api/vcenter/namespace-management/clusters"
    enabled = {c["cluster"] for c in admin.call("GET", clusters).json()}
    content = vcenter_si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
    other = next(cluster._moId for cluster in view.view if cluster._moId not in enabled)
    view.Destroy()
    spec = {"size_hint": "TINY", "network_provider": "VSPHERE_NETWORK", "master_storage_policy": VSAN_POLICY}
    bad = admin.call("POST", f"{clusters}/{other}?action=enable", json={**spec, "size_hint": "HUGE"})
    assert bad.status_code == 400 and "size_hint" in bad.json()["messages"][0]["default_message"]
    assert admin.call("POST", f"{clusters}/{other}?action=enable", json=spec).status_code == 204
    assert admin.call("GET", f"{clusters}/{other}").json()["config_status"] in ("CONFIGURING", "RUNNING")  # CONFIGURING for 2 s only
    _wait(lambda: admin.call("GET", f"{clusters}/{other}").json()["config_status"] == "RUNNING", 30, "RUNNING")
    summaries = admin.call("GET", "/api/vcenter/namespace-management/supervisors/summaries").json()["items"]
    assert len(summaries) == len(enabled) + 1
    assert admin.call("POST", f"{clusters}/{other}?action=enable", json=spec).json()["error_type"] == "ALREADY_EXISTS"
    assert admin.call("POST", f"{clusters}/{other}?action=disable").status_code == 204
    _wait(lambda: admin.call("GET", f"{clusters}/{other}").status_code == 404, 30, "disabled")
    assert {c["cluster"] for c in admin.call("GET", clusters).json()} == enabled


def test_software_versions_match_the_supervisor_kube_apiserver(admin, cluster, admin_client):
    from kubernetes.client import VersionApi

    kubernetes = VersionApi(admin_client).get_code().git_version
    software = "/api/vcenter/namespace-management/software/clusters"
    info = admin.call("GET", f"{software}/{cluster}").json()
    assert info["current_version"].split("+")[0] == kubernetes
    assert info["current_version"] == f"{kubernetes}+vmware.wcp.1-testbed"
    assert info["available_versions"] == [] and info["state"] == "READY"
    summaries = admin.call("GET", software).json()
    assert [(s["cluster"], s["current_version"]) for s in summaries] == [(cluster, info["current_version"])]
    assert admin.call("GET", f"{software}/domain-c999").status_code == 404
    detail = admin.call("GET", f"/api/vcenter/namespace-management/clusters/{cluster}").json()
    assert detail["kubernetes_status"] == "READY" and detail["kubernetes_status_messages"] == []


def test_a_running_supervisor_takes_an_update_spec(admin, cluster):
    path = f"/api/vcenter/namespace-management/clusters/{cluster}"
    before = admin.call("GET", path).json()
    refused = admin.call("PATCH", path, json={"master_management_network": {"mode": "DHCP", "network": "x"}})
    assert refused.status_code == 400
    assert "master_management_network: not fields of an update spec" in refused.json()["messages"][0]["default_message"]
    other = "NSX_VPC" if before["network_provider"] != "NSX_VPC" else "VSPHERE_NETWORK"
    refused = admin.call("PATCH", path, json={"network_provider": other})
    assert refused.status_code == 400 and "network provider" in refused.json()["messages"][0]["default_message"]
    assert admin.call("GET", path).json() == before
    registry = {"hostname": "registry.example.com", "port": 5000}
    try:
        assert admin.call("PATCH", path, json={"default_image_registry": registry}).status_code == 204
        assert admin.call("GET", path).json()["config_status"] in ("CONFIGURING", "RUNNING")  # CONFIGURING for 2 s only
        _wait(lambda: admin.call("GET", path).json()["config_status"] == "RUNNING", 30, "RUNNING again")
        after = admin.call("GET", path).json()
        assert after["default_image_registry"] == registry and after["size_hint"] == before["size_hint"]
    finally:
        # the next test must find the Supervisor RUNNING (the registry stays: there is no unsetting it)
        _wait(lambda: admin.call("GET", path).json()["config_status"] == "RUNNING", 30, "RUNNING")


def test_namespace_roles_reach_the_supervisor_api_groups(admin, cluster, admin_client, namespaces):
    """EDIT and OWNER users manage VMs and guest clusters, VIEW users read them: edit, admin and view aggregate them."""
    authorization = client.AuthorizationV1Api(admin_client)
    access = [{"role": role, "subject_type": "USER", "subject": user, "domain": "vsphere.local"}
              for role, user in (("EDIT", "editor"), ("OWNER", "owner"), ("VIEW", "viewer"))]
    admin.call("POST", "/api/vcenter/namespaces/instances",
               json=_namespace_spec(cluster, "wcp-roles", access_list=access))
    namespaces.append("wcp-roles")
    _wait(lambda: len(client.RbacAuthorizationV1Api(admin_client).list_namespaced_role_binding("wcp-roles").items) == 3,
          what="three RoleBindings")

    def allowed(user, verb, group, resource, namespace="wcp-roles"):
        review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            user=f"sso:{user}@vsphere.local", resource_attributes=client.V1ResourceAttributes(
                namespace=namespace, verb=verb, group=group, resource=resource)))
        return authorization.create_subject_access_review(review).status.allowed

    for group, resource in (("vmoperator.vmware.com", "virtualmachines"),
                            ("vmoperator.vmware.com", "virtualmachinesetresourcepolicies"),
                            ("cluster.x-k8s.io", "clusters"), ("run.tanzu.vmware.com", "tanzukubernetesclusters")):
        # the aggregation controller folds the labelled ClusterRoles in asynchronously
        _wait(lambda: allowed("editor", "create", group, resource), 30, f"editor may create {resource}")
        assert allowed("owner", "delete", group, resource)
        assert allowed("viewer", "list", group, resource)
        assert not allowed("viewer", "create", group, resource)
        assert not allowed("editor", "create", group, resource, namespace="default")


def _login(testbed, user: str, password: str) -> str:
    answer = requests.post(testbed.layout.supervisor_login_url, auth=(user, password),
                           verify=str(testbed.pki.ca_cert))
    assert answer.status_code == 200, answer.text
    return answer.json()["session_id"]


def test_users_get_what_a_supervisor_grants(testbed, admin, cluster, vm_class, namespaces):
    """EDIT (devops), VIEW (viewer) and no access (outsider): each logs in; in a namespace the first
    may write, the second only read, the third nothing; all three may read the releases and
    storage classes (cluster-scoped kinds any authenticated user reads), none may list namespaces."""
    creds = testbed.credentials
    access = [{"role": role, "subject_type": "USER", "subject": user.split("@")[0], "domain": user.split("@")[1]}
              for role, user in (("EDIT", creds.developer_user), ("VIEW", creds.viewer_user))]
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json=_namespace_spec(
        cluster, "wcp-users", access_list=access, vm_service_spec={"vm_classes": [vm_class]}))
    assert answer.status_code == 204, answer.text
    namespaces.append("wcp-users")
    tokens_of = {role: _login(testbed, user, password) for role, user, password in (
        ("edit", creds.developer_user, creds.developer_password), ("view", creds.viewer_user, creds.viewer_password),
        ("none", creds.outsider_user, creds.outsider_password))}
    api = testbed.layout.apiserver_url

    def status(role: str, method: str, path: str, body: dict | None = None) -> int:
        return requests.request(method, api + path, json=body, verify=str(testbed.pki.ca_cert),
                                headers={"Authorization": f"Bearer {tokens_of[role]}"}).status_code

    configmaps = "/api/v1/namespaces/wcp-users/configmaps"
    _wait(lambda: status("view", "GET", configmaps) == 200, what="VIEW access to wcp-users")
    _wait(lambda: status("edit", "GET", configmaps) == 200, what="EDIT access to wcp-users")
    vms = "/apis/vmoperator.vmware.com/v1alpha3/namespaces/wcp-users/virtualmachines"
    assert status("view", "GET", vms) == 200 and status("none", "GET", vms) == 403
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}}
    assert status("view", "POST", configmaps, configmap) == 403
    assert status("none", "POST", configmaps, configmap) == 403
    assert status("edit", "POST", configmaps, configmap) == 201
    for role in tokens_of:
        assert status(role, "GET", "/apis/run.tanzu.vmware.com/v1alpha3/tanzukubernetesreleases") == 200, role
        assert status(role, "GET", "/apis/storage.k8s.io/v1/storageclasses") == 200, role
        assert status(role, "GET", "/api/v1/namespaces") == 403, role
        assert status(role, "POST", "/apis/storage.k8s.io/v1/storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "mine"},
            "provisioner": "x"}) == 403, role
    assert status("none", "GET", "/api/v1/namespaces/wcp-users") == 403
    assert status("edit", "GET", "/api/v1/namespaces/wcp-users") == 200
    # /wcp/workloads (HTTP Basic, as kubectl vsphere login asks it): the namespaces of each login
    for user, password, listed in ((creds.developer_user, creds.developer_password, True),
                                   (creds.viewer_user, creds.viewer_password, True),
                                   (creds.outsider_user, creds.outsider_password, False)):
        answer = requests.get(f"https://{testbed.layout.supervisor_host}/wcp/workloads", auth=(user, password),
                              verify=str(testbed.pki.ca_cert))
        assert answer.status_code == 200, answer.text
        assert ("wcp-users" in [entry["namespace"] for entry in answer.json()]) is listed, user
    assert requests.get(f"https://{testbed.layout.supervisor_host}/wcp/workloads", auth=(creds.viewer_user, "wrong"),
                        verify=str(testbed.pki.ca_cert)).status_code == 401


def test_namespaces_v2_name_the_supervisor(admin, cluster, namespaces):
    supervisor = admin.call("GET", "/api/vcenter/namespace-management/supervisors/summaries").json()["items"][0][
        "supervisor"]
    path = "/api/vcenter/namespaces/instances/v2"
    made = admin.call("POST", path, json={"supervisor": supervisor, "namespace": "wcp-v2", "description": "v2",
                                          "content_libraries": None, "self_service_namespace": False})
    assert made.status_code == 204, made.text
    namespaces.append("wcp-v2")
    listed = {item["namespace"]: item for item in admin.call("GET", path).json()}
    assert listed["wcp-v2"]["supervisor"] == supervisor and "cluster" not in listed["wcp-v2"]
    info = admin.call("GET", f"{path}/wcp-v2").json()
    assert info["supervisor"] == supervisor and info["description"] == "v2"
    assert admin.call("GET", "/api/vcenter/namespaces/instances/wcp-v2").json()["cluster"] == cluster


def test_validation_is_as_tolerant_as_vcenter(admin, cluster, vm_class, namespaces):
    spec = _namespace_spec(cluster, "wcp-tolerant", storage_specs=None, creator={"subject": "a", "domain": "b"},
                           content_libraries=[], vm_service_spec={"vm_classes": None, "content_libraries": None})
    answer = admin.call("POST", "/api/vcenter/namespaces/instances", json=spec)
    assert answer.status_code == 204, answer.text
    namespaces.append("wcp-tolerant")
    path = f"/api/vcenter/namespace-management/virtual-machine-classes/{vm_class}"
    assert admin.call("PATCH", path, json={"id": vm_class, "cpu_count": 2, "config_spec": {"numCPUs": 2}}
                      ).status_code == 204
    assert admin.call("PATCH", path, json={"id": "another-class"}).status_code == 400
    listed = [c for c in admin.call("GET", path.rsplit("/", 1)[0]).json() if c["id"] == vm_class]
    assert listed == [admin.call("GET", path).json()]  # GET and list agree
    assert {"namespaces", "vms", "messages", "config_spec"} <= set(listed[0])


def test_one_session_store_for_api_and_rest(testbed, admin):
    """The admin's /api session is good at vcsim's /rest, and a /rest session is good at /api."""
    rest = admin.call("POST", "/rest/com/vmware/cis/session?~action=get")
    assert rest.status_code == 200 and rest.json()["value"]["user"] == testbed.credentials.vcenter_user
    made = requests.post(testbed.layout.vcenter_url + "/rest/com/vmware/cis/session", verify=str(testbed.pki.ca_cert),
                         auth=(testbed.credentials.vcenter_user, testbed.credentials.vcenter_password))
    session_id = made.json()["value"]
    answer = requests.get(testbed.layout.vcenter_url + "/api/vcenter/namespaces/instances",
                          verify=str(testbed.pki.ca_cert), headers={"vmware-api-session-id": session_id})
    assert answer.status_code == 200
    ended = requests.delete(testbed.layout.vcenter_url + "/api/session", verify=str(testbed.pki.ca_cert),
                            headers={"vmware-api-session-id": session_id})
    assert ended.status_code == 204
    again = requests.get(testbed.layout.vcenter_url + "/api/vcenter/namespaces/instances",
                         verify=str(testbed.pki.ca_cert), headers={"vmware-api-session-id": session_id})
    assert again.status_code == 401
