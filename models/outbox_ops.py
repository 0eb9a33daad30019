"""Writing to the outbox: idempotent enqueue, addressed to members' channel identities.

Also what wakes a sender when new rows become visible: `enqueue` marks its session,
and when that session's transaction commits, the callbacks registered with
`wake_on_commit` run (the runtime registers `Sender.nudge`). Whoever commits (the router
after a handler, the scheduler after a job, anything later) needs to do nothing, and
this layer needs to know nothing about senders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from models.outbox import OutboxMessage, OutboxStatus
from models.outbox_route import NOT_DELIVERABLE, routes

log = logging.getLogger(__name__)
__all__ = ["NOT_DELIVERABLE", "enqueue", "enqueue_to_members", "running_channels", "serving",
           "wake_on_commit"]

Wake = Callable[[], None]
_ENQUEUED = "thidua.outbox_enqueued"  # session.info: this transaction added outbox rows
_WAKERS = "thidua.outbox_wakers"  # session.info: the list shared with its sessionmaker

_RUNNING = "thidua.channels"  # session.info: the channels this instance serves


# Rows per INSERT of an audience: 12 parameters a row stays under both drivers' limit of
# 32,767 parameters per statement.
BULK_ROWS = 1000


def _row(*, kind: str, dedupe_key: str, channel: str, chat_id: str, body: dict[str, Any],
         now: datetime, member_id: int | None, broadcast_id: int | None) -> dict[str, Any]:
    return {
        "kind": kind, "dedupe_key": dedupe_key[:200], "channel": channel,
        "chat_id": chat_id, "payload": body, "member_id": member_id,
        "broadcast_id": broadcast_id, "status": OutboxStatus.PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "permanent": False,
    }


async def _insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING for `rows`, in as few statements as
    the parameter limit allows; the number of rows added."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(rows), BULK_ROWS):
        stmt = insert(OutboxMessage).values(rows[start:start + BULK_ROWS]) \
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        result = await session.execute(stmt)
        added += max(int(getattr(result, "rowcount", 0) or 0), 0)
    if added:  # a duplicate is no news for the sender
        session.info[_ENQUEUED] = True
    return added


async def enqueue(session: AsyncSession, *, kind: str, dedupe_key: str, channel: str,
                  chat_id: str, body: dict[str, Any], now: datetime,
                  member_id: int | None = None, broadcast_id: int | None = None) -> bool:
    """Add one message unless one with the same dedupe key exists. True if added."""
    return bool(await _insert_rows(session, [_row(
        kind=kind, dedupe_key=dedupe_key, channel=channel, chat_id=chat_id, body=body,
        now=now, member_id=member_id, broadcast_id=broadcast_id)]))


def wake_on_commit(sessions: async_sessionmaker[AsyncSession], wake: Wake) -> Wake:
    """Call `wake` after each commit, by a session from `sessions`, that enqueued rows.

    Returns the function that stops it. Sessions copy their sessionmaker's `info`
    shallowly, so they all share one list of callbacks, and a callback added later
    reaches every session opened after it. Only this process's senders are woken; a
    sender elsewhere finds the rows after its idle sleep, as before.
    """
    info = sessions.kw.setdefault("info", {})
    wakers: list[Wake] = info.setdefault(_WAKERS, [])
    wakers.append(wake)

    def stop() -> None:
        if wake in wakers:
            wakers.remove(wake)

    return stop


@event.listens_for(Session, "after_commit")
def _wake_senders(session: Session) -> None:
    # The rows are visible to other connections now, not before: a sender woken at
    # enqueue time would claim nothing and go back to sleep.
    if not session.info.pop(_ENQUEUED, False):
        return
    for wake in list(session.info.get(_WAKERS, ())):
        try:
            wake()
        except Exception:  # the commit has happened: a failed wake-up must not undo it
            log.exception("outbox: waking a sender failed")


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # Runs after `after_commit` too; on a rollback the rows are gone, so there is no
    # news. A savepoint's end is ignored: at worst a sender wakes and finds nothing.
    if transaction.parent is None:
        session.info.pop(_ENQUEUED, None)


def serving(sessions: async_sessionmaker[AsyncSession], channels: Collection[str]) -> None:
    """Tell enqueuers which channels this instance serves (`Services.limits`, filled in
    by each channel as it starts: the same object is read at each enqueue, so channels
    started later count). Unset or empty: not known, every channel counts."""
    sessions.kw.setdefault("info", {})[_RUNNING] = channels


def running_channels(session: AsyncSession) -> Collection[str] | None:
    channels: Collection[str] | None = session.info.get(_RUNNING)
    return channels if channels else None


async def enqueue_to_members(session: AsyncSession, *, kind: str, key: str,
                             member_ids: Iterable[int], body: dict[str, Any], now: datetime,
                             broadcast_id: int | None = None) -> int:
    """One row per member, to the account `models.outbox_route.route` picks (their
    chosen or last used messenger), deduplicated by `key` + member; the number added."""
    best = await routes(session, member_ids, running_channels(session))
    # One INSERT for the whole audience (per 1,000), not one per member: a broadcast to
    # 1,000 leaders was 1,001 statements holding the update loop for over a second.
    return await _insert_rows(session, [
        _row(kind=kind, dedupe_key=f"{key}:{member_id}", channel=ident.channel,
             chat_id=ident.chat_id, body=body, now=now, member_id=member_id,
             broadcast_id=broadcast_id)
        for member_id, ident in best.items()])
