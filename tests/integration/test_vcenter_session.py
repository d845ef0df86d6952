"""The admin face's vCenter REST session against the testbed's real vCenter endpoint.

The integration targets start one session per module call; these tests show what happens inside
one session: an expired session is renewed once, transparently; a wrong password, an untrusted
certificate and a closed session each end in one clear error.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.conftest import collection_tree

sys.path.insert(0, str(collection_tree()))

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors  # noqa: E402
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import (  # noqa: E402
    Lookup, rest_session)

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def params(testbed):
    creds = testbed.credentials
    return {"hostname": "127.0.0.1", "port": testbed.layout.ports.wcp, "username": creds.vcenter_user,
            "password": creds.vcenter_password, "ca_cert": str(testbed.pki.ca_cert), "validate_certs": True}


def _fault(testbed, name):
    subprocess.run([sys.executable, "-m", "testbed", "fault", name], check=True, capture_output=True,
                   env={**os.environ, **testbed.layout.environment()})


def test_an_expired_session_is_renewed_once_inside_one_session(testbed, params):
    with rest_session(params) as session:
        assert session.get("/api/session")["user"] == params["username"]
        first = session._session_id
        _fault(testbed, "vcenter-session-expiry")
        assert session.get("/api/vcenter/namespace-management/clusters")  # no error: logged in again
        assert session._session_id != first


def test_close_ends_the_session_on_the_server(params):
    session = rest_session(params)
    session.login()
    old = session._session_id
    session.close()
    probe = rest_session(params)
    probe._session_id = old
    with pytest.raises(errors.AuthenticationFailed):
        probe._send("GET", "/api/session")


def test_a_wrong_password_is_one_clear_error(params):
    with pytest.raises(errors.AuthenticationFailed,
                       match=r"vCenter at https://127\.0\.0\.1:\d+ refused the credentials of administrator@vsphere"
                             r"\.local: UNAUTHENTICATED: invalid user name or password"):
        with rest_session(dict(params, password="wrong")) as session:
            session.get("/api/session")
    with pytest.raises(errors.AuthenticationFailed, match="refused the credentials"):
        Lookup(dict(params, password="wrong")).one("cluster", "DC0_C0")


def test_tls_is_verified_by_default(params):
    without_ca = dict(params, ca_cert=None)
    with pytest.raises(errors.TlsError, match="certificate is not trusted.*set ca_cert"):
        rest_session(without_ca).login()
    with pytest.raises(errors.TlsError, match="certificate is not trusted"):
        Lookup(without_ca).one("cluster", "DC0_C0")
    unverified = rest_session(dict(without_ca, validate_certs=False))
    assert unverified.login()
    unverified.close()


def test_server_errors_carry_the_servers_message(params):
    with rest_session(params) as session:
        with pytest.raises(errors.NotFound, match="GET /api/vcenter/namespaces/instances/nope failed: NOT_FOUND: "
                                                  "namespace nope does not exist"):
            session.get("/api/vcenter/namespaces/instances/nope")
        assert session.get_or_none("/api/vcenter/namespaces/instances/nope") is None


def test_names_resolve_in_one_inventory_read(params):
    with Lookup(params) as lookup:
        cluster = lookup.one("cluster", "DC0_C0")
        assert cluster.startswith("domain-c")
        assert lookup.one("cluster", cluster) == cluster
        assert lookup.one("network", "VM Network").startswith("network-")
        assert lookup.one("storage policy", "vSAN Default Storage Policy") == "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"
        assert lookup.name_of("storage policy", "aa6d5a82-1c88-45da-85d3-3d74b91a5bad") == "vSAN Default Storage Policy"
