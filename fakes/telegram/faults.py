"""Failure injection: blocked users, flood limits, flaky 5xx responses and slow calls.

The ward bot sends reminders to hundreds of officials at once; in production some of them
have blocked the bot (403), Telegram throttles bursts (429 with ``retry_after``) and the API
occasionally answers 502.  Reliability code that handles these can only be tested if the
fake can produce them on demand, deterministically, through the real HTTP path so that
python-telegram-bot raises its real exception types.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import ApiError

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    429: "Too Many Requests: retry later",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class _Bucket:
    """A token bucket: ``rate`` sends per second with a burst of ``max(1, rate)``."""

    rate: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(max(1.0, self.rate), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_needed(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class Faults:
    """The failure plan consulted by every Bot API method."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._chats: dict[int, ApiError] = {}
        self._next: dict[str, deque[ApiError]] = {}
        self._limits: tuple[float, float] | None = None
        self._buckets: dict[int | None, _Bucket] = {}
        self._delays: dict[str, deque[float]] = {}
        self._latency: dict[str, float] = {}

    def fail_chat(self, chat_id: int, status: int, description: str) -> None:
        """Make every call addressed to ``chat_id`` fail until :meth:`unfail_chat`."""
        self._chats[chat_id] = ApiError(status, description)

    def unfail_chat(self, chat_id: int) -> None:
        """Undo :meth:`fail_chat` (the user unblocked the bot)."""
        self._chats.pop(chat_id, None)

    def fail_next(self, method: str, status: int, count: int, description: str | None,
                  retry_after: int | None = None) -> None:
        """Queue ``count`` failures for the next calls of ``method`` (case-insensitive)."""
        text = description or _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
        queue = self._next.setdefault(method.lower(), deque())
        queue.extend(ApiError(status, text, retry_after=retry_after) for _ in range(count))

    def rate_limit(self, per_chat_per_second: float | None, overall_per_second: float | None,
                   ) -> None:
        """Enforce flood limits; ``None`` for both turns enforcement off."""
        if per_chat_per_second is None and overall_per_second is None:
            self._limits = None
        else:
            self._limits = (per_chat_per_second or math.inf, overall_per_second or math.inf)
        self._buckets.clear()

    def delay_next(self, method: str, seconds: float, count: int) -> None:
        """Hold the next ``count`` calls of ``method`` for ``seconds`` before serving them."""
        queue = self._delays.setdefault(method.lower(), deque())
        queue.extend(seconds for _ in range(count))

    def set_latency(self, seconds: float, methods: Iterable[str]) -> None:
        """Hold every call of ``methods`` for ``seconds`` (0 turns it off)."""
        for method in methods:
            if seconds > 0:
                self._latency[method.lower()] = seconds
            else:
                self._latency.pop(method.lower(), None)

    def clear(self) -> None:
        """Forget every injected failure, delay and limit."""
        self._chats.clear()
        self._next.clear()
        self._delays.clear()
        self._latency.clear()
        self.rate_limit(None, None)

    def delay_for(self, method: str) -> float:
        """How long to hold this call: the standing latency plus the next queued delay."""
        key = method.lower()
        queue = self._delays.get(key)
        return self._latency.get(key, 0.0) + (queue.popleft() if queue else 0.0)

    def check_method(self, method: str) -> None:
        """Raise the next queued failure for ``method``, if any."""
        queue = self._next.get(method.lower())
        if queue:
            raise queue.popleft()

    def check_chat(self, chat_id: int) -> None:
        """Raise the failure injected for this chat, if any."""
        failure = self._chats.get(chat_id)
        if failure is not None:
            raise ApiError(failure.status, failure.description)

    def take_send_slot(self, chat_id: int) -> None:
        """Account one outgoing message, or raise 429 if a limit is exceeded.

        A rejected send consumes nothing, as on Telegram, so obeying ``retry_after`` works.
        """
        if self._limits is None:
            return
        now = self._clock()
        buckets = [
            self._bucket(key, rate, now)
            for key, rate in ((chat_id, self._limits[0]), (None, self._limits[1]))
            if math.isfinite(rate)
        ]
        wait = max((bucket.wait_needed() for bucket in buckets), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                           retry_after=retry_after)
        for bucket in buckets:
            bucket.tokens -= 1.0

    def _bucket(self, key: int | None, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, max(1.0, rate), now)
        bucket.refill(now)
        return bucket
