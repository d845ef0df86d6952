"""The one table of connection settings and the one rule: what the caller names wins, a source is
used whole, one way to authenticate; and every place that documents the settings agrees with the table."""
import importlib
import itertools
import re

import pytest
import yaml

from ansible_collections.pacific.supervisor.plugins.module_utils._common import settings
from ansible_collections.pacific.supervisor.plugins.module_utils._common.ansible import (
    SUPERVISOR_ARGUMENT_SPEC, VCENTER_ARGUMENT_SPEC)
from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter import events as vcenter_events
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import events as supervisor_events

SV, VC = settings.SUPERVISOR, settings.VCENTER

# an environment as a shell with the testbed's admin exported has it, and a KUBECONFIG besides
ADMIN_ENV = {
    "PACIFIC_SUPERVISOR_SERVER": "https://admin-server:6443",
    "PACIFIC_SUPERVISOR_TOKEN": "admin-token",
    "PACIFIC_SUPERVISOR_USERNAME": "env-user",
    "PACIFIC_SUPERVISOR_PASSWORD": "env-password",
    "PACIFIC_WCP_LOGIN_URL": "https://admin-server/wcp/login",
    "PACIFIC_SUPERVISOR_CA_CERT": "/env/ca.pem",
    "PACIFIC_SUPERVISOR_VALIDATE_CERTS": "false",
    "KUBECONFIG": "/env/kubeconfig",
    "K8S_AUTH_CONTEXT": "env-context",
}
IDENTIFYING = [s.name for s in SV.settings if s.role != settings.TRUST]


def sv(given, environ=None, **kwargs):
    return settings.resolve(SV, given, ADMIN_ENV if environ is None else environ, **kwargs)


# --- the security defect: named credentials are never overridden or completed by the environment -----
@pytest.mark.parametrize("given", [
    {"kubeconfig": "/mine/kubeconfig"},
    {"kubeconfig": "/mine/kubeconfig", "context": "dev"},
    {"username": "devops", "password": "wrong"},
    {"server": "https://mine:6443", "username": "devops", "password": "wrong"},
    {"server": "https://mine:6443", "token": "mine"},
    {"server": "https://mine:6443"},  # a server alone gets no token from the environment
    {"token": "mine"},  # a token alone gets no server from the environment
    {"login_url": "https://mine/wcp/login"},
    {"context": "dev"},
], ids=lambda given: "+".join(sorted(given)))
def test_a_named_setting_keeps_the_whole_environment_out(given):
    resolved = sv(given)
    assert resolved["source"] == "given"
    for name in SV.names():
        expected = given.get(name, SV.by_name[name].default)
        assert resolved[name] == expected, name
    assert "admin-token" not in resolved.values() and "https://admin-server:6443" not in resolved.values()


@pytest.mark.parametrize("name", IDENTIFYING)
def test_each_identifying_setting_alone_is_enough_to_keep_the_environment_out(name):
    resolved = sv({name: "x"})
    assert resolved["source"] == "given"
    assert [key for key in IDENTIFYING if resolved[key] is not None] == [name]


def test_the_callers_trust_settings_do_not_count_as_naming_a_connection():
    resolved = sv({"ca_cert": "/mine/ca.pem", "validate_certs": True})
    assert resolved["source"] == "environment"
    assert (resolved["token"], resolved["server"]) == ("admin-token", "https://admin-server:6443")
    assert (resolved["ca_cert"], resolved["validate_certs"]) == ("/mine/ca.pem", True)  # the caller's win


# --- one way to authenticate --------------------------------------------------------------------
CREDENTIALS = {"token": {"token": "t"}, "login": {"username": "u", "password": "p"},
               "kubeconfig": {"kubeconfig": "/k"}}


@pytest.mark.parametrize("first,second", list(itertools.combinations(sorted(CREDENTIALS), 2)))
def test_two_ways_to_authenticate_are_one_clear_error(first, second):
    given = dict(CREDENTIALS[first], server="https://s", **CREDENTIALS[second])
    with pytest.raises(InvalidArgument, match="give one way to authenticate, not several") as raised:
        sv(given)
    assert "t" != raised.value.msg and "p," not in raised.value.msg  # names the options, never the values
    assert "empty string" in raised.value.msg


def test_an_empty_string_switches_off_what_module_defaults_gave():
    resolved = sv({"server": "https://s", "token": "", "username": "u", "password": "p"})
    assert (resolved["token"], resolved["username"]) == (None, "u")


def test_a_caller_limited_to_some_ways_does_not_look_at_the_others():
    # the login module: a token from the group's module_defaults neither counts nor gets in the way
    resolved = sv({"server": "https://s", "token": "t", "username": "u", "password": "p"}, methods=("login",))
    assert (resolved["source"], resolved["token"], resolved["username"]) == ("given", None, "u")
    from_env = sv({"token": "t", "kubeconfig": "/k"}, methods=("login",))
    assert (from_env["source"], from_env["username"], from_env["token"]) == ("environment", "env-user", None)


