"""The dispatcher: inbox rows → handlers → replies, in order per chat, chats in parallel.

A channel stores every update in the inbox before acknowledging it (`models.inbox`); the
dispatcher does the rest, knowing nothing of the messenger but two functions the channel
gives it: `parse` (stored payload → `Incoming`) and `deliver` (send a `Reply`).

For each chat with open rows, one task takes the chat's oldest row at a time, so one
leader's answers are applied in the order they were typed, while other chats go on
beside it (at most `concurrency` handlings at once). A row is marked done, with its
reply, in the handler's own transaction (`handlers.router.handle(within=…)`); the reply
is delivered after the commit and the row marked replied. A process killed anywhere in
between leaves a row that the next start finishes: handled again if its transaction
never committed, its stored reply delivered if it did. A database outage leaves the
row open and the chat waits, with backoff, rather than lose the answer or skip ahead.

What it costs: the channel hands the rows it stored (claimed for this dispatcher) over
in memory (`nudge(rows)`), so a typed answer is handled without reading its row back;
`mark_done` refuses it if an older row of the chat is still open (then the chat is
served from the table, `claim_next`, oldest first; if that older row is in another
instance's hands, asked again at growing intervals from 50 ms). "Replied" is noted late:
with the next row this dispatcher closes if one closes within `note_within` seconds (under
load, nearly always: one statement saved per answer), else alone once that time is up; a
crash in between sends those replies again at the next start (at least once, as before).
The table is searched for work at start, when a channel stored rows without handing them
over (`nudge()`), while a chat waits out a failure (every `idle` s), and otherwise every
`scan` s: a safety net for rows another instance left, since handed-over rows need no search.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.inbox_books import (
    Handle,
    Held,
    InboxChannel,
    Unnoted,
    holding,
    parse_stored,
    prune_answered,
    reply_from_json,
    reply_json,
    route,
    wall_clock,
)
from bot.media_links import linked_reply
from bot.telemetry import kind_of, of
from models.db import is_outage, writes_one_at_a_time
from models.inbox import InboxState
from models.inbox_ops import (
    KEEP,
    AlreadyHandled,
    Claimed,
    chats_with_work,
    claim_next,
    mark_done,
    mark_replied_all,
    note_failure,
)
from reporting.messages import DEFAULT_LIMITS, Incoming, Reply
from reporting.services import Services

__all__ = ["Dispatcher", "InboxChannel", "reply_from_json", "reply_json", "wall_clock"]
log = logging.getLogger(__name__)

class Dispatcher:
    """Handles one channel's inbox until stopped; see the module's docstring."""

    def __init__(self, services: Services, channel: InboxChannel, *, lease: float = 5.0,
                 concurrency: int = 16, idle: float = 1.0, drain: float = 3.0,
                 scan: float | None = None, note_within: float = 0.1,
                 handler: Handle = route,
                 clock: Callable[[], datetime] = wall_clock) -> None:
        self._services = services
        self._channel = channel
        # How long another instance's claim is respected. With one instance (polling)
        # it can be 0: a claim left by a killed process is taken over at once.
        self._lease = timedelta(seconds=lease)
        # SQLite has one writer at a time: handlings side by side would only queue on
        # its file lock (and risk "database is locked"), so there chats take turns;
        # PostgreSQL handles them at once.
        self._slots = asyncio.Semaphore(1 if writes_one_at_a_time(services.sessions)
                                        else concurrency)
        self._idle = idle
        self._scan_every = 5 * idle if scan is None else scan
        self._look = True  # search the table at the next tick
        self._drain = drain
        self._handle = handler
        self._clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:64]
        self._chats: dict[str, asyncio.Task[None]] = {}
        # Rows a channel stored and handed over, per chat, oldest first.
        self._queued: dict[str, deque[Claimed]] = {}
        # Chats to serve from the table (found by the tick, or a row refused as out of order).
        self._scan: set[str] = set()
        self._wake = asyncio.Event()
        # Replies delivered, not yet noted in the table; the run loop's wait ends in time.
        self._delivered = Unnoted(self._wake.set)
        self._note_within = note_within
        # Another instance's reply to an older row is noted within its `note_within`; a
        # claim it still holds after `lease` is taken over by the periodic scan.
        self._held = Held(0.05, lease + idle)
        self._backoff: dict[str, tuple[float, int]] = {}  # chat → (resume at, failures)
        self._stopping = False
        self._told: set[str] = set()  # chats told that the database is away

    @property
    def parse(self) -> Callable[[dict[str, Any]], Incoming | None]:
        return self._channel.parse

    def nudge(self, rows: Sequence[Claimed] = ()) -> None:
        """New rows were committed: handle `rows` (claimed for this dispatcher) now; with
        none given, look in the table now rather than at the next idle tick."""
        if not rows:
            self._look = True
            self._wake.set()
            return
        for row in rows:
            self._queued.setdefault(row.chat_id, deque()).append(row)
        for chat in dict.fromkeys(row.chat_id for row in rows):
            self._start(chat)

    def _start(self, chat: str) -> None:
        if chat in self._chats or self._stopping:
            return
        resume, _ = self._backoff.get(chat, (0.0, 0))
        if asyncio.get_running_loop().time() < resume:
            self._scan.add(chat)  # the tick takes it up when the wait is over
            self._queued.pop(chat, None)
            return
        self._chats[chat] = asyncio.create_task(self._serve_chat(chat))

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, then let handlings in flight finish (`drain` s)."""
        await prune_answered(self._services.sessions, self._clock() - KEEP)
        loop = asyncio.get_running_loop()
        last_prune = last_scan = loop.time()
        while not stop.is_set():
            self._wake.clear()
            try:
                await self._note_delivered(loop.time() - self._note_within)
                if self._look or self._backoff or loop.time() - last_scan >= self._scan_every:
                    self._look, last_scan = False, loop.time()
                    await self._start_chats()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                log.warning("inbox: database unavailable (%s); retrying", type(exc).__name__)
            if loop.time() - last_prune > 3600:
                last_prune = loop.time()
                await prune_answered(self._services.sessions, self._clock() - KEEP)
            waits = [asyncio.ensure_future(self._wake.wait()),
                     asyncio.ensure_future(stop.wait())]
            # At most `idle`; less if a reply is to be noted before (`note_within`).
            timeout = self._delivered.wait(self._idle, self._note_within, loop.time())
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
        await self.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Dispatcher]:
        """Dispatch for the block; on exit, handlings in flight finish first."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield self
        finally:
            stop.set()
            await task

    async def close(self) -> None:
        """Start nothing new; give handlings in flight `drain` seconds, then cancel."""
        self._stopping = True
        tasks = list(self._chats.values())
        if tasks:
            log.info("inbox: letting %d chats in hand finish", len(tasks))
            _, pending = await asyncio.wait(tasks, timeout=self._drain)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(Exception):  # else sent again at the next start
            await self._note_delivered()

    async def _note_delivered(self, before: float | None = None) -> None:
        """Note the replies delivered (before loop time `before`) as such, in one UPDATE;
        younger ones are likely noted with the next row closed, at no cost."""
        taken = self._delivered.take(before)
        if not taken:
            return
        noted = False
        try:
            async with self._services.sessions() as s, s.begin():
                await mark_replied_all(s, taken, self._clock())
            noted = True
        finally:
            self._delivered.settle(taken, noted)

    async def _start_chats(self) -> None:
        now = self._clock()
        async with self._services.sessions() as s:
            chats = await chats_with_work(s, self._channel.name, self.worker, now - self._lease)
        for chat in chats:
            if chat not in self._chats:
                self._scan.add(chat)  # served from the table (after any wait, by the tick)
                self._start(chat)

    async def _next(self, chat: str) -> Claimed | None:
        """The chat's next row: claimed from the table while it is to be scanned, else
        the next one handed over; None when there is nothing left."""
        while chat in self._scan:
            now = self._clock()
            async with self._services.sessions() as s, s.begin():
                row = await claim_next(s, self._channel.name, chat, self.worker, now,
                                       now - self._lease, self._delivered.of(chat))
            if row is not None:
                self._held.clear(chat)
                queued = self._queued.get(chat)
                while queued and queued[0].id <= row.id:  # in hand, and now claimed
                    queued.popleft()
                return row
            self._scan.discard(chat)
            wait = self._held.next_wait(chat)
            if wait is not None:  # an older row is in another's hands: its rows wait,
                # to come back from the table in order (they are claimed for this one).
                self._queued.pop(chat, None)
                asyncio.get_running_loop().call_later(wait, self._ask_again, chat)
                return None
        queued = self._queued.get(chat)
        if not queued:
            self._queued.pop(chat, None)
            return None
        return queued.popleft()

    async def _serve_chat(self, chat: str) -> None:
        """One chat's rows, oldest first, one at a time."""
        try:
            while not self._stopping:
                async with self._slots:
                    try:
                        row = await self._next(chat)
                        if row is None:
                            return
                        await self._one(row)
                    except Exception as exc:
                        if not is_outage(exc):
                            raise
                        self._wait_after_failure(chat, exc)
                        return
                self._backoff.pop(chat, None)
                self._told.discard(chat)  # handled: a later outage is news again
        except Exception as exc:  # e.g. a channel's deliver raising: try again later
            log.exception("inbox: chat %s stopped on an unexpected error", chat)
            self._wait_after_failure(chat, exc)
        finally:
            self._chats.pop(chat, None)
            if self._queued.get(chat) and chat not in self._backoff:
                self._start(chat)  # handed over while this task was finishing
            elif chat in self._scan:
                self._look = True
                self._wake.set()

    def _wait_after_failure(self, chat: str, exc: BaseException) -> None:
        # Its row stays open: taken from the table (in order) once the wait is over.
        self._scan.add(chat)
        self._queued.pop(chat, None)
        _, failures = self._backoff.get(chat, (0.0, 0))
        delay = min(30.0, 0.5 * 2 ** failures)
        self._backoff[chat] = (asyncio.get_running_loop().time() + delay, failures + 1)
        log.warning("inbox: handling chat %s failed (%s); its updates wait %.1f s",
                    chat, type(exc).__name__, delay)

    async def _one(self, row: Claimed) -> None:
        """Handle (or finish) one row. Raises on a database outage: the row stays open."""
        # Handed over with what the channel read when storing it; else read it now.
        raw = row.read[0] if row.read else json.loads(row.payload)
        inc = row.read[1] if row.read else parse_stored(self._channel, raw)
        if row.state == InboxState.DONE:  # handled before a crash; the reply is stored
            if inc is None:
                self._replied(row)
            else:
                await self._deliver(row, raw, inc, reply_from_json(row.reply or {}))
            return
        if inc is None:
            await self._close(row.id, Reply())
            self._replied(row)
            of(self._services).handled(self._channel.name, "ignored", "ignored")
            return
        committed = False
        # Replies delivered before, noted by this handling's UPDATE if it commits.
        noted: list[int] = []

        async def within(session: AsyncSession, reply: Reply) -> None:
            nonlocal committed
            if not self._files:  # a chart or an export goes as a link (stored first)
                await linked_reply(self._services, session, reply,
                                   self._services.clock(), self._lang)
            noted.extend(self._delivered.take())  # this transaction's alone: no two lock a row
            await mark_done(session, row.id, reply_json(reply), self._clock(),
                            first_of=(self._channel.name, row.chat_id),
                            delivered=self._delivered.of(row.chat_id), replied=noted)
            committed = True

        try:
            reply = await self._handle(self._services, inc, within)
        except AlreadyHandled:
            # Done elsewhere, or an older row of the chat is open: the table says which.
            self._delivered.settle(noted, False)
            self._scan.add(row.chat_id)
            self._held.add(row.chat_id)
            return
        except Exception as exc:
            self._delivered.settle(noted, False)
            if not is_outage(exc):
                # Its COMMIT failed for a reason of its own: nothing was applied, and
                # doing it again would fail again; apologise and close, as below.
                log.exception("inbox: a %s update failed at commit", self._channel.name)
                committed = False
                reply = Reply().add(self._services.t("error_generic", self._lang))
            else:
                with contextlib.suppress(Exception):
                    async with self._services.sessions() as s, s.begin():
                        await note_failure(s, row.id)
                of(self._services).handled(self._channel.name, kind_of(inc), "outage")
                await self.tell_waiting(raw, inc)
                raise
        self._delivered.settle(noted, committed)  # rolled back with a failed handling
        if not committed:
            # The handler failed and apologised; its changes were rolled back. The
            # apology closes the row: trying a failing handler again would fail again.
            try:
                await self._close(row.id, reply)
            except AlreadyHandled:
                return
        await self._deliver(row, raw, inc, reply)
        # "error": the handler failed and apologised (its changes rolled back).
        of(self._services).handled(self._channel.name, kind_of(inc),
                                   "ok" if committed else "error",
                                   self._clock() - row.received_at)

    @property
    def _files(self) -> bool:
        """Whether the channel takes files (the limits it registered when it started)."""
        return self._services.limits.get(self._channel.name, DEFAULT_LIMITS).files

    @property
    def _lang(self) -> str:
        return self._services.settings.ward.language

    async def tell_waiting(self, raw: dict[str, Any], inc: Incoming | None) -> None:
        """The database is away: say once per chat and outage that the message waits
        here and will be handled (so nobody sends it again, to land on a later question)."""
        if inc is None or inc.chat_id in self._told:
            return
        self._told.add(inc.chat_id)
        notice = Reply(retry_later=True).add(self._services.t("db_waiting", self._lang))
        try:
            await self._channel.deliver(raw, inc, notice)
        except Exception as exc:  # a courtesy: the update itself is safe either way
            log.info("inbox: could not tell chat %s to wait (%s)", inc.chat_id,
                     type(exc).__name__)

    async def _close(self, row_id: int, reply: Reply) -> None:
        async with self._services.sessions() as s, s.begin():
            await mark_done(s, row_id, reply_json(reply), self._clock())

    async def _deliver(self, row: Claimed, raw: dict[str, Any], inc: Incoming,
                       reply: Reply) -> None:
        async with holding(self._services.sessions, row.id, self.worker,
                           self._lease.total_seconds(), self._clock):
            await self._channel.deliver(raw, inc, reply)
        self._replied(row)

    def _ask_again(self, chat: str) -> None:
        self._scan.add(chat)
        self._start(chat)

    def _replied(self, row: Claimed) -> None:
        """Delivered: noted with the next row closed, or alone `note_within` s later."""
        self._delivered.add(row.id, row.chat_id, asyncio.get_running_loop().time())
