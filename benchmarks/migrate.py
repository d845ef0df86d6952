"""Migration speed: the compose corpus in report mode, against the compose CLI alone.

Over the 39 compose files of docker/awesome-compose (``../shared/data/compose``), in one run:

- the anchor: ``docker compose config --format json`` of each file, nothing else - the canonical
  form every compose-reading tool needs first; no converter built on the CLI can be faster;
- ours, converter: ``pacific.supervisor.migrate``'s module_utils, as the module calls them
  (``compose.canonical`` then ``convert.convert``) for every file: the issue's goal, the whole
  corpus in report mode in 10 s or less;
- ours, as a user runs it: one ``ansible-playbook`` with a ``pacific.supervisor.migrate`` task
  (``mode: report``) per file, ansible-core's start and per-task cost included; its anchor, the
  same playbook with an ``ansible.builtin.command`` task running the compose CLI per file.

    .venv/bin/python benchmarks/migrate.py              # 3 rounds
    .venv/bin/python benchmarks/migrate.py --rounds 1   # a quick look
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.collection_path import collection_tree, importable  # noqa: E402

importable()
from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import compose, convert  # noqa: E402

CORPUS = REPO_ROOT / ".." / "shared" / "data" / "compose"
NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
ENVIRONMENT = {"PLEX_MEDIA_PATH": "/srv/media"}  # plex's file names its media folder only so
GOAL = 10.0


def corpus_files() -> list[Path]:
    return sorted(path for path in CORPUS.rglob("*") if path.name in NAMES)


def compose_cli() -> list[str]:
    try:
        return compose.find_cli()
    except Exception:  # pylint: disable=broad-except - no CLI on PATH: the testbed's build
        from testbed import compose_cli as built
        return [str(built.ensure_built())]


def anchor(files: list[Path], cli: list[str]) -> float:
    started = time.perf_counter()
    for path in files:
        subprocess.run(cli + ["-f", str(path), "config", "--format", "json"], check=True, capture_output=True,
                       env=dict(os.environ, **ENVIRONMENT), cwd=path.parent)
    return time.perf_counter() - started


def converter(files: list[Path], cli: list[str]) -> tuple[float, int, int]:
    started = time.perf_counter()
    entries = refused = 0
    for path in files:
        project, _warnings = compose.canonical([str(path)], cli, environment=ENVIRONMENT)
        _manifests, report, refusals = convert.convert(project, str(path), convert.Options(storage_class="wcp-default"))
        entries += len(report)
        refused += len(refusals)
    return time.perf_counter() - started, entries, refused


def playbook(files: list[Path], cli: list[str], ours: bool = True) -> float:
    """One ansible-playbook run, a task a file: migrate in report mode, or (the anchor) the compose
    CLI run by ansible.builtin.command, which is ansible-core's per-task cost and the CLI's, nothing else."""
    if ours:
        tasks = [{"name": "report " + path.parent.name, "pacific.supervisor.migrate": {
            "source": "compose", "mode": "report", "files": [str(path)], "environment": ENVIRONMENT,
            "compose_binary": cli[0] if len(cli) == 1 else None}} for path in files]
    else:
        tasks = [{"name": "config " + path.parent.name, "ansible.builtin.command": {
            "argv": cli + ["-f", str(path), "config", "--format", "json"], "chdir": str(path.parent)},
            "environment": ENVIRONMENT} for path in files]
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "corpus.yml"
        book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collection_tree()), ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                        str(book)], check=True, capture_output=True, env=env)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files = corpus_files()
    if not files:
        print(f"no compose corpus in {CORPUS}", file=sys.stderr)
        return 1
    cli = compose_cli()
    print(f"migrate benchmark: {len(files)} compose files, compose CLI {' '.join(cli)}, "
          f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    anchor(files[:1], cli)  # the first start of the CLI reads its own binary from disk: not measured
    rows = {"anchor: docker compose config, each file": [], "ours: migrate's converter (report mode)": [],
            "anchor: ansible-playbook, one command task a file": [],
            "ours: ansible-playbook, one migrate task a file": []}
    entries = refused = 0
    for _round in range(args.rounds):
        rows["anchor: docker compose config, each file"].append(anchor(files, cli))
        took, entries, refused = converter(files, cli)
        rows["ours: migrate's converter (report mode)"].append(took)
        rows["anchor: ansible-playbook, one command task a file"].append(playbook(files, cli, ours=False))
        rows["ours: ansible-playbook, one migrate task a file"].append(playbook(files, cli))
    print(f"\n{'way':<50}{'median s':>10}{'min s':>8}{'max s':>8}")
    for name, times in rows.items():
        print(f"{name:<50}{statistics.median(times):>10.2f}{min(times):>8.2f}{max(times):>8.2f}")
    ours = statistics.median(rows["ours: migrate's converter (report mode)"])
    base = statistics.median(rows["anchor: docker compose config, each file"])
    print(f"\nreport entries: {entries} ({refused} refused)")
    print(f"converter / compose CLI alone: {ours / base:.2f}x (the converter's own share: {ours - base:.2f} s)")
    in_play = statistics.median(rows["ours: ansible-playbook, one migrate task a file"])
    play_base = statistics.median(rows["anchor: ansible-playbook, one command task a file"])
    print(f"playbook of migrate tasks / playbook of command tasks: {in_play / play_base:.2f}x")
    print(f"whole corpus in report mode: {ours:.2f} s (goal <= {GOAL:.0f} s: {'met' if ours <= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
