"""The Supervisor at its own loopback address: /wcp/login and friends on 443, the Kubernetes API on
6443 (TLS end to end to the kube-apiserver), vCenter on 127.0.0.1 reporting that address."""
from __future__ import annotations

import pytest
import requests

from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import login
from tests.testbed.conftest import Vcenter

pytestmark = pytest.mark.testbed


@pytest.fixture
def http(testbed) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(testbed.pki.ca_cert)  # and the certificate must name the address
    return session


def test_port_443_serves_the_login_endpoints_and_nothing_of_vcenter(testbed, http):
    base = f"https://{testbed.layout.supervisor_host}"
    creds = testbed.credentials
    assert http.get(f"{base}/wcp/loginbanner").status_code == 200
    assert http.post(f"{base}/wcp/login").status_code == 401
    answer = http.post(f"{base}/wcp/login", auth=(creds.developer_user, creds.developer_password))
    assert answer.status_code == 200 and answer.json()["session_id"].count(".") == 2
    workloads = http.get(f"{base}/wcp/workloads", auth=(creds.developer_user, creds.developer_password)).json()
    assert all(item["master_host"] == testbed.layout.supervisor_host for item in workloads)
    assert all(item["control_plane_api_server_port"] == "6443" for item in workloads)
    assert http.post(f"{base}/api/session", auth=(creds.vcenter_user, creds.vcenter_password)).status_code == 404


def test_port_6443_is_the_kube_apiserver_with_tls_end_to_end(testbed, http):
    """A client certificate and a WCP token both reach the kube-apiserver through the address."""
    http.cert = (str(testbed.pki.client_cert("admin")), str(testbed.pki.client_key("admin")))
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    answer = http.post(testbed.layout.supervisor_url + path, json=review)
    assert answer.status_code == 201 and answer.json()["status"]["userInfo"]["username"] == "pacific-admin"
    creds = testbed.credentials
    session = login.wcp_login(login.default_login_url(testbed.layout.supervisor_url), creds.developer_user,
                              creds.developer_password, ca_cert=str(testbed.pki.ca_cert))
    http.cert = None
    answer = http.post(testbed.layout.supervisor_url + path, json=review,
                       headers={"Authorization": f"Bearer {session['session_id']}"})
    assert answer.status_code == 201
    assert answer.json()["status"]["userInfo"]["username"] == f"sso:{creds.developer_user}"


def test_vcenter_reports_the_supervisor_address_with_no_port(testbed):
    vcenter = Vcenter(testbed, testbed.credentials.vcenter_user, testbed.credentials.vcenter_password)
    clusters = "/api/vcenter/namespace-management/clusters"
    cluster = vcenter.call("GET", clusters).json()[0]["cluster"]
    info = vcenter.call("GET", f"{clusters}/{cluster}").json()
    address = testbed.layout.supervisor_host
    assert info["api_server_management_endpoint"] == info["api_server_cluster_endpoint"] == address
    assert info["api_servers"] == [address]
    summaries = vcenter.call("GET", "/api/vcenter/namespace-management/supervisors/summaries").json()["items"]
    assert {item["info"]["APIEndpoint"] for item in summaries} == {address}
    assert address not in testbed.layout.vcenter_url


def test_cluster_info_names_the_supervisor_address_to_anyone(testbed, http):
    """kube-public/cluster-info, as kubeadm publishes it: read with no credentials at all."""
    import base64

    import yaml

    answer = http.get(f"{testbed.layout.supervisor_url}/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert answer.status_code == 200, answer.text
    cluster = yaml.safe_load(answer.json()["data"]["kubeconfig"])["clusters"][0]["cluster"]
    assert cluster["server"] == testbed.layout.supervisor_url
    assert base64.b64decode(cluster["certificate-authority-data"]) == testbed.pki.ca_cert.read_bytes()
    other = http.get(f"{testbed.layout.supervisor_url}/api/v1/namespaces/kube-public/configmaps")
    assert other.status_code in (401, 403)  # that one ConfigMap only


def test_vcenters_own_port_has_no_login_endpoints(testbed, http):
    """As on vCenter: /wcp/login, /wcp/loginbanner and /wcp/workloads are the Supervisor's, on its address."""
    creds = testbed.credentials
    auth = (creds.developer_user, creds.developer_password)
    assert http.post(f"{testbed.layout.vcenter_url}/wcp/login", auth=auth).status_code == 404
    assert http.get(f"{testbed.layout.vcenter_url}/wcp/workloads", auth=auth).status_code == 404
    assert http.get(f"{testbed.layout.vcenter_url}/wcp/loginbanner").status_code == 404


def test_vip_cluster_info_is_on_443_for_the_tanzu_cli_with_no_credentials(testbed, http):
    """kube-public/vip-cluster-info, where the Tanzu CLI reads it of a Supervisor (port 443 of its
    address, no credentials): a kubeconfig of the Supervisor's API and CA, as cluster-info's."""
    import base64

    import yaml

    path = "/api/v1/namespaces/kube-public/configmaps"
    base = f"https://{testbed.layout.supervisor_host}"
    for url in (f"{base}{path}/vip-cluster-info", f"{testbed.layout.supervisor_url}{path}/vip-cluster-info",
                f"{base}{path}/cluster-info"):
        answer = http.get(url)
        assert answer.status_code == 200, (url, answer.text)
        cluster = yaml.safe_load(answer.json()["data"]["kubeconfig"])["clusters"][0]["cluster"]
        assert cluster["server"] == testbed.layout.supervisor_url
        assert base64.b64decode(cluster["certificate-authority-data"]) == testbed.pki.ca_cert.read_bytes()
    missing = http.get(f"{base}{path}/pinniped-info")
    assert missing.status_code == 404 and missing.json()["reason"] == "NotFound"
    assert http.get(f"{base}/api/v1/namespaces").status_code == 404  # the rest of the API is on 6443
