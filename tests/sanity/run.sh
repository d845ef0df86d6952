#!/usr/bin/env bash
# ansible-test sanity on this checkout. ansible-test wants the collection at
# .../ansible_collections/pacific/supervisor, so the tracked (and new, not ignored) files are
# copied into such a tree under .cache and tested there; its output stays there too.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# ansible-test's --venv mode downloads a pip bootstrap script from a host this machine cannot
# reach, so the sanity tools live in a venv of their own (ansible-core pinned as in requirements.txt)
venv=$root/.cache/sanity-venv
core=$(grep -E '^ansible-core==' requirements.txt)
if [ ! -x "$venv/bin/ansible-test" ] || [ "$(cat "$venv/.core" 2>/dev/null)" != "$core" ]; then
  rm -rf "$venv" && python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip "$core"
  echo "$core" > "$venv/.core"
fi
pip_version=$("$venv/bin/python" -c 'import re, ansible_test, pathlib; print(re.search(r"pip=.([0-9.]+).", (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()).group(1))')
mkdir -p ~/.ansible/test/cache
cp tests/sanity/pip_bootstrap.py ~/.ansible/test/cache/get_pip_"${pip_version//./_}".py
tree=.cache/sanity/ansible_collections/pacific/supervisor
rm -rf "$tree" && mkdir -p "$tree"
# what the collection ships: galaxy.yml's build_ignore (the testbed, benchmarks, CI, the tests that
# need the testbed) is no part of it, so sanity does not judge it either
"$root/.venv/bin/python" - "$tree" <<'PY'
import fnmatch, shutil, subprocess, sys, yaml
from pathlib import Path
ignore = yaml.safe_load(Path("galaxy.yml").read_text())["build_ignore"]
listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                        check=True, capture_output=True, text=True).stdout.split("\0")
for name in filter(None, listed):
    if Path(name).is_file() and not any(fnmatch.fnmatch(name, pattern) or name.startswith(pattern.rstrip("/") + "/")
                                        for pattern in ignore):
        target = Path(sys.argv[1]) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(name, target)
PY
cd "$tree"
# the checkout's own git would hide the copy (.cache is ignored): give it a repository of its own
git init -q && git add -A && git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity
exec "$venv/bin/ansible-test" sanity --local --requirements --python 3.11 --color no "$@"
