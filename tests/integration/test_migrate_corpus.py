"""The compose corpus on the testbed, as the namespace developer: every manifest migrate makes
passes a server-side dry run, and the files whose services can all move reach Running - as they
are, and with what a user gives (an image for each service that only builds, flatten_networks,
bind_files) - their claims bound and their LoadBalancer Services with an address. The README
states both counts; the test checks the statement."""
from __future__ import annotations

import re
import time

import pytest

from testbed.layout import REPO_ROOT
from tests.integration import estate as made
from tests.unit.test_migrate_convert import CORPUS, CORPUS_ENVIRONMENT, corpus_files
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import batch
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.client import connect
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor.engine import Engine
from ansible_collections.pacific.supervisor.plugins.modules import migrate

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
    found, helped = [], []
    for path in corpus_files():
        project, _warnings = compose.canonical([str(path)], cli, environment=ENVIRONMENT)
        manifests, _report, refused = convert.convert(project, str(path), convert.Options(storage_class=STORAGE_CLASS),
                                                      namespace=made.NAMESPACE)
        found.append((path.parent.name, project["name"], manifests, refused))
        images = dict((name, "registry.example.com/{0}/{1}:1.0".format(path.parent.name.lower(), name))
                      for name, spec in project["services"].items() if spec.get("build") and not spec.get("image"))
        options = convert.Options(storage_class=STORAGE_CLASS, images=images, flatten_networks=True, bind_files=True)
        manifests, _report, refused = convert.convert(project, str(path), options, namespace=made.NAMESPACE)
        helped.append((path.parent.name, project["name"], manifests, refused))
    return found, helped


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
    for folder, name, manifests, _refused in converted[0] + converted[1]:
        if not manifests:
            continue
        items, label = _items(developer_engine, name, manifests)
        _changed, results, _diffs = batch.converge(developer_engine, items, check_mode=True, label=label)
        assert [r["action"] for r in results if r["action"] != "created"] == [], folder
        checked += len(manifests)
    print("\n{0} manifests of the corpus passed a server-side dry run".format(checked))
    assert checked > 0


def _reach_running(engine, core, name, manifests):
    """Apply one project (depends_on in waves), then whether every pod runs, every claim is bound
    and every LoadBalancer Service has an address within 60 s; removes the project after."""
    selector = "{0}={1}".format(convert.PROJECT_LABEL, convert.k8s_name(name))
    items, label = _items(engine, name, manifests)
    try:
        batch.converge_waves(engine, migrate.waves(items), label=label, wait=False, wait_timeout=120)
        workloads = [m for m in manifests if m["kind"] in ("Pod", "Deployment")]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pods = core.list_namespaced_pod(made.NAMESPACE, label_selector=selector).items
            claims = core.list_namespaced_persistent_volume_claim(made.NAMESPACE, label_selector=selector).items
            services = [s for s in core.list_namespaced_service(made.NAMESPACE, label_selector=selector).items
                        if s.spec.type == "LoadBalancer"]
            if (len(pods) >= len(workloads) and all(p.status.phase == "Running" for p in pods)
                    and all(c.status.phase == "Bound" for c in claims)
                    and all(s.status.load_balancer.ingress for s in services)):
                return True
            time.sleep(2)
        return False
    finally:
        items, _label = _items(engine, name, manifests)
        batch.converge(engine, items, state="absent", wait=True, wait_timeout=120)
        # a Deployment's pods go after it (garbage collection): the next test starts without them
        deadline = time.monotonic() + 120
        while core.list_namespaced_pod(made.NAMESPACE, label_selector=selector).items:
            assert time.monotonic() < deadline, f"{name}'s pods are not gone 120 s after its project"
            time.sleep(1)


def _stated(phrase):
    text = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"(\d+) of the (\d+) corpus files that can move whole {0}".format(phrase), " ".join(text.split()))
    assert match, "the README states no count of corpus files that {0}".format(phrase)
    return int(match.group(1)), int(match.group(2))


def test_the_files_that_can_move_whole_reach_running(converted, developer_engine, admin_client):
    from kubernetes import client

    core = client.CoreV1Api(admin_client)
    for files, phrase in ((converted[0], "as they are reach Running"),
                          (converted[1], "with images, flatten_networks and bind_files reach Running")):
        movable = [(folder, name, manifests) for folder, name, manifests, refused in files if not refused]
        # one after another: projects share service names (db), and migrate takes over no other project's objects
        running = [folder for folder, name, manifests in movable
                   if _reach_running(developer_engine, core, name, manifests)]
        print("\n{0} of the {1} corpus files that can move whole {2}: {3}".format(
            len(running), len(movable), phrase, ", ".join(running)))
        assert "postgresql-pgadmin" in running  # the one without claims or builds
        assert _stated(phrase) == (len(running), len(movable))
