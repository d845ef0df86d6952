"""Start, find and stop the testbed's daemons.

Each daemon runs in its own session (so its own process group), with a pid file and a log file
in the state directory. A pid file alone is not trusted: the process must still exist and still
run the binary it was started with, so a recycled pid is never signalled.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testbed.errors import TestbedError
from testbed.layout import HOST, Layout


@dataclass
class Daemon:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)


def pid_file(layout: Layout, name: str) -> Path:
    return layout.run / f"{name}.pid"


def log_file(layout: Layout, name: str) -> Path:
    return layout.logs / f"{name}.log"


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of daemon ``name`` if it is alive and is what we started, else None."""
    path = pid_file(layout, name)
    try:
        pid_text, binary = path.read_text().split("\n", 1)
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    argv = _cmdline(pid)
    # right after fork/exec the kernel may show an empty command line for a moment
    for _ in range(50):
        if argv or not _alive(pid):
            break
        time.sleep(0.01)
        argv = _cmdline(pid)
    if not argv or argv[0] != binary.strip():
        return None
    return pid


def port_is_free(port: int, host: str = HOST) -> bool:
    """True unless some socket listens on ``port`` of the loopback address ``host`` or of any
    address (read from /proc/net, no probing).

    A probe bind would also fail on connections of a stopped daemon that linger in FIN_WAIT,
    which a restarted daemon binds over without trouble.
    """
    wanted = {f"{int.from_bytes(socket.inet_aton(address), 'little'):08X}:{port:04X}" for address in (host, "0.0.0.0")}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "0A" and (local in wanted or (table.endswith("6") and local.endswith(f":{port:04X}"))):
                return False
    return True


def port_accepts(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def start(layout: Layout, daemon: Daemon) -> int:
    binary = daemon.argv[0]
    if not Path(binary).is_file():
        raise TestbedError(f"{daemon.name}: binary {binary} is missing; run `python -m testbed build`")
    if not port_is_free(daemon.port):
        raise TestbedError(
            f"{daemon.name}: port {HOST}:{daemon.port} is already in use by another program; "
            "stop it or choose other ports with PACIFIC_TESTBED_PORT_BASE"
        )
    log = open(log_file(layout, daemon.name), "wb")  # one run per log: its tail explains this run
    try:
        process = subprocess.Popen(
            daemon.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **daemon.env},
            start_new_session=True,
        )
    finally:
        log.close()
    pid_file(layout, daemon.name).write_text(f"{process.pid}\n{binary}\n")
    return process.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(layout: Layout, name: str, port: int | None = None, grace: float = 10.0) -> bool:
    """Stop daemon ``name`` and its whole process group. True if something was running.

    With ``port``, also wait (briefly) until nothing listens there any more, so that a restart
    right after cannot trip over the old listener.
    """
    pid = running_pid(layout, name)
    pid_file(layout, name).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not _alive(pid):
            break
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)  # whatever is left of the group
    except ProcessLookupError:
        pass
    _reap(pid)
    deadline = time.monotonic() + 2.0
    while port is not None and not port_is_free(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def tail(layout: Layout, name: str, lines: int = 15) -> str:
    try:
        text = log_file(layout, name).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
