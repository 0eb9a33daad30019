"""Storing, claiming and closing inbox rows (see `models.inbox` and `bot.inbox`).

Claims are soft: a dispatcher takes the oldest open row of a chat and writes its name on
it for a short lease, so that two instances do not both work on one chat. What makes an
update apply once is `mark_done`, a compare-and-set (`state = 'new'`) executed in the
handler's own transaction: if another instance finished the row first, the update
matches nothing, `AlreadyHandled` rolls the whole handling back, and its reply is never
sent. The one duplicate left is a reply: delivered, then the process dies before
`mark_replied` commits, so the next one delivers it again (at least once, never zero).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CursorResult,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models.base import dialect_insert
from models.inbox import InboxState, InboxUpdate

KEEP = timedelta(days=7)  # how long answered rows stay (a redelivery after that is unlikely)


class AlreadyHandled(Exception):
    """The row was done by someone else meanwhile: roll this handling back."""


@dataclass(frozen=True)
class NewUpdate:
    key: str  # unique per channel: Telegram's update_id
    chat_id: str
    payload: str  # the raw JSON, as received


@dataclass(frozen=True)
class Claimed:
    """An inbox row in a dispatcher's hands (what handling it needs, no ORM object)."""

    id: int
    chat_id: str
    payload: str
    received_at: datetime
    state: str = InboxState.NEW
    reply: dict[str, Any] | None = None
    # What the channel read from `payload` when it stored the row, handed over in
    # memory with it ((raw JSON, its `Incoming`)): the dispatcher need not read it again.
    read: tuple[dict[str, Any], Any] | None = field(default=None, compare=False, repr=False)


def _rows(updates: Sequence[NewUpdate], channel: str, now: datetime,
          claimed_by: str | None = None) -> list[dict[str, Any]]:
    return [{"channel": channel, "update_key": u.key, "chat_id": u.chat_id,
             "payload": u.payload, "received_at": now, "state": InboxState.NEW,
             "attempts": 0, "claimed_by": claimed_by,
             "claimed_at": now if claimed_by else None} for u in updates]


def _insert(session: AsyncSession) -> Any:
    return dialect_insert(session.get_bind().dialect.name)


_STORE_CLAIMED: dict[str, Any] = {}


async def store_claimed(session: AsyncSession, channel: str, updates: Sequence[NewUpdate],
                        now: datetime, me: str) -> list[Claimed]:
    """`store`, the new rows claimed for dispatcher `me` and returned (oldest first), so
    that it handles them without reading them back."""
    if not updates:
        return []
    dialect = session.get_bind().dialect.name
    stmt = _STORE_CLAIMED.get(dialect)
    if stmt is None:
        # Built once: a statement of a given shape is compiled once, and its rows go as
        # executemany parameters (one INSERT … VALUES (…), (…) all the same).
        table = InboxUpdate.__table__
        stmt = _STORE_CLAIMED[dialect] = (
            _insert(session)(table).on_conflict_do_nothing(
                index_elements=["channel", "update_key"])
            .returning(table.c.id, table.c.chat_id, table.c.payload))
    rows = (await session.execute(stmt, _rows(updates, channel, now, me))).all()
    return sorted((Claimed(i, chat, payload, now) for i, chat, payload in rows),
                  key=lambda c: c.id)


async def store(session: AsyncSession, channel: str, updates: Sequence[NewUpdate],
                now: datetime) -> int:
    """Insert the updates, skipping any already stored; returns how many were new."""
    if not updates:
        return 0
    stmt = _insert(session)(InboxUpdate).values(_rows(updates, channel, now)) \
        .on_conflict_do_nothing(
        index_elements=["channel", "update_key"])
    result: CursorResult[Any] = await session.execute(stmt)  # type: ignore[assignment]
    return max(result.rowcount, 0)


def _open(row: Any = InboxUpdate) -> ColumnElement[bool]:
    """Not handled yet, or handled but its reply not confirmed as delivered."""
    return or_(row.state == InboxState.NEW,
               and_(row.state == InboxState.DONE, row.replied_at.is_(None)))


def _free(me: str, stale: datetime) -> ColumnElement[bool]:
    return or_(InboxUpdate.claimed_by.is_(None), InboxUpdate.claimed_by == me,
               InboxUpdate.claimed_at < stale)


async def chats_with_work(session: AsyncSession, channel: str, me: str, stale: datetime,
                          limit: int = 500) -> list[str]:
    """Chats whose oldest open row nobody else holds, oldest first."""
    oldest = (select(InboxUpdate.chat_id, func.min(InboxUpdate.id).label("first"))
              .where(InboxUpdate.channel == channel, _open())
              .group_by(InboxUpdate.chat_id).subquery())
    rows = await session.execute(
        select(oldest.c.chat_id).join(InboxUpdate, InboxUpdate.id == oldest.c.first)
        .where(_free(me, stale)).order_by(oldest.c.first).limit(limit))
    return [chat for (chat,) in rows]


