"""The credential rule against the real testbed: what a task names wins, and the environment -
here holding the admin's token and vCenter password, as `eval "$(python -m testbed env)"` once
did - never overrides or completes it. Modules, the inventory and the event sources alike."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.collection_path import collection_tree

BIN = Path(sys.executable).parent  # ansible, ansible-inventory of the same environment

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def admin_environment(testbed, tmp_path_factory):
    """ansible's environment with the admin's credentials of both faces exported."""
    layout, creds = testbed.layout, testbed.credentials
    home = tmp_path_factory.mktemp("credentials-home")
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_NOCOLOR": "1",
        "PACIFIC_SUPERVISOR_SERVER": layout.apiserver_url,
        "PACIFIC_SUPERVISOR_TOKEN": creds.admin_token,
        "PACIFIC_SUPERVISOR_CA_CERT": str(testbed.pki.ca_cert),
        "VMWARE_HOST": "127.0.0.1",
        "VMWARE_PORT": str(layout.ports.wcp),
        "VMWARE_USER": creds.vcenter_user,
        "VMWARE_PASSWORD": creds.vcenter_password,
        "VMWARE_CA_CERT": str(testbed.pki.ca_cert),
    }


@pytest.fixture(scope="module")
def nobody_kubeconfig(testbed, tmp_path_factory) -> Path:
    """A kubeconfig whose token authenticates but is granted nothing."""
    path = tmp_path_factory.mktemp("credentials") / "nobody.kubeconfig"
    cluster = {"server": testbed.layout.apiserver_url, "certificate-authority": str(testbed.pki.ca_cert)}
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "nobody",
        "clusters": [{"name": "sv", "cluster": cluster}],
        "users": [{"name": "nobody", "user": {"token": testbed.credentials.nobody_token}}],
        "contexts": [{"name": "nobody", "context": {"cluster": "sv", "user": "nobody"}}],
    }))
    path.chmod(0o600)
    return path


def module(environment, name, **args) -> dict:
    """The result of one module task, as the play registered it."""
    work = Path(environment["ANSIBLE_HOME"])
    answer = work / "result.json"
    answer.unlink(missing_ok=True)
    playbook = work / "task.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [
        {"name": "the task", f"pacific.supervisor.{name}": args, "register": "result", "ignore_errors": True},
        {"name": "its result", "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(answer),
                                                        "mode": "0600"}},
    ]}]))
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    if not answer.exists():
        raise AssertionError(f"no result:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(answer.read_text())


def test_without_named_credentials_the_environment_is_used_whole(admin_environment):
    result = module(admin_environment, "vm_info", namespace="default")
    assert not result.get("failed"), result.get("msg")


def test_a_named_kubeconfig_is_not_overridden_by_the_environments_token(admin_environment, nobody_kubeconfig):
    result = module(admin_environment, "vm_info", namespace="default", kubeconfig=str(nobody_kubeconfig))
    assert result.get("failed") and "forbidden" in result["msg"], result


def test_a_named_user_with_a_wrong_password_is_refused_not_run_as_the_admin(admin_environment, testbed):
    result = module(admin_environment, "vm_info", namespace="default", server=testbed.layout.supervisor_url,
                    username=testbed.credentials.developer_user, password="not-the-password",
                    ca_cert=str(testbed.pki.ca_cert))
    assert result.get("failed") and "refused" in result["msg"].lower(), result
    assert testbed.credentials.admin_token not in json.dumps(result)


def test_a_named_token_is_not_completed_with_the_environments_server(admin_environment, testbed):
    result = module(admin_environment, "vm_info", namespace="default", token=testbed.credentials.nobody_token)
    assert result.get("failed") and "server is required" in result["msg"], result


def test_two_ways_to_authenticate_in_one_task_are_one_clear_error(admin_environment, nobody_kubeconfig, testbed):
    result = module(admin_environment, "vm_info", namespace="default", server=testbed.layout.apiserver_url,
                    token=testbed.credentials.admin_token, kubeconfig=str(nobody_kubeconfig))
    assert result.get("failed") and "give one way to authenticate" in result["msg"], result


def test_vcenter_a_named_password_is_not_overridden_by_the_environment(admin_environment, testbed):
    named = {"hostname": "127.0.0.1", "port": testbed.layout.ports.wcp, "username": testbed.credentials.vcenter_user,
             "password": "not-the-password", "ca_cert": str(testbed.pki.ca_cert)}
    result = module(admin_environment, "namespace_info", **named)
    assert result.get("failed") and "refused the credentials" in result["msg"], result
    from_environment = module(admin_environment, "namespace_info")
    assert not from_environment.get("failed"), from_environment.get("msg")


def test_vcenter_a_named_host_without_a_user_says_so(admin_environment):
    result = module(admin_environment, "namespace_info", hostname="127.0.0.1")
    assert result.get("failed") and "username, password missing" in result["msg"], result
    assert "the environment is not read" in result["msg"]


def test_the_inventory_follows_the_rule(admin_environment, nobody_kubeconfig, tmp_path):
    source = tmp_path / "nobody.workloads.yml"
    source.write_text(yaml.safe_dump({"plugin": "pacific.supervisor.workloads", "supervisor": True,
                                      "supervisor_kubeconfig": str(nobody_kubeconfig),
                                      "supervisor_kinds": ["VirtualMachine"]}))
    done = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], env=admin_environment,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0 and "forbidden" in (done.stdout + done.stderr).lower(), done.stderr[-2000:]
    source.write_text(yaml.safe_dump({"plugin": "pacific.supervisor.workloads", "supervisor": True,
                                      "supervisor_kinds": ["VirtualMachine"]}))
    done = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], env=admin_environment,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
