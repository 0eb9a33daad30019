"""The sending pace that every instance shares, kept in PostgreSQL (`models.allowance`).

Telegram counts 30 messages a second per bot, whatever number of processes send them.
With one `RateLimiter` per process, N webhook instances sent N × 30/s and drew 429s
unless someone set 30/N by hand — and then one instance alone sent at a crawl. Here
every sender books its slots from one row per channel, so the instances together keep
to `overall_per_second × allowance_fraction`, and one alone gets all of it.

A send costs up to four short statements: hold the chat, book a slot, (after a wait)
check that no 429 paused everyone meanwhile, free the chat. At 30 sends a second that
is ~120 small statements a second, nothing for PostgreSQL; SQLite (one process) keeps
the in-memory limiter, which costs none.

The limit of the guarantee: a sender that finished its wait just before another
instance's 429 was recorded still sends — one message per sender at most, in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.limits import SENDS, SendBook, Sleep, is_group
from models.allowance import free_chat, hold_chat, pause, paused_for, prune_chats, take_slot
from models.db import Sessions
from reporting.runtime_config import ChannelPace

log = logging.getLogger(__name__)

T = TypeVar("T")

# A held chat is looked at again at least this often: its holder frees it a chat
# interval after its send, long before its hold (meant for a sender that died) ends.
MAX_POLL = 1.0
PRUNE_EVERY = 600.0  # seconds between clean-ups of chats long free
PRUNE_AGE = 3600.0  # a chat free for an hour constrains nothing


def shares_allowance(sessions: Sessions) -> bool:
    """PostgreSQL: instances may be several, so they pace themselves together."""
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"


class SharedLimiter:
    """A `bot.limits.Pacer` over the database: one pace for all instances on `channel`."""

    def __init__(self, sessions: Sessions, channel: str, pace: ChannelPace, *,
                 fraction: float, hold: float, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 book: SendBook = SENDS) -> None:
        self._sessions = sessions
        self.channel = channel
        # Evenly spaced slots below the limit: see `Delivery.allowance_fraction`.
        self.slot = 1.0 / (pace.overall_per_second * fraction)
        self._private = 1.0 / pace.private_per_second
        self._group = 60.0 / pace.group_per_minute
        self._hold = hold
        self._sleep = sleep
        self._clock = clock
        self._flooded: dict[str, float] = {}  # chat -> a 429's retry_after, until freed
        self._book = book  # this process's sends, replies included (`bot.limits.SENDS`)
        self._pruned_at = clock()

    def interval(self, chat_id: str | int) -> float:
        return self._group if is_group(chat_id) else self._private

    async def _run(self, statement: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self._sessions() as session, session.begin():
            return await statement(session)

    async def acquire(self, chat_id: str | int) -> None:
        """Hold the chat, then book a slot of the channel and wait for it.

        The chat first: a slot booked for a chat that must wait anyway would hold every
        other chat back behind it (as in `RateLimiter.acquire`).
        """
        key = str(chat_id)
        while (busy := await self._run(
                lambda s: hold_chat(s, self.channel, key, self._hold))) > 0:
            await self._sleep(min(busy, MAX_POLL))
        while True:
            wait = await self._run(lambda s: take_slot(s, self.channel, self.slot))
            if wait <= 0:
                break
            await self._sleep(wait)
            # A 429 to another sender while we waited voids our slot: book again (after
            # the pause, since the pause moved the next free slot past it).
            if await self._run(lambda s: paused_for(s, self.channel)) <= 0:
                break
        await self._maybe_prune()

    async def release(self, chat_id: str | int) -> None:
        key = str(chat_id)
        self._book.note(key)
        gap = max(self.interval(key), self._flooded.pop(key, 0.0))
        try:
            await self._run(lambda s: free_chat(s, self.channel, key, gap))
        except Exception:  # the result of the send must still be recorded
            log.exception("send allowance: could not free chat %s (free again after "
                          "its hold)", key)

    async def flood(self, seconds: float, chat_id: str | int) -> None:
        """The chat waits `seconds` once released; every sender on the channel too,
        unless this process sent to the chat less than its interval ago (a reply, say):
        then the 429 was the chat's own limit, and the others need not wait."""
        key = str(chat_id)
        self._flooded[key] = seconds
        last = self._book.last(key)
        if last is not None and self._clock() - last < self.interval(key):
            return
        try:
            await self._run(lambda s: pause(s, self.channel, seconds))
        except Exception:  # the row is retried after `seconds` all the same
            log.exception("send allowance: could not pause %s for every sender",
                          self.channel)

    async def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            await self._run(lambda s: prune_chats(s, PRUNE_AGE))
        except Exception:  # housekeeping: the send matters more
            log.exception("send allowance: pruning old chat slots failed")
