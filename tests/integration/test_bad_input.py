"""Bad input, as the real users meet it: every case of ``bad_input/cases.yml`` run through
ansible-playbook against the testbed - developer-face cases as the namespace developer (EDIT, a
real /wcp/login) and as the admin, admin-face cases as the vCenter admin - each failing with one
clear message, no traceback, and nothing changed on either face (read back through both APIs
before and after). Prints ``bad input: N cases, T tracebacks, S side effects``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from testbed.vcenter import rest_session
from tests.collection_path import collection_tree

pytestmark = pytest.mark.testbed

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "bad_input" / "cases.yml").read_text())
BIN = Path(sys.executable).parent
NAMESPACE, OTHER, VM_CLASS = "pacific-bad-input", "pacific-bad-input-other", "pacific-bad-input-small"
STORAGE_POLICY = "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"  # vcsim's vSAN Default Storage Policy
# what a case may leave behind: kinds read back in both namespaces
NAMESPACED = [("", "v1", "pods"), ("", "v1", "services"), ("", "v1", "configmaps"), ("", "v1", "secrets"),
              ("", "v1", "persistentvolumeclaims"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachines"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachineservices"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachinesetresourcepolicies"),
              ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters"),
              ("cluster.x-k8s.io", "v1beta1", "clusters")]
TRACEBACK_SIGNS = ("Traceback (most recent call last)", "MODULE FAILURE", "unexpected ")


def _namespace(http, base, name, cluster, access):
    if http.get(f"{base}/api/vcenter/namespaces/instances/{name}").status_code == 404:
        http.post(f"{base}/api/vcenter/namespaces/instances", json={
            "cluster": cluster, "namespace": name, "access_list": access,
            "storage_specs": [{"policy": STORAGE_POLICY}],
            "vm_service_spec": {"vm_classes": [VM_CLASS]}}).raise_for_status()


@pytest.fixture(scope="module")
def namespaces(testbed, admin_client):
    """The suite's namespace (devops EDIT) and another one devops may not touch, bound and mirrored."""
    from kubernetes import client

    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    cluster = http.get(base + "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
    http.post(base + "/api/vcenter/namespace-management/virtual-machine-classes",
              json={"id": VM_CLASS, "cpu_count": 1, "memory_MB": 512})
    user, domain = testbed.credentials.developer_user.split("@")
    _namespace(http, base, NAMESPACE, cluster,
               [{"role": "EDIT", "subject_type": "USER", "subject": user, "domain": domain}])
    _namespace(http, base, OTHER, cluster, [])
    rbac = client.RbacAuthorizationV1Api(admin_client)
    deadline = time.monotonic() + 60
    while not any(binding.subjects and any(s.name.endswith(user + "@" + domain) for s in binding.subjects)
                  for binding in rbac.list_namespaced_role_binding(NAMESPACE).items):
        assert time.monotonic() < deadline, "the developer's access was not mirrored into a RoleBinding"
        time.sleep(0.5)
    yield NAMESPACE, OTHER
    for name in (NAMESPACE, OTHER):
        http.delete(f"{base}/api/vcenter/namespaces/instances/{name}")


def snapshot(testbed, admin_client) -> set:
    """Every object a case could have made, on both faces, by name."""
    from kubernetes import client

    api = client.CustomObjectsApi(admin_client)
    core = client.CoreV1Api(admin_client)
    seen = set()
    for namespace in (NAMESPACE, OTHER):
        for group, version, plural in NAMESPACED:
            if group:
                items = api.list_namespaced_custom_object(group, version, namespace, plural)["items"]
                names = [item["metadata"]["name"] for item in items]
            else:
                names = [item.metadata.name for item in getattr(core, f"list_namespaced_{_singular(plural)}")(namespace).items]
            seen.update((namespace, plural, name) for name in names if name != "kube-root-ca.crt")
    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    seen.update(("vcenter", "namespace", item["namespace"])
                for item in http.get(base + "/api/vcenter/namespaces/instances").json())
    seen.update(("vcenter", "vm_class", item["id"])
                for item in http.get(base + "/api/vcenter/namespace-management/virtual-machine-classes").json())
    return seen


def _singular(plural: str) -> str:
    return {"pods": "pod", "services": "service", "configmaps": "config_map", "secrets": "secret",
            "persistentvolumeclaims": "persistent_volume_claim"}[plural]


def _filled(value, places):
    if isinstance(value, str):
        return value.format(**places)
    if isinstance(value, list):
        return [_filled(item, places) for item in value]
    if isinstance(value, dict):
        return dict((key, _filled(item, places)) for key, item in value.items())
    return value


def run_cases(testbed, work: Path, user: str, cases: list[dict]) -> dict:
    """``{case id: registered result}`` of one playbook that runs ``cases`` as ``user``."""
    layout, creds = testbed.layout, testbed.credentials
    ca = str(testbed.pki.ca_cert)
    places = {"ns": NAMESPACE, "other": OTHER, "cls": VM_CLASS, "missing": str(work / "no-such-directory")}
    supervisor = {"server": layout.apiserver_url, "ca_cert": ca, "login_url": f"{layout.vcenter_url}/wcp/login"}
    if user == "developer":
        supervisor.update(username=creds.developer_user, password=creds.developer_password)
    else:
        supervisor.update(token=creds.admin_token)
    vcenter = {"hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
               "password": creds.vcenter_password, "ca_cert": ca}
    tasks, registered = [], {}
    for number, case in enumerate(cases):
        name = f"case_{number}"
        registered[case["id"]] = name
        tasks.append({"name": case["id"], f"pacific.supervisor.{case['module']}": _filled(case["args"], places),
                      "register": name, "ignore_errors": True})
    results = work / f"{user}.json"
    gathered = "{{ {" + ", ".join(f"'{case_id}': {name}" for case_id, name in registered.items()) + "} | to_json }}"
    tasks.append({"name": "the results", "ansible.builtin.copy": {"content": gathered, "dest": str(results),
                                                                  "mode": "0600"}})
    playbook = work / f"{user}.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": f"bad input as {user}", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "module_defaults": {"group/pacific.supervisor.supervisor": supervisor,
                            "group/pacific.supervisor.vcenter": vcenter,
                            "pacific.supervisor.login": supervisor},
        "tasks": tasks}]))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection_tree()), "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_NOCOLOR": "1"}
    for variable in [key for key in env if key.startswith(("PACIFIC_SUPERVISOR_", "VMWARE_", "K8S_AUTH_"))]:
        del env[variable]
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)], env=env,
                          capture_output=True, text=True, timeout=1200, check=False)
    assert results.exists(), f"the playbook did not finish:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    output = done.stdout + done.stderr
    assert "Traceback (most recent call last)" not in output, output[-4000:]
    return json.loads(results.read_text())


