"""The sender's own flood limits: overall, per private chat, per group chat.

Telegram answers bursts with 429 and a `retry_after` that can grow to minutes; PTB's
AIORateLimiter only knows the overall and group limits. So the sender paces itself:
before each API call it takes the next slot that is free both overall and for the chat.

Slots are spaced evenly (no bursts): 30/s overall means one send every 33 ms. That
stays inside any token bucket of the same rate, whatever its burst size. Waiting is
reservation-based — a caller books its slot, then sleeps until it — so concurrent
callers never need a lock and never get the same slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from reporting.runtime_config import ChannelPace, Delivery

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def is_group(chat_id: str | int) -> bool:
    """Telegram group and channel ids are negative; users' private chats positive."""
    try:
        return int(chat_id) < 0
    except (TypeError, ValueError):  # another channel's ids: treat as a person
        return False


class Pacer(Protocol):
    """What the outbox sender paces itself with: this process's `RateLimiter`, or the
    allowance every instance shares (`bot.allowance.SharedLimiter`, on PostgreSQL)."""

    def interval(self, chat_id: str | int) -> float:
        """Seconds between two sends to `chat_id`."""
        ...

    async def acquire(self, chat_id: str | int) -> None:
        """Wait until a send to `chat_id` is allowed, and book it."""
        ...

    async def release(self, chat_id: str | int) -> None:
        """The send to `chat_id` finished (or failed): its next one is an interval away."""
        ...

    async def flood(self, seconds: float, chat_id: str | int) -> None:
        """A 429: nothing at all, and nothing to `chat_id`, for `seconds`."""
        ...


class RateLimiter:
    """`await acquire(chat_id)` before each send; `done(chat_id)` once it finished."""

    def __init__(self, overall_per_second: float, private_per_second: float,
                 group_per_minute: float, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep, prune_above: int = 1024) -> None:
        self._overall = 1.0 / overall_per_second
        self._private = 1.0 / private_per_second
        self._group = 60.0 / group_per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_overall = float("-inf")
        # chat -> earliest start of its next send. An entry in the past constrains
        # nothing, so dropping it loses nothing: that keeps the map bounded.
        self._chats: dict[str, float] = {}
        self._prune_floor = prune_above
        self._prune_at = prune_above

    @classmethod
    def from_settings(cls, delivery: Delivery | ChannelPace, *, clock: Clock = time.monotonic,
                      sleep: Sleep = asyncio.sleep) -> RateLimiter:
        return cls(delivery.overall_per_second, delivery.private_per_second,
                   delivery.group_per_minute, clock=clock, sleep=sleep)

    def interval(self, chat_id: str | int) -> float:
        return self._group if is_group(chat_id) else self._private

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    async def acquire(self, chat_id: str | int) -> None:
        """Wait until a send to `chat_id` is allowed, and book it."""
        key = str(chat_id)
        # The chat first, then the overall slot: booking an overall slot for a chat that
        # must wait anyway would hold every other chat back behind it.
        while True:
            now = self._clock()
            free_at = self._chats.get(key, now)
            if free_at <= now:
                break
            await self._sleep(free_at - now)
        start = max(now, self._next_overall)
        self._next_overall = start + self._overall
        self._chats[key] = start + self.interval(key)
        self._prune(now)
        if start > now:
            await self._sleep(start - now)

    def done(self, chat_id: str | int) -> None:
        """The send finished: count the chat's interval from now, not from its start.

        Requests do not arrive in the order and at the spacing they left (a slow first
        part, a fast second one); measuring from completion keeps the gap Telegram sees.
        """
        key = str(chat_id)
        self._chats[key] = max(self._chats.get(key, 0.0), self._clock() + self.interval(key))

    async def release(self, chat_id: str | int) -> None:
        """`done`, as a `Pacer`."""
        self.done(chat_id)

    async def flood(self, seconds: float, chat_id: str | int) -> None:
        """`pause`, as a `Pacer`."""
        self.pause(seconds, chat_id)

    def pause(self, seconds: float, chat_id: str | int | None = None) -> None:
        """After a 429: nothing to this chat (and nothing at all) for `seconds`."""
        until = self._clock() + seconds
        self._next_overall = max(self._next_overall, until)
        if chat_id is not None:
            key = str(chat_id)
            self._chats[key] = max(self._chats.get(key, until), until)

    def _prune(self, now: float) -> None:
        if len(self._chats) <= self._prune_at:
            return
        self._chats = {k: t for k, t in self._chats.items() if t > now}
        # Re-prune only after the map doubles again: amortised O(1) per acquire even
        # when most chats are still busy.
        self._prune_at = max(self._prune_floor, 2 * len(self._chats))
