"""TCP pass-throughs: an address's port relayed byte for byte to a kube-apiserver on 127.0.0.1.

The Supervisor's 6443 (in the WCP simulator) and each guest cluster's control-plane VIP on 6443
(in the controllers process, ``Relays``) are such pass-throughs, as a load balancer in front of a
control plane is: TLS is end to end, so client certificates and bearer tokens reach the
kube-apiserver as sent.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading

from testbed.layout import HOST

log = logging.getLogger("testbed.passthrough")
PATIENCE = 30.0  # seconds a new connection waits for the kube-apiserver behind it


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:  # the other end went away: the other direction ends too
        pass
    finally:
        try:
            sink.write_eof()
        except (OSError, RuntimeError):
            pass


async def pass_through(target_port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       patience: float = PATIENCE) -> None:
    """One connection relayed to 127.0.0.1:``target_port``. While the kube-apiserver (re)starts, the
    connection waits for it (as behind a load balancer) rather than ending before the TLS handshake,
    which a client would take for a TLS failure."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(HOST, target_port)
            break
        except OSError as err:
            if asyncio.get_running_loop().time() > deadline:
                log.warning("the kube-apiserver on %s:%s does not answer: %s", HOST, target_port, err)
                writer.close()
                return
            await asyncio.sleep(0.2)
    try:
        await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
    finally:
        for end in (writer, upstream_writer):
            end.close()


async def listen(address: str, port: int, target_port: int) -> asyncio.AbstractServer:
    """A pass-through listening on ``address``:``port`` (in the running event loop)."""
    return await asyncio.start_server(functools.partial(pass_through, target_port), address, port)


class Relays:
    """Pass-throughs a threaded process opens and closes, keyed by name, run by an event loop of
    their own in a daemon thread (the guest clusters' VIPs in the controllers process)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: dict[str, tuple[tuple[str, int, int], asyncio.AbstractServer]] = {}
        self.lock = threading.Lock()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="relays").start()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def open(self, key: str, address: str, port: int, target_port: int) -> None:
        """Relay ``address``:``port`` to 127.0.0.1:``target_port`` under ``key`` (idempotent; a
        different address or target replaces what ``key`` had)."""
        wanted = (address, port, target_port)
        with self.lock:
            current = self.servers.get(key)
            if current is not None and current[0] == wanted:
                return
            if current is not None:
                self._close(current[1])
            self.servers[key] = (wanted, self._run(listen(address, port, target_port)))

    def close(self, key: str) -> None:
        """Stop relaying ``key``: its address's port is free again (connections open on it end)."""
        with self.lock:
            current = self.servers.pop(key, None)
            if current is not None:
                self._close(current[1])

    def _close(self, server: asyncio.AbstractServer) -> None:
        async def closed():  # the listening socket goes at once (not waiting for open connections to end)
            server.close()
            if hasattr(server, "close_clients"):  # Python 3.13: end the relayed connections too
                server.close_clients()
        self._run(closed())

    def listening(self, key: str) -> tuple[str, int, int] | None:
        with self.lock:
            current = self.servers.get(key)
            return current[0] if current is not None else None
