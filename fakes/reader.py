"""Reading the bot's output in one chat of a fake messenger: `next`, `expect`, `settle`.

Both fakes record every API call as an event (method, chat, ok, a one-line summary) and
wake waiters on each one; a fake user reads the deliveries to its own chat from that
log with a cursor, so each test sees every message once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from typing import Generic, Protocol, TypeVar

_T = TypeVar("_T")


class Event(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def chat_id(self) -> object: ...
    @property
    def ok(self) -> bool: ...
    def summary(self) -> str: ...


E = TypeVar("E", bound=Event)
E_co = TypeVar("E_co", bound=Event, covariant=True)


class EventLog(Protocol[E_co]):
    @property
    def events(self) -> Sequence[E_co]: ...
    async def wait_until(self, predicate: Callable[[], _T | None],
                         within: float) -> _T | None: ...


class ChatReader(Generic[E]):
    """The bot's deliveries (`methods`) to `chat_id`, read once each, in order."""

    def __init__(self, log: EventLog[E], chat_id: object, label: str,
                 methods: Collection[str]) -> None:
        self._log = log
        self._chat = chat_id
        self._label = label
        self._methods = methods
        self._cursor = 0

    def _take(self) -> E | None:
        events = self._log.events
        for index in range(self._cursor, len(events)):
            event = events[index]
            if event.ok and event.chat_id == self._chat and event.method in self._methods:
                self._cursor = index + 1
                return event
        self._cursor = len(events)
        return None

    def _timeout(self, waited: float, wanted: str) -> TimeoutError:
        recent = "\n  ".join(event.summary() for event in self._log.events[-6:]) or "(none)"
        return TimeoutError(f"{self._label} (chat {self._chat}) got no {wanted} within "
                            f"{waited}s; last bot calls:\n  {recent}")

    async def next(self, timeout: float = 10.0) -> E:  # noqa: ASYNC109 - test-facing API
        """The next unread message the bot sent to this chat."""
        event = await self._log.wait_until(self._take, timeout)
        if event is None:
            raise self._timeout(timeout, "bot message")
        return event

    async def expect(self, n: int, timeout: float = 10.0) -> list[E]:  # noqa: ASYNC109
        """The next ``n`` unread bot messages, within ``timeout`` in total."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        events: list[E] = []
        while len(events) < n:
            event = await self._log.wait_until(self._take, max(0.0, deadline - loop.time()))
            if event is None:
                raise self._timeout(timeout, f"{n} bot messages (got {len(events)})")
            events.append(event)
        return events

    def drain(self) -> list[E]:
        """Every unread bot message, without waiting."""
        events: list[E] = []
        while (event := self._take()) is not None:
            events.append(event)
        return events

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> list[E]:  # noqa: ASYNC109
        """Wait until the bot has been silent here for ``quiet`` seconds; return what
        arrived unread meanwhile (``assert await u.settle() == []``: nothing else came)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        events = self.drain()
        while loop.time() < deadline:
            event = await self._log.wait_until(self._take,
                                               min(quiet, deadline - loop.time()))
            if event is None:
                break
            events.append(event)
        return events
