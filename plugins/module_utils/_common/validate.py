# -*- coding: utf-8 -*-
# Copyright: pacific.supervisor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of single option values that no argument spec can express; each raises one
``InvalidArgument`` naming the option and the value, before anything is sent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.pacific.supervisor.plugins.module_utils._common.errors import InvalidArgument

INT64_MAX = 2 ** 63 - 1
MIB = 2 ** 20
# a limit in MiB that Kubernetes shows in bytes (a ResourceQuota's limits.memory, requests.storage)
# must hold in an int64 quantity, or the quota silently says 8 EiB instead
MIB_LIMIT_MAX = INT64_MAX // MIB


def _text(value):
    return value if isinstance(value, str) else str(value)


def ip_address(value, what, version=None):
    """``value`` as an IP address (of ``version`` 4 or 6 when given); its text back."""
    try:
        address = ipaddress.ip_address(_text(value))
    except ValueError:
        address = None
    if address is None or (version is not None and address.version != version):
        raise InvalidArgument("{0} {1!r} is not an {2} address".format(
            what, value, "IPv{0}".format(version) if version else "IPv4 or IPv6"))
    return value


def ip_with_prefix(value, what):
    """``value`` as an address with its network prefix length (``192.168.0.10/24``,
    ``2001:db8::a/64``); answers the ``ipaddress`` interface."""
    text = _text(value)
    try:
        if "/" not in text:
            raise ValueError(text)
        return ipaddress.ip_interface(text)
    except ValueError:
        raise InvalidArgument("{0} {1!r} is not an IP address with its prefix length, for example "
                              "192.168.0.10/24 or 2001:db8::a/64".format(what, value))


def cidr(value, what):
    """``value`` as a network in CIDR notation (``10.0.0.0/8``; host bits are allowed, as
    Kubernetes allows them)."""
    text = _text(value)
    try:
        if "/" not in text:
            raise ValueError(text)
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidArgument("{0} {1!r} is not a network in CIDR notation, for example 10.0.0.0/8".format(
            what, value))
    return value


def in_range(value, what, minimum=None, maximum=None, unit=""):
    """``value`` unless it is None; one message when it is below ``minimum`` or above ``maximum``."""
    if value is None:
        return value
    if minimum is not None and value < minimum:
        raise InvalidArgument("{0} must be {1} or more, got {2}".format(
            what, "zero" if minimum == 0 else minimum, value))
    if maximum is not None and value > maximum:
        raise InvalidArgument("{0} must be at most {1}{2}, got {3}".format(what, maximum, unit, value))
    return value
