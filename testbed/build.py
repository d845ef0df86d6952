"""Build the testbed's Go binaries once, into a cache keyed by what they are built from.

Each binary's key covers go.mod, go.sum, the Go toolchain version and, for our own command, its
sources: a version bump in the tools module rebuilds everything, an edit of our vcsim entry point
rebuilds only vcsim, and an unchanged checkout reuses the binaries of any earlier run.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from testbed.errors import TestbedError
from testbed.layout import TOOLS_DIR, Layout

# binary name -> Go package, built from the tools module.
BINARIES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-apiserver-1.34": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "vcsim": "./vcsim",
    "govc": "./govc",
    "vapi-probe": "./vapi-probe",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
    "clusterctl": "sigs.k8s.io/cluster-api/cmd/clusterctl",
    "vmop-webhook": "./vmop-webhook",
}
# Commands built in a Go module of their own under the tools module (name -> its directory): the
# clients of tests/conformance need packages the main tools module does not (govc's command
# packages, kubectl's k8s.io/cli-runtime), and a module of their own keeps those go.sum lines out
# of the keys of the Supervisor's binaries above, so adding them rebuilt none of those.
OWN_MODULES = {"govc": "govc", "vapi-probe": "vapi-probe", "kubectl": "kubectl", "clusterctl": "clusterctl",
               # VM Operator's conversion webhook: its API module wants controller-runtime and Kubernetes
               # libraries older than the kube-apiserver's
               "vmop-webhook": "vmop-webhook"}
# Guest clusters run kube-apiserver too, answering /version with their release's minor. The
# testbed has one Kubernetes source; an older minor is the same code stamped with that release,
# marked "+testbed" so nobody mistakes it for the real thing.
STAMPED_RELEASES = {"kube-apiserver-1.34": "v1.34.4+testbed"}
GUEST_APISERVERS = {"1.34": "kube-apiserver-1.34", "1.35": "kube-apiserver"}
# The commit each Kubernetes release tag names, as its release build stamps it in /version (gitCommit).
# The Go module data does not carry it, so it is pinned here next to the version in tools/go.mod: a
# published fact of the release (its /version and the tag), checked against go.mod by the testbed tests.
RELEASE_COMMITS = {"v1.35.4": "7b8c6cf0edd376b3d7c2f255142977c7f93db258"}
CRD_MODULES_DIR = TOOLS_DIR / "crds"


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise TestbedError("the Go toolchain is not on PATH; the testbed builds its binaries with `go build`")
    return go


def kubernetes_version() -> str:
    """The k8s.io/kubernetes version the tools module pins, e.g. v1.35.4."""
    for line in (TOOLS_DIR / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "k8s.io/kubernetes" and parts[1].startswith("v"):
            return parts[1]
    raise TestbedError("testbed/tools/go.mod does not require k8s.io/kubernetes")


@functools.lru_cache(maxsize=None)
def kubernetes_source_date() -> str:
    """When the pinned k8s.io/kubernetes release was made (its module's time, e.g. 2026-04-15T18:01:22Z),
    which a release build stamps as its buildDate; the Go module cache or proxy tells it."""
    answer = json.loads(_run_go(["list", "-m", "-json", f"k8s.io/kubernetes@{kubernetes_version()}"], TOOLS_DIR))
    return answer.get("Time", "")


def _ldflags(name: str) -> str:
    flags = ["-s", "-w"]
    if BINARIES[name].startswith("k8s.io/kubernetes/"):
        # what the Kubernetes release build stamps in, so /version tells the truth; a "+testbed" release
        # is no real tag, so it has no commit
        version = STAMPED_RELEASES.get(name) or kubernetes_version()
        major, minor = version.lstrip("v").split(".")[:2]
        commit = RELEASE_COMMITS.get(version)
        for stamp in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            flags += [f"-X {stamp}.gitVersion={version}", f"-X {stamp}.gitMajor={major}",
                      f"-X {stamp}.gitMinor={minor}", f"-X {stamp}.gitTreeState=clean",
                      f"-X {stamp}.buildDate={kubernetes_source_date()}"]
            if commit:
                flags.append(f"-X {stamp}.gitCommit={commit}")
    if name == "clusterctl":
        # as Cluster API's release build stamps it (clusterctl version, its provider version checks)
        version = _required_version(_module_dir(name), "sigs.k8s.io/cluster-api")
        major, minor = version.lstrip("v").split(".")[:2]
        flags += [f"-X sigs.k8s.io/cluster-api/version.{key}={value}" for key, value in (
            ("gitVersion", version), ("gitMajor", major), ("gitMinor", minor), ("gitTreeState", "clean"))]
    return " ".join(flags)


def _required_version(module: Path, path: str) -> str:
    """The version of ``path`` that the go.mod in ``module`` requires."""
    for line in (module / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == path and parts[1].startswith("v"):
            return parts[1]
    raise TestbedError(f"{module / 'go.mod'} does not require {path}")


def _module_dir(name: str) -> Path:
    return TOOLS_DIR / OWN_MODULES[name] if name in OWN_MODULES else TOOLS_DIR


def _key(name: str, own_sources: list[Path]) -> str:
    digest = hashlib.sha256(_ldflags(name).encode())
    module = _module_dir(name)
    for path in [module / "go.mod", module / "go.sum", *own_sources]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    version = subprocess.run([_go(), "version"], check=True, capture_output=True, text=True).stdout
    digest.update(version.encode())
    return digest.hexdigest()[:16]


def binary_paths(layout: Layout) -> dict[str, Path]:
    """Where each binary of the current tools module lives in the cache, built or not."""
    paths = {}
    for name, package in BINARIES.items():
        own = sorted((TOOLS_DIR / package).glob("*.go")) if package.startswith("./") else []
        paths[name] = layout.home / "bin" / f"{name}-{_key(name, own)}"
    return paths


def _run_go(args: list[str], cwd: Path) -> str:
    env = dict(os.environ, CGO_ENABLED="0")
    done = subprocess.run([_go(), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise TestbedError(f"`go {' '.join(args)}` failed in {cwd}:\n{done.stderr.strip()}")
    return done.stdout


def download_crd_modules() -> None:
    """Put the upstream modules whose CRDs the testbed installs into the Go module cache."""
    _run_go(["mod", "download", "-json"], CRD_MODULES_DIR)


# other keys of a binary stay this long: checkouts of other commits on the same machine (worktrees,
# a CI clone) may be running them, and deleting theirs would make each rebuild the other's
STALE_AFTER = 3 * 24 * 3600


def _prune(path: Path, name: str) -> None:
    """Remove the binaries of ``name`` built for other keys that nobody has built for days."""
    for stale in path.parent.glob(f"{name}-*"):
        if stale != path and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{16}}", stale.name) \
                and time.time() - stale.stat().st_mtime > STALE_AFTER:
            stale.unlink()


def ensure_built(layout: Layout, log=print) -> dict[str, Path]:
    """Return the path of every testbed binary, building those not in the cache yet."""
    paths = binary_paths(layout)
    for name, path in paths.items():
        if path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        log(f"building {name} ({BINARIES[name]}) ...")
        partial = path.with_name(f".{path.name}.partial")
        package = "." if BINARIES[name].startswith("./") else BINARIES[name]
        _run_go(["build", "-trimpath", f"-ldflags={_ldflags(name)}", "-o", str(partial), package],
                _module_dir(name))
        partial.rename(path)
        _prune(path, name)
        log(f"built {name} in {time.monotonic() - started:.0f}s")
    download_crd_modules()
    return paths


def main() -> int:
    started = time.monotonic()
    try:
        paths = ensure_built(Layout.from_env())
    except TestbedError as err:
        print(f"testbed: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"binaries": {k: str(v) for k, v in paths.items()}, "seconds": round(time.monotonic() - started, 1)}))
    return 0
