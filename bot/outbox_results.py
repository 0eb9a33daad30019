"""The sender's results, written a few at a time instead of one commit per send.

At 30 sends a second, one transaction per result was 30 commits a second through
SQLite's single writer (and, on the default `synchronous`, 30 fsyncs), each holding a
concurrency slot of the sender while it queued for the lock; on a busy machine that,
more than the pacing, was what held a broadcast at 0.71 of the allowance. Results are
now queued and written together, at most `every` seconds after the first of them, in
one transaction.

At-least-once is unchanged: a row is marked sent only after the channel accepted it.
What a crash can cost is the same kind of thing as before (a row sent but not marked
is sent again once its claim times out), for the rows of the last `every` seconds:
a handful, well inside the batch of about one second that a claim already puts at
stake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.telemetry import Telemetry
from models.db import Sessions
from models.outbox import OutboxMessage

log = logging.getLogger(__name__)

Mark = Callable[..., Awaitable[bool]]

# `Results`'s words → the `result` label of the sends counter.
_LABELS = {"rerouted or failed": "unreachable"}


@dataclass
class Result:
    """One row's outcome, to be written by `mark(session, *args, **kw)`."""

    row: OutboxMessage
    what: str
    mark: Mark
    args: tuple[Any, ...]
    kw: dict[str, Any] = field(default_factory=dict)


class Results:
    """A queue of results and the one writer that drains it."""

    def __init__(self, sessions: Sessions, telemetry: Telemetry, *, every: float = 0.1,
                 retry_pause: float = 0.2) -> None:
        self._sessions = sessions
        self._telemetry = telemetry
        self._every = every
        self._retry_pause = retry_pause
        self._queued: list[Result] = []
        self._soon: asyncio.Task[None] | None = None
        # One writer at a time: concurrent SQLite writers would only queue on the file
        # lock, in the busy handler's sleeps of up to 100 ms.
        self._write = asyncio.Lock()
        self._written: Counter[str] = Counter()  # channel -> results written (or given up)
        self.changed = asyncio.Event()  # set after each write: rows are off the sender's hands

    def written(self, channels: Iterable[str]) -> int:
        """How many results for `channels` have been dealt with since the start."""
        return sum(self._written[channel] for channel in channels)

    def add(self, result: Result) -> None:
        """Queue a result; it is written within `every` seconds (or at `flush`)."""
        self._queued.append(result)
        if self._soon is None or self._soon.done():
            self._soon = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._every)  # let the next few results join this commit
        await self.flush()

    async def flush(self) -> None:
        """Write every result queued so far (those a running write holds included)."""
        async with self._write:
            batch, self._queued = self._queued, []
            if not batch:
                return
            try:
                oks = await self._write_together(batch)
            except Exception:
                # One result the database refuses must not cost the others theirs.
                log.warning("outbox sender: writing %d results together failed; one by one",
                            len(batch), exc_info=True)
                oks = [await self._write_alone(result) for result in batch]
        for result, ok in zip(batch, oks, strict=True):
            self._counted(result, ok)
            self._written[result.row.channel] += 1
        self.changed.set()

    async def close(self) -> None:
        """Write what is queued (the sender is stopping). The delayed write is awaited,
        not cancelled: cancelled mid-transaction, its results would be lost."""
        if self._soon is not None:
            with contextlib.suppress(Exception):  # it logged its own failure
                await self._soon
        await self.flush()

    async def _write_together(self, batch: list[Result]) -> list[bool | None]:
        for attempt in range(2):
            try:
                async with self._sessions() as session, session.begin():
                    return [await r.mark(session, *r.args, **r.kw) for r in batch]
            except Exception:
                if attempt == 1:
                    raise
                await asyncio.sleep(self._retry_pause)
        raise AssertionError("unreachable")

    async def _write_alone(self, result: Result) -> bool | None:
        """Write one result in its own short transaction, retrying a hiccup briefly; None
        if it could not be written (the row is then sent again after the timeout)."""
        for attempt in range(3):
            try:
                async with self._sessions() as session, session.begin():
                    return await result.mark(session, *result.args, **result.kw)
            except Exception:
                if attempt == 2:
                    log.exception("outbox sender: could not record row %s as %s",
                                  result.row.id, result.what)
                    return None
                await asyncio.sleep(self._retry_pause * (attempt + 1))
        return None

    def _counted(self, result: Result, ok: bool | None) -> None:
        if ok is None:
            return
        if not ok:
            log.warning("outbox row %s was reclaimed by another sender; not marking it %s",
                        result.row.id, result.what)
            return
        self._telemetry.sent(result.row.channel, _LABELS.get(result.what, result.what))
