"""The sender's own flood limits: overall, per private chat, per group chat.

Telegram answers bursts with 429 and a `retry_after` that can grow to minutes; PTB's
AIORateLimiter only knows the overall and group limits. So the sender paces itself:
before each API call it takes the next slot that is free both overall and for the chat.

The overall pace is a token bucket (GCRA, reservation-based) at `fraction` of the
limit: 0.95 × 30/s is 28.5 sends a second, one every 35 ms. Its `burst` is the jitter
tolerance on our side: a sender held up for a moment (a busy event loop, a machine
under load) catches up to `burst` − 1 slots it missed instead of losing them for good,
which at burst 1 (evenly spaced) cost a loaded machine 5–10 % of its rate. What
keeps those catch-ups inside the limit is a second rule: never more than
ceil(limit) − 1 sends (29) in any one second, whatever the bucket allows — a message
of margin for network jitter, the sends Telegram receives closer together than we made
them. Over any longer window the bucket's rate holds: burst + 28.5·w at most.
Waiting is reservation-based (a caller books its slot, then sleeps until it), so
concurrent callers never need a lock and never get the same slot, and a caller that
wakes a little late does not push the slots after its own back.

A 429 concerns either one chat or everything, and Telegram does not say which. If the
chat was sent to less than its interval ago — by this process, the outbox or an
interactive reply (`SENDS`, which `bot.channels.telegram.render` notes every call in)
— it is the chat's limit: that chat waits `retry_after`, the others go on. Otherwise it
is the overall one, and everything waits `retry_after`, and no longer. The same book
keeps an outbox send to a chat an interval away from a reply just sent there.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
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


class SendBook:
    """When this process last sent something to each chat, by any path."""

    def __init__(self, clock: Clock = time.monotonic, keep: float = 120.0) -> None:
        self._clock = clock
        self._keep = keep  # older than any chat interval: says nothing any more
        self._at: dict[str, float] = {}
        self._prune_at = 1024

    def note(self, chat_id: str | int) -> None:
        now = self._clock()
        self._at[str(chat_id)] = now
        if len(self._at) > self._prune_at:
            self._at = {k: t for k, t in self._at.items() if now - t < self._keep}
            self._prune_at = max(1024, 2 * len(self._at))  # amortised O(1) per note

    def last(self, chat_id: str | int) -> float | None:
        return self._at.get(str(chat_id))

    def clear(self) -> None:
        self._at.clear()


# This process's sends on the real clock: replies and the outbox sender share it.
SENDS = SendBook()


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
                 group_per_minute: float, *, fraction: float = 1.0, burst: float = 1.0,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
                 book: SendBook | None = None, prune_above: int = 1024) -> None:
        if not 0 < fraction <= 1 or burst < 1:
            raise ValueError(f"fraction {fraction} must be in (0, 1], burst {burst} ≥ 1")
        self._overall = 1.0 / (overall_per_second * fraction)
        # GCRA's tolerance: how far ahead of the even schedule a send may go.
        self._tolerance = (burst - 1.0) * self._overall
        # The starts of the last sends, at most one second's cap of them: a message
        # below the limit (or the rate itself, if `fraction` leaves no such margin).
        cap = max(math.ceil(overall_per_second * fraction), math.ceil(overall_per_second) - 1)
        self._second: deque[float] = deque(maxlen=max(1, cap))
        self._private = 1.0 / private_per_second
        self._group = 60.0 / group_per_minute
        self._clock = clock
        self._sleep = sleep
        # The even schedule's next slot ("theoretical arrival time"); in the past when
        # idle, and then no credit beyond `burst` builds up.
        self._next_overall = float("-inf")
        # chat -> earliest start of its next send. An entry in the past constrains
        # nothing, so dropping it loses nothing: that keeps the map bounded.
        self._chats: dict[str, float] = {}
        # chat -> when it was last sent to: what tells a chat's 429 from everyone's.
        self._book = book if book is not None else SendBook(clock)
        self._prune_floor = prune_above
        self._prune_at = prune_above
        self.paused_all = 0  # 429s taken for the overall limit (for tests and logs)

    @classmethod
    def from_settings(cls, delivery: Delivery | ChannelPace, *, fraction: float = 1.0,
                      burst: float = 1.0, clock: Clock = time.monotonic,
                      sleep: Sleep = asyncio.sleep,
                      book: SendBook | None = None) -> RateLimiter:
        return cls(delivery.overall_per_second, delivery.private_per_second,
                   delivery.group_per_minute, fraction=fraction, burst=burst, clock=clock,
                   sleep=sleep, book=book)

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
            if (last := self._book.last(key)) is not None:  # a reply went there too
                free_at = max(free_at, last + self.interval(key))
            if free_at <= now:
                break
            await self._sleep(free_at - now)
        start = max(now, self._next_overall - self._tolerance)
        if len(self._second) == self._second.maxlen:  # a catch-up must not fill a second
            start = max(start, self._second[0] + 1.0)
        self._second.append(start)
        self._next_overall = max(start, self._next_overall) + self._overall
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
        now = self._clock()
        self._chats[key] = max(self._chats.get(key, 0.0), now + self.interval(key))
        self._book.note(key)

    async def release(self, chat_id: str | int) -> None:
        """`done`, as a `Pacer`."""
        self.done(chat_id)

    async def flood(self, seconds: float, chat_id: str | int) -> None:
        """`pause`, as a `Pacer`."""
        self.pause(seconds, chat_id)

    def pause(self, seconds: float, chat_id: str | int | None = None) -> None:
        """After a 429: nothing to this chat for `seconds`; nothing at all either, unless
        the chat was sent to less than its interval ago (then the 429 was the chat's)."""
        now = self._clock()
        until = now + seconds
        key = None if chat_id is None else str(chat_id)
        if key is not None:
            self._chats[key] = max(self._chats.get(key, until), until)
        if key is None or not self.chat_was_early(key, now):
            self.paused_all += 1
            # Nothing before `until`, even from the bucket's burst allowance.
            self._next_overall = max(self._next_overall, until + self._tolerance)

    def chat_was_early(self, key: str, now: float) -> bool:
        """Whether the chat's previous send finished less than its interval ago."""
        last = self._book.last(key)
        return last is not None and now - last < self.interval(key)

    def _prune(self, now: float) -> None:
        if len(self._chats) <= self._prune_at:
            return
        self._chats = {k: t for k, t in self._chats.items() if t > now}
        # Re-prune only after the map doubles again: amortised O(1) per acquire even
        # when most chats are still busy.
        self._prune_at = max(self._prune_floor, 2 * len(self._chats))
