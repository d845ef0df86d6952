"""Every EXAMPLES block runs as written: each task names a module of this collection that exists, with
options (or aliases) that module documents; each rulebook example's run_playbook names a playbook
this collection ships."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "pacific.supervisor."
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
SOURCES = sorted((ROOT / "extensions" / "eda" / "plugins" / "event_source").glob("[!_]*.py"))
# task keywords that are not module arguments
TASK_KEYWORDS = {"name", "register", "when", "loop", "vars", "check_mode", "diff", "no_log", "tags", "until",
                 "retries", "delay", "changed_when", "failed_when", "ignore_errors", "delegate_to", "environment",
                 "loop_control", "notify", "become", "module_defaults", "run_once", "block", "rescue", "always"}


def _constant(path: Path, name: str) -> str | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.Assign) and any(getattr(t, "id", None) == name for t in inner.targets):
                    return ast.literal_eval(inner.value)
    return None


def _documented_options(module: str) -> set[str]:
    doc = yaml.safe_load(_constant(ROOT / "plugins" / "modules" / f"{module}.py", "DOCUMENTATION"))
    options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        assert fragment.startswith(PREFIX), fragment
        path = ROOT / "plugins" / "doc_fragments" / f"{fragment[len(PREFIX):]}.py"
        options.update(yaml.safe_load(_constant(path, "DOCUMENTATION")).get("options") or {})
    names = set(options)
    for option in options.values():
        names.update(option.get("aliases") or [])
    return names


def _tasks(entries):
    for entry in entries or []:
        yield entry
        for section in ("block", "rescue", "always"):
            yield from _tasks(entry.get(section))


def _wrong_tasks(tasks):
    wrong = []
    for task in _tasks(tasks):
        for key, args in task.items():
            if key in TASK_KEYWORDS or not key.startswith(PREFIX):
                continue
            used = key[len(PREFIX):]
            if used not in MODULES:
                wrong.append(f"{task.get('name')}: no module {key}")
                continue
            unknown = sorted(set(args or {}) - _documented_options(used))
            if unknown:
                wrong.append(f"{task.get('name')}: {key} has no option {', '.join(unknown)}")
    return wrong


@pytest.mark.parametrize("module", MODULES)
def test_module_examples_name_real_modules_and_options(module):
    examples = yaml.safe_load(_constant(ROOT / "plugins" / "modules" / f"{module}.py", "EXAMPLES"))
    assert examples, f"{module} has no EXAMPLES"
    assert _wrong_tasks(examples) == []


def test_readme_plays_name_real_modules_and_options():
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    # a block may hold several documents (Kubernetes manifests); a play is a list's dict with tasks
    plays = [play for block in blocks for document in yaml.safe_load_all(block) if isinstance(document, list)
             for play in document if isinstance(play, dict) and "tasks" in play]
    assert plays, "README shows no play"
    assert [wrong for play in plays for wrong in _wrong_tasks(play["tasks"])] == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_event_source_examples_run_playbooks_that_exist(source):
    rulebook = yaml.safe_load(_constant(source, "EXAMPLES"))
    missing = []
    for ruleset in rulebook:
        for rule in ruleset.get("rules") or []:
            actions = rule.get("actions") or [rule.get("action")]
            for action in actions:
                playbook = (action or {}).get("run_playbook")
                if playbook is None:
                    continue
                name = playbook["name"]
                assert name.startswith(PREFIX), f"{name}: run_playbook of a file is not portable"
                parts = name[len(PREFIX):].split(".")
                if not (ROOT / "playbooks" / Path(*parts[:-1]) / f"{parts[-1]}.yml").is_file():
                    missing.append(name)
    assert missing == []