async def claim_next(session: AsyncSession, channel: str, chat_id: str, me: str,
                     now: datetime, stale: datetime,
                     delivered: Collection[int] = ()) -> Claimed | None:
    """The chat's oldest open row, claimed for `me` (one UPDATE … RETURNING); None if
    there is none or another holds it. `delivered`: rows whose reply `me` has sent but
    not yet noted (they are open in the table, not to be sent again)."""
    oldest = (select(func.min(InboxUpdate.id))
              .where(InboxUpdate.channel == channel, InboxUpdate.chat_id == chat_id, _open(),
                     InboxUpdate.id.not_in(list(delivered)))
              .scalar_subquery())
    # Two instances claiming at once on PostgreSQL: the second UPDATE waits for the
    # first's commit, finds the row no longer free and returns nothing.
    row = (await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == oldest, _free(me, stale))
        .values(claimed_by=me, claimed_at=now)
        .returning(InboxUpdate.id, InboxUpdate.payload, InboxUpdate.received_at,
                   InboxUpdate.state, InboxUpdate.reply)
        .execution_options(synchronize_session=False))).first()
    if row is None:
        return None
    return Claimed(row[0], chat_id, row[1], row[2], row[3], row[4])


async def mark_done(session: AsyncSession, row_id: int, reply: dict[str, Any],
                    now: datetime, *, first_of: tuple[str, str] | None = None,
                    delivered: Collection[int] = (), replied: Collection[int] = ()) -> None:
    """Close the row with its reply, inside the transaction that handled it.

    `first_of` (channel, chat): only if no older row of that chat is open (but those in
    `delivered`), which keeps a chat's updates in order without a claim read first.
    `replied`: rows whose replies were delivered, noted in this same UPDATE.
    """
    others = [i for i in replied if i != row_id]
    params: dict[str, Any] = {"row_id": row_id, "reply": reply, "now": now,
                              "others": others, "delivered": list(delivered)}
    if first_of is not None:
        params |= {"b_channel": first_of[0], "b_chat": first_of[1]}
    done = (await session.execute(_done_stmt(first_of is not None, bool(others)), params)
            ).scalars().all()
    if row_id not in done:
        raise AlreadyHandled(row_id)


@cache
def _done_stmt(in_order: bool, noting: bool) -> Any:
    """`mark_done`'s UPDATE, built once per shape (bound parameters throughout)."""
    row_id = bindparam("row_id", type_=Integer)
    now = bindparam("now", type_=InboxUpdate.__table__.c.processed_at.type)
    reply = bindparam("reply", type_=InboxUpdate.__table__.c.reply.type)
    target = and_(InboxUpdate.id == row_id, InboxUpdate.state == InboxState.NEW)
    if in_order:
        older = aliased(InboxUpdate)
        target = and_(target, ~exists().where(
            older.channel == bindparam("b_channel"), older.chat_id == bindparam("b_chat"),
            older.id < row_id, _open(older),
            older.id.not_in(bindparam("delivered", expanding=True))))
    # The claim is renewed with the row closed: its reply goes out next, and `holding`
    # renews it only every half lease from then on (a long handling, an export, must
    # not leave it looking abandoned to another instance while the reply is sent).
    if not noting:
        values: dict[str, Any] = {"state": InboxState.DONE, "reply": reply,
                                  "processed_at": now, "claimed_at": now}
        where = target
    else:
        mine = InboxUpdate.id == row_id
        values = {
            "state": case((mine, InboxState.DONE), else_=InboxUpdate.state),
            "reply": case((mine, reply), else_=InboxUpdate.reply),
            "processed_at": case((mine, now), else_=InboxUpdate.processed_at),
            "claimed_at": case((mine, now), else_=InboxUpdate.claimed_at),
            "replied_at": case((mine, InboxUpdate.replied_at), else_=now)}
        where = or_(target, InboxUpdate.id.in_(bindparam("others", expanding=True)))
    return (update(InboxUpdate).where(where).values(**values).returning(InboxUpdate.id)
            .execution_options(synchronize_session=False))


async def renew_claim(session: AsyncSession, row_id: int, me: str, now: datetime) -> None:
    """Keep `me`'s claim on a row fresh (while its reply is still going out)."""
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == row_id, InboxUpdate.claimed_by == me)
        .values(claimed_at=now).execution_options(synchronize_session=False))


async def mark_replied_all(session: AsyncSession, row_ids: Collection[int],
                           now: datetime) -> None:
    """Note the replies of these rows as delivered (one UPDATE)."""
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.id.in_(list(row_ids))).values(replied_at=now)
        .execution_options(synchronize_session=False))


async def mark_replied(session: AsyncSession, row_id: int, now: datetime) -> None:
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == row_id).values(replied_at=now)
        .execution_options(synchronize_session=False))


async def note_failure(session: AsyncSession, row_id: int) -> None:
    """A handling rolled back by the database: count it and give the row up for now."""
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.id == row_id, InboxUpdate.state == InboxState.NEW)
        .values(attempts=InboxUpdate.attempts + 1, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False))


async def prune(session: AsyncSession, before: datetime) -> int:
    """Forget rows handled and answered before `before`; returns how many."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        delete(InboxUpdate).where(InboxUpdate.state == InboxState.DONE,
                                  InboxUpdate.replied_at < before)
        .execution_options(synchronize_session=False))
    return max(result.rowcount, 0)
