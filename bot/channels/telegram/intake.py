"""Telegram updates into the inbox, stored before they are confirmed; then dispatched.

Telegram forgets an update once we confirm it: by asking `getUpdates` for a later
offset (polling) or by answering its POST with 2xx (webhook). PTB's Updater confirms on
its next poll, before our handler has committed, so a crash in between lost the update.
Here a batch is committed to the inbox first and only then is the next offset asked
for; the webhook route commits, then answers. Anything that cannot be an update is
logged and confirmed: refusing it would have Telegram send it again forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from telegram import Bot
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.channels.telegram.application import inbox_channel, started
from bot.channels.telegram.render import CHANNEL, retry_seconds
from bot.inbox import Dispatcher, wall_clock
from bot.telemetry import of
from models.db import is_outage, one_statement
from models.inbox_ops import NewUpdate, store, store_claimed
from reporting.messages import Incoming
from reporting.services import Services

log = logging.getLogger(__name__)

Parse = Callable[[dict[str, Any]], Incoming | None]

# Between failed polls: short enough that a database back from an outage is noticed
# within seconds (the updates wait at Telegram meanwhile), long enough not to spin.
MAX_PAUSE = 5.0


def readable(raw: object, parse: Parse) -> NewUpdate | None:
    """The row to store for one update; None (and one log line) if it is not one."""
    found = _read(raw, parse)
    return found[0] if found is not None else None


def _read(raw: object, parse: Parse) -> tuple[NewUpdate, dict[str, Any], Incoming] | None:
    """`readable`, with the update as read (kept for the dispatcher: parsed once)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
        log.warning("telegram: ignored a body that is not an update (%s)", type(raw).__name__)
        return None
    try:
        inc = parse(raw)
    except Exception as exc:
        log.warning("telegram: ignored malformed update %s (%s)", raw["update_id"],
                    type(exc).__name__)
        return None
    if inc is None:
        return None  # nothing the bot answers (an edit, a channel post…)
    row = NewUpdate(str(raw["update_id"]), inc.chat_id, json.dumps(raw, ensure_ascii=False))
    return row, raw, inc


async def store_updates(services: Services, raws: list[Any], parse: Parse) -> int:
    """Commit the updates worth handling to the inbox (repeats are skipped)."""
    rows = [row for row in (readable(raw, parse) for raw in raws) if row is not None]
    if not rows:
        return 0
    async with services.sessions() as session, session.begin():
        return await store(session, CHANNEL, rows, wall_clock())


async def store_and_hand_over(services: Services, raws: list[Any],
                              dispatcher: Dispatcher) -> int:
    """`store_updates`, the new rows claimed for `dispatcher` and handed to it after the
    commit: it handles them without reading them back from the table."""
    found = [f for f in (_read(raw, dispatcher.parse) for raw in raws) if f is not None]
    if not found:
        return 0
    async with one_statement(services.sessions) as session:
        stored = await store_claimed(session, CHANNEL, [row for row, _, _ in found],
                                     wall_clock(), dispatcher.worker)
    # The rows come back with the payload stored (the very string): their reading
    # goes with them, so PTB parses each update once, not again to handle it.
    read = {row.payload: (raw, inc) for row, raw, inc in found}
    dispatcher.nudge([replace(c, read=read.get(c.payload)) for c in stored])
    return len(stored)


async def tell_waiting(dispatcher: Dispatcher, raws: list[Any]) -> None:
    """Updates that could not be stored: their chats hear once that they will be handled."""
    for raw in raws:
        if isinstance(raw, dict):
            with contextlib.suppress(Exception):
                await dispatcher.tell_waiting(raw, dispatcher.parse(raw))


async def _get_updates(bot: Bot, offset: int, wait: int) -> list[Any]:
    # Raw JSON, not PTB's Update objects: one unreadable update must not stop the batch.
    with warnings.catch_warnings():  # PTB suggests bot.get_updates, which parses
        warnings.simplefilter("ignore")
        result = await bot.do_api_request(
            "getUpdates", {"offset": offset, "timeout": wait, "limit": 100},
            read_timeout=wait + 10)
    return result if isinstance(result, list) else []


async def poll(bot: Bot, services: Services, dispatcher: Dispatcher, wait: int) -> None:
    """Long polling: store each batch, commit, then confirm it by asking for the next."""
    offset, pause = 0, 0.5
    telemetry = of(services)
    while True:
        try:
            batch: list[Any] = []  # a failed store tells these chats to wait
            batch = await _get_updates(bot, offset, wait)
            telemetry.called(CHANNEL)
            await store_and_hand_over(services, batch, dispatcher)
        except InvalidToken:
            raise
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc))
            continue
        except Exception as exc:  # the loop must outlive any one failure
            expected = isinstance(exc, TelegramError) or is_outage(exc)
            level = logging.WARNING if expected and not isinstance(exc, Conflict) \
                else logging.ERROR
            log.log(level, "telegram: polling failed (%s: %s); retrying in %.1f s",
                    type(exc).__name__, exc, pause, exc_info=not expected)
            if is_outage(exc):  # not stored, so not confirmed: Telegram keeps them
                await tell_waiting(dispatcher, batch)
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)
            continue
        pause = 0.5
        ids = [u["update_id"] for u in batch
               if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if ids:
            offset = max(ids) + 1  # asked for on the next call: that confirms this batch


def inbox_dispatcher(services: Services, app: Application,  # type: ignore[type-arg]
                     lease: float) -> Dispatcher:
    return Dispatcher(services, inbox_channel(app), lease=lease)


@asynccontextmanager
async def polling(services: Services, token: str, base_url: str | None = None,
                  poll_timeout: int = 10) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Run the bot with long polling for the duration of the block."""
    async with started(services, token, base_url) as app:
        await app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        # One poller per bot (Telegram's rule): no other instance holds claims to respect.
        async with inbox_dispatcher(services, app, lease=0.0).running() as inbox:
            poller = asyncio.create_task(poll(app.bot, services, inbox, poll_timeout))
            try:
                yield app
            finally:
                # Cancelling the long poll loses nothing: what it had not stored is
                # not confirmed, and Telegram sends it again to the next start.
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
