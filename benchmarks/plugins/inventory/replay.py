"""Benchmark anchor (not part of the collection): an inventory plugin that does nothing but hand
ansible-core hosts and variables it reads from a JSON file.

It is the least any inventory plugin has to do inside ``ansible-inventory``: one ``add_host`` and
one update of the host's variables per host (as ``pacific.supervisor.workloads`` hands them over),
and the same groups; each host's record is dropped from the source once handed over, so that
nothing but ansible-core holds the hosts. Whatever a real plugin costs beyond it is its own fetch
and shaping; what it costs itself is ansible-core's share (storing, ``get_vars`` per host, the
dump), in time and in peak memory.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: replay
short_description: Hosts and variables from a JSON file (benchmark anchor)
description:
  - Reads C(hosts), a mapping of host name to variables, and C(groups), as C(ansible-inventory --list)
    prints them, from the JSON file named by C(source).
options:
  plugin:
    description: The name of this plugin.
    required: true
    choices: [replay]
  source:
    description: JSON file with a C(hosts) mapping.
    required: true
    type: path
"""

import json

from ansible.plugins.inventory import BaseInventoryPlugin


class InventoryModule(BaseInventoryPlugin):
    NAME = "replay"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(".replay.yml")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        with open(self.get_option("source"), "rb") as stream:
            source = json.load(stream)
        hosts = source.pop("hosts")
        for name in list(hosts):
            variables = hosts.pop(name)
            self.inventory.add_host(name)
            self.inventory.get_host(name).vars.update(variables)
        for group, members in source.get("groups", {}).items():
            self.inventory.add_group(group)
            for child in members.get("children", []):
                self.inventory.add_group(child)
                self.inventory.add_child(group, child)
            for host in members.get("hosts", []):
                self.inventory.add_child(group, host)
