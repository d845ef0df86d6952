"""`python -m testbed up|down|status|env|build`."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

from testbed import build, inject, report
from testbed.errors import TestbedError
from testbed.layout import Layout
from testbed.stack import Testbed


def _up(testbed: Testbed, args) -> int:
    started = time.monotonic()
    if not testbed.up(log=lambda line: print(f"testbed: {line}", file=sys.stderr)):
        print("testbed: already up")
        return 0
    print(f"testbed: up in {time.monotonic() - started:.1f}s")
    return 0


def _down(testbed: Testbed, args) -> int:
    stopped = testbed.down()
    print(f"testbed: stopped {', '.join(stopped)}" if stopped else "testbed: nothing was running")
    return 0


def _status(testbed: Testbed, args) -> int:
    print(report.render(report.rows(testbed)))
    return 0 if all(testbed.running().values()) else 3


def env_values(testbed: Testbed) -> dict[str, str]:
    """The variables that point the collection's modules, plugins and kubectl at this testbed.

    The developer face (``PACIFIC_SUPERVISOR_*``) logs in as the namespace developer through
    /wcp/login, as a Supervisor user would: at the Supervisor's own address, where the collection
    finds the login by default (no login URL is set); the admin face (``VMWARE_*``) is vCenter's
    administrator. The Supervisor admin's token and kubeconfig have names of their own
    (``PACIFIC_ADMIN_*``), which nothing of the collection reads by default."""
    layout, creds = testbed.layout, testbed.credentials
    values = {
        "PACIFIC_SUPERVISOR_SERVER": layout.supervisor_url,
        "PACIFIC_SUPERVISOR_CA_CERT": testbed.pki.ca_cert,
        "PACIFIC_SUPERVISOR_USERNAME": creds.developer_user,
        "PACIFIC_SUPERVISOR_PASSWORD": creds.developer_password,
        "PACIFIC_ADMIN_TOKEN": creds.admin_token,
        "PACIFIC_ADMIN_KUBECONFIG": layout.admin_kubeconfig,
        "VMWARE_HOST": layout.vcenter_url.split("://", 1)[1].split(":")[0],
        "VMWARE_PORT": layout.ports.wcp,
        "VMWARE_USER": creds.vcenter_user,
        "VMWARE_PASSWORD": creds.vcenter_password,
        "VMWARE_CA_CERT": testbed.pki.ca_cert,
        "PACIFIC_VCENTER_URL": layout.vcenter_url,
    }
    return {key: str(value) for key, value in values.items()}


def developer_token_now() -> str:
    """A developer token of a real /wcp/login, for a client that takes only a token (the
    workloads inventory plugin): what ``kubectl vsphere login`` would give the developer."""
    from testbed.vcenter import developer_token

    return developer_token(Testbed(Layout.from_env()))


def env_lines(testbed: Testbed) -> list[str]:
    return [f"export {key}={shlex.quote(value)}" for key, value in env_values(testbed).items()]


def _env(testbed: Testbed, args) -> int:
    testbed.layout.ensure_dirs()
    print("\n".join(env_lines(testbed)))
    return 0


def _demo(testbed: Testbed, args) -> int:
    from testbed import demo

    print(demo.run(testbed))
    return 0


def _remediate_demo(testbed: Testbed, args) -> int:
    from testbed import demo

    collections_path = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if not collections_path:
        raise TestbedError("remediate-demo needs ANSIBLE_COLLECTIONS_PATH pointing at a tree with pacific.supervisor "
                           "(make demo sets it)")
    demo.remediation(testbed, collections_path)
    return 0


def _vic(testbed: Testbed, args) -> int:
    from testbed.vic.server import PORT_OFFSET, serve_forever

    serve_forever(testbed.layout.ports.base + PORT_OFFSET)
    return 0


def _functions_demo(testbed: Testbed, args) -> int:
    from testbed import functions_demo

    collections_path = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if not collections_path:
        raise TestbedError("functions-demo needs ANSIBLE_COLLECTIONS_PATH pointing at a tree with pacific.supervisor "
                           "(make demo sets it)")
    functions_demo.run(testbed, collections_path)
    return 0


def _fault(testbed: Testbed, args) -> int:
    print(f"testbed: {inject.apply(testbed, args.fault, args.namespace, args.name, args.undo)}")
    return 0


COMMANDS = {
    "up": (_up, "start etcd, vcsim, WCP, kube-apiserver and kube-controller-manager; install CRDs"),
    "down": (_down, "stop everything the testbed started"),
    "status": (_status, "show each peer and what it holds (exit 3 when something is not running)"),
    "env": (_env, "print export lines for clients of the testbed (contains its secrets)"),
    "build": (lambda testbed, args: build.main(), "build the Go binaries into the cache"),
    "demo": (_demo, "make a namespace, a VM, a guest cluster and a pod through both faces; show the tree"),
    "remediate-demo": (_remediate_demo, "run pacific.supervisor.remediate under ansible-rulebook, power the demo's "
                                        "VM off in vCenter and show the rulebook power it on again"),
    "vic": (_vic, "serve a simulated VIC container host's Docker Engine API on port base + 20, in the foreground"),
    "functions-demo": (_functions_demo, "run pacific.supervisor.scale_to_zero under ansible-rulebook: a function "
                                        "at zero answers its first request, then goes back to zero"),
    "fault": (_fault, "inject a fault (or --undo it): " + ", ".join(inject.FAULTS)),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed", description="Supervisor-in-a-box")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        command = commands.add_parser(name, help=help_text)
        if name == "fault":
            command.add_argument("fault", choices=inject.FAULTS)
            command.add_argument("--namespace", help="namespace of the object the fault concerns")
            command.add_argument("--name", help="the object's name (standing faults: default all in the namespace)")
            command.add_argument("--undo", action="store_true", help="take the fault back")
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command][0](Testbed(Layout.from_env()), args)
    except TestbedError as err:
        print(f"testbed: {err}", file=sys.stderr)
        return 1
