"""No token, password, kubeconfig content or bootstrap data reaches Ansible's output, even at -vvv --diff."""
from __future__ import annotations

import base64
import re

import pytest
import yaml

pytestmark = pytest.mark.testbed

# a WCP token (an HS256 JWT) begins with this, whichever claims it carries
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}")


def test_secrets_stay_out_of_verbose_output(run_target, integration_config):
    defaults = yaml.safe_load((integration_config.parent / "targets" / "supervisor_secrets" / "defaults" /
                               "main.yml").read_text())
    user_data = defaults["secrets_user_data"]
    done = run_target("supervisor_secrets", "-vvv", "--diff")
    config = yaml.safe_load(integration_config.read_text())  # the logins that run used
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"target failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert "secret-1" in output and "VALUE_REDACTED" in output  # it ran, and showed the redacted diff
    secrets = {
        "developer token": config["supervisor_token"],
        "admin token": config["supervisor_admin_token"],
        "nobody token": config["supervisor_nobody_token"],
        "developer password": config["developer_password"],
        "viewer password": config["viewer_password"],
        "outsider password": config["outsider_password"],
        "vCenter password": config["vcenter_password"],
        "cloud-init marker": "pacific-secret-marker-7f3a",
        "cloud-init data (base64)": base64.b64encode(user_data.encode()).decode(),
        "changed cloud-init data (base64)": base64.b64encode((user_data + "# changed\n").encode()).decode(),
    }
    leaked = {what: _where(output, value) for what, value in secrets.items() if value in output}
    assert not leaked, f"in the -vvv output: {leaked}"
    assert not JWT.search(output), "a WCP token is in the -vvv output"


def _where(output: str, secret: str) -> str:
    """The lines around the first leak, the secret itself blanked out."""
    at = output.index(secret)
    return output[max(0, at - 600):at + 200].replace(secret, "<SECRET>")
