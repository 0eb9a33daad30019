"""A TCP proxy in front of PostgreSQL that a test can cut, stop or make hang.

Database faults as the bot meets them in production, made on demand and quickly:
`cut()` drops every open connection at once (a failover, an idle-connection killer,
PgBouncer restarting); `stop()` refuses new connections too (the server is down);
`hang()` accepts connections and never answers (a network black hole), so only a
timeout ends the wait; `resume()` brings the database back on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url


class PgProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.cuts = 0  # client connections dropped by cut(): a test shows it cut something
        self._server: asyncio.Server | None = None
        self._hanging = False
        self._open: set[asyncio.StreamWriter] = set()  # both ends of every connection
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        """Drop every open connection, both ways, without a goodbye."""
        self.cuts += len(self._clients)
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        self._clients.clear()

    async def stop(self) -> None:
        """The server is gone: open connections dropped, new ones refused."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def hang(self) -> None:
        """Connections are dropped; new ones are accepted and never answered."""
        self.cut()
        self._hanging = True

    async def resume(self) -> None:
        self._hanging = False
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.stop()

    async def _serve(self, client_r: asyncio.StreamReader,
                     client_w: asyncio.StreamWriter) -> None:
        self._open.add(client_w)
        self._clients.add(client_w)
        if self._hanging:
            return  # kept open (and dropped by the next cut), never forwarded
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._open.add(server_w)
        await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@contextlib.asynccontextmanager
async def proxy_for(url: str) -> AsyncIterator[PgProxy]:
    """A running proxy in front of the database at `url` (a SQLAlchemy URL)."""
    parsed = make_url(url)
    running = PgProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    await running.start()
    try:
        yield running
    finally:
        await running.close()
