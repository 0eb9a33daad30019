"""The bot's one HTTP server per process: webhooks, /healthz and file links.

Several things want an address on the same port (`THIDUA_HTTP_LISTEN`): each channel's
webhook route (Telegram's, later Zalo's) and the signed file links of channels that
cannot take uploads (`bot.media_links`). aiohttp freezes an application's routes when
it starts, but channels start one after another and a channel's route must be there
before it tells its messenger the webhook URL; so the server routes by path itself:
one catch-all aiohttp route looks the request up in a table that channels `mount` on
and `unmount` from while it runs. A path nobody mounted is a 404, as is listing any
folder (there are no folders: only exact paths and prefixes given here).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from bot.redact import protect
from models.db import is_outage

if TYPE_CHECKING:
    # aiohttp (client included: its package loads both) is ~10 MB and a tenth of a second
    # of start-up: it loads with the first server, which a polling bot starts after its
    # first getUpdates (`bot.subcommands.run`); importing this module must not load it.
    from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]


class ListenError(Exception):
    """THIDUA_HTTP_LISTEN is not host:port."""


def parse_listen(listen: str) -> tuple[str, int]:
    """`"0.0.0.0:8080"` → `("0.0.0.0", 8080)`; anything else raises `ListenError`."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ListenError("THIDUA_HTTP_LISTEN (or THIDUA_WEBHOOK_LISTEN) must be "
                          f"host:port, got {listen!r}")
    return host, int(port)


@dataclass(frozen=True)
class Webhook:
    """Where a messenger pushes updates: its public URL, the shared secret it sends
    back, and the address this process listens on. Each channel subclasses it with a
    `from_env` that checks its own secret rule and then calls `checked`."""

    url: str
    secret: str = field(repr=False)  # never in a repr, a traceback's locals or a log
    host: str = "0.0.0.0"  # noqa: S104 - a webhook server must listen beyond loopback
    port: int = 8080

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @classmethod
    def checked(cls, url: str, secret: str, listen: str, *, url_name: str,
                error: type[Exception]) -> Self:
        """Settings from checked values; `error(message)` for a bad URL or address."""
        if not url.startswith("https://") and not url.startswith("http://127."):
            raise error(f"{url_name} must be the public https:// URL")
        try:
            host, port = parse_listen(listen)
        except ListenError as exc:
            raise error(str(exc)) from None
        protect(secret)  # setWebhook carries it: keep it out of every log line
        return cls(url=url, secret=secret, host=host, port=port)


class HttpServer:
    """Routes mounted by exact method and path, or by path prefix (file links)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._exact: dict[tuple[str, str], Handler] = {}
        self._prefixes: dict[tuple[str, str], Handler] = {}
        self.mount("GET", "/healthz", _health)

    def mount(self, method: str, path: str, handler: Handler, *,
              prefix: bool = False) -> None:
        """Serve `method path` (or every path under `path` when `prefix`) with `handler`.
        A second mount on the same place replaces the first (a channel restarting)."""
        table = self._prefixes if prefix else self._exact
        table[(method.upper(), path)] = handler

    def unmount(self, method: str, path: str, *, prefix: bool = False) -> None:
        table = self._prefixes if prefix else self._exact
        table.pop((method.upper(), path), None)

    def _find(self, method: str, path: str) -> Handler | None:
        found = self._exact.get((method, path))
        if found is not None:
            return found
        for (m, start), handler in self._prefixes.items():
            if m == method and path.startswith(start):
                return handler
        return None

    async def _route(self, request: web.Request) -> web.StreamResponse:
        # HEAD is a GET without the body (aiohttp drops the body itself).
        method = "GET" if request.method == "HEAD" else request.method
        handler = self._find(method, request.path)
        if handler is None:
            from aiohttp import web

            return web.Response(status=404, text="not found")
        return await handler(request)

    def application(self) -> web.Application:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._route)
        return app

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[HttpServer]:
        """Listen for the block. A short grace on stopping: Telegram keeps connections
        open and a restart must not wait for them; a request in flight only inserts a
        row or reads a file."""
        from aiohttp import web

        runner = web.AppRunner(self.application(), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
            log.info("HTTP server listening on %s:%s", self.host, self.port)
            yield self
        finally:
            await runner.cleanup()


async def _health(_: web.Request) -> web.Response:
    from aiohttp import web

    return web.Response(text="ok")


@asynccontextmanager
async def http_server(listen: str) -> AsyncIterator[HttpServer]:
    """A server on `listen` (host:port), running for the block."""
    host, port = parse_listen(listen)
    async with HttpServer(host, port).serving() as server:
        yield server


def push_receiver(*, name: str, header: str, secret: str,
                  store: Callable[[Any], Awaitable[int]],
                  waiting: Callable[[Any], Awaitable[None]],
                  nudge: Callable[[], None]) -> Handler:
    """A messenger's webhook route: 403 on a wrong secret; a body that is no JSON gets
    200 and a log line (refusing it would have it sent again forever); otherwise the
    update is stored (`store`, the count stored) before the 200 that confirms it. If it
    cannot be stored the answer is 500, so the messenger sends it again, and after a
    database outage the chat hears that its message waits (`waiting`)."""
    from aiohttp import web

    expected = secret.encode()

    async def receive(request: web.Request) -> web.StreamResponse:
        given = request.headers.get(header, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="forbidden")
        try:
            body = json.loads(await request.text())
        except ValueError:
            log.warning("%s: ignored a webhook body that is not JSON", name)
            return web.Response(text="ignored")
        try:
            stored = await store(body)
        except Exception as exc:
            log.exception("%s: could not store a webhook update; it will come again", name)
            if is_outage(exc):
                await waiting(body)
            return web.Response(status=500, text="not stored")
        if stored:
            nudge()
        return web.Response(text="ok")

    return receive
