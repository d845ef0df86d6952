"""A developer's estate on the testbed, shared by the bad-input and access suites: a vSphere
Namespace where the developer is EDIT, one where they have no access, a read-back of everything a
task could make there (and on the vCenter face), and a runner of module tasks as a given user."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from testbed.vcenter import rest_session
from tests.collection_path import collection_tree

BIN = Path(sys.executable).parent
NAMESPACE, OTHER, VM_CLASS = "pacific-estate", "pacific-estate-other", "pacific-estate-small"
STORAGE_POLICY = "aa6d5a82-1c88-45da-85d3-3d74b91a5bad"  # vcsim's vSAN Default Storage Policy
# what a task may leave behind: kinds read back in both namespaces
NAMESPACED = [("", "v1", "pods"), ("", "v1", "services"), ("", "v1", "configmaps"), ("", "v1", "secrets"),
              ("", "v1", "persistentvolumeclaims"), ("apps", "v1", "deployments"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachines"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachineservices"),
              ("vmoperator.vmware.com", "v1alpha3", "virtualmachinesetresourcepolicies"),
              ("run.tanzu.vmware.com", "v1alpha3", "tanzukubernetesclusters"),
              ("cluster.x-k8s.io", "v1beta1", "clusters")]
# every module, with arguments it accepts; {ns} the developer's namespace, {other} not theirs
DEVELOPER_FACE = [
    ("vm_info", {"namespace": "{ns}"}),
    ("pod_info", {"namespace": "{ns}"}),
    ("guest_cluster_info", {"namespace": "{ns}"}),
    ("vm", {"name": "tls-vm", "namespace": "{ns}", "class_name": "{cls}", "image_name": "ubuntu-22.04"}),
    ("vm_cluster", {"name": "tls-cluster", "namespace": "{ns}", "replicas": 1, "class_name": "{cls}",
                    "image_name": "ubuntu-22.04"}),
    ("vm_service", {"name": "tls-service", "namespace": "{ns}", "selector": {"app": "web"},
                    "ports": [{"port": 80, "target_port": 80}]}),
    ("pod", {"name": "tls-pod", "namespace": "{ns}", "containers": [{"name": "app", "image": "echo"}]}),
    ("guest_cluster", {"name": "tls-guest", "namespace": "{ns}", "version": "v1.35", "vm_class": "{cls}",
                       "storage_class": "vsan-default-storage-policy"}),
    ("guest_cluster_kubeconfig", {"name": "tls-guest", "namespace": "{ns}"}),
    ("apply", {"namespace": "{ns}", "definition": {"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "tls-config"}}}),
    ("function_info", {"namespace": "{ns}"}),
    ("function", {"name": "tls-function", "namespace": "{ns}", "image": "pacific/echo:1.0"}),
]
VCENTER_FACE = [
    ("namespace_info", {}),
    ("vm_class_info", {}),
    ("supervisor_info", {}),
    ("namespace", {"name": "tls-namespace", "cluster": "DC0_C0"}),
    ("vm_class", {"name": "tls-class", "cpu_count": 1, "memory_mb": 1024}),
    ("supervisor_enable", {"cluster": "DC0_C0"}),
]


SINGULAR = {"pods": "pod", "services": "service", "configmaps": "config_map", "secrets": "secret",
            "persistentvolumeclaims": "persistent_volume_claim"}


def _namespace(http, base, name, cluster, access):
    if http.get(f"{base}/api/vcenter/namespaces/instances/{name}").status_code == 404:
        http.post(f"{base}/api/vcenter/namespaces/instances", json={
            "cluster": cluster, "namespace": name, "access_list": access,
            "storage_specs": [{"policy": STORAGE_POLICY}],
            "vm_service_spec": {"vm_classes": [VM_CLASS]}}).raise_for_status()


def make(testbed, admin_client):
    """The two namespaces, bound and mirrored (the developer's RoleBinding in place)."""
    from kubernetes import client

    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    core = client.CoreV1Api(admin_client)
    deadline = time.monotonic() + 180
    while any(item.metadata.deletion_timestamp for item in core.list_namespace().items
              if item.metadata.name in (NAMESPACE, OTHER)):  # an earlier session's, still terminating
        assert time.monotonic() < deadline, "the namespaces of an earlier run are still terminating"
        time.sleep(1)
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
                  for binding in rbac.list_namespaced_role_binding(NAMESPACE).items) \
            or not core.list_namespace(field_selector=f"metadata.name={OTHER}").items:
        assert time.monotonic() < deadline, "the namespaces or the developer's access were not mirrored"
        time.sleep(0.5)


def unmake(testbed):
    http = rest_session(testbed)
    for name in (NAMESPACE, OTHER):
        http.delete(f"{testbed.layout.vcenter_url}/api/vcenter/namespaces/instances/{name}")


