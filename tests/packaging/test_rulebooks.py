"""The rulebooks ship in the collection where ansible-rulebook looks (extensions/eda/rulebooks),
the top-level rulebooks/ reaches the same files (a link, not a copy), and ansible-rulebook
resolves and parses them by name from an installed build: pacific.supervisor.remediate (CLI,
run_playbook) and pacific.supervisor.remediate_controller (run_job_template, which needs an EDA
controller that is not here: ansible-rulebook stops at the missing controller URL, after it
found and parsed the rulebook)."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from testbed.layout import REPO_ROOT

BIN = Path(sys.executable).parent
RULEBOOKS = ("remediate", "remediate_controller", "scale_to_zero")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(tarball member names, the tarball, the installed collections path)"""
    work = tmp_path_factory.mktemp("rulebooks")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(work), str(REPO_ROOT)],
                   check=True, capture_output=True, text=True)
    version = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())["version"]
    tarball = work / f"pacific-supervisor-{version}.tar.gz"
    with tarfile.open(tarball) as archive:
        members = {member.name: member for member in archive.getmembers()}
    target = work / "collections"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(target), str(tarball)],
                   check=True, capture_output=True, text=True)
    return members, tarball, target


def rulebook_cli(collections: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_HOME": str(collections.parent / "home"),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(BIN / "ansible-rulebook"), *args], cwd=collections.parent, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_one_copy_of_the_rulebooks_reached_from_both_places():
    link = REPO_ROOT / "rulebooks"
    assert link.is_symlink() and os.readlink(link) == "extensions/eda/rulebooks"
    for name in RULEBOOKS:
        assert (link / f"{name}.yml").samefile(REPO_ROOT / "extensions" / "eda" / "rulebooks" / f"{name}.yml")


def test_the_build_ships_rulebooks_runtime_and_playbooks(built):
    members, _, installed = built
    for name in RULEBOOKS:
        assert members[f"extensions/eda/rulebooks/{name}.yml"].isfile()
    assert members["extensions/eda/eda_runtime.yml"].isfile()
    for playbook in ("vm_failed", "vm_powered_off", "tasks/record"):
        assert members[f"playbooks/remediation/{playbook}.yml"].isfile()
    assert members["playbooks/functions/cold_start_failed.yml"].isfile()
    assert members["playbooks/functions_cold_start_failed.yml"].isfile()
    # the top-level rulebooks/ travels as the link it is, and works after an install
    assert members["rulebooks"].issym() and members["rulebooks"].linkname == "extensions/eda/rulebooks"
    copy = installed / "ansible_collections" / "pacific" / "supervisor"
    assert (copy / "rulebooks" / "remediate.yml").samefile(copy / "extensions" / "eda" / "rulebooks" / "remediate.yml")


def test_ansible_rulebook_finds_and_parses_the_cli_rulebook_by_name(built):
    _, _, collections = built
    # no inventory: ansible-rulebook refuses to start, naming a rule of the rulebook it loaded
    done = rulebook_cli(collections, "--rulebook", "pacific.supervisor.remediate")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Loading rulebook from" in output and "extensions/eda/rulebooks/remediate.yml" in output
    assert "Rule VM creation failed or stuck has an action run_playbook which needs inventory" in output, output


def test_ansible_rulebook_finds_and_parses_the_scale_to_zero_rulebook_by_name(built):
    _, _, collections = built
    done = rulebook_cli(collections, "--rulebook", "pacific.supervisor.scale_to_zero")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "extensions/eda/rulebooks/scale_to_zero.yml" in output
    assert "Rule Cold starts of a function keep failing has an action run_playbook which needs inventory" in output, output


def test_ansible_rulebook_finds_and_parses_the_controller_rulebook_by_name(built):
    _, _, collections = built
    done = rulebook_cli(collections, "--rulebook", "pacific.supervisor.remediate_controller")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "extensions/eda/rulebooks/remediate_controller.yml" in output
    assert ("Rule VM creation failed or stuck has an action run_job_template which needs controller url and token"
            in output), output


@pytest.mark.parametrize("name", RULEBOOKS)
def test_the_rulebooks_pass_ansible_rulebooks_schema(built, name):
    # by file path, ansible-rulebook also validates the rulebook against its JSON schema
    _, _, collections = built
    path = collections / "ansible_collections" / "pacific" / "supervisor" / "rulebooks" / f"{name}.yml"
    done = rulebook_cli(collections, "--rulebook", str(path))
    output = done.stdout + done.stderr
    assert "needs inventory" in output or "needs controller url" in output, output
    assert "ValidationError" not in output and "Traceback" not in output


def test_a_rulebook_it_does_not_have_is_not_found(built):
    _, _, collections = built
    done = rulebook_cli(collections, "--rulebook", "pacific.supervisor.no_such_rulebook")
    assert done.returncode != 0 and "Could not find rulebook" in done.stdout + done.stderr


def test_eda_runtime_is_what_ansible_rulebook_reads(built):
    _, _, collections = built
    probe = ("from ansible_rulebook import collection as c\n"
             "routing = c.load_plugin_routing('pacific.supervisor.supervisor_events')\n"
             "print(routing, c.get_redirect_info(routing, 'event_source', 'supervisor_events'))\n")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["{'event_source':", "{},", "'event_filter':", "{}}", "None"]
