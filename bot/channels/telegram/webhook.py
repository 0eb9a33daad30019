"""`thidua run --webhook`: Telegram POSTs updates to us instead of being polled.

Several instances can sit behind one URL sharing one PostgreSQL: all state is in the
database, scheduled jobs are claimed per (job, key) and outbox rows per sender, so no
instance sends what another already did. The route checks the secret (403 if wrong or
missing), commits the update to the inbox and only then answers 200: a crash after the
answer loses nothing, and a database that cannot take the insert answers 500, so
Telegram sends the update again. A body that is no update gets 200 and a log line
(an error status would have Telegram retry it forever). Any instance's dispatcher may
handle the row; each handles it at most once (`models.inbox_ops`).

Environment: THIDUA_WEBHOOK_URL (the public https URL Telegram calls, path included),
THIDUA_WEBHOOK_SECRET (1–256 of A–Z a–z 0–9 _ -, the same on every instance),
THIDUA_HTTP_LISTEN or its older name THIDUA_WEBHOOK_LISTEN (host:port to bind, default
0.0.0.0:8080); read by `bot.settings.Environment` and checked here.

The route is mounted on the process's one HTTP server (`bot.http`), which also serves
/healthz and file links; `webhook()` without a server starts one of its own on the
configured address (tests, a webhook-only process).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.application import started
from bot.channels.telegram.intake import inbox_dispatcher, store_and_hand_over, tell_waiting
from bot.http import Handler, HttpServer, Webhook, push_receiver
from bot.inbox import Dispatcher
from bot.settings import Environment
from bot.telemetry import of
from reporting.services import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookConfigError(Exception):
    pass


class WebhookSettings(Webhook):
    @classmethod
    def from_env(cls, env: Environment) -> WebhookSettings:
        secret = env.webhook_secret.get_secret_value() if env.webhook_secret else ""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise WebhookConfigError("THIDUA_WEBHOOK_SECRET must be 1-256 characters of "
                                     "A-Z, a-z, 0-9, _ and -")
        return cls.checked(env.webhook_url or "", secret, env.http_listen,
                           url_name="THIDUA_WEBHOOK_URL", error=WebhookConfigError)


def receiver(services: Services, dispatcher: Dispatcher, secret: str) -> Handler:
    """The route Telegram POSTs to (`bot.http.push_receiver`)."""

    async def store(body: Any) -> int:
        return await store_and_hand_over(services, [body], dispatcher)

    async def waiting(body: Any) -> None:
        await tell_waiting(dispatcher, [body])

    return push_receiver(name="telegram", header=SECRET_HEADER, secret=secret, store=store,
                         # The stored row is handed over by `store`: nothing to look up.
                         waiting=waiting, nudge=lambda: None)


@asynccontextmanager
async def webhook(services: Services, token: str, config: WebhookSettings,
                  base_url: str | None = None,
                  server: HttpServer | None = None) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Serve Telegram's pushes for the duration of the block, on the process's shared
    HTTP server (`bot.http`), or on one of its own on `config`'s address."""
    async with AsyncExitStack() as stack:
        if server is None:
            server = await stack.enter_async_context(
                HttpServer(config.host, config.port).serving())
        app = await stack.enter_async_context(started(services, token, base_url))
        dispatcher = await stack.enter_async_context(
            inbox_dispatcher(services, app, lease=LEASE).running())
        await stack.enter_async_context(_serving(app, dispatcher, config, server, services))
        yield app


# Another instance's claim on a row is respected this long (it is handling it now).
LEASE = 5.0


@asynccontextmanager
async def _serving(app: Application, dispatcher: Dispatcher,  # type: ignore[type-arg]
                   config: WebhookSettings, server: HttpServer,
                   services: Services) -> AsyncIterator[None]:
    server.mount("POST", config.path, receiver(services, dispatcher, config.secret))
    try:
        # Every instance may set it: Telegram keeps one URL; setting it again is harmless.
        # Inside the try: a failed start must take the route away for the next attempt.
        await app.bot.set_webhook(config.url, secret_token=config.secret,
                                  allowed_updates=Update.ALL_TYPES)
        of(services).called("telegram")
        log.info("webhook listening on %s:%s%s", server.host, server.port, config.path)
        yield
    finally:
        # The webhook is left in place at Telegram: other instances keep serving it.
        server.unmount("POST", config.path)