def snapshot(testbed, admin_client) -> set:
    """Every object a task could have made, on both faces, by name."""
    from kubernetes import client

    api = client.CustomObjectsApi(admin_client)
    core = client.CoreV1Api(admin_client)
    seen = set()
    for namespace in (NAMESPACE, OTHER):
        for group, version, plural in NAMESPACED:
            # an object already being deleted (an earlier test's, behind a finalizer) is no longer there:
            # its going is nobody's side effect here
            if group:
                items = api.list_namespaced_custom_object(group, version, namespace, plural)["items"]
                names = [item["metadata"]["name"] for item in items if not item["metadata"].get("deletionTimestamp")]
            else:
                listed = getattr(core, f"list_namespaced_{SINGULAR[plural]}")(namespace).items
                names = [item.metadata.name for item in listed if not item.metadata.deletion_timestamp]
            seen.update((namespace, plural, name) for name in names if name != "kube-root-ca.crt")
    http = rest_session(testbed)
    base = testbed.layout.vcenter_url
    seen.update(("vcenter", "namespace", item["namespace"])
                for item in http.get(base + "/api/vcenter/namespaces/instances").json())
    seen.update(("vcenter", "vm_class", item["id"])
                for item in http.get(base + "/api/vcenter/namespace-management/virtual-machine-classes").json())
    return seen


def remove(testbed, admin_client, made):
    """Take away what a task made, so that the next run starts from the same state."""
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
                getattr(core, f"delete_namespaced_{SINGULAR[plural]}")(name, where)
        except client.ApiException as err:
            if err.status != 404:
                raise
    deadline = time.monotonic() + 120
    while set(made) & snapshot(testbed, admin_client):  # finalizers: gone only once their controller let go
        assert time.monotonic() < deadline, "what the tasks made is not gone after 120 s"
        time.sleep(1)


def filled(value, places):
    """``value`` with ``{placeholders}`` in its strings filled from ``places``."""
    if isinstance(value, str):
        return value.format(**places)
    if isinstance(value, list):
        return [filled(item, places) for item in value]
    if isinstance(value, dict):
        return dict((key, filled(item, places)) for key, item in value.items())
    return value


def connections(testbed, user: str, ca: bool = True) -> dict:
    """module_defaults of both faces for ``user`` (developer: a real /wcp/login; admin: the
    admin's token); without ``ca`` nothing names the testbed's CA."""
    layout, creds = testbed.layout, testbed.credentials
    trust = {"ca_cert": str(testbed.pki.ca_cert)} if ca else {}
    supervisor = {"server": layout.supervisor_url, **trust}  # the login URL by default: /wcp/login on 443 there
    if user == "developer":
        supervisor.update(username=creds.developer_user, password=creds.developer_password)
    else:
        supervisor.update(token=creds.admin_token)
    vcenter = {"hostname": "127.0.0.1", "port": layout.ports.wcp, "username": creds.vcenter_user,
               "password": creds.vcenter_password, **trust}
    return {"group/pacific.supervisor.supervisor": supervisor, "group/pacific.supervisor.vcenter": vcenter}


def ansible_environment(work: Path, **extra: str) -> dict:
    """This process's environment for an ansible command, less every connection variable (what
    a test names is all there is), with the collection on its path and a home of its own in ``work``."""
    env = dict((key, value) for key, value in os.environ.items()
               if not key.startswith(("PACIFIC_SUPERVISOR_", "PACIFIC_WCP_", "VMWARE_", "K8S_AUTH_", "KUBECONFIG")))
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(collection_tree()), "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_NOCOLOR": "1", **extra})
    return env


def run_tasks(testbed, work: Path, label: str, tasks: list[dict], defaults: dict, *extra: str):
    """Run ``tasks`` ({id, module, args, optional keywords such as no_log}) in one play with ``defaults`` as module_defaults:
    ``({id: registered result}, the play's output)``. No PACIFIC_SUPERVISOR_*/VMWARE_* from this
    process's environment reaches the play."""
    play, registered = [], {}
    for number, task in enumerate(tasks):
        registered[task["id"]] = f"task_{number}"
        play.append({"name": task["id"], f"pacific.supervisor.{task['module']}": task["args"],
                     "register": f"task_{number}", "ignore_errors": True, **task.get("keywords", {})})
    results = work / f"{label}.json"
    gathered = "{{ {" + ", ".join(f"'{key}': {name}" for key, name in registered.items()) + "} | to_json }}"
    # no_log: the results are the suite's to judge, not the play's output to show (a login's token)
    play.append({"name": "the results", "ansible.builtin.copy": {"content": gathered, "dest": str(results),
                                                                 "mode": "0600"}, "no_log": True})
    playbook = work / f"{label}.yml"
    playbook.write_text(yaml.safe_dump([{"name": label, "hosts": "localhost", "connection": "local",
                                         "gather_facts": False, "module_defaults": defaults, "tasks": play}]))
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), *extra],
                          env=ansible_environment(work),
                          capture_output=True, text=True, timeout=1200, check=False)
    assert results.exists(), f"the playbook did not finish:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    return json.loads(results.read_text()), done.stdout + done.stderr


def tasks(entries, places, prefix):
    """Tasks for ``run_tasks`` from ``(module, args)`` pairs, placeholders filled."""
    return [{"id": f"{prefix}-{module}", "module": module, "args": filled(args, places)} for module, args in entries]
