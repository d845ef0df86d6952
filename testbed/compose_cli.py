"""The docker compose CLI, built once into the testbed's binary cache, for the migrate tests.

pacific.supervisor.migrate brings compose files to their canonical form with the Compose
specification's reference implementation (``docker compose config --format json``), looked up
on the user's PATH. Machines without Docker (CI, this testbed) get the same program built from
``testbed/tools/compose`` - its own module, as its dependencies (moby, buildkit) clash with
Kubernetes' - cached like the other binaries under a key of what it is built from.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from testbed.build import _go, _run_go
from testbed.layout import TOOLS_DIR, Layout

MODULE_DIR = TOOLS_DIR / "compose"
PACKAGE = "github.com/docker/compose/v5/cmd"
ENV = "PACIFIC_COMPOSE_BINARY"  # the variable the migrate module reads too


def _version() -> str:
    for line in (MODULE_DIR / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "github.com/docker/compose/v5":
            return parts[1]
    return "dev"


def _ldflags() -> str:
    return f"-s -w -X github.com/docker/compose/v5/internal.Version={_version()}"


def binary_path(layout: Layout) -> Path:
    digest = hashlib.sha256(_ldflags().encode())
    for path in (MODULE_DIR / "go.mod", MODULE_DIR / "go.sum"):
        digest.update(path.read_bytes())
    digest.update(subprocess.run([_go(), "version"], check=True, capture_output=True, text=True).stdout.encode())
    return layout.home / "bin" / f"docker-compose-{digest.hexdigest()[:16]}"


def ensure_built(layout: Layout | None = None) -> Path:
    """The path of a docker compose binary: ``$PACIFIC_COMPOSE_BINARY``, else the cached build
    (built now if missing; about a minute on two cores with a warm module cache)."""
    given = os.environ.get(ENV)
    if given:
        return Path(given)
    path = binary_path(layout or Layout.from_env())
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        _run_go(["build", "-trimpath", f"-ldflags={_ldflags()}", "-o", str(partial), PACKAGE], MODULE_DIR)
        partial.rename(path)
    return path


if __name__ == "__main__":
    print(ensure_built())
