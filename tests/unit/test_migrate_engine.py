"""migrate's engine source: containers read from a Docker engine (the testbed's VIC simulator, in
this process) make the manifests of the same `docker run` given to `container`; what the engine
shows at its defaults is no setting; everything else is mapped, refused or client-only."""
from __future__ import annotations

import shutil
import subprocess

import docker
import pytest

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import convert, engine_source
from ansible_collections.pacific.supervisor.plugins.module_utils._supervisor import client as supervisor_client
from ansible_collections.pacific.supervisor.plugins.modules import container, migrate
from testbed.vic.server import Simulator
from tests.unit.test_migrate_module import FakeRun

PORT = 0  # a port the system gives: tests may run side by side


@pytest.fixture()
def vic():
    with Simulator(PORT) as simulator:
        client = docker.DockerClient(base_url=simulator.url)
        yield simulator, client
        client.close()


def _params(module, **given):
    params = dict((name, spec.get("default")) for name, spec in module.ARGUMENT_SPEC.items())
    params.update(given)
    return params


def _engine(simulator, **given):
    defaults = dict(source="engine", engine={"docker_host": simulator.url}, namespace="team-a",
                    storage_class="wcp-default")
    defaults.update(given)
    return migrate.handle(_params(migrate, **defaults), FakeRun())


def _run_web(client):
    client.volumes.create("web-data", driver="vsphere", driver_opts={"Capacity": "2048"})
    client.containers.run("nginx:1.27", name="web", detach=True, ports={"80/tcp": 8080}, mem_limit="1g",
                          nano_cpus=2 * 10 ** 9, volumes=["web-data:/data"], restart_policy={"Name": "always"},
                          environment={"MODE": "prod"}, labels={"app": "shop"},
                          healthcheck={"test": ["CMD", "curl", "-f", "http://localhost/"], "interval": 10 * 10 ** 9,
                                       "retries": 3})


WEB_RUN = dict(name="web", namespace="team-a", state="present", image="nginx:1.27", publish=["8080:80"], memory="1g",
               cpus=2, volumes=["web-data:/data"], volume_capacities={"web-data": 2048}, storage_class="wcp-default",
               restart="always", env={"MODE": "prod"}, labels={"app": "shop"},
               healthcheck={"test": ["CMD", "curl", "-f", "http://localhost/"], "interval": "10s", "retries": 3})


@pytest.mark.parametrize("dialect", ["docker", "vic"])
def test_a_container_of_the_engine_makes_the_manifests_of_the_same_docker_run(vic, dialect):
    simulator, client = vic
    _run_web(client)
    read = _engine(simulator, containers={"names": ["web"]}, project_name="web", dialect=dialect)
    made, _report, refused = container.build(_params(container, dialect=dialect, **WEB_RUN))
    assert read["refused"] == refused == []
    assert read["manifests"] == made
    assert [e["outcome"] for e in read["report"]] == ["mapped"] * len(read["report"])
    assert {e["file"] for e in read["report"]} == {simulator.url}
    assert {"--publish", "--volume", "--memory", "--cpus", "--restart", "--env", "--health-cmd"} <= {
        e["key"] for e in read["report"]}


