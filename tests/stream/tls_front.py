"""A TLS front for a plain-text broker, as a managed cluster's listener is: it terminates TLS
(requiring a client certificate when asked) and relays the bytes to the broker.

The embedded Tansu 0.6.0 cannot serve TLS itself: its `--cert` and `--key` are declared
mutually exclusive, and either one alone leaves the listener on plain TCP.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path
from types import TracebackType

from stream.broker import LOOPBACK


def server_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    """The broker side: present `cert`; with `client_ca`, require a client certificate it signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=client_ca)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE
    return context


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


class TlsFront:
    """Listens with TLS on `port` (0: any free one) and relays to `upstream_port` in plain text,
    on its own event loop in a thread, so a test may block while clients talk through it."""

    def __init__(self, context: ssl.SSLContext, upstream_port: int, port: int = 0) -> None:
        self.context, self.upstream_port, self.port = context, upstream_port, port
        self.clients: list[str] = []  # common names of the client certificates seen
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        if peer:
            self.clients.append(dict(x[0] for x in peer["subject"])["commonName"])
        try:
            up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True
        )

    def __enter__(self) -> TlsFront:
        start = asyncio.start_server(self._relay, LOOPBACK, self.port, ssl=self.context)
        self._server = self._loop.run_until_complete(start)
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread.start()
        return self

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
