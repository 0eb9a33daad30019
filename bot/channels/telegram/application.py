"""The Telegram channel's application: the Bot, updates read, replies rendered.

Updates reach the handlers through the inbox (`bot.inbox`, fed by `intake`): this module
gives the dispatcher `parse` (a stored update → `Incoming`) and `replier` (a `Reply` →
Bot API calls, each `Outgoing` rendered by `render`, the renderer the outbox uses too).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import httpx
from telegram import Bot, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.render import CHANNEL, LIMITS, render
from bot.channels.telegram.reply_pace import ReplyPace
from bot.inbox import InboxChannel
from bot.redact import protect
from bot.telemetry import of
from reporting.messages import Incoming, Reply, parse_command
from reporting.services import Services

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.telegram.org/bot"


def api_base_url(configured: str | None = None) -> str:
    # TELEGRAM_API_BASE_URL is read once by bot.settings and passed in as `configured`.
    return configured or DEFAULT_API


def file_base_url(base_url: str) -> str:
    """`https://host/bot` → `https://host/file/bot` (where Bot API files are served)."""
    root, sep, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{root}/file/bot" if sep else base_url.rstrip("/") + "/file/bot"


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def to_incoming(update: Update) -> Incoming | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    base = Incoming(channel=CHANNEL, chat_id=str(chat.id), user_id=str(user.id),
                    display_name=user.full_name, language=user.language_code,
                    private=chat.type == ChatType.PRIVATE)
    query = update.callback_query
    if query is not None:
        msg_id = str(query.message.message_id) if query.message else None
        return replace(base, callback=query.data or "", message_id=msg_id)
    message = update.effective_message
    if message is None:
        return None
    text = message.text if message.text is not None else message.caption
    photos = (message.photo[-1].file_id,) if message.photo else ()
    command, args = parse_command(text)
    return replace(base, text=text, command=command, args=args, photos=photos,
                   message_id=str(message.message_id),
                   edited=update.edited_message is not None)


async def deliver(app: Application, chat_id: str, reply: Reply,  # type: ignore[type-arg]
                  lang: str = "vi") -> None:
    """Send the reply's messages in order, paced for the chat (see `ReplyPace`).

    Returns once every part went or the rest was given up (one log line): the inbox
    marks the reply sent only then, so a crash in between sends it again."""
    services: Services = app.bot_data["services"]
    pace = ReplyPace(1.0 / services.settings.delivery.private_per_second)
    for i, out in enumerate(reply.messages):
        try:
            await render(app.bot, chat_id, out, services.media, pace)
            of(services).called(CHANNEL)
        except Forbidden:
            raise
        except RetryAfter as exc:
            # Flooded even after waiting: an apology would draw the same 429.
            log.warning("reply to %s: still 429 after retries (%s); its last %d of %d "
                        "messages not sent", chat_id, exc, len(reply.messages) - i,
                        len(reply.messages))
            return
        except TelegramError as exc:
            # The answer is already stored; tell the user rather than go silent.
            log.warning("could not deliver a reply to %s: %s", chat_id, exc)
            with contextlib.suppress(TelegramError):
                await pace(partial(app.bot.send_message, chat_id,
                                   services.t("error_generic", lang),
                                   parse_mode=ParseMode.HTML))
            return


def parse(bot: Bot) -> Callable[[dict[str, Any]], Incoming | None]:
    """A stored update → `Incoming` (None for what the bot does not answer)."""

    def read(raw: dict[str, Any]) -> Incoming | None:
        update = Update.de_json(raw, bot)
        if update is None or (update.callback_query is None and update.message is None
                              and update.edited_message is None):
            # channel posts, member changes…: nothing to answer. An edited message is
            # answered with a hint (never taken as an answer: see the router).
            return None
        return to_incoming(update)

    return read


def replier(app: Application) -> Callable[[dict[str, Any], Incoming, Reply],  # type: ignore[type-arg]
                                          Awaitable[None]]:
    """How a reply goes out: the pressed button answered (its toast), then the messages."""
    services: Services = app.bot_data["services"]

    async def send(raw: dict[str, Any], inc: Incoming, reply: Reply) -> None:
        query = raw.get("callback_query")
        if isinstance(query, dict) and query.get("id"):
            try:
                await app.bot.answer_callback_query(str(query["id"]), reply.toast)
            except TelegramError as exc:  # an old query cannot be answered; not worth failing
                log.info("answerCallbackQuery failed: %s", exc)
        try:
            await deliver(app, inc.chat_id, reply, services.settings.ward.language)
        except Forbidden:
            log.info("user %s has blocked the bot", inc.user_id)

    return send


def inbox_channel(app: Application) -> InboxChannel:  # type: ignore[type-arg]
    return InboxChannel(CHANNEL, parse(app.bot), replier(app))


def build_application(services: Services, token: str,
                      base_url: str | None = None) -> Application:  # type: ignore[type-arg]
    base = base_url or api_base_url()
    protect(token)
    # PTB's builder makes two HTTP clients (getUpdates, and every other call), each
    # loading the CA bundle into a TLS context of its own: 20 ms or more of start-up
    # apiece. One context serves both; the rest is PTB's defaults (256 connections for
    # calls, one for getUpdates). httpx's own helper, so SSL_CERT_FILE still applies.
    tls = httpx.create_ssl_context()
    app = (Application.builder().token(token).base_url(base)
           .base_file_url(file_base_url(base))
           .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": tls}))
           .get_updates_request(HTTPXRequest(connection_pool_size=1,
                                             httpx_kwargs={"verify": tls}))
           .build())
    app.bot_data["services"] = services
    # No PTB handlers: updates come through our inbox (`bot.inbox`), not PTB's queue.
    return app


@asynccontextmanager
async def started(services: Services, token: str,
                  base_url: str | None = None) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The application initialised (getMe); updates are fetched and handled by the caller."""
    quiet_http_logs()
    app = build_application(services, token, base_url)
    await app.initialize()
    of(services).called(CHANNEL)  # getMe answered
    services.fetchers[CHANNEL] = TelegramFiles(app)
    services.limits[CHANNEL] = LIMITS
    if services.bot_username is None:
        services.bot_username = app.bot.username
    try:
        yield app
    finally:
        await app.shutdown()
