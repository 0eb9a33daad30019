"""The Telegram channel as the rest of the bot sees it: one object, no PTB types.

`serve` runs the application (long polling, or a webhook) for a block and yields the
transport the outbox sender uses on the same Bot; `sender_transport` is a Bot of its
own for a sender-only process. A rejected token becomes `ChannelAuthError`, whose text
never holds the token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot
from telegram.error import InvalidToken

from bot.channels.base import ChannelAuthError, ChannelLimits
from bot.channels.telegram.application import api_base_url, quiet_http_logs
from bot.channels.telegram.intake import polling
from bot.channels.telegram.render import CHANNEL, LIMITS
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.channels.telegram.webhook import WebhookSettings, webhook
from bot.redact import protect
from reporting.services import Services

REJECTED = "Telegram rejected TELEGRAM_BOT_TOKEN (or TELEGRAM_API_BASE_URL is wrong)."


class TelegramChannel:
    """Implements `bot.channels.base.Channel` for Telegram."""

    name: str = CHANNEL
    limits: ChannelLimits = LIMITS

    def __init__(self, token: str, base_url: str | None = None, *,
                 hook: WebhookSettings | None = None, poll_timeout: int = 10) -> None:
        protect(token)
        self._token = token
        self._base_url = base_url or api_base_url()
        self._hook = hook
        self._poll_timeout = poll_timeout

    @asynccontextmanager
    async def serve(self, services: Services) -> AsyncIterator[TelegramTransport]:
        """Receive updates (and answer them) for the block; yield the outbox's transport."""
        try:
            runner = (webhook(services, self._token, self._hook, self._base_url)
                      if self._hook is not None else
                      polling(services, self._token, self._base_url, self._poll_timeout))
            async with runner as app:
                yield TelegramTransport(app.bot, services.media)
        except InvalidToken:
            raise ChannelAuthError(REJECTED) from None

    @asynccontextmanager
    async def sender_transport(self, services: Services,
                               api_timeout: float = 10.0) -> AsyncIterator[TelegramTransport]:
        quiet_http_logs()
        async with telegram_bot(self._token, self._base_url, timeout=api_timeout) as bot:
            yield TelegramTransport(bot, services.media)

    async def username(self) -> str:
        """The bot's @username (one getMe call)."""
        quiet_http_logs()
        try:
            async with Bot(self._token, base_url=self._base_url) as bot:
                return bot.username
        except InvalidToken:
            raise ChannelAuthError(REJECTED) from None
