"""Run the collection's integration targets (ansible-test layout) against the testbed.

Each directory under ``tests/integration/targets`` is a role whose ``tasks/main.yml`` drives the
collection's modules against the real peers. The variables a target gets (endpoints, CA,
credentials) are written to ``tests/integration/integration_config.yml`` (git-ignored, 0600), the
file ``ansible-test integration`` also reads, so a target runs the same under both.
"""
from __future__ import annotations

import os
import sys
import subprocess
from pathlib import Path

import pytest
import yaml

from testbed.layout import REPO_ROOT
from testbed.vcenter import wcp_token
from tests.collection_path import collection_tree

TARGETS = REPO_ROOT / "tests" / "integration" / "targets"
CONFIG = REPO_ROOT / "tests" / "integration" / "integration_config.yml"


def target_vars(testbed) -> dict:
    """The developer face as the namespace developer (EDIT where the targets' namespaces name
    it: ``supervisor_token``), the admin's token for the few admin steps, a VIEW and a no-access
    user for refusals, the admin face as vCenter's administrator."""
    layout, creds = testbed.layout, testbed.credentials
    return {
        "vcenter_hostname": "127.0.0.1",
        "vcenter_port": layout.ports.wcp,
        "vcenter_username": creds.vcenter_user,
        "vcenter_password": creds.vcenter_password,
        "vcenter_ca_cert": str(testbed.pki.ca_cert),
        "vcenter_cluster": "DC0_C0",
        # the Supervisor's own address: /wcp/login where the collection looks for it by default
        "supervisor_server": layout.supervisor_url,
        "supervisor_token": wcp_token(testbed, creds.developer_user, creds.developer_password),
        "supervisor_admin_token": creds.admin_token,
        "supervisor_viewer_token": wcp_token(testbed, creds.viewer_user, creds.viewer_password),
        "supervisor_outsider_token": wcp_token(testbed, creds.outsider_user, creds.outsider_password),
        "supervisor_nobody_token": creds.nobody_token,
        "supervisor_ca_cert": str(testbed.pki.ca_cert),
        "supervisor_login_url": layout.supervisor_login_url,  # for the tasks that override it, and messages
        "developer_username": creds.developer_user,
        "developer_password": creds.developer_password,
        "viewer_username": creds.viewer_user,
        "viewer_password": creds.viewer_password,
        "outsider_username": creds.outsider_user,
        "outsider_password": creds.outsider_password,
        "admin_kubeconfig": str(layout.admin_kubeconfig),
        "testbed_python": os.environ.get("PACIFIC_TESTBED_PYTHON", str(Path(sys.executable))),
        "testbed_environment": {**layout.environment(), "PYTHONPATH": str(REPO_ROOT)},
        "repo_root": str(REPO_ROOT),
    }


def write_config(testbed) -> Path:
    CONFIG.write_text(yaml.safe_dump(target_vars(testbed), sort_keys=False))
    CONFIG.chmod(0o600)
    return CONFIG


@pytest.fixture(scope="session")
def integration_config(testbed) -> Path:
    return write_config(testbed)


@pytest.fixture(scope="session")
def run_target(testbed, integration_config, tmp_path_factory):
    """``run_target(name, *extra_args)`` -> CompletedProcess of ansible-playbook running that role."""
    collections = collection_tree()
    work = tmp_path_factory.mktemp("targets")
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_ROLES_PATH": str(TARGETS),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_HOME": str(work / "ansible-home"),
    }

    def run(name: str, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess:
        # fresh logins per target, as a user logs in per run: a target that revokes tokens (the
        # wcp-token-expiry fault of vm_info) must not leave the next one with a void token
        write_config(testbed)
        playbook = work / f"{name}.yml"
        playbook.write_text(yaml.safe_dump([{
            "name": f"integration target {name}",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [{"ansible.builtin.include_role": {"name": name}}],
        }]))
        return subprocess.run(
            ["ansible-playbook", "-i", "localhost,", str(playbook), "-e", f"@{integration_config}", *extra],
            cwd=work, env=env, capture_output=True, text=True, timeout=timeout, check=False)

    return run


@pytest.fixture(scope="session")
def estate(testbed, admin_client):
    """The developer's namespace (EDIT) and one they may not touch (tests/integration/estate.py)."""
    from tests.integration import estate as made

    made.make(testbed, admin_client)
    yield made
    made.unmake(testbed)
