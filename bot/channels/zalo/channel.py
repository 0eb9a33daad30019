"""The Zalo channel as the rest of the bot sees it (`bot.channels.base.Channel`).

`serve` checks the token (getMe), registers the photo fetcher and the limits, then
receives for the block — long polling (after deleteWebhook: Zalo refuses getUpdates
while a webhook is set) or a webhook route — and yields the outbox's transport.
Failures while starting become one-line errors that never hold the token: a refused
token or setting `ChannelAuthError`, a network error, timeout or 5xx
`ChannelUnreachable` (the composition root retries that one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from bot.channels.base import ChannelAuthError, ChannelLimits, ChannelUnreachable
from bot.channels.zalo.client import DEFAULT_API, ZaloApi, ZaloError, quiet_http_logs
from bot.channels.zalo.files import ZaloFiles
from bot.channels.zalo.intake import inbox_dispatcher, parse, poll
from bot.channels.zalo.links import media_links
from bot.channels.zalo.render import CHANNEL, LIMITS, LinkMaker
from bot.channels.zalo.transport import ZaloTransport, replier
from bot.channels.zalo.webhook import ZaloWebhookSettings, receiver
from bot.http import HttpServer
from bot.inbox import InboxChannel
from bot.redact import protect, redact
from bot.telemetry import recorder
from reporting.services import Services

log = logging.getLogger(__name__)

REJECTED = "Zalo rejected ZALO_BOT_TOKEN (or ZALO_API_BASE_URL is wrong)."
# Another instance's claim on an inbox row is respected this long (webhook mode).
LEASE = 5.0


def start_error(exc: ZaloError | httpx.HTTPError, base_url: str) -> Exception:
    """An error met while starting → the channel error the CLI prints as one line."""
    if isinstance(exc, ZaloError) and exc.code in (401, 403, 404):
        return ChannelAuthError(REJECTED)
    if isinstance(exc, ZaloError) and 400 <= exc.code < 500:
        return ChannelAuthError(f"Zalo refused to start the bot: {redact(exc.description)}")
    host = urlsplit(base_url).netloc or base_url
    return ChannelUnreachable(f"Zalo Bot API at {host} cannot be reached: "
                              f"{type(exc).__name__}: {redact(str(exc))}")


class ZaloChannel:
    """Implements `bot.channels.base.Channel` for Zalo's Bot Platform."""

    name: str = CHANNEL
    limits: ChannelLimits = LIMITS

    def __init__(self, token: str, base_url: str | None = None, *,
                 hook: ZaloWebhookSettings | None = None, poll_timeout: int = 10,
                 links: LinkMaker | None = None, api_timeout: float = 10.0,
                 http_transport: httpx.AsyncBaseTransport | None = None,
                 server: HttpServer | None = None) -> None:
        protect(token)
        self._token = token
        self._base_url = base_url or DEFAULT_API
        self._hook = hook
        self._poll_timeout = poll_timeout
        # Photos and files go by URL: the bot's signed media links by default.
        self._links = links
        self._server = server  # the process's HTTP server, where the webhook route goes
        self._api_timeout = api_timeout
        self._http_transport = http_transport  # tests: an in-process stub of the API

    @asynccontextmanager
    async def serve(self, services: Services) -> AsyncIterator[ZaloTransport]:
        """Receive updates (and answer them) for the block; yield the outbox's transport."""
        quiet_http_logs()
        async with (ZaloApi(self._token, self._base_url, timeout=self._api_timeout,
                            transport=self._http_transport,
                            on_success=recorder(services, CHANNEL)) as api,
                    httpx.AsyncClient(timeout=30.0, transport=self._http_transport) as downloads):
            try:
                me = await api.get_me()
                if self._hook is None:
                    await api.delete_webhook()
            except (ZaloError, httpx.HTTPError) as exc:
                raise start_error(exc, self._base_url) from None
            services.fetchers[CHANNEL] = ZaloFiles(downloads)
            services.limits[CHANNEL] = LIMITS
            log.info("zalo: serving as %s", me.get("account_name") or me.get("id") or "bot")
            links = self._links or media_links(services)
            channel = InboxChannel(CHANNEL, parse, replier(api, services, links))
            transport = ZaloTransport(api, services, links)
            if self._hook is None:
                async with self._polling(api, services, channel):
                    yield transport
            else:
                async with self._webhook(api, services, channel, self._hook):
                    yield transport

    @asynccontextmanager
    async def _polling(self, api: ZaloApi, services: Services,
                       channel: InboxChannel) -> AsyncIterator[None]:
        # One poller per bot: no other instance holds claims to respect (lease 0).
        async with inbox_dispatcher(services, channel, lease=0.0).running() as dispatcher:
            poller = asyncio.create_task(poll(api, services, dispatcher, self._poll_timeout))
            try:
                yield
            finally:
                # A cancelled long poll loses nothing: an update not yet handed out
                # stays at Zalo; one handed out was stored before the next call.
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller

    @asynccontextmanager
    async def _webhook(self, api: ZaloApi, services: Services, channel: InboxChannel,
                       hook: ZaloWebhookSettings) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            server = self._server
            if server is None:  # alone (tests, a Zalo-only process without one)
                server = await stack.enter_async_context(
                    HttpServer(hook.host, hook.port).serving())
            dispatcher = await stack.enter_async_context(
                inbox_dispatcher(services, channel, lease=LEASE).running())
            server.mount("POST", hook.path, receiver(services, dispatcher, hook.secret))
            try:
                try:
                    await api.set_webhook(hook.url, hook.secret)
                except (ZaloError, httpx.HTTPError) as exc:
                    raise start_error(exc, self._base_url) from None
                log.info("zalo webhook at %s on %s:%s", hook.path, server.host, server.port)
                yield
            finally:
                # The webhook stays set at Zalo: other instances serve it.
                server.unmount("POST", hook.path)
