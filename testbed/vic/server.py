"""Serve a simulated VIC host: in a thread of the caller (tests) or in the foreground (the CLI)."""
from __future__ import annotations

import asyncio
import os
import ssl
import threading

from aiohttp import web

from testbed.layout import HOST
from testbed.vic.api import make_app
from testbed.vic.host import Host

PORT_OFFSET = 20  # from PACIFIC_TESTBED_PORT_BASE; the testbed's own peers use +1..+8


def default_port() -> int:
    return int(os.environ.get("PACIFIC_TESTBED_PORT_BASE", "26440")) + PORT_OFFSET


def tls_context(cert: str, key: str, client_ca: str | None = None) -> ssl.SSLContext:
    """A server context; with ``client_ca`` clients must show a certificate it signed (VIC's
    ``--tlsverify``)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class Simulator:
    """A VIC host listening on ``HOST:port`` (with ``ssl_context``, TLS as VIC's 2376) or on a unix
    socket; ``start()`` returns once it answers."""

    def __init__(self, port: int | None = None, host: Host | None = None, ssl_context: ssl.SSLContext | None = None,
                 socket_path: str | None = None):
        self.port = port if port is not None else default_port()
        self.socket_path = socket_path
        self.host = host or Host()
        self.ssl_context = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The ``docker_host`` of this host (``DOCKER_HOST``): its unix socket, else its TCP port."""
        return f"unix://{self.socket_path}" if self.socket_path else f"tcp://{HOST}:{self.port}"

    async def _serve(self) -> None:
        self._runner = web.AppRunner(make_app(self.host), access_log=None)
        await self._runner.setup()
        if self.socket_path:
            await web.UnixSite(self._runner, self.socket_path).start()
        else:
            await web.TCPSite(self._runner, HOST, self.port, ssl_context=self.ssl_context).start()
            self.port = self._runner.addresses[0][1]  # port 0: the one the system gave

    def start(self) -> "Simulator":
        started = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as err:  # the port is taken: tell the caller
                failed.append(err)
                started.set()
                return
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"vic-{self.port}", daemon=True)
        self._thread.start()
        started.wait(30)
        if failed:
            raise failed[0]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(port: int | None = None) -> None:
    """Run in the foreground until interrupted (``python -m testbed vic``)."""
    simulator = Simulator(port)
    print(f"testbed: a VIC container host's Docker API at {simulator.url} (DOCKER_HOST={simulator.url}); "
          "Ctrl-C stops it", flush=True)
    web.run_app(make_app(simulator.host), host=HOST, port=simulator.port, print=None, access_log=None)
