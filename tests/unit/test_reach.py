"""What the credentials reach: a namespace a developer cannot see into (a Supervisor answers 403
whether it is gone or not theirs) holds nothing of theirs; across namespaces, those of the login."""
from __future__ import annotations

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, login, reach
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine

VM = {"apiVersion": "vmoperator.vmware.com/v1alpha3", "kind": "VirtualMachine",
      "metadata": {"name": "web-1", "namespace": "gone"}, "spec": {"className": "small"}}


class Supervisor:
    """Answers as a Supervisor answers a developer: 403 for everything in a namespace not theirs
    (``hidden``), for listing namespaces, and for lists across namespaces."""

    def __init__(self, hidden=(), namespaces=("team-a",), login_namespaces=None):
        self.hidden, self.namespaces, self.requests = set(hidden), namespaces, []
        self.login_namespaces = login_namespaces

    def resource(self, api_version, kind):
        return kinds.known(api_version, kind)

    def request(self, method, path, target, body=None, query=None, content_type=None):
        self.requests.append((method, path))
        parts = path.split("/")
        if path.startswith("/api/v1/namespaces/") and len(parts) == 5:  # the Namespace object
            if parts[4] in self.hidden:
                raise errors.Forbidden("forbidden: namespaces is forbidden")
            return {"metadata": {"name": parts[4]}}
        if "namespaces" not in parts:
            raise errors.Forbidden("forbidden: at the cluster scope")
        namespace = parts[parts.index("namespaces") + 1]
        if namespace in self.hidden:
            raise errors.Forbidden("forbidden: in namespace " + namespace)
        if method == "GET" and len(parts) % 2 == 1:  # a collection
            return {"items": [{"metadata": {"name": "web-1", "namespace": namespace}}]}
        raise errors.NotFound("not found")

    def list_page(self, resource, namespace=None, query=None, target=None):
        raise errors.Forbidden("forbidden: namespaces at the cluster scope")


class Run:
    def __init__(self, check_mode=False):
        self.check_mode, self.warnings = check_mode, []

    def warn(self, message):
        self.warnings.append(message)


def test_absent_in_a_hidden_namespace_is_done_with_a_warning():
    run = Run()
    outcome = Engine(Supervisor(hidden={"gone"}), run=run).ensure(VM, state="absent")
    assert outcome["changed"] is False and outcome["object"] is None
    assert len(run.warnings) == 1 and run.warnings[0].startswith(reach.hidden_message("gone"))
    assert run.warnings[0].endswith(": forbidden: in namespace gone")  # the Supervisor's own refusal


def test_a_check_run_in_a_hidden_namespace_shows_what_would_be_made():
    run = Run(check_mode=True)
    outcome = Engine(Supervisor(hidden={"gone"}), run=run).ensure(VM, check_mode=True)
    assert outcome["changed"] is True and outcome["diff"]["after"]["spec"] == {"className": "small"}
    assert any("check mode shows what would be made" in warning for warning in run.warnings)


def test_a_real_run_in_a_hidden_namespace_fails_with_what_is_known():
    with pytest.raises(errors.NamespaceUnreachable, match="namespace gone does not exist, or these credentials"):
        Engine(Supervisor(hidden={"gone"}), run=Run()).ensure(VM)


def test_a_refusal_in_a_namespace_the_user_sees_is_that_refusal():
    class Viewer(Supervisor):
        def request(self, method, path, target, body=None, query=None, content_type=None):
            if method == "PATCH":
                raise errors.Forbidden('forbidden: User "sso:viewer" cannot patch resource "virtualmachines"')
            if method == "GET" and path.endswith("/web-1"):
                return {"metadata": {"name": "web-1", "namespace": "team-a", "uid": "u"}}
            return Supervisor.request(self, method, path, target, body, query, content_type)

    vm = dict(VM, metadata={"name": "web-1", "namespace": "team-a"})
    with pytest.raises(errors.Forbidden) as raised:
        Engine(Viewer(), run=Run()).ensure(vm)
    assert not isinstance(raised.value, errors.NamespaceUnreachable)
    assert "cannot patch" in raised.value.msg


def test_lists_across_namespaces_go_per_namespace_of_the_login():
    supervisor = Supervisor(hidden={"other"}, login_namespaces=lambda: ["team-b", "team-a", "other"])
    run = Run()
    items = Engine(supervisor, run=run).list_readable(kinds.VIRTUAL_MACHINE)
    assert [item["metadata"]["namespace"] for item in items] == ["team-a", "team-b"]
    assert len(run.warnings) == 1 and "left out namespace other" in run.warnings[0]


def test_lists_across_namespaces_with_a_bare_token_say_what_to_give():
    with pytest.raises(errors.Forbidden, match="give namespace, or username and password"):
        Engine(Supervisor()).list_readable(kinds.VIRTUAL_MACHINE)


@pytest.mark.parametrize(("login_url", "expected"), [
    ("https://10.0.0.5/wcp/login", "https://10.0.0.5/wcp/workloads"),
    ("https://127.0.0.1:27046/wcp/login", "https://127.0.0.1:27046/wcp/workloads"),
    ("https://sv.example/other", "https://sv.example/wcp/workloads"),
])
def test_workloads_beside_the_login(login_url, expected):
    assert login.workloads_url(login_url) == expected
