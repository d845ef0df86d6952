"""The layers of the collection, held against the code.

``LAYERS`` names every file under ``plugins/module_utils/`` once, top to bottom; a file may import
from its own layer or a lower one, never from a higher one. ``IDEAS`` says where each idea lives
(one file each). The README's architecture picture is ``render()``: when the table changes, run
``python -m tests.unit.test_architecture`` and paste what it prints between the README's markers.
"""
from __future__ import annotations

import ast
import fnmatch
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
UTILS = ROOT / "plugins" / "module_utils"
PREFIX = "ansible_collections.pacific.supervisor.plugins.module_utils"

# (layer, what it is, the files under plugins/module_utils/ that make it, as globs)
LAYERS = (
    ("handlers", "run a task, a batch, an inventory or an event stream; modules call them",
     ("_common/ansible.py", "_supervisor/batch.py", "_supervisor/events.py", "_supervisor/preflight.py", "_supervisor/selection.py",
      "_vcenter/events.py", "_vcenter/connection.py", "_inventory/supervisor.py",
      "_serverless/source.py", "_serverless/activator.py", "_serverless/feeds.py")),
    ("engines", "converge one object and wait until the kind's verdict: Supervisor and vCenter",
     ("_supervisor/engine.py", "_supervisor/waiter.py", "_supervisor/guest_clusters.py", "_supervisor/reach.py",
      "_vcenter/engine.py", "_vcenter/kinds.py", "_vcenter/poll.py")),
    ("one watch", "list, then watch from the resourceVersion; resume; relist on 410 Gone",
     ("_supervisor/informer.py",)),
    ("clients", "talk to one API each (Kubernetes, vCenter REST and SOAP, a Docker engine), errors as data",
     ("_supervisor/client.py", "_supervisor/login.py", "_vcenter/rest.py", "_vcenter/soap.py",
      "_vcenter/retrieve.py", "_vcenter/bulk.py", "_vcenter/resources.py", "_vcenter/libraries.py",
      "_vcenter/tagging.py", "_vcenter/vsphere_pods.py", "_migrate/engine_source.py")),
    ("builders and tables", "pure: manifests, specs, names, readiness, drift, errors, settings (no network)",
     ("_supervisor/*_manifest.py", "_supervisor/manifests.py", "_supervisor/names.py", "_supervisor/kinds.py",
      "_supervisor/event_kinds.py", "_supervisor/drift.py", "_supervisor/transitions.py",
      "_supervisor/image_catalog.py", "_supervisor/storage_classes.py", "_supervisor/kubeconfig.py",
      "_vcenter/*_spec.py", "_vcenter/names.py", "_inventory/hosts.py", "_migrate/*.py", "_common/*.py",
      "_serverless/policy.py", "_serverless/autoscaler.py")),
)

# where each idea lives: one place, named relative to plugins/module_utils/
IDEAS = (
    ("AnsibleModule, check mode, diff, failure fields", "_common/ansible.py"),
    ("connection settings and their environment fallbacks", "_common/settings.py"),
    ("errors as data (status, reason, target, causes)", "_common/errors.py"),
    ("what ready and failed mean, per kind", "_supervisor/kinds.py"),
    ("the same for the vCenter face", "_vcenter/kinds.py"),
    ("the verdicts both faces share", "_common/readiness.py"),
    ("object names and metadata of manifests", "_supervisor/names.py"),
    ("resourceVersions, bookmarks and 410 Gone", "_supervisor/informer.py"),
    ("drift against managed fields", "_supervisor/drift.py"),
    ("retry and backoff", "_common/retry.py"),
)

# the bottom layer is pure: none of these may be imported there
NETWORK = ("socket", "ssl", "urllib3", "urllib.request", "http", "requests", "kubernetes", "pyVmomi", "aiohttp")
# who talks to an API: modules hand connections to engines and handlers, never send requests themselves
REQUEST_CALLS = re.compile(r"\.(request|list_page|stream)\(|engine\.client\b|\.api_client\b")


