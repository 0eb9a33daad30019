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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models.inbox import InboxState, InboxUpdate

KEEP = timedelta(days=7)  # how long answered rows stay (a redelivery after that is unlikely)


class AlreadyHandled(Exception):
    """The row was done by someone else meanwhile: roll this handling back."""


@dataclass(frozen=True)
class NewUpdate:
    key: str  # unique per channel: Telegram's update_id
    chat_id: str
    payload: str  # the raw JSON, as received


async def store(session: AsyncSession, channel: str, updates: Sequence[NewUpdate],
                now: datetime) -> int:
    """Insert the updates, skipping any already stored; returns how many were new."""
    if not updates:
        return 0
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    rows = [{"channel": channel, "update_key": u.key, "chat_id": u.chat_id,
             "payload": u.payload, "received_at": now, "state": InboxState.NEW,
             "attempts": 0} for u in updates]
    stmt = insert(InboxUpdate).values(rows).on_conflict_do_nothing(
        index_elements=["channel", "update_key"])
    result: CursorResult[Any] = await session.execute(stmt)  # type: ignore[assignment]
    return max(result.rowcount, 0)


def _open() -> ColumnElement[bool]:
    """Not handled yet, or handled but its reply not confirmed as delivered."""
    return or_(InboxUpdate.state == InboxState.NEW,
               and_(InboxUpdate.state == InboxState.DONE, InboxUpdate.replied_at.is_(None)))


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
                     now: datetime, stale: datetime) -> InboxUpdate | None:
    """The chat's oldest open row, claimed for `me`; None if none or another holds it."""
    row = await session.scalar(
        select(InboxUpdate).where(InboxUpdate.channel == channel,
                                  InboxUpdate.chat_id == chat_id, _open())
        .order_by(InboxUpdate.id).limit(1))
    if row is None:
        return None
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(InboxUpdate).where(InboxUpdate.id == row.id, _open(), _free(me, stale))
        .values(claimed_by=me, claimed_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    row.claimed_by, row.claimed_at = me, now
    return row


async def mark_done(session: AsyncSession, row_id: int, reply: dict[str, Any],
                    now: datetime) -> None:
    """Close the row with its reply, inside the transaction that handled it."""
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(InboxUpdate)
        .where(InboxUpdate.id == row_id, InboxUpdate.state == InboxState.NEW)
        .values(state=InboxState.DONE, reply=reply, processed_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise AlreadyHandled(row_id)


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
