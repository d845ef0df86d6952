"""Pure logic of apply: manifests loading and drift detection from a LIST, without a server."""
from __future__ import annotations

import json

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch, drift, manifests

MANAGER = "pacific.supervisor"


def _live(obj: dict, fields: dict | None, manager: str = MANAGER) -> dict:
    live = json.loads(json.dumps(obj))
    live.setdefault("metadata", {}).update(uid="u1", resourceVersion="7")
    live["status"] = {"phase": "Running"}
    if fields is not None:
        live["metadata"]["managedFields"] = [
            {"manager": "spherelet", "operation": "Update", "subresource": "status", "fieldsV1": {"f:status": {}}},
            {"manager": manager, "operation": "Apply", "fieldsV1": fields}]
    return live


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"a": "1"}},
          "data": {"mode": "x", "level": "3"}}
CONFIG_FIELDS = {"f:metadata": {"f:labels": {".": {}, "f:a": {}}}, "f:data": {".": {}, "f:mode": {}, "f:level": {}}}


def test_an_object_that_does_not_exist_drifts():
    assert drift.drifts(None, CONFIG, MANAGER)


def test_the_same_object_applied_by_us_does_not_drift_even_with_server_defaults():
    live = _live(CONFIG, CONFIG_FIELDS)
    live["metadata"]["labels"]["added-by-someone-else"] = "y"
    assert not drift.drifts(live, CONFIG, MANAGER)


def test_a_changed_value_drifts():
    changed = json.loads(json.dumps(CONFIG))
    changed["data"]["mode"] = "y"
    assert drift.drifts(_live(CONFIG, CONFIG_FIELDS), changed, MANAGER)


def test_a_field_we_own_but_no_longer_set_drifts_since_the_apply_would_remove_it():
    fewer = json.loads(json.dumps(CONFIG))
    del fewer["data"]["level"]
    assert drift.drifts(_live(CONFIG, CONFIG_FIELDS), fewer, MANAGER)
    emptied = json.loads(json.dumps(CONFIG))
    emptied["metadata"]["labels"] = {}
    assert drift.drifts(_live(CONFIG, CONFIG_FIELDS), emptied, MANAGER)


def test_an_object_someone_else_made_drifts_once_so_that_we_take_ownership():
    assert drift.drifts(_live(CONFIG, None), CONFIG, MANAGER)
    assert drift.drifts(_live(CONFIG, CONFIG_FIELDS, manager="kubectl"), CONFIG, MANAGER)


def test_lists_compare_whole_and_items_as_subsets():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"},
           "spec": {"containers": [{"name": "c", "image": "pacific/echo", "ports": [{"containerPort": 8080}]}]}}
    fields = {"f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}, "f:name": {}, "f:ports": {}}}}}
    live = _live(pod, fields)
    live["spec"]["containers"][0]["ports"][0]["protocol"] = "TCP"  # a server default inside an item
    live["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    assert not drift.drifts(live, pod, MANAGER)
    two = json.loads(json.dumps(pod))
    two["spec"]["containers"].append({"name": "d", "image": "busybox"})
    assert drift.drifts(live, two, MANAGER)


def test_yaml_types_are_told_apart():
    assert not drift.covers({"a": "1"}, {"a": 1})
    assert not drift.covers({"a": 1}, {"a": True})
    assert drift.covers({"a": 1.0}, {"a": 1})


def test_owned_paths_stop_at_list_items_and_skip_the_dot():
    fields = {"f:metadata": {"f:labels": {".": {}, "f:a": {}}},
              "f:spec": {"f:containers": {'k:{"name":"c"}': {"f:image": {}}}, "f:restartPolicy": {}}}
    assert drift.owned_paths(fields) == {("metadata", "labels", "a"), ("spec", "containers"),
                                         ("spec", "restartPolicy")}


def test_manifests_from_yaml_text_with_lists_and_empty_documents():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n" \
           "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
    loaded = manifests.load(definition=text)
    assert [pair[0]["metadata"]["name"] for pair in loaded] == ["a", "b"]
    assert loaded[1][1] == "definition document 3 item 1"


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    (tmp_path / "a.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("kind: [unclosed\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    with pytest.raises(errors.InvalidArgument, match=r"sub/b.yaml is not valid YAML \(line 2"):
        manifests.load(src=str(tmp_path))


def test_a_directory_is_read_recursively_in_name_order(tmp_path):
    for name in ("b.yml", "a.json"):
        (tmp_path / name).write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": name.split(".", maxsplit=1)[0]}}))
    assert [pair[0]["metadata"]["name"] for pair in manifests.load(src=str(tmp_path))] == ["a", "b"]
    with pytest.raises(errors.InvalidArgument, match="no manifest files"):
        manifests.load(src=str(_empty(tmp_path)))


def _empty(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_scalars_are_not_manifests():
    with pytest.raises(errors.InvalidArgument, match="definition item 2 is a str"):
        manifests.load(definition=[{"kind": "ConfigMap"}, "oops"])


@pytest.mark.parametrize("label", ["", "a", "a=b,c=d", "a!=b", "=b"])
def test_prune_label_is_one_exact_label(label):
    with pytest.raises(errors.InvalidArgument):
        batch.parse_label(label)


def test_prune_label_parses():
    assert batch.parse_label("app.kubernetes.io/part-of=shop") == ("app.kubernetes.io/part-of", "shop")


def test_the_values_of_secrets_in_manifests_are_found_for_masking():
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import manifests

    loaded = manifests.load(definition=[
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "c2VjcmV0LWE="},
         "stringData": {"b": "secret-b"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"c": "not-secret"}}])
    assert sorted(manifests.secret_values(loaded)) == sorted(["c2VjcmV0LWE=", "secret-b", "c2VjcmV0LWI="])


def test_prune_leaves_what_a_controller_made_from_the_batch_alone():
    """A Deployment's pods carry its template's labels, the batch's label among them: they are the
    ReplicaSet's, and pruning them would make every re-apply a change."""

    class Resource(object):
        api_version, kind = "v1", "Pod"

    class FakeEngine(object):
        deleted = []

        def known_hidden(self, namespace):
            return False

        def list(self, resource, namespace, label_selector=None):
            owned = {"name": "web-7c6b-x2", "uid": "1", "labels": {"project": "shop"},
                     "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7c6b", "controller": True}]}
            stray = {"name": "old", "uid": "2", "labels": {"project": "shop"}}
            return [{"metadata": owned}, {"metadata": stray}], None

        def delete(self, resource, name, namespace, dry_run=False, uid=None):
            self.deleted.append(name)

    item = batch.Item({"metadata": {"name": "cache", "namespace": "team-a"}}, "test", Resource())
    pruned = batch.prune(FakeEngine(), [item], ("project", "shop"), check_mode=True)
    assert [gone.before["metadata"]["name"] for gone in pruned] == ["old"] and FakeEngine.deleted == ["old"]
