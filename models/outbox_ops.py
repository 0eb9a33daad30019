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

from sqlalchemy import String, Table, bindparam, cast, event, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from models.base import dialect_insert
from models.members import Identity
from models.outbox import OutboxMessage, OutboxStatus
from models.outbox_route import NOT_DELIVERABLE, routes

log = logging.getLogger(__name__)
__all__ = ["NOT_DELIVERABLE", "enqueue", "enqueue_to_members", "running_channels", "serving",
           "wake_on_commit"]

Wake = Callable[[], None]
_ENQUEUED = "thidua.outbox_enqueued"  # session.info: this transaction added outbox rows
_WAKERS = "thidua.outbox_wakers"  # session.info: the list shared with its sessionmaker

_RUNNING = "thidua.channels"  # session.info: the channels this instance serves


# The table itself (Core): an ORM-enabled INSERT … SELECT would take the parameters
# for rows of its own.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]

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
    insert = dialect_insert(dialect)
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
    chosen = [ident.id for ident in best.values()]
    if not chosen:
        return 0
    # INSERT … SELECT from the chosen identities: one short statement per 1,000
    # recipients, compiled once and cached. Spelling the rows out (`.values([...])`)
    # built and compiled a new 12,000-parameter statement each time: on a busy machine
    # most of a second before a 1,000-recipient broadcast could commit and start.
    dialect = session.get_bind().dialect.name
    insert = dialect_insert(dialect)
    table = OUTBOX.c
    dedupe = func.substr(bindparam("key", f"{key}:", String) + cast(Identity.member_id, String),
                         1, 200)
    source = select(
        literal(kind, String), dedupe, Identity.member_id, Identity.channel, Identity.chat_id,
        bindparam("body", body, table.payload.type),
        bindparam("broadcast", broadcast_id, table.broadcast_id.type),
        literal(OutboxStatus.PENDING.value, String), literal(0),
        bindparam("now", now, table.next_attempt_at.type),
        bindparam("created", now, table.created_at.type), literal(False),
    ).where(Identity.id.in_(bindparam("chosen", expanding=True)))
    stmt = insert(OUTBOX).from_select(
        ["kind", "dedupe_key", "member_id", "channel", "chat_id", "payload", "broadcast_id",
         "status", "attempts", "next_attempt_at", "created_at", "permanent"], source,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    added = 0
    for start in range(0, len(chosen), BULK_ROWS):
        result = await session.execute(stmt, {"chosen": chosen[start:start + BULK_ROWS]})
        added += max(int(getattr(result, "rowcount", 0) or 0), 0)
    if added:  # a duplicate is no news for the sender
        session.info[_ENQUEUED] = True
    return added