def test_vic_semantics_cpus_are_vcpus_and_capacity_is_megabytes(vic):
    simulator, client = vic
    _run_web(client)
    client.containers.create("redis:7", name="cache")  # nothing given: VIC's defaults
    read = _engine(simulator, dialect="vic", project_name="shop")
    kinds = dict(((m["kind"], m["metadata"]["name"]), m) for m in read["manifests"])
    assert kinds[("PersistentVolumeClaim", "web-data")]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    web = kinds[("Deployment", "web")]["spec"]["template"]["spec"]["containers"][0]
    assert web["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    cache = kinds[("Pod", "cache")]["spec"]["containers"][0]
    assert cache["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}  # VIC: 2 vCPUs and 2 GB by default


def test_filters_pick_containers_by_label_name_and_id(vic):
    simulator, client = vic
    shop = client.containers.create("nginx:1.27", name="shop-web", labels={"app": "shop", "tier": "web"})
    client.containers.create("nginx:1.27", name="shop-db", labels={"app": "shop", "tier": "db"})
    client.containers.create("nginx:1.27", name="other", labels={"app": "other"})

    def services(**picked):
        return sorted({e["service"] for e in _engine(simulator, containers=picked)["report"]})
    assert services(labels={"app": "shop"}) == ["shop-db", "shop-web"]
    assert services(labels={"app": "shop", "tier": "web"}) == ["shop-web"]  # labels ANDed, as the daemon does
    assert services(names=["shop-web", "other"]) == ["other", "shop-web"]
    with pytest.raises(errors.InvalidArgument, match="no container of the engine"):
        services(names=["shop"])
    assert services(ids=[shop.id[:12]]) == ["shop-web"]


def test_what_a_pod_cannot_do_is_refused_and_nothing_of_that_container_is_made(vic):
    simulator, client = vic
    client.containers.create("nginx:1.27", name="edge", privileged=True, ports={"80/tcp": ("10.0.0.5", 80)},
                             cap_add=["SYS_ADMIN"], sysctls={"net.core.somaxconn": "1024"}, auto_remove=True)
    client.containers.create("redis:7", name="cache")
    read = _engine(simulator)
    refused = sorted((e["key"], e["rule"]) for e in read["report"] if e["outcome"] == "refused")
    assert [key for key, _rule in refused] == ["--cap-add", "--privileged", "--publish", "--sysctl"]
    assert all(e["service"] == "edge" for e in read["report"] if e["outcome"] == "refused")
    # docker create attaches the client's stdout and stderr unless detached: client-side, as --rm
    assert sorted(e["key"] for e in read["report"] if e["outcome"] == "client_only" and e["service"] == "edge") == [
        "--attach", "--rm"]
    assert read["refused"] == ["edge"]
    assert {m["metadata"]["name"] for m in read["manifests"]} == {"cache"}


def test_apply_with_a_refused_container_fails_before_connecting_to_the_supervisor(vic, monkeypatch):
    simulator, client = vic
    client.containers.create("nginx:1.27", name="edge", privileged=True)
    monkeypatch.setattr(supervisor_client, "connect", lambda params: pytest.fail("a refused engine source connected"))
    with pytest.raises(errors.InvalidArgument) as raised:
        _engine(simulator, mode="apply")
    assert "nothing was written" in raised.value.msg and "service edge, key --privileged" in raised.value.msg


def test_a_vic_host_refuses_host_directories_and_host_networking(vic):
    _simulator, client = vic
    with pytest.raises(docker.errors.APIError, match="does not support mounting directories"):
        client.containers.create("nginx:1.27", volumes=["/etc:/etc"])
    with pytest.raises(docker.errors.APIError, match="--net=host"):
        client.containers.create("nginx:1.27", network_mode="host")
    volume = client.volumes.create("plain")
    assert volume.attrs["Driver"] == "vsphere" and volume.attrs["Status"]["Capacity"] == "1024"
    assert client.info()["Driver"].startswith("vSphere Integrated Containers")


@pytest.mark.skipif(not shutil.which("docker"), reason="no docker CLI on PATH")
def test_the_docker_cli_reads_the_simulator(vic):
    simulator, client = vic
    _run_web(client)

    def cli(*args):
        done = subprocess.run(["docker", "-H", simulator.url, *args], capture_output=True, text=True, timeout=60,
                              check=False, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"})
        assert done.returncode == 0, done.stderr
        return done.stdout
    assert "0.0.0.0:8080->80/tcp" in cli("ps") and "web" in cli("ps", "--filter", "label=app=shop")
    assert cli("inspect", "--format", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", "web").split() == [
        "2000000000", "1073741824"]
    assert "vsphere   web-data" in cli("volume", "ls")
    assert cli("volume", "inspect", "--format", "{{.Options.Capacity}}", "web-data").strip() == "2048"
    assert "bridge" in cli("network", "ls")


# --- the pure reading of inspected containers, with what a real Docker engine shows by default ---
def _inspected(**overrides):
    ident = "4f1c2a9e7b3d" + "0" * 52
    container = {
        "Id": ident, "Name": "/api",
        "Config": {"Hostname": ident[:12], "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
                   "AttachStderr": False, "ExposedPorts": {"8000/tcp": {}}, "Tty": False, "OpenStdin": False,
                   "StdinOnce": False, "Env": ["PATH=/usr/local/bin:/usr/bin", "DEBUG=0"], "Cmd": ["gunicorn"],
                   "Image": "shop/api:2", "Volumes": None, "WorkingDir": "/app", "Entrypoint": None,
                   "OnBuild": None, "Labels": {"com.docker.compose.project": "shop"}},
        "HostConfig": {"Binds": None, "NetworkMode": "bridge", "PortBindings": {}, "RestartPolicy": {"Name": "no"},
                       "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0],
                       "CapAdd": None, "CapDrop": None, "CgroupnsMode": "private", "Dns": [], "DnsOptions": [],
                       "DnsSearch": [], "ExtraHosts": None, "GroupAdd": None, "IpcMode": "private", "Cgroup": "",
                       "Links": None, "OomScoreAdj": 0, "PidMode": "", "Privileged": False, "PublishAllPorts": False,
                       "ReadonlyRootfs": False, "SecurityOpt": None, "UTSMode": "", "UsernsMode": "",
                       "ShmSize": 67108864, "Runtime": "runc", "Isolation": "", "CpuShares": 0, "Memory": 0,
                       "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [],
                       "CpuPeriod": 0, "CpuQuota": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [],
                       "DeviceCgroupRules": None, "DeviceRequests": None, "MemoryReservation": 0,
                       "MemorySwap": 0, "MemorySwappiness": None, "OomKillDisable": None, "PidsLimit": None,
                       "Ulimits": [], "LogConfig": {"Type": "json-file", "Config": {}},
                       "MaskedPaths": ["/proc/asound", "/proc/acpi"], "ReadonlyPaths": ["/proc/bus"]},
        "Mounts": [],
        "NetworkSettings": {"Networks": {"bridge": {"IPAMConfig": None, "Aliases": None}}},
    }
    for part, values in overrides.items():
        if isinstance(container.get(part), dict):
            container[part].update(values)
        else:
            container[part] = values
    return container


def _read(container, volumes=None, images=None, options=None):
    return engine_source.convert_engine([container], volumes or {}, images or {}, "tcp://vch:2376",
                                        options or convert.Options(), "shop")


def test_the_engines_defaults_are_no_settings():
    image = {"Env": ["PATH=/usr/local/bin:/usr/bin"], "Cmd": ["python"]}
    made, report, refused = _read(_inspected(), images={"shop/api:2": image})
    assert refused == []
    keys = sorted((e["key"], e["outcome"]) for e in report)
    assert keys == [("--env", "mapped"), ("--expose", "mapped"), ("--label", "client_only"),
                    ("--workdir", "mapped"), ("COMMAND", "mapped"), ("IMAGE", "mapped")]
    pod = made[-1]["spec"]["containers"][0]
    assert pod["env"] == [{"name": "DEBUG", "value": "0"}]  # the image's PATH is the image's, not a setting
    assert "hostname" not in made[-1]["spec"]  # the engine's default hostname, the id's prefix


def test_binds_of_the_engine_host_unknown_fields_and_static_addresses_are_refused():
    container = _inspected(
        Mounts=[{"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": True},
                {"Type": "bind", "Source": "/srv/www", "Destination": "/www", "RW": False}],
        HostConfig={"NetworkMode": "shop-net", "FancyNewKnob": 7},
        NetworkSettings={"Networks": {"shop-net": {"IPAMConfig": {"IPv4Address": "10.9.0.7"},
                                                   "Aliases": ["api", "4f1c2a9e7b3d", "backend"]}}})
    made, report, refused = _read(container)
    assert refused == ["api"] and made == []
    refusals = sorted((e["key"], e["detail"].split(":")[0]) for e in report if e["outcome"] == "refused")
    assert refusals == [("--network", "shop-net.aliases backend"), ("--network", "shop-net.ipv4_address"),
                        ("--volume", "/srv/www"), ("--volume", "/var/run/docker.sock"),
                        ("HostConfig.FancyNewKnob", "HostConfig.FancyNewKnob 7")]
    socket = [e for e in report if "docker.sock" in e["detail"]][0]
    assert "no Docker engine behind it" in socket["rule"]


def test_anonymous_volumes_are_empty_dirs_and_named_ones_claims_of_their_capacity():
    container = _inspected(Mounts=[
        {"Type": "volume", "Name": "a" * 64, "Destination": "/cache", "RW": True},
        {"Type": "volume", "Name": "pgdata", "Destination": "/var/lib/postgresql/data", "RW": True}])
    volumes = {"a" * 64: {"Name": "a" * 64, "Driver": "vsphere", "Labels": {}},
               "pgdata": {"Name": "pgdata", "Driver": "vsphere", "Options": {},
                          "Status": {"VolumeStore": "default", "Capacity": "4096"}}}
    made, _report, refused = _read(container, volumes, options=convert.Options(dialect="vic"))
    assert refused == []
    claim = [m for m in made if m["kind"] == "PersistentVolumeClaim"]
    assert [(c["metadata"]["name"], c["spec"]["resources"]["requests"]["storage"]) for c in claim] == [
        ("pgdata", "4Gi")]
    volumes_of_pod = made[-1]["spec"]["volumes"]
    assert {"emptyDir": {}, "name": "vol-1"} in volumes_of_pod


def test_connection_names_no_credentials_and_pairs_cert_and_key():
    assert engine_source.Connection("ssh://deploy:hunter2@vch:22").address == "ssh://vch:22"
    with pytest.raises(errors.InvalidArgument, match="go together"):
        engine_source.Connection("tcp://vch:2376", client_cert="/c.pem")
    with pytest.raises(errors.InvalidArgument, match="no tcp://"):
        engine_source.Connection("vch:2376")
    assert engine_source.engine_filters({"labels": {"app": "shop", "tier": None}, "names": ["web"]}) == {
        "label": ["app=shop", "tier"], "name": ["^/web$"]}


def _seeded(simulator):
    client = docker.DockerClient(base_url=simulator.url.replace("tcp:", "https:") if getattr(simulator, "client_tls", None)
                                 else simulator.url, tls=getattr(simulator, "client_tls", None), version="1.25")
    client.api.trust_env = False  # REQUESTS_CA_BUNDLE would override the CA
    client.containers.create("redis:7", name="cache")
    client.close()


def test_a_unix_socket_engine(tmp_path):
    with Simulator(socket_path=str(tmp_path / "docker.sock")) as simulator:
        _seeded(simulator)
        read = _engine(simulator)
        assert [m["metadata"]["name"] for m in read["manifests"]] == ["cache"]
        assert {e["file"] for e in read["report"]} == {"unix://{0}".format(tmp_path / "docker.sock")}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # validate_certs false, on purpose
def test_tls_with_a_ca_and_a_client_certificate_as_vic_verifies_clients(tmp_path):
    from testbed.pki import ensure_pki
    from testbed.vic.server import tls_context

    pki = ensure_pki(tmp_path / "pki")
    context = tls_context(str(pki.serving_cert), str(pki.serving_key), client_ca=str(pki.ca_cert))
    with Simulator(PORT, ssl_context=context) as simulator:
        simulator.client_tls = docker.tls.TLSConfig(client_cert=(str(pki.serving_cert), str(pki.serving_key)),
                                                    ca_cert=str(pki.ca_cert), verify=True)
        _seeded(simulator)
        trusted = {"docker_host": simulator.url, "ca_cert": str(pki.ca_cert), "client_cert": str(pki.serving_cert),
                   "client_key": str(pki.serving_key)}
        read = _engine(simulator, engine=trusted)
        assert [m["metadata"]["name"] for m in read["manifests"]] == ["cache"]
        assert {e["file"] for e in read["report"]} == {simulator.url}  # the address only, no file or key
        unverified = dict(trusted, ca_cert=None, validate_certs=False)
        assert _engine(simulator, engine=unverified)["manifests"]
        with pytest.raises(errors.PacificError, match="Docker engine at tcp://127.0.0.1"):
            _engine(simulator, engine=dict(trusted, client_cert=None, client_key=None))  # VIC --tlsverify
        with pytest.raises(errors.PacificError, match="Docker engine at tcp://127.0.0.1"):
            _engine(simulator, engine={"docker_host": simulator.url, "tls": True})  # the testbed's CA is not trusted


def test_an_untrusted_engine_is_a_tls_error_and_a_closed_port_unreachable(tmp_path):
    from testbed.pki import ensure_pki
    from testbed.vic.server import tls_context

    pki = ensure_pki(tmp_path / "pki")
    with Simulator(PORT, ssl_context=tls_context(str(pki.serving_cert), str(pki.serving_key))) as simulator:
        with pytest.raises(errors.TlsError):
            _engine(simulator, engine={"docker_host": simulator.url, "tls": True})
    with pytest.raises(errors.Unreachable):
        _engine(simulator, engine={"docker_host": simulator.url, "timeout": 5})
