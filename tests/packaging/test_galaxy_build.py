"""`ansible-galaxy collection build` makes an installable tarball without the testbed or caches."""
from __future__ import annotations

import ast
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from testbed.layout import REPO_ROOT

NEVER_SHIPPED = ("testbed/", "benchmarks/", ".venv/", ".ci/", ".cache/", "tests/testbed/", "tests/e2e/",
                 "tests/integration/", "__pycache__", ".git/")
# packages of this repository that the tarball leaves out: nothing shipped may import them
LEFT_OUT_PACKAGES = {"testbed", "benchmarks"}


def _imported_top_levels(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_build_and_install(tmp_path):
    # the ansible-galaxy of the interpreter running the tests, not whatever PATH finds first
    galaxy = str(Path(sys.executable).parent / "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(tmp_path), str(REPO_ROOT)],
                   check=True, capture_output=True, text=True)
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = tmp_path / f"pacific-supervisor-{version}.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        sources = {name: archive.extractfile(name).read().decode() for name in names if name.endswith(".py")}
    assert "galaxy.yml" not in names and "MANIFEST.json" in names and "meta/runtime.yml" in names
    leaked = [name for name in names if any(part in name + "/" for part in NEVER_SHIPPED)]
    assert leaked == []
    dangling = {name: sorted(_imported_top_levels(source) & LEFT_OUT_PACKAGES) for name, source in sources.items()}
    assert {name: left_out for name, left_out in dangling.items() if left_out} == {}

    target = tmp_path / "collections"
    subprocess.run([galaxy, "collection", "install", "-p", str(target), str(tarball)],
                   check=True, capture_output=True, text=True)
    installed = target / "ansible_collections" / "pacific" / "supervisor"
    assert (installed / "MANIFEST.json").is_file()
    listed = subprocess.run([galaxy, "collection", "list", "-p", str(target), "pacific.supervisor"],
                            check=True, capture_output=True, text=True).stdout
    assert f"pacific.supervisor {version}" in " ".join(listed.split())

