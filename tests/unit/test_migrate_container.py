"""pacific.supervisor.container: docker run options through the same converter as compose."""
import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert, table
from ansible_collections.pacific.supervisor.plugins.modules import container


def _params(**given):
    params = dict((name, spec.get("default")) for name, spec in container.ARGUMENT_SPEC.items())
    params.update(name="web", namespace="team-a", state="present")
    params.update(given)
    return params


RUN = dict(image="nginx:1.27", publish=["8080:80"], memory="1g", cpus=2.0, volumes=["web-data:/data"],
           volume_capacities={"web-data": 2048}, env={"MODE": "prod"}, restart="always", detach=True, rm=None)


def test_vic_run_options_keep_vic_semantics():
    made, report, refused = container.build(_params(dialect="vic", **RUN))
    assert refused == []
    kinds = [m["kind"] for m in made]
    assert kinds == ["PersistentVolumeClaim", "Service", "Deployment"]
    assert made[0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    pod = made[2]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    keys = dict((e["key"], e["outcome"]) for e in report)
    assert keys["--publish"] == "mapped" and keys["--detach"] == "client_only" and keys["--volume"] == "mapped"
    assert all(e["file"] is None and e["service"] == "web" for e in report)


def test_the_same_container_as_a_compose_service_makes_the_same_manifests(tmp_path):
    try:
        cli = compose.find_cli()
    except errors.InvalidArgument:
        from testbed import compose_cli
        cli = [str(compose_cli.ensure_built())]
    (tmp_path / "compose.yaml").write_text(
        "name: web\nservices:\n  web:\n    image: nginx:1.27\n    ports: ['8080:80']\n    mem_limit: 1g\n"
        "    cpus: 2\n    volumes: ['web-data:/data']\n    environment: {MODE: prod}\n    restart: always\n"
        "volumes:\n  web-data:\n    driver_opts: {Capacity: '2048'}\n")
    project, _warnings = compose.canonical([str(tmp_path / "compose.yaml")], cli)
    from_compose = convert.convert(project, "compose.yaml", convert.Options(dialect="vic"), namespace="team-a")[0]
    from_run = container.build(_params(dialect="vic", **RUN))[0]
    assert from_run == from_compose


@pytest.mark.parametrize("given, flag, rule", [
    (dict(ip="10.0.0.9"), "--ip", table.RULE_STATIC_IP),
    (dict(network="host"), "--net", table.RULE_HOST_NAMESPACES),
    (dict(privileged=True), "--privileged", table.RULE_PRIVILEGED),
    (dict(volumes=["/var/run/docker.sock:/var/run/docker.sock"]), "--volume", table.RULE_DOCKER_SOCKET),
    (dict(publish=["127.0.0.1:8080:80"]), "--publish", table.RULE_HOST_PORT),
    (dict(publish=["8000-8010:80"]), "--publish", table.RULE_PORT_RANGE),
])
def test_refused_flags_name_their_rule_and_make_nothing(given, flag, rule):
    made, report, refused = container.build(_params(image="nginx:1.27", **given))
    assert made == [] and refused == ["web"]
    entry = [e for e in report if e["outcome"] == table.REFUSED][0]
    assert (entry["key"], entry["rule"]) == (flag, rule)


def test_a_refusal_fails_before_connecting(monkeypatch):
    monkeypatch.setattr(container, "connect", lambda params: pytest.fail("connected"))
    with pytest.raises(errors.InvalidArgument, match="nothing was written: container web.*--ip"):
        container.handle(_params(image="nginx:1.27", ip="10.0.0.9"), None)
