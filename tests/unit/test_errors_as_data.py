"""Errors are data: a PacificError carries status, reason, target and causes; a caller words the
failure its own way with ``reworded``/``prefixed`` and the fields survive; no code of the
collection decides anything by reading an error message's text."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._inventory import supervisor as inventory
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client, kinds

ROOT = Path(__file__).resolve().parents[2]
TARGET = client.Target("list", kinds.POD, None, "team-a")
CAUSES = [{"reason": "FieldValueForbidden", "message": "Forbidden: no", "field": "spec"}]


def refusal(code=422, reason="Invalid"):
    body = {"kind": "Status", "code": code, "reason": reason, "message": "the server's own words",
            "details": {"causes": CAUSES}}
    return client.api_error(code, json.dumps(body), TARGET, "https://sv:6443")


@pytest.mark.parametrize("reword", [lambda err: err.reworded("in my words"), lambda err: err.prefixed("task 3"),
                                    lambda err: err.prefixed("a").reworded("b").prefixed("c")])
def test_fields_survive_rewording(reword):
    err = refusal()
    err.details["changed"] = True
    again = reword(err)
    assert type(again) is type(err) is errors.InvalidArgument
    assert (again.status, again.reason, again.target, again.causes) == (422, "the server's own words", TARGET, CAUSES)
    assert again.details == {"changed": True} and again.details is not err.details
    assert again.retryable is err.retryable


def test_prefixed_puts_the_callers_words_first_and_keeps_a_cleared_retryable():
    err = errors.Conflict("fields are owned by another manager", status=409)
    err.retryable = False
    again = err.prefixed("manifest.yml document 2")
    assert again.msg == "manifest.yml document 2: fields are owned by another manager"
    assert isinstance(again, errors.Conflict) and not again.retryable and again.status == 409


def test_transport_failures_carry_no_status_and_the_transports_words():
    err = client.transport_error(ConnectionRefusedError("connection refused"), "https://sv:6443")
    assert isinstance(err, errors.Unreachable)
    assert (err.status, err.reason, err.target) == (None, "connection refused", "https://sv:6443")


def test_a_tls_failure_is_known_by_its_type_not_its_text():
    import ssl

    import urllib3
    from kubernetes.client import ApiException

    def wrapped():  # the kubernetes package raises ApiException(status=0) while handling urllib3's SSLError
        try:
            raise urllib3.exceptions.SSLError(ssl.SSLError(1, "certificate verify failed"))
        except urllib3.exceptions.SSLError:
            try:
                raise ApiException(status=0, reason="anything at all")
            except ApiException as err:
                return err

    assert isinstance(client.transport_error(wrapped(), "https://sv:6443"), errors.TlsError)
    retries = urllib3.exceptions.MaxRetryError(None, "/", reason=urllib3.exceptions.SSLError("bad"))
    assert isinstance(client.transport_error(retries, "https://sv:6443"), errors.TlsError)
    # the words SSLError in a message that is not a TLS failure do not make one
    assert isinstance(client.transport_error(ConnectionResetError("SSLError CERTIFICATE_VERIFY_FAILED"), "s"),
                      errors.Unreachable)


def test_the_inventory_words_failures_from_the_fields():
    err = client.api_error(503, json.dumps({"kind": "Status", "code": 503, "message": "etcd down"}), TARGET)
    again = inventory._reworded(err, "Pod", "https://sv:6443")
    assert again.msg == "listing Pods on the Supervisor at https://sv:6443 failed (503): etcd down"
    assert again.retryable and again.status == 503
    # a failure before any request (no status): the client's own words serve
    early = errors.InvalidArgument("cannot use the kubeconfig /nowhere: no such file")
    assert inventory._reworded(early, "Pod", "https://sv:6443") is early


def test_a_missing_namespace_is_a_class_not_a_sentence():
    body = {"kind": "Status", "code": 404, "reason": "NotFound", "message": 'namespaces "x" not found',
            "details": {"name": "x", "kind": "namespaces"}}
    err = client.api_error(404, json.dumps(body), client.Target("list", kinds.POD, None, "x"))
    assert isinstance(err, errors.NamespaceMissing) and isinstance(err, errors.NotFound)


# --- no code reads an error's message to decide something ---------------------------------------
ERROR_NAMES = {"err", "error", "exc", "exception", "e", "refusal", "fault", "failure"}


def _is_message(node):
    """``err.msg``, ``str(err)``, ``err.args[...]``: an error's words."""
    if isinstance(node, ast.Attribute) and node.attr in ("msg", "message") and isinstance(node.value, ast.Name) \
            and node.value.id in ERROR_NAMES:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("str", "repr") \
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id in ERROR_NAMES:
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "args":
        return True
    return False


def _text_matching(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if any(isinstance(op, (ast.In, ast.NotIn, ast.Eq, ast.NotEq)) for op in node.ops) and any(
                    _is_message(side) for side in [node.left] + node.comparators):
                yield node.lineno
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "startswith", "endswith", "split", "rsplit", "partition", "find", "index", "match", "search") \
                and (_is_message(node.func.value) or any(_is_message(arg) for arg in node.args)):
            yield node.lineno


def test_no_code_matches_an_error_messages_text():
    found = []
    for path in sorted(list((ROOT / "plugins").rglob("*.py")) + list((ROOT / "extensions").rglob("*.py"))):
        tree = ast.parse(path.read_text(), str(path))
        found.extend("{0}:{1}".format(path.relative_to(ROOT), line) for line in _text_matching(tree))
    assert found == []


def test_the_scan_finds_what_it_is_meant_to_find():
    samples = ['if "does not exist" in err.msg: pass', 'if err.msg.startswith("cannot use"): pass',
               'x = err.msg.split(": ", 1)[-1]', 'ok = "pod updates" in str(err)', 'ok = "x" in exc.args[0]']
    for sample in samples:
        assert list(_text_matching(ast.parse(sample))), sample
    assert not list(_text_matching(ast.parse('ok = err.status == 404 and "spec" in err.causes[0]["field"]')))
