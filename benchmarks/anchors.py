"""Collections the benchmarks measure against, taken from the ``ansible`` community package.

They are no dependency of pacific.supervisor: Galaxy is out of reach here, but the community
package on PyPI carries them. It is downloaded once (no install) and only the wanted
collections are extracted from the wheel under ``.cache/bench/collections``.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE = REPO_ROOT / ".cache" / "bench"
ANSIBLE_PACKAGE = "ansible==12.3.0"  # the community package built on ansible-core 2.19


def community_collection(namespace: str, name: str) -> Path | None:
    """A collections path holding ``namespace.name``, or None (with the reason printed)."""
    root = CACHE / "collections"
    if (root / "ansible_collections" / namespace / name / "MANIFEST.json").exists():
        return root
    download = CACHE / "download"
    download.mkdir(parents=True, exist_ok=True)
    wheels = sorted(download.glob("ansible-*.whl"))
    if not wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(download),
                               ANSIBLE_PACKAGE], capture_output=True, text=True, check=False)
        wheels = sorted(download.glob("ansible-*.whl"))
        if not wheels:
            print(f"{namespace}.{name} unavailable: pip download {ANSIBLE_PACKAGE} failed:\n{done.stderr[-2000:]}")
            return None
    prefix = f"ansible_collections/{namespace}/{name}/"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        for member in wheel.namelist():
            if member.startswith(prefix):
                wheel.extract(member, root)
    return root


def our_collections() -> Path:
    """A collections path whose pacific.supervisor is this checkout."""
    link = CACHE / "ours" / "ansible_collections" / "pacific" / "supervisor"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return CACHE / "ours"
