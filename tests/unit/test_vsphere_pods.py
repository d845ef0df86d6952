"""Whether a vSphere Namespace runs vSphere Pods, from vCenter's facts (its cluster's network provider)."""
from __future__ import annotations

from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import vsphere_pods


class Answers(object):
    """A REST session that answers GETs from a dict of path -> JSON, and counts them."""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def get(self, path, query=None):
        self.asked.append(path)
        return self.answers[path]

    def get_or_none(self, path, query=None):
        self.asked.append(path)
        return self.answers.get(path)


CLUSTERS = "/api/vcenter/namespace-management/clusters/"
INSTANCES = "/api/vcenter/namespaces/instances"


def test_a_vds_supervisor_runs_no_user_pod_and_says_what_to_do():
    reason = vsphere_pods.unavailable_reason("team-b", "domain-c61", "VSPHERE_NETWORK")
    assert "team-b" in reason and "domain-c61" in reason
    assert "vSphere Distributed Switch (VDS) networking" in reason and "NSX networking" in reason
    assert "pacific.supervisor.vm" in reason


def test_nsx_supervisors_run_pods():
    for provider in ("NSXT_CONTAINER_PLUGIN", "NSX_VPC"):
        assert vsphere_pods.unavailable_reason("team-a", "domain-c8", provider) is None
        assert vsphere_pods.facts("team-a", "domain-c8", provider)["available"] is True


def test_support_asks_the_namespace_then_its_cluster():
    session = Answers({INSTANCES + "/team-b": {"cluster": "domain-c61"},
                       CLUSTERS + "domain-c61": {"network_provider": "VSPHERE_NETWORK"}})
    found = vsphere_pods.support(session, "team-b")
    assert found["available"] is False and found["network_provider"] == "VSPHERE_NETWORK"
    assert found["networking"] == "vSphere Distributed Switch (VDS) networking"
    assert session.asked == [INSTANCES + "/team-b", CLUSTERS + "domain-c61"]


def test_support_by_namespace_asks_each_cluster_once():
    session = Answers({INSTANCES: [{"namespace": "a", "cluster": "c8"}, {"namespace": "b", "cluster": "c61"},
                                   {"namespace": "c", "cluster": "c61"}],
                       CLUSTERS + "c8": {"network_provider": "NSXT_CONTAINER_PLUGIN"},
                       CLUSTERS + "c61": {"network_provider": "VSPHERE_NETWORK"}})
    found = vsphere_pods.support_by_namespace(session)
    assert {name: facts["available"] for name, facts in found.items()} == {"a": True, "b": False, "c": False}
    assert session.asked.count(CLUSTERS + "c61") == 1


def test_the_vcenter_option_takes_the_tasks_sso_user_unless_it_names_one():
    import pytest

    from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
    from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.connection import lookup_settings

    assert lookup_settings({"vcenter": None, "username": "dev@vsphere.local"}) is None
    found = lookup_settings({"vcenter": {"hostname": "vc.example.com", "port": 443, "validate_certs": True},
                             "username": "dev@vsphere.local", "password": "secret"})
    assert (found["hostname"], found["username"], found["password"]) == ("vc.example.com", "dev@vsphere.local", "secret")
    other = lookup_settings({"vcenter": {"hostname": "vc", "username": "ops@vsphere.local", "password": "p"},
                             "username": "dev@vsphere.local", "password": "secret"})
    assert (other["username"], other["password"]) == ("ops@vsphere.local", "p")
    with pytest.raises(InvalidArgument, match="vcenter needs username and password"):
        lookup_settings({"vcenter": {"hostname": "vc"}, "token": "t"})


def test_the_inventory_namespace_group_variables():
    from ansible_collections.pacific.supervisor.plugins.module_utils._inventory.hosts import namespace_vars

    assert namespace_vars(vsphere_pods.facts("a", "c8", "NSXT_CONTAINER_PLUGIN")) == {
        "supervisor_network_provider": "NSXT_CONTAINER_PLUGIN", "supervisor_vsphere_pods": True,
        "supervisor_vsphere_pods_reason": None}
    vds = namespace_vars(vsphere_pods.facts("b", "c61", "VSPHERE_NETWORK"))
    assert vds["supervisor_vsphere_pods"] is False and "NSX networking" in vds["supervisor_vsphere_pods_reason"]


def test_a_vcenter_user_without_its_password_is_refused_before_anything_is_asked(capsys):
    """Else the task's own (Supervisor) password would be sent to vCenter as another user's."""
    import json

    import pytest
    from ansible.module_utils.testing import patch_module_args

    from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import run_module, supervisor_spec
    from ansible_collections.pacific.supervisor.plugins.modules import pod_info

    called = []
    for vcenter in ({"hostname": "vc", "username": "ops@vsphere.local"}, {"hostname": "vc", "password": "vc-secret"}):
        args = {"server": "https://sv", "username": "dev@vsphere.local", "password": "secret", "vcenter": vcenter}
        with patch_module_args(args), pytest.raises(SystemExit):
            run_module(supervisor_spec(pod_info.ARGUMENT_SPEC), lambda params, run: called.append(params) or {})
        result = json.loads(capsys.readouterr().out)
        assert result["failed"] and "username" in result["msg"] and "password" in result["msg"]
        assert "secret" not in json.dumps(result)
    assert not called


def test_a_namespace_vcenter_names_no_cluster_of_is_left_to_the_supervisor():
    """A namespace of a Supervisor spanning vSphere Zones has no one cluster: nothing to ask, no /clusters/None."""
    session = Answers({INSTANCES + "/team-z": {"supervisor": "sv-1"}, INSTANCES: [{"namespace": "team-z"}]})
    found = vsphere_pods.support(session, "team-z")
    assert found["available"] is True and found["network_provider"] is None and found["reason"] is None
    assert vsphere_pods.support_by_namespace(session)["team-z"]["available"] is True
    assert session.asked == [INSTANCES + "/team-z", INSTANCES]


def test_a_vcenter_that_will_not_tell_leaves_the_pod_to_the_supervisor_with_a_warning(monkeypatch):
    """A namespace developer needs no vCenter privilege to run pods: a 403 of the advisory check is no failure."""
    from types import SimpleNamespace

    import pytest

    from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
    from ansible_collections.pacific.supervisor.plugins.modules import pod

    def refused(params, namespace=None):
        raise errors.Forbidden("GET /api/vcenter/namespaces/instances/team-a failed: Unauthorized", status=403)

    warnings = []
    run = SimpleNamespace(warn=warnings.append, check_mode=False)
    params = {"name": "web", "namespace": "team-a", "vcenter": {"hostname": "vc"}}
    monkeypatch.setattr(pod, "vsphere_pod_support", refused)
    pod._check_vsphere_pods(params, run)
    assert len(warnings) == 1 and "team-a" in warnings[0] and "Unauthorized" in warnings[0]

    monkeypatch.setattr(pod, "vsphere_pod_support",
                        lambda params, namespace=None: vsphere_pods.facts(namespace, "c61", "VSPHERE_NETWORK"))
    with pytest.raises(errors.InvalidArgument, match="cannot create Pod web in namespace team-a"):
        pod._check_vsphere_pods(params, run)
