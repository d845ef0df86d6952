"""pacific.supervisor.migrate's handler: report mode needs no Supervisor; a refusal writes nothing."""
from pathlib import Path

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client as supervisor_client
from ansible_collections.pacific.supervisor.plugins.modules import migrate

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "compose" / "awesome-compose"


class FakeRun(object):
    check_mode = False
    diff = False

    def __init__(self):
        self.warnings, self.concealed = [], []

    def warn(self, text):
        self.warnings.append(text)

    def conceal(self, values):
        self.concealed.extend(values)


@pytest.fixture(scope="module")
def binary():
    try:
        return compose.find_cli()[0] if len(compose.find_cli()) == 1 else None
    except errors.InvalidArgument:
        from testbed import compose_cli
        return str(compose_cli.ensure_built())


def _params(binary, **given):
    params = dict((name, spec.get("default")) for name, spec in migrate.ARGUMENT_SPEC.items())
    params.update(compose_binary=binary, **given)
    return params


def test_report_mode_returns_manifests_and_report_without_connecting(binary, monkeypatch):
    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    monkeypatch.setattr(supervisor_client, "connect", lambda params: pytest.fail("report mode connected"))
    outcome = migrate.handle(_params(binary, files=[str(CORPUS / "wordpress-mysql" / "compose.yaml")],
                                     dialect="vic", storage_class="wcp-default"), FakeRun())
    assert outcome["changed"] is False and outcome["refused"] == []
    assert [m["kind"] for m in outcome["manifests"]] == [
        "PersistentVolumeClaim", "Service", "Deployment", "Service", "Deployment"]
    assert outcome["counts"]["refused"] == 0 and outcome["counts"]["mapped"] == len(outcome["report"])


def test_apply_with_a_refusal_fails_before_connecting(binary, monkeypatch):
    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    monkeypatch.setattr(supervisor_client, "connect", lambda params: pytest.fail("a refused project connected"))
    with pytest.raises(errors.InvalidArgument) as raised:
        migrate.handle(_params(binary, files=[str(CORPUS / "portainer" / "compose.yaml")], mode="apply",
                               namespace="team-a"), FakeRun())
    assert "nothing was written" in raised.value.msg
    assert "service portainer, key volumes" in raised.value.msg and "docker.sock" in raised.value.msg


def test_secrets_are_concealed(binary, tmp_path):
    (tmp_path / "token.txt").write_text("s3cret-value")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:1.27\n    secrets: [token]\n"
        "secrets:\n  token:\n    file: ./token.txt\n")
    run = FakeRun()
    outcome = migrate.handle(_params(binary, files=[str(tmp_path / "compose.yaml")]), run)
    assert outcome["refused"] == []
    assert "s3cret-value" in run.concealed


def _item(kind, name, service=None, depends_on=None):
    from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import convert
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch

    class Resource(object):
        api_version = "v1"

    Resource.kind = kind
    metadata = {"name": name, "namespace": "team-a", "labels": {convert.SERVICE_LABEL: service} if service else {}}
    if depends_on:
        metadata["annotations"] = {migrate.DEPENDS_ON: ",".join(depends_on)}
    return batch.Item({"kind": kind, "metadata": metadata}, "test", Resource())


def test_depends_on_makes_waves_claims_first_then_each_service_after_what_it_needs():
    items = [_item("PersistentVolumeClaim", "db-data"), _item("Pod", "db", "db"), _item("Service", "db", "db"),
             _item("Deployment", "web", "web", ["db", "cache"]), _item("Pod", "cache", "cache"),
             _item("Deployment", "proxy", "proxy", ["web"]), _item("Pod", "loop", "loop", ["loop"])]
    named = [[(i.desired["kind"], i.name) for i in wave] for wave in migrate.waves(items)]
    assert named == [[("PersistentVolumeClaim", "db-data"), ("Pod", "db"), ("Service", "db"), ("Pod", "cache"),
                      ("Pod", "loop")],
                     [("Deployment", "web")], [("Deployment", "proxy")]]


def test_converge_waves_waits_for_each_wave_before_writing_the_next(monkeypatch):
    from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch

    calls = []
    monkeypatch.setattr(batch, "read_live", lambda engine, items, state="present": None)

    def write(engine, items, check_mode):
        calls.append(("write", [i.name for i in items]))
        for item in items:
            item.action = "created"
    monkeypatch.setattr(batch, "converge_present", write)
    monkeypatch.setattr(batch, "wait_all", lambda engine, items, state, timeout: calls.append(
        ("wait", [i.name for i in items])))
    monkeypatch.setattr(batch, "prune", lambda engine, items, label, check_mode: calls.append(
        ("prune", len(items))) or [])
    monkeypatch.setattr(batch, "_diff_pair", lambda item, after: None)
    monkeypatch.setattr(batch, "redact", lambda obj: obj)
    waves = [[_item("Pod", "db", "db")], [_item("Deployment", "web", "web", ["db"])]]
    changed, results, _diffs = batch.converge_waves(object(), waves, label=("p", "shop"), wait=False)
    assert changed and [r["name"] for r in results] == ["db", "web"]
    assert calls == [("write", ["db"]), ("wait", ["db"]), ("write", ["web"]), ("prune", 2)]
    calls[:] = []
    batch.converge_waves(object(), waves, check_mode=True, label=("p", "shop"), wait=True)
    assert calls == [("write", ["db"]), ("write", ["web"]), ("prune", 2)]  # check mode: nothing runs, no wait


def test_a_report_task_imports_no_client_library():
    # a fresh interpreter: report mode from compose files must not need the Kubernetes client or the docker SDK
    import subprocess
    import sys

    from tests.collection_path import collection_tree
    code = ("import sys; import ansible_collections.pacific.supervisor.plugins.modules.migrate; "
            "print(sorted(m for m in ('kubernetes', 'docker', 'urllib3') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(collection_tree())})
    assert done.stdout.strip() == "[]", done.stdout
