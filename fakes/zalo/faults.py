"""Send limits and injected failures for the fake Zalo Bot API.

Zalo publishes no rate limits, so the fake enforces its own (10 messages/s overall and
1/s per chat by default, stricter than the real service is believed to be): a bot that
paces itself within them is safe on Zalo. Failures are injected per method (an error
code, a 5xx, or a dropped connection) and per chat (a user who blocked the bot).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import BLOCKED, TOO_MANY_REQUESTS, ZaloError


@dataclass
class _Bucket:
    """A token bucket: ``rate`` sends per second, holding at most ``burst`` tokens."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now


@dataclass
class Failure:
    """What an injected failure does: answer ``error`` or drop the connection.

    ``drop_after``: the call is served (the message is sent) and only then is the
    connection cut, so the client cannot know it succeeded.
    """

    error: ZaloError | None = None
    drop: bool = False
    drop_after: bool = False


class SendLimits:
    """Overall and per-chat send rates; a refused send consumes nothing."""

    def __init__(self, overall_per_second: float | None, per_chat_per_second: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str | None, _Bucket] = {}
        self.overall: float | None = None
        self.per_chat: float | None = None
        self.set(overall_per_second, per_chat_per_second)

    def set(self, overall_per_second: float | None, per_chat_per_second: float | None) -> None:
        """Change the rates (``None`` turns one off) and start with full buckets."""
        for rate in (overall_per_second, per_chat_per_second):
            if rate is not None and rate <= 0:
                raise ValueError("a send rate must be positive (or None for no limit)")
        self.overall, self.per_chat = overall_per_second, per_chat_per_second
        self._buckets.clear()

    def take(self, chat_id: str, *, consume: bool = True) -> None:
        """Account one message to ``chat_id`` or raise 429 (``consume=False``: only check)."""
        now = self._clock()
        buckets: list[_Bucket] = []
        short: list[tuple[str, _Bucket]] = []
        for key, rate, label in ((None, self.overall, "overall"),
                                 (chat_id, self.per_chat, "per-chat")):
            if rate is None:
                continue
            bucket = self._bucket(key, rate, now)
            buckets.append(bucket)
            if bucket.tokens < 1.0:
                short.append((label, bucket))
        if short:
            wait = max((1.0 - bucket.tokens) / bucket.rate for _, bucket in short)
            raise ZaloError(TOO_MANY_REQUESTS,
                            f"Too Many Requests: {short[0][0]} send limit exceeded, "
                            f"retry after {math.ceil(round(wait * 1000, 6))} ms")
        for bucket in buckets if consume else []:
            bucket.tokens -= 1.0

    def _bucket(self, key: str | None, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            burst = max(1.0, rate)
            bucket = self._buckets[key] = _Bucket(rate, burst, burst, now)
        bucket.refill(now)
        return bucket


class Faults:
    """Injected failures, consulted by every call."""

    def __init__(self) -> None:
        self._next: dict[str, deque[Failure]] = {}
        self._chats: dict[str, ZaloError] = {}

    def fail_next(self, method: str, code: int, count: int, description: str | None) -> None:
        """The next ``count`` calls of ``method`` answer ``code``."""
        self._queue(method).extend(Failure(error=ZaloError(code, description))
                                   for _ in range(count))

    def drop_next(self, method: str, count: int, after: bool) -> None:
        """Cut the connection of the next ``count`` calls of ``method`` (after serving them
        if ``after``)."""
        self._queue(method).extend(Failure(drop=True, drop_after=after) for _ in range(count))

    def take(self, method: str) -> Failure | None:
        """The failure planned for this call, if any."""
        queue = self._next.get(method.lower())
        return queue.popleft() if queue else None

    def block(self, chat_id: str, code: int = BLOCKED, description: str | None = None) -> None:
        """Every send to ``chat_id`` fails (the user blocked the bot)."""
        self._chats[chat_id] = ZaloError(code, description)

    def unblock(self, chat_id: str) -> None:
        """Undo :meth:`block`."""
        self._chats.pop(chat_id, None)

    def check_chat(self, chat_id: str) -> None:
        """Raise the failure set for this chat, if any."""
        failure = self._chats.get(chat_id)
        if failure is not None:
            raise ZaloError(failure.code, failure.description)

    def clear(self) -> None:
        """Forget every injected failure (send limits are separate)."""
        self._next.clear()
        self._chats.clear()

    def _queue(self, method: str) -> deque[Failure]:
        return self._next.setdefault(method.lower(), deque())
