"""Zalo updates into the inbox, then through the dispatcher with numbered menus read.

Zalo's `getUpdates` returns one update per call and has no offset to confirm with: an
update handed out is gone from Zalo. So each one is committed to the inbox the moment
it arrives, keyed `event_name:message_id` (webhook pushes repeated by Zalo, or a poll
and a push of the same message, are stored once). What cannot be stored for a
database outage is lost to Zalo's side; the chat is told to send it again.

A typed line is matched against the chat's last numbered menu (`models.channel_menus`)
when the dispatcher handles it — in order per chat, after the previous reply and its
menu were committed — and never at intake, where a menu could still be stale. The
reply's menu is saved in the handler's own transaction, with the inbox row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.console import choose
from bot.channels.zalo.client import ZaloApi, ZaloError
from bot.channels.zalo.render import CHANNEL, flat
from bot.inbox import Dispatcher, InboxChannel, wall_clock
from handlers.router import Within, handle
from models.channel_menus import load_menu, save_menu
from models.db import is_outage
from models.inbox_ops import NewUpdate, store
from reporting.messages import Incoming, Option, Reply, parse_command
from reporting.services import Services

log = logging.getLogger(__name__)

TEXT = "message.text.received"
IMAGE = "message.image.received"
# Stickers and "unsupported" messages (what Zalo sends for users with protected
# profiles) carry nothing the bot can read: they are ignored, as Telegram's stickers are.
MAX_PAUSE = 5.0


def unwrap(body: object) -> dict[str, Any] | None:
    """The update in a body: wrapped `{ok, result: {...}}` or bare `{event_name, message}`."""
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("event_name"), str) \
            and isinstance(body.get("message"), dict):
        return body
    return None


def update_key(update: dict[str, Any]) -> str | None:
    message_id = update["message"].get("message_id")
    if message_id in (None, ""):
        return None
    return f"{update['event_name']}:{message_id}"[:128]


def parse(raw: dict[str, Any]) -> Incoming | None:
    """A stored update → `Incoming`; None for what the bot does not answer."""
    event, message = raw.get("event_name"), raw.get("message")
    if event not in (TEXT, IMAGE) or not isinstance(message, dict):
        return None
    sender, chat = message.get("from") or {}, message.get("chat") or {}
    if not isinstance(sender, dict) or not isinstance(chat, dict) or sender.get("is_bot"):
        return None
    if sender.get("id") in (None, "") or chat.get("id") in (None, ""):
        return None
    text = message.get("text") if event == TEXT else message.get("caption")
    text = text if isinstance(text, str) else None
    photos: tuple[str, ...] = ()
    if event == IMAGE:
        url = message.get("photo_url") or message.get("photo")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return None
        photos = (url,)
    command, args = parse_command(text)
    return Incoming(channel=CHANNEL, chat_id=str(chat["id"]), user_id=str(sender["id"]),
                    display_name=str(sender.get("display_name") or ""), text=text,
                    command=command, args=args, photos=photos,
                    message_id=str(message.get("message_id")),
                    private=str(chat.get("chat_type") or "PRIVATE").upper() != "GROUP")


def readable(body: object) -> NewUpdate | None:
    """The inbox row for a body; None (and one log line) if it is no update to answer."""
    update = unwrap(body)
    if update is None:
        log.warning("zalo: ignored a body that is not an update (%s)", type(body).__name__)
        return None
    key = update_key(update)
    try:
        inc = parse(update)
    except Exception as exc:
        log.warning("zalo: ignored a malformed update (%s)", type(exc).__name__)
        return None
    if key is None or inc is None:
        if update.get("event_name") not in (TEXT, IMAGE):
            log.info("zalo: %s is not answered", update.get("event_name"))
        return None
    return NewUpdate(key, inc.chat_id, json.dumps(update, ensure_ascii=False))


async def store_update(services: Services, body: object) -> int:
    """Commit one update to the inbox; 1 if new, 0 if a repeat or nothing to answer."""
    row = readable(body)
    if row is None:
        return 0
    async with services.sessions() as session, session.begin():
        return await store(session, CHANNEL, [row], wall_clock())


def with_menus(services: Services) -> Any:
    """`handle`, reading a typed number or label against the chat's last menu, and
    saving the reply's menu in the handler's transaction."""

    async def handler(app: Services, inc: Incoming, within: Within | None) -> Reply:
        inc = await pick(app, inc)

        async def also_menu(session: AsyncSession, reply: Reply) -> None:
            await remember(session, inc.chat_id, reply, wall_clock())
            if within is not None:
                await within(session, reply)

        return await handle(app, inc, also_menu)

    return handler


async def pick(services: Services, inc: Incoming) -> Incoming:
    """The update as the option it chooses, if the typed line chooses one."""
    if inc.text is None or inc.command is not None or inc.photos:
        return inc
    async with services.sessions() as session:
        pairs, expects = await load_menu(session, CHANNEL, inc.chat_id)
    options = [Option(label, data) for label, data in pairs]
    # A label is matched by its end ("đạt" picks "✅ Đạt"): only a line no longer than
    # the longest label is tried, so a typed note ending in "bỏ qua" stays a note.
    longest = max((len(o.label) for o in options), default=0)
    if inc.text.strip().isdigit() or len(inc.text.strip()) <= longest:
        chosen = choose(inc.text, options, expects) if options else None
    else:
        chosen = None
    if chosen is None:
        return inc
    return replace(inc, text=None, callback=chosen.data)


async def remember(session: AsyncSession, chat_id: str, reply: Reply, now: datetime) -> None:
    """The reply's last menu becomes the chat's; a reply without one clears it."""
    last = next((o for o in reversed(reply.messages) if o.options), None)
    if reply.messages and last is None:
        await save_menu(session, CHANNEL, chat_id, [], None, now)
    elif last is not None:
        await save_menu(session, CHANNEL, chat_id,
                        [(o.label, o.data) for o in flat(last.options)], last.expects, now)


def inbox_dispatcher(services: Services, channel: InboxChannel, lease: float) -> Dispatcher:
    """The inbox dispatcher, keeping each chat's numbered menu with its handling."""
    return Dispatcher(services, channel, lease=lease, handler=with_menus(services))


