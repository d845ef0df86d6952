"""How API answers become messages a user understands (client.api_error), and kubeconfig merging."""
from __future__ import annotations

import json

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import kinds, kubeconfig
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import Target, api_error

VM = kinds.VIRTUAL_MACHINE


def status(code, reason, message, **details):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
                       "message": message, "details": details}).encode()


def test_forbidden_names_verb_object_and_namespace():
    body = status(403, "Forbidden", 'virtualmachines.vmoperator.vmware.com "web-1" is forbidden: User '
                  '"testbed-nobody" cannot patch resource "virtualmachines" in the namespace "team-a"')
    err = api_error(403, body, Target("apply", VM, "web-1", "team-a"))
    assert isinstance(err, errors.Forbidden)
    assert err.msg.startswith("forbidden: not allowed to apply VirtualMachine web-1 in namespace team-a: ")
    assert 'cannot patch resource "virtualmachines"' in err.msg


def test_forbidden_list_names_the_namespace():
    err = api_error(403, status(403, "Forbidden", "nope"), Target("list", VM, None, "team-a"))
    assert err.msg == "forbidden: not allowed to list VirtualMachine objects in namespace team-a: nope"


def test_missing_namespace_says_so():
    body = status(404, "NotFound", 'namespaces "ghost" not found', name="ghost", kind="namespaces")
    err = api_error(404, body, Target("apply", VM, "web-1", "ghost"))
    assert isinstance(err, errors.NotFound)
    assert err.msg.startswith("namespace ghost does not exist")


def test_missing_object_and_missing_api():
    err = api_error(404, status(404, "NotFound", 'virtualmachines "x" not found', kind="virtualmachines"),
                    Target("get", VM, "x", "a"))
    assert err.msg == 'VirtualMachine x in namespace a not found: virtualmachines "x" not found'
    err = api_error(404, b"404 page not found", Target("list", VM, None, "a"))
    assert "does not serve VirtualMachine (vmoperator.vmware.com/v1alpha3)" in err.msg


def test_invalid_object_relays_the_servers_reasons():
    message = ('VirtualMachine.vmoperator.vmware.com "web-1" is invalid: spec.powerState: Unsupported value: '
               '"On": supported values: "PoweredOff", "PoweredOn", "Suspended"')
    err = api_error(422, status(422, "Invalid", message), Target("apply", VM, "web-1", "a"))
    assert isinstance(err, errors.InvalidArgument) and not err.retryable
    assert err.msg == "the Supervisor refused to apply VirtualMachine web-1 in namespace a: " + message


def test_schema_mismatch_of_server_side_apply_is_invalid_not_retried():
    message = ("failed to create typed patch object (a/web-1; vmoperator.vmware.com/v1alpha3, Kind=VirtualMachine): "
               ".spec.bogus: field not declared in schema")
    # an error the apiserver did not classify: a Status without reason (kubernetes#139253)
    unclassified = json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": 500})
    err = api_error(500, unclassified, Target("apply", VM, "web-1", "a"))
    assert isinstance(err, errors.InvalidArgument) and not err.retryable
    assert err.msg.endswith(".spec.bogus: field not declared in schema")
    # the same words with the apiserver's own reason are its own failure, and a read is never the input's
    assert isinstance(api_error(500, status(500, "InternalError", message), Target("apply", VM, "web-1", "a")),
                      errors.ServerError)
    assert isinstance(api_error(500, unclassified, Target("get", VM, "web-1", "a")), errors.ServerError)


def test_a_quantity_the_server_cannot_convert_is_invalid_not_retried():
    # what kube-apiserver answers a server-side apply of a Pod with requests.cpu: lots
    message = ("failed to convert new object (/q1; /v1, Kind=Pod) to proper version: unable to convert unstructured "
               "object to /v1, Kind=Pod: quantities must match the regular expression "
               "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    pod = kinds.POD
    err = api_error(500, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                                     "code": 500}).encode(), Target("apply", pod, "q1", "a"))
    assert isinstance(err, errors.InvalidArgument) and not err.retryable
    assert err.msg == "the Supervisor refused to apply Pod q1 in namespace a: " + message
    assert (err.status, err.reason) == (500, message)


def test_other_server_errors_stay_retryable_server_errors():
    err = api_error(500, status(500, "InternalError", "etcdserver: request timed out"), Target("get", VM, "x", "a"))
    assert isinstance(err, errors.ServerError) and err.retryable
    assert err.msg == "the Supervisor API failed to get VirtualMachine x in namespace a (HTTP 500): etcdserver: request timed out"


def test_unauthorized_never_echoes_the_token_and_says_what_to_do():
    err = api_error(401, status(401, "Unauthorized", "Unauthorized"), Target("get", VM, "x", "a"), "https://sv:6443")
    assert isinstance(err, errors.AuthenticationFailed)
    assert "wrong or has expired" in err.msg and "https://sv:6443" in err.msg


def test_field_manager_conflict_is_not_retried():
    message = 'Apply failed with 1 conflict: conflict with "kubectl" using vmoperator.vmware.com/v1alpha3: .spec.className'
    causes = [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"', "field": ".spec.className"}]
    err = api_error(409, status(409, "Conflict", message, causes=causes), Target("apply", VM, "web-1", "a"))
    assert isinstance(err, errors.Conflict) and not err.retryable
    assert err.causes == causes
    assert "force_conflicts" in err.msg
    plain = api_error(409, status(409, "Conflict", "the object has been modified"), Target("apply", VM, "web-1", "a"))
    assert plain.retryable
    exists = api_error(409, status(409, "AlreadyExists", "exists"), Target("create", VM, "web-1", "a"))
    assert isinstance(exists, errors.AlreadyExists)


def test_server_errors_and_throttling_are_retryable():
    assert api_error(503, b"unavailable", Target("get", VM, "x", "a")).retryable
    assert isinstance(api_error(429, b"slow down", Target("get", VM, "x", "a")), errors.Throttled)


def test_kubeconfig_merge_keeps_other_entries_and_sets_current():
    existing = kubeconfig.empty()
    existing["clusters"].append({"name": "other", "cluster": {"server": "https://o"}})
    existing["current-context"] = "other"
    merged = kubeconfig.merged(existing, "https://127.0.0.1:6443", "tok", "devops@vsphere.local", ca_pem="PEM",
                               namespace="team-a")
    assert [c["name"] for c in merged["clusters"]] == ["other", "127.0.0.1"]
    assert merged["users"] == [{"name": "wcp:127.0.0.1:devops@vsphere.local", "user": {"token": "tok"}}]
    assert merged["contexts"][0]["context"] == {"cluster": "127.0.0.1", "user": "wcp:127.0.0.1:devops@vsphere.local",
                                                "namespace": "team-a"}
    assert merged["current-context"] == "team-a"
    assert existing["current-context"] == "other"  # not modified in place
    again = kubeconfig.merged(merged, "https://127.0.0.1:6443", "tok", "devops@vsphere.local", ca_pem="PEM",
                              namespace="team-a")
    assert again == merged
    assert kubeconfig.token_of(merged, "https://127.0.0.1:6443", "devops@vsphere.local") == "tok"


def test_token_expiry_from_a_jwt():
    import base64
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 2000}).encode()).decode().rstrip("=")
    token = "e30." + payload + ".sig"
    assert kubeconfig.token_expiry(token) == 2000
    assert kubeconfig.lasts(token, 100, now=1000)
    assert not kubeconfig.lasts(token, 100, now=1950)
    assert kubeconfig.token_expiry("opaque") is None and kubeconfig.lasts("opaque", 100)
