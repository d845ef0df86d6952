"""pacific.supervisor.migrate's converter: the compose corpus, VIC semantics, what never appears.

The corpus (the 39 compose files of docker/awesome-compose) lives beside the repository, in
../shared/data/compose. Compose files are brought to canonical form by the docker compose CLI:
the one on PATH (or $PACIFIC_COMPOSE_BINARY), else the testbed's build of it.
"""
import time
from pathlib import Path

import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert, table

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / ".." / "shared" / "data" / "compose"
CORPUS_ENVIRONMENT = {"PLEX_MEDIA_PATH": "/srv/media"}  # plex's file names its media folder only so


def corpus_files():
    names = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
    return sorted(p for p in CORPUS.rglob("*") if p.name in names)


@pytest.fixture(scope="module")
def cli():
    try:
        return compose.find_cli()
    except errors.InvalidArgument:
        from testbed import compose_cli
        return [str(compose_cli.ensure_built())]


@pytest.fixture(scope="module")
def corpus(cli):
    if not CORPUS.is_dir():
        pytest.skip("the compose corpus is not beside the repository ({0})".format(CORPUS))
    started = time.monotonic()
    converted = []
    for path in corpus_files():
        project, _warnings = compose.canonical([str(path)], cli, environment=CORPUS_ENVIRONMENT)
        manifests, report, refused = convert.convert(project, str(path), convert.Options(storage_class="wcp-default"))
        converted.append((path, project, manifests, report, refused))
    took = time.monotonic() - started
    print("\nthe corpus ({0} files) converted in report mode in {1:.2f} s".format(len(converted), took))
    return converted


def test_the_corpus_has_39_files():
    if not CORPUS.is_dir():
        pytest.skip("no corpus")
    assert len(corpus_files()) == 39


def test_every_key_of_every_service_is_reported(corpus):
    for path, project, _manifests, report, _refused in corpus:
        for service, spec in project["services"].items():
            reported = set(e["key"] for e in report if e["service"] == service)
            for key, value in spec.items():
                if value is None:
                    continue
                if key == "deploy":
                    assert all("deploy.{0}".format(sub) in reported or sub == "resources" for sub in value), path
                    continue
                assert key in reported, "{0}: {1}.{2} silently dropped".format(path, service, key)


def test_every_entry_is_complete_and_every_refusal_names_file_service_key_and_rule(corpus):
    for path, _project, _manifests, report, refused in corpus:
        assert report, path
        for entry in report:
            assert entry["file"] == str(path)
            assert entry["service"] and entry["key"] and entry["detail"]
            assert entry["outcome"] in table.OUTCOMES
            if entry["outcome"] == table.REFUSED:
                assert entry["rule"] and entry["rule"] in entry["detail"]
        assert sorted(set(e["service"] for e in report if e["outcome"] == table.REFUSED)) == refused


