"""Stand-in for the pip bootstrap script ansible-test downloads when it makes a venv.

ansible-test creates each sanity venv without pip and runs a downloaded ``get-pip`` script in it;
that host is not reachable here. Python ships pip itself (``ensurepip``), so this script installs
that one and lets it install what ansible-test asked for (its arguments are pip install arguments).
"""
import ensurepip
import os
import subprocess
import sys

# get-pip's own flags: leave setuptools and wheel out (pip install knows no such options)
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

environment = dict(os.environ)  # ensurepip points PIP_CONFIG_FILE at /dev/null: the install needs pip.conf
ensurepip.bootstrap(upgrade=True)
arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade", *arguments], env=environment))