async def poll(api: ZaloApi, services: Services, dispatcher: Dispatcher, wait: int) -> None:
    """Long polling, one update a call, each committed before the next call.

    An update Zalo has handed out is not handed out again: while the database is
    away, the one in hand is kept here and stored as soon as it is back (the chat is
    told once that it waits), and no new one is asked for meanwhile.
    """
    pause = 0.5
    pending: dict[str, Any] | None = None
    while True:
        try:
            if pending is None:
                pending = await api.get_update(wait)
                if pending is None:
                    continue
            if await store_update(services, pending):
                dispatcher.nudge()
            pending = None
        except ZaloError as exc:
            if exc.code == 401:
                raise
            if exc.code == 429:
                await asyncio.sleep(exc.retry_after or MAX_PAUSE)
                continue
            log.warning("zalo: polling failed (%s); retrying in %.1f s", exc, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
            continue
        except Exception as exc:  # the loop must outlive any one failure
            outage = is_outage(exc)
            log.log(logging.WARNING if outage else logging.ERROR,
                    "zalo: polling failed (%s: %s); retrying in %.1f s",
                    type(exc).__name__, exc, pause, exc_info=not outage)
            if outage and pending is not None:
                await tell_waiting(dispatcher, pending)
            elif pending is not None:  # not an outage: storing it again would fail again
                log.error("zalo: dropped an update that could not be stored")
                pending = None
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
            continue
        pause = 0.5


async def tell_waiting(dispatcher: Dispatcher, body: object) -> None:
    update = unwrap(body)
    if update is None:
        return
    try:
        await dispatcher.tell_waiting(update, parse(update))
    except Exception as exc:
        log.info("zalo: could not tell a chat to wait (%s)", type(exc).__name__)
