"""The real ansible-rulebook CLI (Java 17, drools) runs a rulebook whose source is
pacific.supervisor.supervisor_events, loaded from the collection tree: a Namespace made by the
test fires the rule, whose run_playbook records the event."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from tests.collection_path import collection_tree

pytestmark = pytest.mark.testbed

HERE = Path(__file__).resolve().parent


def test_ansible_rulebook_runs_a_playbook_on_a_supervisor_event(testbed, admin_client, tmp_path):
    rulebook_cli = Path(sys.executable).with_name("ansible-rulebook")
    assert rulebook_cli.exists(), "ansible-rulebook is installed from requirements.txt"
    assert shutil.which("java"), "ansible-rulebook needs Java 17"
    namespace = f"eda-e2e-{uuid.uuid4().hex[:6]}"
    record = tmp_path / "event.json"
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({
        "supervisor_server": testbed.layout.apiserver_url, "supervisor_token": testbed.credentials.admin_token,
        "supervisor_ca_cert": str(testbed.pki.ca_cert), "namespace": namespace,
        "playbook": str(HERE / "rulebooks" / "record_event.yml"), "record_file": str(record)}))
    variables.chmod(0o600)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_NOCOLOR": "1"}
    log = (tmp_path / "rulebook.log").open("w")
    rulebook = subprocess.Popen(
        [str(rulebook_cli), "--rulebook", str(HERE / "rulebooks" / "supervisor_events.yml"), "-i", str(inventory),
         "--vars", str(variables), "-v"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    core = client.CoreV1Api(admin_client)
    try:
        time.sleep(3)  # before or after the source's first list: the rule takes either event
        uid = core.create_namespace({"metadata": {"name": namespace, "labels": {"test": "e2e"}}}).metadata.uid
        rulebook.wait(timeout=120)
    except subprocess.TimeoutExpired:
        rulebook.kill()
        rulebook.wait()
        pytest.fail("ansible-rulebook did not finish:\n" + (tmp_path / "rulebook.log").read_text()[-4000:])
    finally:
        log.close()
        try:
            core.delete_namespace(namespace)
        except client.ApiException:
            pass
    output = (tmp_path / "rulebook.log").read_text()
    assert rulebook.returncode == 0, output[-4000:]
    assert record.exists(), output[-4000:]
    event = json.loads(record.read_text())
    assert event["kind"] == "Namespace" and event["name"] == namespace
    assert event["change"] in ("added", "snapshot") and event["labels"]["test"] == "e2e"
    assert event["uid"] == uid
    assert event["meta"]["source"]["name"] == "supervisor"
    assert event["meta"]["source"]["type"] == "pacific.supervisor.supervisor_events"
