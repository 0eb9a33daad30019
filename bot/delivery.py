"""The outbox sender: claims due rows, sends them within limits, records each result.

Transport-agnostic: a channel plugs in a `Transport` that sends one message body and
maps its failures to `DeliveryError`. Delivery is at-least-once: a row is marked sent
only after the channel accepted it, so a sender killed between the two re-sends that
row (once) after `sending_timeout_seconds`; nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.allowance import SharedLimiter, shares_allowance
from bot.channels.base import DeliveryError, Transport
from bot.limits import SENDS, Pacer, RateLimiter
from bot.outbox_files import OutboxFiles
from bot.outbox_results import Result, Results
from bot.telemetry import Telemetry
from models.db import Sessions
from models.outbox import OutboxMessage
from models.outbox_claim import claim, mark_failed, mark_retry, mark_sent, release
from models.outbox_route import reroute
from reporting.config import Delivery
from reporting.messages import Outgoing
from reporting.services import system_clock

log = logging.getLogger(__name__)

OnBatch = Callable[[set[int]], Awaitable[None]]


def default_worker() -> str:
    """Unique per process, and readable in `claimed_by` when something is stuck."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:64]


class _Expired(Exception):
    """Our claim on a row is getting old before we even tried it: give it back."""


class Sender:
    """Drains the outbox. Several may run at once, in one process or many."""

    def __init__(self, sessions: Sessions, delivery: Delivery,
                 transports: Mapping[str, Transport], *, worker: str | None = None,
                 limiters: Mapping[str, Pacer] | None = None,
                 clock: Callable[[], datetime] = system_clock,
                 batch_size: int | None = None, concurrency: int = 8,
                 on_batch: OnBatch | None = None,
                 jitter: Callable[[], float] = random.random,
                 media_dir: Path | None = None,
                 without_files: Collection[str] = (),
                 as_links: Callable[[Outgoing], Awaitable[Outgoing]] | None = None,
                 telemetry: Telemetry | None = None) -> None:
        self.worker = worker or default_worker()
        self._sessions = sessions
        self._delivery = delivery
        self._transports = dict(transports)
        self._limiters: dict[str, Pacer] = dict(limiters or {})
        # Several instances may send on PostgreSQL: they share one allowance there.
        self._shared = shares_allowance(sessions)
        self._clock = clock
        # Per claim: about one second of sends (of the channel's own pace, per channel).
        self.batch_size = batch_size or _one_second(delivery.overall_per_second)
        self._fixed_batch = batch_size is not None
        self._concurrency = concurrency
        self.on_batch = on_batch  # called with the broadcasts a batch touched
        self._jitter = jitter
        # `media_dir`: where rows written before the files moved to the database find theirs.
        self._files = OutboxFiles(sessions, media_dir)
        # Channels that take no files get links instead (`bot.media_links.outbox_links`).
        self._without_files = frozenset(without_files)
        self._as_links = as_links
        self._nudges: dict[str | None, asyncio.Event] = {}  # one per channel loop
        self._stop: asyncio.Event | None = None  # `run`'s: a train of batches ends on it
        # chat -> set once its rows of the batch before are done: batches overlap, and a
        # chat's rows must still go one at a time, in order.
        self._chat_done: dict[tuple[str, str], asyncio.Event] = {}
        # Broadcasts touched since `on_batch` was last called, and when that was: a
        # train's small batches report about once a second, as whole batches did.
        self._touched: set[int] = set()
        self._reported_at = float("-inf")
        # Heartbeats for /healthz and counts for /metrics (a private one if not shared).
        self.telemetry = telemetry or Telemetry()
        self._results = Results(sessions, self.telemetry)

    def limiter(self, channel: str) -> Pacer:
        limiter = self._limiters.get(channel)
        if limiter is None:
            d = self._delivery
            if self._shared:
                # Held at most until other senders may take the row over anyway.
                limiter = SharedLimiter(self._sessions, channel, d.pace(channel),
                                        fraction=d.allowance_fraction,
                                        hold=d.sending_timeout_seconds / 2)
            else:
                # The same margin below the limit as the shared allowance's.
                limiter = RateLimiter.from_settings(d.pace(channel),
                                                    fraction=d.allowance_fraction,
                                                    burst=CATCH_UP, book=SENDS)
            self._limiters[channel] = limiter
        return limiter

    def nudge(self) -> None:
        """Something was just enqueued: look now instead of after the idle sleep."""
        for nudged in self._nudges.values():
            nudged.set()

    @property
    def sending_timeout(self) -> timedelta:
        return timedelta(seconds=self._delivery.sending_timeout_seconds)

    def backoff(self, attempts: int) -> float:
        """backoff × 2^(attempts−1), capped; then 75–100 % of it, so that rows failed
        together (a 5xx burst) do not all come back in the same instant."""
        d = self._delivery
        delay = min(d.max_backoff_seconds, d.backoff_seconds * 2.0 ** min(attempts - 1, 40))
        return delay * (0.75 + 0.25 * self._jitter())

    async def run(self, stop: asyncio.Event, idle_sleep: float = 1.0) -> None:
        """Send until `stop` is set; the batch in hand is finished first.

        Each channel drains in a loop of its own: in one shared loop a batch of Zalo
        rows (10/s) held Telegram's (30/s) back, so a broadcast to both took the sum
        of their times instead of the longer one.
        """
        channels: list[str | None] = [*self._transports] or [None]
        self._stop = stop
        try:
            await asyncio.gather(*(self._run_channel(stop, idle_sleep, channel)
                                   for channel in channels))
        finally:
            await self._results.close()

    async def _run_channel(self, stop: asyncio.Event, idle_sleep: float,
                           channel: str | None) -> None:
        nudged = self._nudges.setdefault(channel, asyncio.Event())
        beat = f"sender:{channel or 'all'}"
        try:
            while not stop.is_set():
                self.telemetry.beat(beat)  # alive: going round, idle or not
                await self._go_round(nudged, stop, idle_sleep, channel)
        finally:
            self.telemetry.forget(beat)

    async def _go_round(self, nudged: asyncio.Event, stop: asyncio.Event, idle_sleep: float,
                        channel: str | None) -> None:
        nudged.clear()
        try:
            handled = await self.run_once(None if channel is None else [channel])
        except Exception:  # the database is away, say: keep trying, do not die
            log.exception("outbox sender: batch failed")
            handled = 0
        if handled == 0:
            await _wait_any(stop, nudged, seconds=idle_sleep)

    async def run_once(self, channels: Collection[str] | None = None) -> int:
        """Claim a batch (for `channels`, default all) and deliver it. Returns how many
        rows it handled.

        Under `run`, while rows keep coming, more are claimed as soon as a third of the
        batch is off our hands (sent and recorded), so that the pacer never waits for a
        claim: a train of overlapping batches, never holding more than `size` rows,
        which ends when a claim finds nothing or the sender is stopping.
        """
        size = self.batch_size
        if channels is not None and len(channels) == 1 and not self._fixed_batch:
            [only] = channels
            size = _one_second(self._delivery.pace(only).overall_per_second)
        wanted = self._transports.keys() if channels is None else channels
        gate = asyncio.Semaphore(self._concurrency)  # shared by the train's batches
        handled, written = 0, self._results.written(wanted)
        batches: list[asyncio.Task[None]] = []
        try:
            while self._stop is None or not self._stop.is_set():
                self._results.changed.clear()
                running = [batch for batch in batches if not batch.done()]
                # Claimed, not yet recorded: what a crash would leave `sending`.
                held = handled - (self._results.written(wanted) - written) if running else 0
                if running and held > size - max(1, size // 3):
                    await _wait_any(self._results.changed, *running)
                    continue
                rows = await claim(self._sessions, self.worker, self._clock(),
                                   size - held, self.sending_timeout, channels=wanted)
                if not rows:
                    break
                if self._stop is not None and len(wanted) == 1:
                    # Alive, for /healthz: a broadcast's train can run for many minutes.
                    self.telemetry.beat(f"sender:{next(iter(wanted))}")
                handled += len(rows)
                batches.append(asyncio.create_task(self._deliver_batch(rows, gate)))
                if self._stop is None:  # called on its own (tests, tools): one batch
                    break
        finally:
            await asyncio.gather(*batches)
            await self._report(force=True)  # the train's end: the latest counts, now
        return handled

    async def _deliver_batch(self, rows: list[OutboxMessage],
                             gate: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        # Past half the timeout another sender may take the row over: stop starting sends.
        deadline = loop.time() + self._delivery.sending_timeout_seconds / 2
        by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault((row.channel, row.chat_id), []).append(row)

        async def chat_in_order(chat: tuple[str, str], chat_rows: list[OutboxMessage]) -> None:
            before = self._chat_done.get(chat)
            done = self._chat_done[chat] = asyncio.Event()
            try:
                if before is not None:  # the batch before had rows for this chat too
                    await before.wait()
                for row in chat_rows:  # one at a time per chat, in enqueue order
                    async with gate:
                        await self._deliver(row, deadline)
            finally:
                done.set()
                if self._chat_done.get(chat) is done:
                    del self._chat_done[chat]

        try:
            await asyncio.gather(*(chat_in_order(chat, chat_rows)
                                   for chat, chat_rows in by_chat.items()))
        finally:
            await self._results.flush()  # progress below counts these rows
        self._touched |= {row.broadcast_id for row in rows if row.broadcast_id is not None}
        await self._report(force=False)

    async def _report(self, *, force: bool) -> None:
        """Tell `on_batch` which broadcasts moved: at most once a second within a train
        (its queries, on the event loop, would otherwise cost sends their slots)."""
        now = asyncio.get_running_loop().time()
        if not self._touched or self.on_batch is None \
                or (not force and now - self._reported_at < REPORT_EVERY):
            return
        touched, self._touched, self._reported_at = self._touched, set(), now
        try:
            await self.on_batch(touched)
        except Exception:  # progress display must not stop delivery
            log.exception("outbox sender: on_batch callback failed")

    async def _deliver(self, row: OutboxMessage, deadline: float) -> None:
        d = self._delivery
        if row.attempts > d.max_attempts:
            # Only claims by senders that died mid-send get here: a message that keeps
            # killing its sender must not be retried forever.
            await self._record(row, "failed", mark_failed, row, self.worker,
                               f"gave up after {row.attempts - 1} attempts",
                               permanent=False)
            return
        loop = asyncio.get_running_loop()
        limiter = self.limiter(row.channel)
        calls = 0
        held = False  # the chat is booked by us: release it however the send ends

        async def pace() -> None:
            nonlocal calls, held
            if calls == 0 and loop.time() > deadline:
                raise _Expired
            if held:
                held = False
                await limiter.release(row.chat_id)
            await limiter.acquire(row.chat_id)
            held = True
            if calls == 0 and loop.time() > deadline:
                raise _Expired
            calls += 1

        transport = self._transports[row.channel]
        try:
            out = Outgoing.from_payload(row.payload)
        except (KeyError, TypeError, ValueError) as exc:
            # Written by a newer release, or damaged: retrying will not make it readable.
            await self._failed(row, DeliveryError(f"unreadable payload: {exc}", permanent=True),
                               limiter)
            return
        try:
            if row.channel in self._without_files and self._as_links is not None:
                out = await self._as_links(out)
            # The bytes are read here, one row at a time, not when the batch is claimed.
            async with self._files.ready(out, row.channel) as ready:
                message_id = await transport.send(row.chat_id, ready, pace)
        except _Expired:
            await self._record(row, "released", release, row, self.worker)
            return
        except DeliveryError as exc:
            await self._failed(row, exc, limiter)
            return
        except Exception as exc:  # a bug in a transport, or a payload it cannot read
            log.exception("outbox sender: unexpected error sending row %s", row.id)
            await self._failed(row, DeliveryError(f"{type(exc).__name__}: {exc}"), limiter)
            return
        finally:
            if held:
                await limiter.release(row.chat_id)
        await self._record(row, "sent", mark_sent, row, self.worker, self._clock(),
                           message_id)

    async def _failed(self, row: OutboxMessage, exc: DeliveryError,
                      limiter: Pacer) -> None:
        error = str(exc) or type(exc).__name__
        if exc.unreachable:
            # The member may have another account (Zalo beside Telegram): try it there.
            log.info("outbox row %s to %s %s: unreachable (%s)", row.id, row.channel,
                     row.chat_id, error)
            await self._record(row, "rerouted or failed", reroute, row, self.worker, error,
                               self._transports.keys(), self._clock())
        elif exc.permanent:
            log.info("outbox row %s to %s failed permanently: %s", row.id, row.chat_id, error)
            await self._record(row, "failed", mark_failed, row, self.worker, error,
                               permanent=True)
        elif exc.retry_after is not None:
            self.telemetry.throttled(row.channel)
            await limiter.flood(exc.retry_after, row.chat_id)
            next_at = self._clock() + timedelta(seconds=exc.retry_after)
            log.warning("outbox row %s: flood limit, retry after %.1fs", row.id,
                        exc.retry_after)
            await self._record(row, "retry", mark_retry, row, self.worker, next_at, error,
                               count_attempt=False)
        elif row.attempts >= self._delivery.max_attempts:
            log.warning("outbox row %s failed after %d attempts: %s", row.id, row.attempts,
                        error)
            await self._record(row, "failed", mark_failed, row, self.worker,
                               f"{error} (after {row.attempts} attempts)", permanent=False)
        else:
            next_at = self._clock() + timedelta(seconds=self.backoff(row.attempts))
            log.info("outbox row %s to %s: attempt %d failed, retrying: %s", row.id,
                     row.chat_id, row.attempts, error)
            await self._record(row, "retry", mark_retry, row, self.worker, next_at, error)

    async def _record(self, row: OutboxMessage, what: str,
                      mark: Callable[..., Awaitable[bool]], *args: Any, **kw: Any) -> None:
        """Queue a result: `bot.outbox_results` writes a few together, in one short
        transaction (a result that is not written gets the row sent again after the
        timeout)."""
        self._results.add(Result(row, what, mark, args, kw))


REPORT_EVERY = 1.0  # seconds between `on_batch` calls within a train of batches
# The pacer's burst: slots a sender held up for a moment may catch up (nine, ~300 ms at
# 28.5/s: a loaded machine's stalls measured 50–300 ms); still never more than 29 sends
# in any second (`bot.limits`).
CATCH_UP = 10.0


def _one_second(per_second: float) -> int:
    """A batch of about one second of sends: what a crash can leave in flight (and
    send twice), so it is kept small."""
    return max(1, min(100, math.ceil(per_second)))


async def _wait_any(*awaitables: asyncio.Event | asyncio.Task[None],
                    seconds: float | None = None) -> None:
    """Until any of the events is set or of the tasks is done (or `seconds` pass)."""
    waiters = [asyncio.ensure_future(a.wait()) if isinstance(a, asyncio.Event) else a
               for a in awaitables]
    ours = [w for w, a in zip(waiters, awaitables, strict=True) if w is not a]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in ours:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
