"""The outbox sender's way out on Telegram: rendering paced, errors → `DeliveryError`.

Error mapping (what retrying can and cannot fix):
* 429 `RetryAfter` → wait `retry_after`, not counted as an attempt;
* 403 `Forbidden` (blocked, deactivated, kicked) and "chat not found" → permanent, and the
  member is unreachable;
* other 400 `BadRequest` (unparsable HTML, bad file id…) → permanent: the same request
  would fail again;
* `TimedOut`, `NetworkError` (PTB's mapping for 5xx and connection errors) → retry with
  backoff.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.channels.base import DeliveryError, Pace
from bot.channels.telegram.application import api_base_url, file_base_url
from bot.channels.telegram.render import CHANNEL, Call, render, retry_seconds
from bot.redact import protect
from bot.telemetry import Telemetry
from reporting.messages import Outgoing

# "chat not found" is Telegram's usual wording; the others are what it says for ids
# that never were (or are no longer) a chat the bot can write to.
_UNREACHABLE = ("chat not found", "user not found", "peer_id_invalid", "bot was kicked",
                "user is deactivated", "bot can't initiate conversation")
_PART_RETRIES = 3


def telegram_bot(token: str, base_url: str | None = None, *, timeout: float = 10.0,
                 pool_size: int = 32) -> Bot:
    """A Bot for the sender: short timeouts, so a hung call surfaces as a retryable
    error well within the outbox's sending timeout (PTB itself never retries a call)."""
    protect(token)
    base = base_url or api_base_url()
    request = HTTPXRequest(connection_pool_size=pool_size, connect_timeout=timeout,
                           read_timeout=timeout, write_timeout=timeout,
                           pool_timeout=timeout, media_write_timeout=3 * timeout)
    return Bot(token, base_url=base, base_file_url=file_base_url(base), request=request)


def to_delivery_error(exc: TelegramError) -> DeliveryError:
    text = f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, RetryAfter):
        return DeliveryError(text, retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):
        return DeliveryError(text, unreachable=True)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        lower = exc.message.lower()
        return DeliveryError(text, permanent=True,
                             unreachable=any(s in lower for s in _UNREACHABLE))
    if isinstance(exc, ChatMigrated):  # a group became a supergroup: the id is stale
        return DeliveryError(f"{text} (new chat id {exc.new_chat_id})", permanent=True)
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx
        return DeliveryError(text)
    return DeliveryError(text)  # unknown: retry, and give up after max_attempts


class TelegramTransport:
    """Sends outbox rows with `render` (the same renderer as replies), pacing each call."""

    def __init__(self, bot: Bot, media_dir: Path, telemetry: Telemetry | None = None) -> None:
        self._bot = bot
        self._media = media_dir
        self._telemetry = telemetry  # told of each send that went through (/healthz)

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        try:
            message_id = await render(self._bot, chat_id, out, self._media, partial(_call, pace))
        except TelegramError as exc:
            raise to_delivery_error(exc) from exc
        if message_id is None:
            raise DeliveryError("empty message (no text, no attachment)", permanent=True)
        if self._telemetry is not None:
            self._telemetry.called(CHANNEL)
        return message_id


async def _call(pace: Pace, call: Call, first: bool) -> Message | bool:
    """One API call. After the first part is out, a 429 is waited out here: giving
    the row back for a retry would send the earlier parts twice."""
    for attempt in range(_PART_RETRIES):
        await pace()
        try:
            return await call()
        except RetryAfter as exc:
            if first or attempt == _PART_RETRIES - 1:
                raise
            await asyncio.sleep(retry_seconds(exc))
    raise AssertionError("unreachable")
