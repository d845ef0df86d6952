"""Install the Supervisor's CRDs: VM Operator and Cluster API from the Go module cache, TKC ours.

Upstream CRDs are read at start-up from the newest version of each module found in the Go module
cache (``python -m testbed build`` puts the pinned versions there); they are never copied into
this repository. Each CRD carries a hash of its source, so an unchanged CRD costs nothing on a
warm start.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client

from testbed.errors import TestbedError
from testbed.layout import OWN_CRDS_DIR

SOURCE_HASH = "testbed.pacific.supervisor/source-hash"
SOURCE = "testbed.pacific.supervisor/source"


@dataclass(frozen=True)
class UpstreamCrds:
    module: str
    file_glob: str
    directory: str = "config/crd/bases"

    def cache_prefix(self) -> str:
        # the module cache escapes capitals as "!" + lower case
        return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), self.module)


UPSTREAM = (
    UpstreamCrds("github.com/vmware-tanzu/vm-operator", "vmoperator.vmware.com_*.yaml"),
    # the Supervisor's image registry (ContentLibrary, ContentLibraryItem and their cluster kinds),
    # whose CRDs VM Operator's module carries
    UpstreamCrds("github.com/vmware-tanzu/vm-operator", "imageregistry.vmware.com_*.yaml",
                 "config/crd/external-crds"),
    # vSphere Zones as the Supervisor shows them: AvailabilityZone (cluster-wide) and Zone (per namespace)
    UpstreamCrds("github.com/vmware-tanzu/vm-operator", "topology.tanzu.vmware.com_*.yaml",
                 "config/crd/external-crds"),
    UpstreamCrds("sigs.k8s.io/cluster-api", "cluster.x-k8s.io_*.yaml"),
    # a guest cluster's control plane: Cluster API's kubeadm control plane provider
    UpstreamCrds("sigs.k8s.io/cluster-api", "controlplane.cluster.x-k8s.io_*.yaml",
                 "controlplane/kubeadm/config/crd/bases"),
    # its Machines' bootstrap: Cluster API's kubeadm bootstrap provider (KubeadmConfig, KubeadmConfigTemplate)
    UpstreamCrds("sigs.k8s.io/cluster-api", "bootstrap.cluster.x-k8s.io_*.yaml",
                 "bootstrap/kubeadm/config/crd/bases"),
    # its infrastructure: CAPV in supervisor mode (VSphereCluster, VSphereMachine and their templates)
    UpstreamCrds("sigs.k8s.io/cluster-api-provider-vsphere", "vmware.infrastructure.cluster.x-k8s.io_*.yaml",
                 "config/supervisor/crd/bases"),
)
CRD_GROUPS = ("vmoperator.vmware.com", "cluster.x-k8s.io", "run.tanzu.vmware.com", "controlplane.cluster.x-k8s.io",
              "bootstrap.cluster.x-k8s.io", "vmware.infrastructure.cluster.x-k8s.io")


def _semver(version: str) -> tuple | None:
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(part) for part in match.groups()) if match else None


def module_cache() -> Path:
    out = subprocess.run(["go", "env", "GOMODCACHE"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def newest_module_dir(cache: Path, upstream: UpstreamCrds) -> Path:
    prefix = upstream.cache_prefix()
    parent = cache / Path(prefix).parent
    stem = Path(prefix).name
    candidates = []
    for entry in parent.glob(f"{stem}@v*"):
        version = _semver(entry.name.split("@", 1)[1])
        if version and (entry / upstream.directory).is_dir():
            candidates.append((version, entry))
    if not candidates:
        raise TestbedError(
            f"no {upstream.module} module in the Go module cache {cache}; run `python -m testbed build`"
        )
    return max(candidates)[1]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_manifests(path: Path) -> list[dict]:
    return [doc for doc in yaml.load_all(path.read_text(), Loader=_LOADER) if doc]


def sources(cache: Path | None = None) -> list[tuple[str, Path]]:
    """Every CRD file to install, as (label naming module version and file, path)."""
    cache = cache or module_cache()
    found = []
    for upstream in UPSTREAM:
        module_dir = newest_module_dir(cache, upstream)
        bases = module_dir / upstream.directory
        found.extend((f"{module_dir.name}/{path.name}", path) for path in sorted(bases.glob(upstream.file_glob)))
    found.extend((f"testbed/crds/{path.name}", path) for path in sorted(OWN_CRDS_DIR.glob("*.yaml")))
    return found


# VM Operator's kustomize config: which of its CRDs it patches to convert with its webhook
CONVERSION_CONFIG = UpstreamCrds("github.com/vmware-tanzu/vm-operator", "kustomization.yaml", "config/crd")


def webhook_conversions(url: str, ca_bundle: bytes, cache: Path | None = None) -> dict[str, dict]:
    """spec.conversion of each CRD that VM Operator's own kustomize config (config/crd) converts with
    its webhook (the patches/webhook_in_*.yaml it applies: strategy Webhook, conversionReviewVersions),
    pointed at ``url`` and trusting ``ca_bundle`` instead of VM Operator's in-cluster Service."""
    config = newest_module_dir(cache or module_cache(), CONVERSION_CONFIG) / CONVERSION_CONFIG.directory
    kustomization = read_manifests(config / CONVERSION_CONFIG.file_glob)[0]
    conversions = {}
    for entry in kustomization.get("patches", []):
        if not Path(entry.get("path", "")).name.startswith("webhook_in_"):
            continue
        for patch in read_manifests(config / entry["path"]):
            conversion = patch["spec"]["conversion"]
            conversion["webhook"]["clientConfig"] = {"url": url, "caBundle": base64.b64encode(ca_bundle).decode()}
            conversions[patch["metadata"]["name"]] = conversion
    return conversions