def files():
    return sorted(str(path.relative_to(UTILS)) for path in UTILS.rglob("*.py") if path.name != "__init__.py")


def layer_of(name):
    found = [index for index, (_layer, _what, globs) in enumerate(LAYERS)
             if any(fnmatch.fnmatch(name, pattern) for pattern in globs)]
    return found[0] if found else None


def imports(path):
    """The module_utils files and the outside modules ``path`` imports."""
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX + "."):
            package = node.module[len(PREFIX) + 1:].replace(".", "/")
            if "/" in package:
                inside.add(package + ".py")
            else:
                inside.update("{0}/{1}.py".format(package, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            outside.add(node.module)
        elif isinstance(node, ast.Import):
            outside.update(alias.name for alias in node.names)
    return inside, outside


def render():
    """The architecture picture of the README, from ``LAYERS`` and ``IDEAS``."""
    pad = " " * 21
    lines = ["entry points".ljust(21) + "plugins/modules/*.py (DOCUMENTATION, ARGUMENT_SPEC, handle(params, run)),",
             pad + "plugins/inventory/workloads.py, extensions/eda/plugins/event_source/*.py"]
    for layer, what, globs in LAYERS:
        lines.append("      |")
        lines.append(layer.ljust(21) + what)
        row = pad
        for pattern in globs:
            if len(row) + len(pattern) > 100:
                lines.append(row.rstrip())
                row = pad
            row += pattern + " "
        lines.append(row.rstrip())
    lines.append("")
    lines.append("where each idea lives (plugins/module_utils/):")
    lines.extend("  {0:<52} {1}".format(idea, where) for idea, where in IDEAS)
    return "\n".join(lines)


def test_every_file_has_one_layer():
    unplaced = [name for name in files() if layer_of(name) is None]
    assert not unplaced, "add these files to a layer of LAYERS: {0}".format(unplaced)
    for name in files():
        matches = [layer for layer, _what, globs in LAYERS if any(fnmatch.fnmatch(name, p) for p in globs)]
        # a file named outright in a higher layer wins over a glob of the bottom one
        assert len(matches) == 1 or matches[-1] == "builders and tables", (name, matches)


def test_no_file_imports_from_a_higher_layer():
    upward = []
    for name in files():
        inside, _outside = imports(UTILS / name)
        for other in inside:
            assert (UTILS / other).exists(), "{0} imports {1}, which is not there".format(name, other)
            if layer_of(other) < layer_of(name):
                upward.append("{0} ({1}) imports {2} ({3})".format(
                    name, LAYERS[layer_of(name)][0], other, LAYERS[layer_of(other)][0]))
    assert not upward, upward


def test_the_bottom_layer_needs_no_network():
    bottom = len(LAYERS) - 1
    for name in files():
        if layer_of(name) == bottom:
            _inside, outside = imports(UTILS / name)
            used = [module for module in outside if module.split(".")[0] in NETWORK or module in NETWORK]
            assert not used, "{0} is a builder or table but imports {1}".format(name, used)


def test_modules_never_send_requests_themselves():
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        found = REQUEST_CALLS.findall(path.read_text())
        assert not found, "{0} talks to the API itself ({1}); go through an engine".format(path.name, found)


def test_only_the_informer_handles_resource_versions_and_410():
    for name in files():
        if name == "_supervisor/informer.py":
            continue
        code = "\n".join(line.split("#")[0] for line in (UTILS / name).read_text().splitlines())
        code = re.sub(r'"""(.|\n)*?"""', "", code)
        assert not re.search(r"\b410\b|\"continue\"|allowWatchBookmarks", code), name


def test_every_idea_lives_in_a_file_that_is_there():
    for idea, where in IDEAS:
        assert (UTILS / where).exists(), (idea, where)


def test_the_readme_shows_this_picture():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- architecture:begin -->\n```text\n(.*?)\n```\n<!-- architecture:end -->", readme, re.S)
    assert block, "README.md lost its architecture block"
    assert block.group(1) == render(), "README's picture is stale: python -m tests.unit.test_architecture"


if __name__ == "__main__":
    print(render())
