"""The Telegram channel as the rest of the bot sees it: one object, no PTB types.

`serve` runs the application (long polling, or a webhook) for a block and yields the
transport the outbox sender uses on the same Bot; `sender_transport` is a Bot of its
own for a sender-only process. Failures while starting become one-line errors whose
text never holds the token: a rejected token or setting `ChannelAuthError`, a network
error or timeout `ChannelUnreachable` (the composition root retries that one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError

from bot.channels.base import ChannelAuthError, ChannelLimits, ChannelUnreachable
from bot.channels.telegram.application import api_base_url, quiet_http_logs
from bot.channels.telegram.intake import polling
from bot.channels.telegram.render import CHANNEL, LIMITS
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.channels.telegram.webhook import WebhookSettings, webhook
from bot.http import HttpServer
from bot.redact import protect, redact
from bot.telemetry import of
from reporting.services import Services

REJECTED = "Telegram rejected TELEGRAM_BOT_TOKEN (or TELEGRAM_API_BASE_URL is wrong)."


def start_error(exc: InvalidToken | NetworkError, base_url: str) -> Exception:
    """A PTB error met while starting → the channel error the CLI prints as one line."""
    if isinstance(exc, InvalidToken):
        return ChannelAuthError(REJECTED)
    if isinstance(exc, BadRequest):  # a NetworkError subclass, but retrying cannot help
        return ChannelAuthError(f"Telegram refused to start the bot: {redact(exc.message)}")
    host = urlsplit(base_url).netloc or base_url.split("/bot", 1)[0]
    return ChannelUnreachable(f"Telegram Bot API at {host} cannot be reached: "
                              f"{type(exc).__name__}: {redact(exc.message)}")


class TelegramChannel:
    """Implements `bot.channels.base.Channel` for Telegram."""

    name: str = CHANNEL
    limits: ChannelLimits = LIMITS

    def __init__(self, token: str, base_url: str | None = None, *,
                 hook: WebhookSettings | None = None, poll_timeout: int = 10,
                 server: HttpServer | None = None) -> None:
        protect(token)
        self._token = token
        self._base_url = base_url or api_base_url()
        self._hook = hook
        self._server = server  # the process's HTTP server, where the webhook route goes
        self._poll_timeout = poll_timeout

    @asynccontextmanager
    async def serve(self, services: Services) -> AsyncIterator[TelegramTransport]:
        """Receive updates (and answer them) for the block; yield the outbox's transport."""
        running = False
        try:
            runner = (webhook(services, self._token, self._hook, self._base_url,
                              self._server)
                      if self._hook is not None else
                      polling(services, self._token, self._base_url, self._poll_timeout))
            async with runner as app:
                running = True
                yield TelegramTransport(app.bot, services.media, of(services))
        except (InvalidToken, NetworkError) as exc:
            if running and not isinstance(exc, InvalidToken):
                raise  # a failure while serving is not a failure to start
            raise start_error(exc, self._base_url) from None

    @asynccontextmanager
    async def sender_transport(self, services: Services,
                               api_timeout: float = 10.0) -> AsyncIterator[TelegramTransport]:
        quiet_http_logs()
        running = False
        try:
            async with telegram_bot(self._token, self._base_url, timeout=api_timeout) as bot:
                running = True
                yield TelegramTransport(bot, services.media, of(services))
        except (InvalidToken, NetworkError) as exc:
            if running and not isinstance(exc, InvalidToken):
                raise
            raise start_error(exc, self._base_url) from None

    async def username(self) -> str:
        """The bot's @username (one getMe call)."""
        quiet_http_logs()
        try:
            async with Bot(self._token, base_url=self._base_url) as bot:
                return bot.username
        except (InvalidToken, NetworkError) as exc:
            raise start_error(exc, self._base_url) from None