def install(api_client: client.ApiClient, timeout: float = 60.0, conversions: dict[str, dict] | None = None) -> dict[str, int]:
    """Create or update every CRD, wait until all are Established; return counts per group.

    ``conversions`` is spec.conversion by CRD name (webhook_conversions). A CRD whose source file
    and conversion are unchanged since it was installed is not even parsed again.
    """
    conversions = conversions or {}
    salt = json.dumps(conversions, sort_keys=True).encode() if conversions else b""
    api = client.ApiextensionsV1Api(api_client)
    existing = {crd.metadata.name: crd for crd in api.list_custom_resource_definition().items}
    installed = {
        (crd.metadata.annotations or {}).get(SOURCE): ((crd.metadata.annotations or {}).get(SOURCE_HASH), name)
        for name, crd in existing.items()
    }
    wanted = set()
    for label, path in sources():
        digest = hashlib.sha256(path.read_bytes() + salt).hexdigest()[:20]
        recorded, name = installed.get(label, (None, None))
        if recorded == digest:
            wanted.add(name)
            continue
        for manifest in read_manifests(path):
            annotations = manifest.setdefault("metadata", {}).setdefault("annotations", {})
            annotations.update({SOURCE_HASH: digest, SOURCE: label})
            name = manifest["metadata"]["name"]
            if name in conversions:
                manifest["spec"]["conversion"] = conversions[name]
            wanted.add(name)
            current = existing.get(name)
            if current is None:
                api.create_custom_resource_definition(manifest)
            else:
                manifest["metadata"]["resourceVersion"] = current.metadata.resource_version
                api.replace_custom_resource_definition(name, manifest)
    _wait_established(api, wanted, timeout)
    counts: dict[str, int] = {}
    for name in wanted:
        group = name.split(".", 1)[1]
        counts[group] = counts.get(group, 0) + 1
    return counts


def _established(crd) -> bool:
    return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))


def _wait_established(api: client.ApiextensionsV1Api, names: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        established = {crd.metadata.name for crd in api.list_custom_resource_definition().items if _established(crd)}
        pending = names - established
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TestbedError(f"CRDs not Established after {timeout:.0f}s: {', '.join(sorted(pending))}")
        time.sleep(0.2)


def established_counts(api_client: client.ApiClient) -> dict[str, int]:
    """Established CRDs per Supervisor group (for status tables)."""
    counts = {group: 0 for group in CRD_GROUPS}
    for crd in client.ApiextensionsV1Api(api_client).list_custom_resource_definition().items:
        if crd.spec.group in counts and _established(crd):
            counts[crd.spec.group] += 1
    return counts
