"""The compose corpus on the testbed, as the namespace developer: every manifest migrate makes
passes a server-side dry run, and the files whose services can all move reach Running."""
from __future__ import annotations

import time

import pytest

from tests.integration import estate as made
from tests.unit.test_migrate_convert import CORPUS, CORPUS_ENVIRONMENT, corpus_files
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine

pytestmark = pytest.mark.testbed
STORAGE_CLASS = "vsan-default-storage-policy"  # the estate's storage policy as a StorageClass
# what plex and postgresql-pgadmin leave to the environment
ENVIRONMENT = dict(CORPUS_ENVIRONMENT, POSTGRES_USER="shop", POSTGRES_PW="example", POSTGRES_DB="shop",
                   PGADMIN_MAIL="admin@example.com", PGADMIN_PW="example")


@pytest.fixture(scope="module")
def converted():
    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    try:
        cli = compose.find_cli()
    except Exception:  # pylint: disable=broad-except
        from testbed import compose_cli
        cli = [str(compose_cli.ensure_built())]
    found = []
    for path in corpus_files():
        project, _warnings = compose.canonical([str(path)], cli, environment=ENVIRONMENT)
        manifests, _report, refused = convert.convert(project, str(path), convert.Options(storage_class=STORAGE_CLASS),
                                                      namespace=made.NAMESPACE)
        found.append((path.parent.name, project["name"], manifests, refused))
    return found


@pytest.fixture(scope="module")
def developer_engine(testbed, estate):
    settings = made.connections(testbed, "developer")["group/pacific.supervisor.supervisor"]
    return Engine(connect(settings))


def _items(engine, name, manifests):
    label = (convert.PROJECT_LABEL, convert.k8s_name(name))
    return batch.prepare(engine, [(m, "{0}: {1} {2}".format(name, m["kind"], m["metadata"]["name"]))
                                  for m in manifests], label=label), label


def test_every_manifest_passes_a_server_side_dry_run(converted, developer_engine):
    checked = 0
    for folder, name, manifests, _refused in converted:
        if not manifests:
            continue
        items, label = _items(developer_engine, name, manifests)
        _changed, results, _diffs = batch.converge(developer_engine, items, check_mode=True, label=label)
        assert [r["action"] for r in results if r["action"] != "created"] == [], folder
        checked += len(manifests)
    print("\n{0} manifests of the corpus passed a server-side dry run".format(checked))
    assert checked > 0


def test_the_files_that_can_move_whole_reach_running(converted, developer_engine, admin_client):
    from kubernetes import client

    core = client.CoreV1Api(admin_client)
    movable = [(folder, name, manifests) for folder, name, manifests, refused in converted if not refused]
    running = []
    for folder, name, manifests in movable:  # one after another: projects share service names (db)
        items, label = _items(developer_engine, name, manifests)
        batch.converge(developer_engine, items, label=label)
        try:
            workloads = [m for m in manifests if m["kind"] in ("Pod", "Deployment")]
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                pods = core.list_namespaced_pod(made.NAMESPACE, label_selector="{0}={1}".format(
                    convert.PROJECT_LABEL, convert.k8s_name(name))).items
                if len(pods) >= len(workloads) and all(p.status.phase == "Running" for p in pods):
                    running.append(folder)
                    break
                time.sleep(2)
        finally:
            items, _label = _items(developer_engine, name, manifests)
            batch.converge(developer_engine, items, state="absent", wait=True, wait_timeout=120)
    print("\n{0} of the {1} corpus files that can move whole reach Running: {2}".format(
        len(running), len(movable), ", ".join(running)))
    assert "postgresql-pgadmin" in running  # the one without claims: nothing else to wait for
