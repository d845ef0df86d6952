"""The echo server that starts slowly, as a JVM or a large model does: it listens only after a delay.

``pacific/slow-echo:<ms>`` waits ``<ms>`` milliseconds (its tag; the Spherelet passes the image as
``TESTBED_IMAGE``) before it binds its port; ``SLOW_START_MS`` in the container's env overrides the
tag; a tag that is not a number (``latest``) waits ``DEFAULT_MS``. Until then a connection is refused,
as it is to a real container still starting; afterwards it answers as ``pacific/echo`` does.
"""
from __future__ import annotations

import os
import time

from testbed.workloads import echo

DEFAULT_MS = 1000


def start_delay_ms(image: str | None, override: str | None = None) -> int:
    """The start delay of ``image`` (``pacific/slow-echo:<ms>``), or ``override`` when set."""
    for value in (override, _tag(image or "")):
        if value and value.strip().isdigit():
            return int(value.strip())
    return DEFAULT_MS


def _tag(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def main() -> None:
    delay = start_delay_ms(os.environ.get("TESTBED_IMAGE"), os.environ.get("SLOW_START_MS"))
    time.sleep(delay / 1000.0)
    echo.main()


if __name__ == "__main__":
    main()
