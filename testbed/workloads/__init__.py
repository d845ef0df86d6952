"""Container images the Spherelet runs for real, as local processes bound to the pod's IP.

The catalogue (image name without tag or registry -> module to run):

| image                         | what runs                                                   |
| ----------------------------- | ----------------------------------------------------------- |
| ``pacific/echo``              | HTTP echo server: answers ``ECHO_TEXT`` (or the request)    |
| ``hashicorp/http-echo``       | the same, taking ``-text=...`` and ``-listen=:PORT`` args   |
| ``ealen/echo-server``         | the same                                                    |
| ``pacific/slow-echo:<ms>``    | the same, listening only ``<ms>`` after it starts (the tag; |
|                               | ``SLOW_START_MS`` in its env overrides it)                  |

Every other image is simulated: the container reports Running and does nothing.
"""
from __future__ import annotations

CATALOGUE = {
    "pacific/echo": "testbed.workloads.echo",
    "hashicorp/http-echo": "testbed.workloads.echo",
    "ealen/echo-server": "testbed.workloads.echo",
    "pacific/slow-echo": "testbed.workloads.slow_echo",
}


def runnable(image: str) -> str | None:
    """The module that runs ``image``, or None when the image is simulated."""
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    parts = name.split("/")
    if len(parts) > 2 and ("." in parts[0] or ":" in parts[0]):
        parts = parts[1:]  # drop a registry host
    return CATALOGUE.get("/".join(parts[-2:]))
