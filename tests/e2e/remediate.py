"""Shared by the remediation e2e tests: inject a testbed fault, and run the real ansible-rulebook
with pacific.supervisor.remediate (loaded from the collection by its name) against the testbed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from testbed.layout import REPO_ROOT
from tests.collection_path import collection_tree


def fault(testbed, *args, check=True) -> str:
    """``python -m testbed fault ARGS`` against this testbed; its output."""
    env = {**os.environ, **testbed.layout.environment()}
    done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout


def start_remediate(testbed, work: Path, **variables) -> tuple[subprocess.Popen, Path, Path]:
    """ansible-rulebook running pacific.supervisor.remediate in ``work`` with the testbed's
    connections of both faces plus ``variables``: (process, its log, the remediation record file)."""
    rulebook_cli = Path(sys.executable).with_name("ansible-rulebook")
    assert rulebook_cli.exists() and shutil.which("java"), "ansible-rulebook and Java 17 are installed"
    layout, creds = testbed.layout, testbed.credentials
    records = work / "remediation.jsonl"
    settings = work / "vars.yml"
    settings.write_text(yaml.safe_dump({
        "supervisor_server": layout.apiserver_url, "supervisor_token": creds.admin_token,
        "supervisor_ca_cert": str(testbed.pki.ca_cert),
        "vcenter_hostname": "127.0.0.1", "vcenter_port": layout.ports.wcp, "vcenter_username": creds.vcenter_user,
        "vcenter_password": creds.vcenter_password, "vcenter_ca_cert": str(testbed.pki.ca_cert),
        "remediation_record_file": str(records), **variables}))
    settings.chmod(0o600)
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_NOCOLOR": "1"}
    log_path = work / "rulebook.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(rulebook_cli), "--rulebook", "pacific.supervisor.remediate", "-i", str(inventory),
             "--vars", str(settings), "-v"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path, records


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