# --- the environment, used whole -----------------------------------------------------------------
@pytest.mark.parametrize("present,expected", [
    (("PACIFIC_SUPERVISOR_TOKEN",), {"token": "admin-token", "server": "https://admin-server:6443",
                                     "ca_cert": "/env/ca.pem", "validate_certs": False}),
    (("PACIFIC_SUPERVISOR_USERNAME",), {"username": "env-user", "password": "env-password",
                                        "login_url": "https://admin-server/wcp/login",
                                        "server": "https://admin-server:6443", "ca_cert": "/env/ca.pem",
                                        "validate_certs": False}),
    # a kubeconfig names its own server and CA: the environment's are not mixed in
    (("KUBECONFIG",), {"kubeconfig": "/env/kubeconfig", "context": "env-context", "validate_certs": True}),
])
def test_the_environment_gives_one_way_with_what_belongs_to_it(present, expected):
    choosers = {"PACIFIC_SUPERVISOR_TOKEN", "PACIFIC_SUPERVISOR_USERNAME", "KUBECONFIG"}
    environ = dict((key, value) for key, value in ADMIN_ENV.items()
                   if key not in choosers - set(present))
    resolved = sv({}, environ)
    assert resolved.pop("source") == "environment"
    assert resolved == dict(dict.fromkeys(SV.names()), **expected)


def test_the_environment_prefers_the_token_then_the_login_then_a_kubeconfig():
    assert sv({})["token"] == "admin-token" and sv({})["username"] is None
    without_token = dict(ADMIN_ENV)
    del without_token["PACIFIC_SUPERVISOR_TOKEN"]
    assert sv({}, without_token)["username"] == "env-user" and sv({}, without_token)["kubeconfig"] is None


def test_the_kubeconfig_variables_are_read_in_order():
    resolved = sv({}, {"K8S_AUTH_KUBECONFIG": "/second", "KUBECONFIG": "/third", "PACIFIC_SUPERVISOR_KUBECONFIG": "/first"})
    assert resolved["kubeconfig"] == "/first"


def test_nothing_named_and_nothing_in_the_environment():
    resolved = sv({}, {})
    assert resolved.pop("source") is None
    assert resolved == dict(dict.fromkeys(SV.names()), validate_certs=True)
    with pytest.raises(InvalidArgument, match="no credentials for the Supervisor: .*PACIFIC_SUPERVISOR_TOKEN"):
        client.connect(resolved)


@pytest.mark.parametrize("value,expected", [("false", False), ("0", False), ("no", False), ("yes", True),
                                            ("True", True), ("1", True)])
def test_environment_booleans(value, expected):
    environ = {"PACIFIC_SUPERVISOR_TOKEN": "t", "PACIFIC_SUPERVISOR_SERVER": "https://s",
               "PACIFIC_SUPERVISOR_VALIDATE_CERTS": value}
    assert sv({}, environ)["validate_certs"] is expected


def test_a_bad_environment_value_names_the_variable_never_a_secret():
    with pytest.raises(InvalidArgument, match="validate_certs must be true or false.*PACIFIC_SUPERVISOR_VALIDATE_CERTS"):
        sv({}, {"PACIFIC_SUPERVISOR_TOKEN": "t", "PACIFIC_SUPERVISOR_VALIDATE_CERTS": "maybe"})
    with pytest.raises(InvalidArgument, match="port must be a whole number.*VMWARE_PORT"):
        settings.resolve(VC, {}, {"VMWARE_HOST": "vc", "VMWARE_USER": "u", "VMWARE_PASSWORD": "p",
                                  "VMWARE_PORT": "https"})


def test_secrets_of_the_resolved_settings_are_known_for_masking():
    assert sorted(settings.secrets_of(SV, sv({"username": "u", "password": "pw", "server": "s"}))) == ["pw"]
    assert settings.secrets_of(SV, sv({})) == ["admin-token"]


# --- vCenter ----------------------------------------------------------------------------------
VC_ENV = {"VMWARE_HOST": "env-vc", "VMWARE_USER": "administrator@vsphere.local", "VMWARE_PASSWORD": "admin-pw",
          "VMWARE_PORT": "8443", "VMWARE_VALIDATE_CERTS": "no", "VMWARE_CA_CERT": "/env/vc-ca.pem"}


@pytest.mark.parametrize("given", [{"hostname": "mine"}, {"username": "me"}, {"password": "mine"}, {"port": 443}])
def test_vcenter_named_settings_keep_the_environment_out(given):
    with pytest.raises(InvalidArgument, match="vCenter: .*missing") as raised:
        settings.resolve(VC, given, VC_ENV)
    assert "admin-pw" not in raised.value.msg
    assert "the environment is not read" in raised.value.msg


