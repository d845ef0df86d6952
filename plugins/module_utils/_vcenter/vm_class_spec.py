# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM class as the user wants it, compared with what vCenter has (pure functions, no I/O).

The API spells memory ``memory_MB`` and dynamic DirectPath I/O devices
``dynamic_direct_path_IO_devices``; module options use snake case throughout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument
from ansible_collections.pacific.supervisor.plugins.module_utils._vcenter.namespace_spec import DNS_LABEL

# module option -> API field
FIELDS = {"cpu_count": "cpu_count", "memory_mb": "memory_MB", "cpu_reservation": "cpu_reservation",
          "memory_reservation": "memory_reservation", "description": "description", "devices": "devices"}
DEVICE_LISTS = {"vgpu_devices": "vgpu_devices", "dynamic_direct_path_io_devices": "dynamic_direct_path_IO_devices"}


def check_settings(params):
    name = params["name"]
    if not isinstance(name, str) or len(name) > 63 or not DNS_LABEL.match(name):
        raise InvalidArgument("VM class name {0!r} is not valid: use lower-case letters, digits and '-', at most "
                              "63 characters".format(name))
    for option in ("cpu_count", "memory_mb"):
        if params.get(option) is not None and params[option] < 1:
            raise InvalidArgument("{0} must be at least 1, got {1}".format(option, params[option]))
    for option in ("cpu_reservation", "memory_reservation"):
        if params.get(option) is not None and not 0 <= params[option] <= 100:
            raise InvalidArgument("{0} is a percentage of the class's size, 0 to 100, got {1}".format(
                option, params[option]))


def _devices(devices):
    """Device lists in API spelling, empty lists left out, entries without unset keys."""
    result = {}
    for option, field in DEVICE_LISTS.items():
        entries = (devices or {}).get(option)
        if entries is None:
            entries = (devices or {}).get(field)
        if entries:
            result[field] = [dict((k, v) for k, v in entry.items() if v is not None) for entry in entries]
    return result


def normalized(info):
    """The managed fields of ``GET .../virtual-machine-classes/{id}``."""
    return {
        "cpu_count": info.get("cpu_count"),
        "memory_MB": info.get("memory_MB", info.get("memory_mb")),
        "cpu_reservation": info.get("cpu_reservation") or 0,
        "memory_reservation": info.get("memory_reservation") or 0,
        "description": info.get("description") or "",
        "devices": _devices(info.get("devices")),
    }


def desired_fields(params):
    """API fields of the options given (None = leave alone)."""
    fields = {}
    for option, field in FIELDS.items():
        if params.get(option) is not None:
            fields[field] = _devices(params[option]) if option == "devices" else params[option]
    return fields


def create_spec(name, fields):
    missing = [option for option in ("cpu_count", "memory_mb") if FIELDS[option] not in fields]
    if missing:
        raise InvalidArgument("creating VM class {0} needs {1}".format(name, " and ".join(missing)))
    return dict(fields, id=name)


def update_spec(current, fields):
    return dict((key, value) for key, value in fields.items() if current.get(key) != value)


def after(current, patch):
    result = dict(current)
    result.update(patch)
    return result


def with_option_names(info):
    """``info`` (an API answer or ``normalized``) with the fields the API spells otherwise also under
    the option's name: ``memory_mb`` beside ``memory_MB``, ``devices.dynamic_direct_path_io_devices``
    beside ``dynamic_direct_path_IO_devices``. The API's names stay for one release, deprecated."""
    if not info:
        return info
    shown = dict(info)
    if "memory_MB" in shown:
        shown["memory_mb"] = shown["memory_MB"]
    devices = shown.get("devices")
    if isinstance(devices, dict):
        devices = dict(devices)
        for option, field in DEVICE_LISTS.items():
            if field in devices and option != field:
                devices[option] = devices[field]
        shown["devices"] = devices
    return shown
