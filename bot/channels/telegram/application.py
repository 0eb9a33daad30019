"""The Telegram channel's application: PTB updates in, handler replies out.

It turns an Update into an `Incoming`, calls the transport-agnostic router, and renders
each `Outgoing` of the reply with `render` (the renderer the outbox uses too).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.files import TelegramFiles
from bot.channels.telegram.render import CHANNEL, LIMITS, Call, render
from bot.redact import protect
from handlers.router import handle
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


async def _now(call: Call, first: bool) -> Message | bool:
    return await call()


async def deliver(app: Application, chat_id: str, reply: Reply,  # type: ignore[type-arg]
                  lang: str = "vi") -> None:
    for out in reply.messages:
        try:
            services: Services = app.bot_data["services"]
            await render(app.bot, chat_id, out, services.media, _now)
        except Forbidden:
            raise
        except TelegramError as exc:
            # The answer is already stored; tell the user rather than go silent.
            log.warning("could not deliver a reply to %s: %s", chat_id, exc)
            with contextlib.suppress(TelegramError):
                await app.bot.send_message(chat_id, services.t("error_generic", lang),
                                           parse_mode=ParseMode.HTML)
            return


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Services = context.application.bot_data["services"]
    inc = to_incoming(update)
    if inc is None:
        return
    reply = await handle(services, inc)
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(reply.toast)
        except TelegramError as exc:  # an old query cannot be answered; not worth failing
            log.info("answerCallbackQuery failed: %s", exc)
    try:
        await deliver(context.application, inc.chat_id, reply, services.settings.ward.language)
    except Forbidden:
        log.info("user %s has blocked the bot", inc.user_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("unhandled error in the Telegram channel", exc_info=context.error)


def build_application(services: Services, token: str,
                      base_url: str | None = None) -> Application:  # type: ignore[type-arg]
    base = base_url or api_base_url()
    protect(token)
    app = (Application.builder().token(token).base_url(base)
           .base_file_url(file_base_url(base)).build())
    app.bot_data["services"] = services
    # One handler for everything: the router decides, so typed answers and buttons
    # follow the same path on every channel.
    app.add_handler(CallbackQueryHandler(on_update))
    # Edited messages too: the router answers them with a hint, never as an answer.
    app.add_handler(MessageHandler(filters.ALL, on_update))
    app.add_error_handler(on_error)
    return app


@asynccontextmanager
async def started(services: Services, token: str,
                  base_url: str | None = None) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The application initialised (getMe) and processing its update queue."""
    quiet_http_logs()
    app = build_application(services, token, base_url)
    await app.initialize()
    services.fetchers[CHANNEL] = TelegramFiles(app)
    services.limits[CHANNEL] = LIMITS
    if services.bot_username is None:
        services.bot_username = app.bot.username
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def polling(services: Services, token: str, base_url: str | None = None,
                  poll_timeout: int = 10) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run the bot with long polling for the duration of the block."""
    async with started(services, token, base_url) as app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
