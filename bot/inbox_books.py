"""The dispatcher's bookkeeping (`bot.inbox`): what it needs from a messenger, replies as
stored on their rows, the replies delivered but not yet noted as such in the table, and
the chats waiting on another instance's row."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import is_outage
from models.inbox_ops import prune, renew_claim
from reporting.messages import Attachment, Incoming, Outgoing, Reply
from reporting.services import Services

if TYPE_CHECKING:
    from handlers.router import Within

log = logging.getLogger("bot.inbox")


@dataclass(frozen=True)
class InboxChannel:
    """What the dispatcher needs from a messenger."""

    name: str
    # The stored payload → an `Incoming`; None for updates the bot ignores (edits…).
    parse: Callable[[dict[str, Any]], Incoming | None]
    # Send a reply (and e.g. answer the pressed button); must not raise on send errors.
    deliver: Callable[[dict[str, Any], Incoming, Reply], Awaitable[None]]


Handle = Callable[[Services, Incoming, "Within | None"], Awaitable[Reply]]


async def route(services: Services, inc: Incoming, within: Within | None) -> Reply:
    """`handlers.router.handle`, imported at the first update rather than at start: every
    command's module and the reporting behind them are no part of the first poll, and
    `thidua run` loads them in a thread meanwhile (`bot.subcommands`)."""
    from handlers.router import handle

    return await handle(services, inc, within)


def parse_stored(channel: InboxChannel, raw: dict[str, Any]) -> Incoming | None:
    try:
        return channel.parse(raw)
    except Exception:  # stored, but not an update we can read: nothing to answer
        log.warning("inbox: cannot read a stored %s update; skipped", channel.name)
        return None


@contextlib.asynccontextmanager
async def holding(sessions: async_sessionmaker[AsyncSession], row_id: int, me: str,
                  lease: float, clock: Callable[[], datetime]) -> AsyncIterator[None]:
    """Keep `me`'s claim on a row fresh while its reply goes out. A reply of several
    messages at one a second per chat, or one waiting out a 429, can outlast the lease;
    another instance would then take the row as abandoned and send the reply again."""
    if lease <= 0:  # one instance: nobody else to keep away
        yield
        return

    async def renew() -> None:
        while True:
            with contextlib.suppress(Exception):  # at worst, the duplicate it guards against
                async with sessions() as s, s.begin():
                    await renew_claim(s, row_id, me, clock())
            await asyncio.sleep(lease / 2)

    # The claim is fresh (renewed by `mark_done`, or by the claim of a row to finish):
    # most replies are out long before half a lease, so the renewing task starts only then.
    renewing: list[asyncio.Task[None]] = []
    timer = asyncio.get_running_loop().call_later(
        lease / 2, lambda: renewing.append(asyncio.create_task(renew())))
    try:
        yield
    finally:
        timer.cancel()
        for task in renewing:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def prune_answered(sessions: async_sessionmaker[AsyncSession], before: datetime) -> None:
    """Forget rows answered before `before` (a database away: next time)."""
    try:
        async with sessions() as s, s.begin():
            gone = await prune(s, before)
    except Exception as exc:
        if not is_outage(exc):
            raise
        return
    if gone:
        log.info("inbox: pruned %d answered updates", gone)


def wall_clock() -> datetime:
    # Bookkeeping time, not the ward's business clock (which tests and the demo move).
    return datetime.now(UTC)


def reply_json(reply: Reply) -> dict[str, Any]:
    """A reply as stored on its inbox row. Unlike an outbox row it may carry bytes (an
    export made for this request), kept as base64 until the row is pruned."""
    messages = []
    for out in reply.messages:
        body = replace(out, attachments=[]).to_payload()
        body["attachments"] = [
            {"kind": a.kind, "filename": a.filename, "caption": a.caption,
             "file_id": a.file_id, "media": a.media,
             "data": base64.b64encode(a.data).decode() if a.data else None}
            for a in out.attachments]
        messages.append(body)
    return {"messages": messages, "toast": reply.toast}


def reply_from_json(body: dict[str, Any]) -> Reply:
    messages = []
    for item in body.get("messages") or []:
        out = Outgoing.from_payload({k: v for k, v in item.items() if k != "attachments"})
        out.attachments = [
            Attachment(a["kind"], base64.b64decode(a["data"]) if a.get("data") else b"",
                       a.get("filename") or "", a.get("caption"), a.get("file_id"),
                       a.get("media"))
            for a in item.get("attachments") or []]
        messages.append(out)
    return Reply(messages, toast=body.get("toast"))


class Unnoted:
    """Rows whose reply was delivered, not yet noted as such (`replied_at`).

    They are still open in the table, so a claim or an order check must pass over them
    (`of`); a transaction that notes some takes them (`take`) so that no other notes
    the same rows at once (two UPDATEs locking one row in turn), and `settle`s them
    once its commit is known.
    """

    def __init__(self, wake: Callable[[], None] = lambda: None) -> None:
        self._rows: dict[int, tuple[str, float]] = {}  # row id → (chat, loop time sent)
        self._noting: set[int] = set()  # taken by a transaction in flight
        # Called when the first row not being noted appears (a new one, or rows given
        # back by a transaction that failed): the run loop's wait must end by its time.
        self._wake = wake

    def __bool__(self) -> bool:
        return bool(self._rows)

    def add(self, row_id: int, chat: str, at: float) -> None:
        alone = all(i in self._noting for i in self._rows)  # none waiting to be taken
        self._rows[row_id] = (chat, at)
        if alone:
            self._wake()

    def wait(self, idle: float, within: float, now: float) -> float:
        """How long the run loop may sleep: `idle`, or less if the oldest row no
        transaction is noting must be noted (`within` s after it went) before that."""
        first = min((at for i, (_, at) in self._rows.items() if i not in self._noting),
                    default=None)
        return idle if first is None else min(idle, max(0.0, first + within - now))

    def of(self, chat: str) -> list[int]:
        return [i for i, (c, _) in self._rows.items() if c == chat]

    def take(self, before: float | None = None) -> list[int]:
        """Rows (delivered before loop time `before`) no other transaction is noting."""
        taken = [i for i, (_, at) in self._rows.items()
                 if i not in self._noting and (before is None or at < before)]
        self._noting.update(taken)
        return taken

    def settle(self, taken: list[int], noted: bool) -> None:
        self._noting.difference_update(taken)
        if noted:
            for i in taken:
                self._rows.pop(i, None)
        elif taken:
            self._wake()  # back to be noted, maybe by now overdue


class Held:
    """Chats whose row was refused because an older one is in another instance's hands
    (handled there, its reply not yet noted): asked again soon, at growing intervals,
    for about as long as that instance's claim lasts, rather than at the next scan."""

    def __init__(self, first: float, until: float) -> None:
        self._first, self._until = first, until
        self._waited: dict[str, float] = {}  # chat → seconds waited so far

    def add(self, chat: str) -> None:
        self._waited.setdefault(chat, 0.0)

    def clear(self, chat: str) -> None:
        self._waited.pop(chat, None)

    def next_wait(self, chat: str) -> float | None:
        """Seconds before asking again; None if the chat is not held or waited enough."""
        waited = self._waited.get(chat)
        if waited is None:
            return None
        if waited >= self._until:
            del self._waited[chat]  # the periodic scan takes over
            return None
        wait = min(max(self._first, waited), 1.0)  # doubling from `first`, at most 1 s
        self._waited[chat] = waited + wait
        return wait