def _walk(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def test_no_manifest_reaches_into_the_host_and_all_carry_the_project_label(corpus):
    kinds = set()
    for path, project, manifests, _report, refused in corpus:
        for manifest in manifests:
            kinds.add(manifest["kind"])
            for key, value in _walk(manifest):
                assert key not in ("hostPath", "hostPort", "hostNetwork", "hostPID", "hostIPC", "nodePort"), path
                assert not (key == "type" and value == "NodePort"), path
                assert not (key == "privileged" and value is True), path
            assert manifest["metadata"]["labels"][convert.PROJECT_LABEL] == convert.k8s_name(project["name"])
        if not refused:
            assert manifests, path
    assert kinds == {"PersistentVolumeClaim", "Service", "Deployment", "Pod"}
    movable = [path.parent.name for path, _p, _m, _r, refused in corpus if not refused]
    assert movable == ["gitea-postgres", "nextcloud-postgres", "postgresql-pgadmin", "wordpress-mysql"]


def test_the_docker_socket_and_host_network_are_refused_with_their_rule(corpus):
    entries = [e for _path, _p, _m, report, _r in corpus for e in report]
    socket = [e for e in entries if "docker.sock" in e["detail"]]
    assert socket and all(e["outcome"] == table.REFUSED and e["rule"] == table.RULE_DOCKER_SOCKET for e in socket)
    host = [e for e in entries if e["key"] == "network_mode" and "host" in e["detail"]]
    assert host and all(e["rule"] == table.RULE_HOST_NAMESPACES for e in host)


# --- on canonical dicts, no CLI needed ---------------------------------------------------------
def _project(**service):
    return {"name": "shop", "services": {"web": dict({"image": "nginx:1.27"}, **service)},
            "volumes": {"data": {"name": "shop_data", "driver_opts": {"Capacity": "2048"}}, "plain": {}}}


def _only(manifests, kind):
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, manifests
    return found[0]


def test_vic_semantics_cpus_memory_and_volume_capacity():
    vic = convert.Options(dialect="vic")
    manifests, _report, refused = convert.convert(_project(cpus=2, volumes=[
        {"type": "volume", "source": "data", "target": "/data"},
        {"type": "volume", "source": "plain", "target": "/plain"}]), "f.yaml", vic)
    assert refused == []
    container = _only(manifests, "Pod")["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    claims = dict((m["metadata"]["name"], m["spec"]["resources"]["requests"]["storage"])
                  for m in manifests if m["kind"] == "PersistentVolumeClaim")
    assert claims == {"data": "2Gi", "plain": "1Gi"}
    manifests, report, _refused = convert.convert(_project(mem_limit=256 * 1024 * 1024, cpuset="4"), "f.yaml", vic)
    container = _only(manifests, "Pod")["spec"]["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "512Mi"}
    assert any("raised to VIC's minimum" in e["detail"] for e in report)
    refused = convert.convert(_project(cpuset="0-3"), "f.yaml", convert.Options())[2]
    assert refused == ["web"]


def test_ports_expose_healthcheck_restart_and_depends_on():
    project = _project(ports=[{"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"}],
                       expose=["9090"], restart="always",
                       healthcheck={"test": ["CMD-SHELL", "curl -f localhost"], "interval": "1m30s", "retries": 3},
                       depends_on={"db": {"condition": "service_healthy"}})
    project["services"]["db"] = {"image": "postgres:16", "expose": ["5432"]}
    manifests, report, refused = convert.convert(project, "f.yaml")
    assert refused == []
    assert [(m["kind"], m["metadata"]["name"]) for m in manifests] == [
        ("Service", "db"), ("Pod", "db"), ("Service", "web"), ("Deployment", "web")]
    web_service = manifests[2]
    assert web_service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in web_service["spec"]["ports"]] == [(8080, 80), (9090, 9090)]
    assert manifests[0]["spec"]["type"] == "ClusterIP"
    container = manifests[3]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["exec"]["command"] == ["/bin/sh", "-c", "curl -f localhost"]
    assert container["readinessProbe"]["periodSeconds"] == 90
    assert any(e["key"] == "depends_on" and "after db is ready" in e["detail"] for e in report)


def test_refusals_name_the_rule_and_make_nothing_for_that_service():
    cases = {
        "privileged": (True, table.RULE_PRIVILEGED),
        "pid": ("host", table.RULE_HOST_NAMESPACES),
        "sysctls": ({"net.core.somaxconn": 1}, table.RULE_SYSCTLS),
        "devices": (["/dev/fuse"], table.RULE_DEVICES),
        "ports": ([{"target": 80, "published": "8000-8010", "protocol": "tcp"}], table.RULE_PORT_RANGE),
        "frobnicate": (1, table.RULE_UNKNOWN),
    }
    for key, (value, rule) in cases.items():
        manifests, report, refused = convert.convert(_project(**{key: value}), "f.yaml")
        assert refused == ["web"] and manifests == [], key
        entry = [e for e in report if e["outcome"] == table.REFUSED][0]
        assert (entry["file"], entry["service"], entry["key"], entry["rule"]) == ("f.yaml", "web", key, rule)


def test_bind_mounted_files_only_on_opt_in(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text("server {}\n")
    project = _project(volumes=[{"type": "bind", "source": str(conf), "target": "/etc/nginx/nginx.conf"},
                                {"type": "volume", "target": "/cache"},
                                {"type": "tmpfs", "target": "/run", "tmpfs": {"size": 1048576}}])
    _manifests, report, refused = convert.convert(project, "f.yaml")
    assert refused == ["web"] and "bind_files" in [e for e in report if e["outcome"] == "refused"][0]["detail"]
    manifests, _report, refused = convert.convert(project, "f.yaml", convert.Options(bind_files=True))
    assert refused == []
    config_map = _only(manifests, "ConfigMap")
    assert config_map["data"] == {"nginx.conf": "server {}\n"}
    volumes = _only(manifests, "Pod")["spec"]["volumes"]
    assert [sorted(set(v) - {"name"}) for v in volumes] == [["configMap"], ["emptyDir"], ["emptyDir"]]
    assert volumes[2]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Mi"}


def test_isolated_networks_are_refused_unless_flattened():
    project = {"name": "p", "services": {"a": {"image": "x", "networks": {"front": None}},
                                         "b": {"image": "y", "networks": {"back": None}}}}
    _manifests, report, refused = convert.convert(project, "f.yaml")
    assert refused == ["a", "b"]
    assert all(e["rule"] == table.RULE_NETWORKS for e in report if e["outcome"] == "refused")
    refused = convert.convert(project, "f.yaml", convert.Options(flatten_networks=True))[2]
    assert refused == []


def test_a_missing_cli_is_named(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="docker compose is needed"):
        compose.find_cli(environ={"PATH": str(tmp_path)})
    with pytest.raises(errors.InvalidArgument, match="compose_binary"):
        compose.find_cli("/nonexistent/docker-compose", environ={"PATH": str(tmp_path)})


def test_canonical_form_comes_from_compose(cli, tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "x-base: &base\n  image: nginx:${TAG:-1.27}\nservices:\n  web:\n    <<: *base\n    ports: ['8080:80']\n")
    project, _warnings = compose.canonical([str(tmp_path / "compose.yaml")], cli, project_name="demo")
    assert project["name"] == "demo"
    assert project["services"]["web"]["image"] == "nginx:1.27"
    assert project["services"]["web"]["ports"][0]["target"] == 80
    with pytest.raises(errors.InvalidArgument, match="docker compose cannot read"):
        compose.canonical([str(tmp_path / "missing.yaml")], cli)
