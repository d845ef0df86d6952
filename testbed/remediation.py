"""The real ansible-rulebook running ``pacific.supervisor.remediate`` against the testbed.

Shared by the remediation e2e tests and by the last step of ``make demo``
(``python -m testbed remediate-demo``): the rulebook is loaded from the collection by its name,
with the testbed's connections of both faces in a ``--vars`` file and a local inventory.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import yaml

from testbed.errors import TestbedError
from testbed.layout import REPO_ROOT
from testbed.stack import Testbed
from testbed.vcenter import developer_token


class Rulebook:
    """One ansible-rulebook process, its output and the remediation record file it fills."""

    def __init__(self, process: subprocess.Popen, log_path: Path, records_path: Path):
        self.process, self.log_path, self.records_path = process, log_path, records_path

    @classmethod
    def start(cls, testbed: Testbed, work: Path, collections_path: Path | str,
              rulebook: str = "pacific.supervisor.remediate", **variables) -> "Rulebook":
        """ansible-rulebook running ``rulebook`` in ``work``, with ``variables`` on top of the
        testbed's connections."""
        cli = Path(sys.executable).with_name("ansible-rulebook")
        if not cli.exists() or not shutil.which("java"):
            raise TestbedError("ansible-rulebook (in this venv) and Java 17 are needed to run a rulebook")
        layout, creds = testbed.layout, testbed.credentials
        records = work / "remediation.jsonl"
        settings = work / "vars.yml"
        settings.touch(mode=0o600)
        settings.write_text(yaml.safe_dump({
            # the developer face as the namespace developer; the admin face (vCenter) as the admin
            "supervisor_server": layout.supervisor_url, "supervisor_token": developer_token(testbed),
            "supervisor_ca_cert": str(testbed.pki.ca_cert),
            "vcenter_hostname": "127.0.0.1", "vcenter_port": layout.ports.wcp, "vcenter_username": creds.vcenter_user,
            "vcenter_password": creds.vcenter_password, "vcenter_ca_cert": str(testbed.pki.ca_cert),
            "remediation_record_file": str(records), **variables}))
        inventory = work / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_NOCOLOR": "1"}
        log_path = work / "rulebook.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [str(cli), "--rulebook", rulebook, "-i", str(inventory),
                 "--vars", str(settings), "-v"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        return cls(process, log_path, records)

    def output(self, tail: int | None = 6000) -> str:
        """The end of ansible-rulebook's output (for messages), or all of it."""
        text = self.log_path.read_text(errors="replace")
        return text[-tail:] if tail else text

    def records(self) -> list[dict]:
        """The remediation records written so far, one dict per JSON line."""
        if not self.records_path.exists():
            return []
        return [json.loads(line) for line in self.records_path.read_text().splitlines() if line.strip()]

    # what each source of pacific.supervisor.remediate logs once it reads (its first list done,
    # its vCenter collector placed after the newest event): a fault injected before that is not news
    SOURCES_READY = ("pacific.supervisor.supervisor_events ready", "pacific.supervisor.vcenter_events ready")

    def wait_started(self, timeout: float = 180, ready: tuple[str, ...] = SOURCES_READY) -> None:
        """Until the rules engine waits for events and every source says it reads."""
        def waiting() -> bool:
            text = self.output(None)
            return ("Waiting for events" in text or "Waiting for actions" in text) and all(
                line in text for line in ready)
        self._until(waiting, timeout, "ansible-rulebook started, its sources reading")
        if self.process.poll() is not None:
            raise TestbedError(f"ansible-rulebook ended ({self.process.returncode}) at start:\n{self.output()}")

    def wait_for_record(self, predicate: Callable[[dict], bool], timeout: float, what: str) -> dict:
        """The first record for which ``predicate`` holds."""
        found: list[dict] = []

        def seen() -> bool:
            found[:] = [record for record in self.records() if predicate(record)]
            return bool(found)
        self._until(seen, timeout, what)
        return found[0]

    def wait_for_output(self, text: str, timeout: float) -> None:
        self._until(lambda: text in self.output(None), timeout, f"{text!r} in ansible-rulebook's output")

    def _until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.process.poll() is not None:
                raise TestbedError(f"ansible-rulebook ended ({self.process.returncode}) before {what}; "
                                   f"records {self.records()}\n{self.output()}")
            if time.monotonic() > deadline:
                raise TestbedError(f"{what}: not within {timeout:.0f}s; records {self.records()}\n{self.output()}")
            time.sleep(0.5)

    def stop(self, timeout: float = 60) -> None:
        """ansible-rulebook, then every playbook it started: ansible-runner runs each in a session
        of its own, which outlives ansible-rulebook and would go on acting on the testbed."""
        started = descendants(self.process.pid)
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid in started + descendants(*started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def descendants(*pids: int) -> list[int]:
    """The processes below ``pids`` (children, theirs, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def fault(testbed: Testbed, *args: str, check: bool = True) -> str:
    """``python -m testbed fault ARGS`` against this testbed, as a user would run it; its output."""
    env = {**os.environ, **testbed.layout.environment()}
    done = subprocess.run([sys.executable, "-m", "testbed", "fault", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode != 0:
        raise TestbedError(f"testbed fault {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
