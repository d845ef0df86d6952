"""The execution environment's Python list names what the collection imports (and the bounds an
execution environment needs), each pinned in requirements.txt (the one place pins live) at a version
that satisfies the list's bounds."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# import name -> distribution name, for the third-party libraries the collection may import
DISTRIBUTIONS = {"kubernetes": "kubernetes", "pyVmomi": "pyvmomi", "pyVim": "pyvmomi", "urllib3": "kubernetes",
                 "docker": "docker", "requests": "docker",
                 "yaml": "ansible-core", "jinja2": "ansible-core", "jmespath": "jmespath",
                 "aiohttp": "aiohttp"}

# not imported by the collection, listed for a bound that keeps every ansible command quiet
BOUND_ONLY = {"cryptography"}
# the first cryptography whose import by ansible-core prints a CryptographyDeprecationWarning (DSA)
CRYPTOGRAPHY_WARNS_FROM = "51"

# names a guarded import falls back to on Python 2 (standard library there)
PYTHON2_FALLBACKS = {"urlparse", "httplib", "Queue", "cStringIO"}


def _names(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() for line in lines if line}


def _imported_distributions() -> set[str]:
    found = set()
    sources = [*ROOT.glob("plugins/**/*.py"), *ROOT.glob("extensions/eda/plugins/**/*.py")]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in PYTHON2_FALLBACKS or top in (
                        "ansible", "ansible_collections", "__future__"):
                    continue
                assert top in DISTRIBUTIONS, f"{source.relative_to(ROOT)} imports {top}: add it to DISTRIBUTIONS"
                found.add(DISTRIBUTIONS[top])
    return found


def _requirements(path: Path) -> dict:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {req.name.lower(): req for req in (Requirement(line) for line in lines if line)}


def test_ee_metadata_points_at_the_list():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"]["python"] == "meta/ee-requirements.txt"


def test_every_ee_requirement_is_pinned_in_requirements_txt():
    pinned = _names(ROOT / "requirements.txt")
    assert _names(ROOT / "meta" / "ee-requirements.txt") <= pinned


def test_the_ee_list_is_what_the_collection_imports():
    wanted = _imported_distributions() - {"ansible-core"}
    assert _names(ROOT / "meta" / "ee-requirements.txt") == wanted | BOUND_ONLY


def test_the_tested_pins_satisfy_the_ee_bounds():
    pinned = _requirements(ROOT / "requirements.txt")
    for name, wanted in _requirements(ROOT / "meta" / "ee-requirements.txt").items():
        version = str(pinned[name].specifier).lstrip("=")
        assert wanted.specifier.contains(version), f"requirements.txt pins {name} {version}, outside {wanted.specifier}"


def test_cryptography_is_kept_below_the_version_that_warns_on_every_command():
    for path in (ROOT / "meta" / "ee-requirements.txt", ROOT / "requirements.txt"):
        bound = _requirements(path)["cryptography"].specifier
        assert not bound.contains(CRYPTOGRAPHY_WARNS_FROM) and not bound.contains(CRYPTOGRAPHY_WARNS_FROM + ".0.1"), path