def judge(case: dict, result: dict) -> list[str]:
    """What is wrong with one case's result (nothing when it failed with one clear message)."""
    import re

    problems = []
    message = result.get("msg")
    if not result.get("failed"):
        return ["it did not fail: %s" % json.dumps(result)[:300]]
    if not isinstance(message, str) or not message.strip():
        return ["no message: %s" % json.dumps(result)[:300]]
    if any(sign in message for sign in TRACEBACK_SIGNS) or "Traceback" in str(result.get("module_stderr", "")):
        problems.append("a traceback: " + message[:300])
    if not re.search(case["match"], message):
        problems.append("message %r does not match %r" % (message[:400], case["match"]))
    return problems


def remove(testbed, admin_client, made):
    """Take away what a failing case made, so that the next run starts from the same state."""
    from kubernetes import client

    api = client.CustomObjectsApi(admin_client)
    core = client.CoreV1Api(admin_client)
    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    for where, kind, name in made:
        if where == "vcenter":
            http.delete(f"{base}/api/vcenter/" + ("namespaces/instances/" if kind == "namespace" else
                                                  "namespace-management/virtual-machine-classes/") + name)
            continue
        group, version, plural = next(entry for entry in NAMESPACED if entry[2] == kind)
        try:
            if group:
                api.delete_namespaced_custom_object(group, version, where, plural, name)
            else:
                getattr(core, f"delete_namespaced_{_singular(plural)}")(name, where)
        except client.ApiException as err:
            if err.status != 404:
                raise
    deadline = time.monotonic() + 120
    while set(made) & snapshot(testbed, admin_client):  # finalizers: gone only once their controller let go
        assert time.monotonic() < deadline, "what the cases made is not gone after 120 s"
        time.sleep(1)


@pytest.fixture(scope="module")
def outcome(testbed, admin_client, namespaces, tmp_path_factory):
    """Per run (developer, admin, vCenter admin): its cases, their results, and what it made or removed."""
    work = tmp_path_factory.mktemp("bad-input")
    runs, going = [], set()
    plan = [(user, [case for case in CASES["developer_face"] if case.get("as", "both") in ("both", user)])
            for user in ("developer", "admin")] + [("vcenter", CASES["vcenter_face"])]
    for user, cases in plan:
        before = snapshot(testbed, admin_client)
        results = run_cases(testbed, work, user, cases)
        after = snapshot(testbed, admin_client)
        made, removed = sorted(after - before), sorted(before - after - going)
        runs.append((user, cases, results, made, removed))
        remove(testbed, admin_client, made)
        going.update(made)
    return runs


def test_every_bad_input_fails_with_one_clear_message_and_changes_nothing(outcome):
    problems, count, tracebacks, side_effects = [], 0, 0, 0
    for user, cases, results, made, removed in outcome:
        for case in cases:
            count += 1
            found = judge(case, results[case["id"]])
            tracebacks += any(problem.startswith("a traceback") for problem in found)
            problems.extend("%s as %s: %s" % (case["id"], user, problem) for problem in found)
        side_effects += len(made) + len(removed)
        if made or removed:
            problems.append("side effects as %s - made: %s, removed: %s" % (user, made, removed))
    print("\nbad input: %d cases, %d tracebacks, %d side effects" % (count, tracebacks, side_effects))
    assert count >= 60
    assert not problems, "\n".join(problems)