def test_vcenter_from_the_environment_whole_or_from_the_caller_whole():
    from_env = settings.resolve(VC, {}, VC_ENV)
    assert (from_env["hostname"], from_env["port"], from_env["password"], from_env["validate_certs"],
            from_env["ca_cert"]) == ("env-vc", 8443, "admin-pw", False, "/env/vc-ca.pem")
    given = settings.resolve(VC, {"hostname": "mine", "username": "me", "password": "pw"}, VC_ENV)
    assert (given["hostname"], given["port"], given["password"], given["validate_certs"], given["ca_cert"]) == (
        "mine", 443, "pw", True, None)


def test_vcenter_with_nothing_says_what_to_set():
    with pytest.raises(InvalidArgument, match="vCenter: hostname, username, password missing: set .*VMWARE_HOST"):
        settings.resolve(VC, {}, {})


def test_the_event_sources_follow_the_rule():
    options = supervisor_events.SourceOptions({"kinds": ["Pod"], "kubeconfig": "/mine"}, environ=ADMIN_ENV)
    assert options.connection["kubeconfig"] == "/mine" and options.connection["token"] is None
    assert options.connection["server"] is None
    with pytest.raises(InvalidArgument, match="missing"):
        vcenter_events.SourceOptions({"hostname": "mine", "checkpoint_file": "/tmp/x"}, environ=VC_ENV)


# --- one table: the specs and every document say the same --------------------------------------
def _fragment(name):
    module = importlib.import_module(
        "ansible_collections.pacific.supervisor.plugins.doc_fragments.{0}".format(name))
    return yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)


def _documented(option):
    return " ".join(option["description"] if isinstance(option["description"], list) else [option["description"]])


def _check_documents(face, options, prefix="", notes=(), aliases=True):
    for setting in face.settings:
        option = options[prefix + setting.name]
        assert option["type"] == ("path" if setting.type == "raw" and prefix else setting.type), setting.name
        assert "env" not in option and "default" not in option and not option.get("required"), setting.name
        assert not aliases or sorted(option.get("aliases") or []) == sorted(setting.aliases), setting.name
        text = " ".join([_documented(options[key]) for key in options] + list(notes))
        for variable in setting.env:
            assert "E({0})".format(variable) in text, (setting.name, variable)
        if setting.default is not None:
            assert "V({0})".format(str(setting.default).lower()) in _documented(option), setting.name


@pytest.mark.parametrize("face,fragment", [(SV, "supervisor_auth"), (VC, "vcenter_auth")])
def test_the_doc_fragments_agree_with_the_table(face, fragment):
    document = _fragment(fragment)
    assert set(document["options"]) == set(face.names())
    _check_documents(face, document["options"], notes=document["notes"])


@pytest.mark.parametrize("face,spec", [(SV, SUPERVISOR_ARGUMENT_SPEC), (VC, VCENTER_ARGUMENT_SPEC)])
def test_the_argument_specs_come_from_the_table(face, spec):
    assert list(spec) == list(face.names())
    for setting in face.settings:
        assert spec[setting.name]["type"] == setting.type
        assert bool(spec[setting.name].get("no_log")) == setting.secret
        assert "fallback" not in spec[setting.name] and "default" not in spec[setting.name]


def _plugin_options(path):
    with open(path) as handle:
        source = handle.read()
    return yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source, re.S).group(1))["options"]


def test_the_inventory_options_agree_with_the_table():
    options = _plugin_options(importlib.import_module(
        "ansible_collections.pacific.supervisor.plugins.inventory.workloads").__file__)
    _check_documents(VC, dict((k, v) for k, v in options.items() if k in VC.names()))
    _check_documents(SV, dict((k, v) for k, v in options.items() if k.startswith("supervisor_")), "supervisor_")


@pytest.mark.parametrize("source,face", [("supervisor_events", SV), ("vcenter_events", VC),
                                         ("function_activator", SV)])
def test_the_event_source_options_agree_with_the_table(source, face):
    from tests.collection_path import REPO_ROOT
    source_file = REPO_ROOT / "extensions" / "eda" / "plugins" / "event_source" / (source + ".py")
    document = yaml.safe_load(re.search(r'DOCUMENTATION = r"""(.*?)"""', source_file.read_text(), re.S).group(1))
    _check_documents(face, dict((k, v) for k, v in document["options"].items() if k in face.names()),
                     notes=document.get("notes") or (), aliases=False)


def test_an_endpoint_or_a_leftover_half_of_a_login_chooses_no_way_to_authenticate():
    # module_defaults give login_url and a password for the play; a task names a token of its own
    resolved = sv({"server": "https://s", "login_url": "https://s/wcp/login", "password": "p", "token": "t"})
    assert (resolved["token"], resolved["username"]) == ("t", None)
    with pytest.raises(InvalidArgument, match=r"not several \(token, username\)"):
        sv({"server": "https://s", "token": "t", "username": "u", "password": "p"})
