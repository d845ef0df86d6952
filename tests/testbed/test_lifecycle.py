"""`up`, `down` and their failure modes, on testbed instances of their own (own state, own ports)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed import processes
from testbed.errors import TestbedError
from testbed.layout import REPO_ROOT
from testbed.pytest_plugin import isolated_layout
from testbed.stack import DAEMONS, Testbed

pytestmark = pytest.mark.testbed


def _cli(layout, *args) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(Path.home()), **layout.environment()}
    return subprocess.run([sys.executable, "-m", "testbed", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _processes_using(state: Path) -> list[str]:
    """Command lines of every live process that mentions this state directory."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(state) in text:
            found.append(text)
    return found


def test_up_twice_is_a_no_op(testbed):
    before = testbed.running()
    assert testbed.up() is False
    assert testbed.running() == before


def test_cli_up_down_down_leaves_nothing_running():
    layout = isolated_layout("lifecycle", port_base=26640)
    started = time.monotonic()
    up = _cli(layout, "up")
    assert up.returncode == 0, up.stderr
    print(f"warm up: {time.monotonic() - started:.1f}s")
    status = _cli(layout, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Established" in status.stdout and "HostSystem" in status.stdout

    again = _cli(layout, "up")
    assert again.returncode == 0 and "already up" in again.stdout

    first = _cli(layout, "down")
    assert first.returncode == 0 and "stopped" in first.stdout
    assert _processes_using(layout.state) == []
    second = _cli(layout, "down")
    assert second.returncode == 0 and "nothing was running" in second.stdout

    after = _cli(layout, "status")
    assert after.returncode == 3 and "stopped" in after.stdout


def test_port_in_use_is_one_clear_error_and_starts_nothing():
    layout = isolated_layout("busy-port", port_base=26740)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", layout.ports.apiserver))
        squatter.listen()
        bed = Testbed(layout)
        with pytest.raises(TestbedError) as raised:
            bed.up()
    message = str(raised.value)
    assert f"127.0.0.1:{layout.ports.apiserver}" in message and "kube-apiserver" in message
    assert all(pid is None for pid in bed.running().values())
    assert _processes_using(layout.state) == []


def test_missing_binary_is_one_clear_error(tmp_path):
    layout = isolated_layout("missing-binary", port_base=26840)
    layout.ensure_dirs()
    daemon = processes.Daemon("etcd", [str(tmp_path / "no-such-etcd")], layout.ports.etcd_client)
    with pytest.raises(TestbedError, match="binary .*no-such-etcd is missing"):
        processes.start(layout, daemon)
    assert processes.running_pid(layout, "etcd") is None


def test_env_prints_what_a_client_needs(testbed):
    out = _cli(testbed.layout, "env")
    assert out.returncode == 0
    exported = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    assert exported["PACIFIC_SUPERVISOR_SERVER"] == testbed.layout.supervisor_url
    # the developer face logs in as the developer; the admin's kubeconfig has a name of its own
    assert exported["PACIFIC_SUPERVISOR_USERNAME"] == testbed.credentials.developer_user
    assert Path(exported["PACIFIC_ADMIN_KUBECONFIG"]).is_file() and "KUBECONFIG" not in exported
    assert exported["VMWARE_PORT"] == str(testbed.layout.ports.wcp)
    assert set(DAEMONS) <= set(testbed.running())


def test_a_whole_testbed_restart_keeps_vcenter_namespace_state():
    from tests.testbed.conftest import Vcenter

    bed = Testbed(isolated_layout("restart", port_base=26940))
    bed.up()
    try:
        vcenter = Vcenter(bed, bed.credentials.vcenter_user, bed.credentials.vcenter_password)
        cluster = vcenter.call("GET", "/api/vcenter/namespace-management/clusters").json()[0]["cluster"]
        vcenter.call("DELETE", "/api/vcenter/namespaces/instances/kept")  # an aborted run's
        answer = vcenter.call("POST", "/api/vcenter/namespaces/instances",
                              json={"cluster": cluster, "namespace": "kept", "description": "survives",
                                    "resource_spec": {"memory_limit": 1024}})
        assert answer.status_code == 204, answer.text
        bed.down()
        assert all(pid is None for pid in bed.running().values())
        bed.up()
        again = Vcenter(bed, bed.credentials.vcenter_user, bed.credentials.vcenter_password)
        info = again.call("GET", "/api/vcenter/namespaces/instances/kept").json()
        assert (info["cluster"], info["description"], info["resource_spec"]) == (cluster, "survives",
                                                                                {"memory_limit": 1024})
        from kubernetes import client

        from tests.testbed.conftest import _until

        # mirrored again by WCP after the start, in the background
        with bed.admin_client() as api_client:
            quota = _until(lambda: client.CoreV1Api(api_client).read_namespaced_resource_quota("wcp-resource-quota",
                                                                                              "kept"), 30, "the quota")
        assert quota.spec.hard == {"limits.memory": "1Gi"}
        again.call("DELETE", "/api/vcenter/namespaces/instances/kept")
    finally:
        bed.down()
