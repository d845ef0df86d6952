# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose files to their canonical form, by the Compose specification's reference implementation.

``docker compose config --format json`` (or the standalone ``docker-compose``) does what a
parser of our own would get wrong: interpolation with defaults, ``extends``, anchors and merge
keys, ``!reset``/``!override``, env files, profiles, long and short syntax. It needs no daemon.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

from ansible_collections.pacific.supervisor.plugins.module_utils._common import errors

BINARY_ENV = "PACIFIC_COMPOSE_BINARY"


def _which(name, path):
    for folder in (path or "").split(os.pathsep):
        candidate = os.path.join(folder, name)
        if folder and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _answers(command):
    try:
        done = subprocess.run(command + ["version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def find_cli(binary=None, environ=None):
    """The command that runs docker compose: ``binary`` (a path or a name on PATH), else
    ``$PACIFIC_COMPOSE_BINARY``, else ``docker-compose`` on PATH, else ``docker compose`` (the
    CLI plugin). Raises InvalidArgument naming what was looked for."""
    environ = os.environ if environ is None else environ
    path = environ.get("PATH", os.defpath)
    given = binary or environ.get(BINARY_ENV)
    if given:
        found = given if os.path.sep in given else _which(given, path)
        if not found or not os.access(found, os.X_OK):
            raise errors.InvalidArgument("the docker compose binary {0!r} (from {1}) is not an executable file".format(
                given, "compose_binary" if binary else BINARY_ENV))
        return [found]
    standalone = _which("docker-compose", path)
    if standalone:
        return [standalone]
    docker = _which("docker", path)
    if docker and _answers([docker, "compose"]):
        return [docker, "compose"]
    raise errors.InvalidArgument(
        "docker compose is needed to read compose files (it brings them to the Compose specification's canonical "
        "form) but neither docker-compose nor the docker compose plugin is on PATH; install Docker Compose v2 or "
        "later, or name the binary with compose_binary or {0}".format(BINARY_ENV))


def canonical(files, cli, project_name=None, profiles=(), environment=None, project_directory=None):
    """``(project, warnings)``: the canonical project (a dict: name, services, volumes, networks,
    secrets, configs) of ``files`` merged in order, as ``docker compose config`` gives it, and what
    compose warned of (unset variables, obsolete keys), one line each."""
    if not files:
        raise errors.InvalidArgument("at least one compose file is needed")
    files = [os.path.abspath(name) for name in files]
    command = list(cli)
    for name in files:
        command += ["-f", name]
    if project_name:
        command += ["--project-name", project_name]
    if project_directory:
        command += ["--project-directory", project_directory]
    for profile in profiles or ():
        command += ["--profile", profile]
    command += ["config", "--format", "json"]
    env = dict(os.environ)
    env.update(dict((str(k), "" if v is None else str(v)) for k, v in (environment or {}).items()))
    cwd = os.path.dirname(files[0])
    try:
        done = subprocess.run(command, capture_output=True, env=env, cwd=cwd, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        raise errors.InvalidArgument("cannot run {0}: {1}".format(" ".join(cli), err))
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        raise errors.InvalidArgument("docker compose cannot read {0}: {1}".format(", ".join(files), stderr),
                                     files=list(files))
    try:
        project = json.loads(done.stdout.decode("utf-8"))
    except ValueError as err:
        raise errors.InvalidArgument("docker compose gave no JSON for {0}: {1}".format(", ".join(files), err))
    warnings = [line for line in stderr.splitlines() if line.strip()]
    return project, warnings
