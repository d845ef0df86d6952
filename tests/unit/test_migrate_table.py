"""The mapping table of pacific.supervisor.migrate covers the Compose specification and VIC.

Every service key of the Compose specification (as used by data/every_key.compose.yaml) and every
`docker run` flag a VIC container host supports has exactly one outcome, and every mapped key has
a converter behind it: no key can be dropped silently.
"""
from pathlib import Path

import yaml

from ansible_collections.pacific.supervisor.plugins.module_utils._migrate import convert, table

EVERY_KEY = Path(__file__).parent / "data" / "every_key.compose.yaml"

# vic-product docs, vic_app_dev "Supported Docker Commands", `run`: the 27 flags VIC supports,
# plus --cpus (a vCPU count, like --cpuset-cpus), --hostname (-h, since 1.3) and --restart.
VIC_FLAGS = (
    "--attach", "--cidfile", "--cpuset-cpus", "--detach", "--detach-keys", "--dns", "--entrypoint", "--env",
    "--env-file", "--help", "--interactive", "--ip", "--label", "--label-file", "--link", "--memory", "--name",
    "--net", "--net-alias", "--publish", "--rm", "--stop-signal", "--stop-timeout", "--tty", "--user",
    "--volume", "--workdir",
) + ("--cpus", "--hostname", "--restart")


def _keys_used():
    services = yaml.safe_load(EVERY_KEY.read_text())["services"]
    return set(key for spec in services.values() for key in spec)


def test_every_compose_key_has_exactly_one_entry():
    used = _keys_used()
    assert len(used) == 94
    assert sorted(used - set(table.SERVICE_KEYS)) == []  # keys of the spec with no entry
    assert sorted(set(table.SERVICE_KEYS) - used) == []  # entries for keys the spec does not have


def test_every_entry_has_an_outcome_and_a_reason():
    for key, (outcome, detail) in list(table.SERVICE_KEYS.items()) + list(table.DEPLOY_KEYS.items()):
        assert outcome in table.OUTCOMES, key
        assert detail and len(detail) > 10, key


def test_every_mapped_key_has_a_converter_and_no_other_does():
    mapped = set(key for key, (outcome, _detail) in table.SERVICE_KEYS.items() if outcome == table.MAPPED)
    assert mapped == set(convert.HANDLERS)


def test_every_vic_flag_has_an_entry():
    assert len(VIC_FLAGS) == 30
    assert sorted(set(VIC_FLAGS) ^ set(table.VIC_RUN_FLAGS)) == []
    for flag, (outcome, compose_key, detail) in table.VIC_RUN_FLAGS.items():
        assert outcome in table.OUTCOMES, flag
        assert detail, flag
        if compose_key is not None:
            # a flag that is a compose key gets that key's handling, and the outcomes agree
            assert compose_key in table.SERVICE_KEYS, flag
            key_outcome = table.SERVICE_KEYS[compose_key][0]
            assert key_outcome == outcome, (flag, compose_key)
