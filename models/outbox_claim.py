"""Claiming outbox rows for sending, recording results, and reporting delivery status.

Two senders (two processes, or a restarted one) may drain the same table, so a row is
owned by whoever moved it to `sending`, and every later write is guarded by that claim:

* PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, then the update, in one transaction —
  concurrent claimers skip each other's rows instead of waiting on them.
* SQLite has no row locks: each candidate is taken with a compare-and-set `UPDATE`
  that only matches the state we saw (status, attempts, claimed_at). `attempts` grows on
  every claim, so it is a version number: a row two senders both saw is won by one.

A row left `sending` longer than the timeout belonged to a sender that died; it is
claimed again. The dead sender may have delivered it already — that one message is the
only duplicate the design allows. Its late writes (if it was merely slow) are refused,
because `claimed_by`/`attempts` no longer match.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.db import Sessions
from models.members import Identity, Member
from models.outbox import OutboxMessage, OutboxStatus

MAX_ERROR = 500  # last_error is for people; a full traceback belongs in the logs


def _due(now: datetime, sending_timeout: timedelta,
         channels: Collection[str] | None) -> ColumnElement[bool]:
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING,
             OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING,
             OutboxMessage.claimed_at < now - sending_timeout),
    )
    if channels is not None:
        due = and_(due, OutboxMessage.channel.in_(list(channels)))
    return due


def _rowcount(result: Any) -> int:
    # An UPDATE's result is a CursorResult; the generic Result type does not say so.
    return int(getattr(result, "rowcount", 0) or 0)


async def claim(sessions: Sessions, worker: str, now: datetime, limit: int,
                sending_timeout: timedelta, *,
                channels: Collection[str] | None = None) -> list[OutboxMessage]:
    """Take up to `limit` due rows (oldest first) for `worker`: status `sending`,
    `claimed_at=now`, `attempts+1`. Only rows for `channels` if given (a sender without a
    transport for a channel must leave its rows alone rather than fail them)."""
    if limit <= 0:
        return []
    async with sessions() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        return await _claim_locking(sessions, worker, now, limit, sending_timeout, channels)
    return await _claim_cas(sessions, worker, now, limit, sending_timeout, channels)


async def _claim_locking(sessions: Sessions, worker: str, now: datetime, limit: int,
                         sending_timeout: timedelta,
                         channels: Collection[str] | None) -> list[OutboxMessage]:
    async with sessions() as session, session.begin():
        rows = list(await session.scalars(
            select(OutboxMessage).where(_due(now, sending_timeout, channels))
            .order_by(OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True)))
        for row in rows:  # locked by us until commit: plain updates are safe
            row.status = OutboxStatus.SENDING
            row.claimed_at = now
            row.claimed_by = worker
            row.attempts += 1
    return rows


async def _claim_cas(sessions: Sessions, worker: str, now: datetime, limit: int,
                     sending_timeout: timedelta,
                     channels: Collection[str] | None) -> list[OutboxMessage]:
    won: list[int] = []
    # Senders that look at the same moment see the same oldest rows. Whoever loses a
    # compare-and-set looks again: a lost row is no longer due, so this ends.
    while len(won) < limit:
        lost = 0
        async with sessions() as session:
            seen = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts,
                       OutboxMessage.claimed_at)
                .where(_due(now, sending_timeout, channels))
                .order_by(OutboxMessage.id).limit(limit - len(won)))).all()
        if not seen:
            break
        # A separate transaction that starts with a write: SQLite takes the write lock at
        # once (waiting out busy_timeout) instead of failing a read-then-write upgrade.
        async with sessions() as session, session.begin():
            for row_id, status, attempts, claimed_at in seen:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.status == status,
                           OutboxMessage.attempts == attempts,
                           OutboxMessage.claimed_at.is_not_distinct_from(claimed_at))
                    .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=worker,
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))
                if _rowcount(result) == 1:
                    won.append(row_id)
                else:
                    lost += 1
        if not lost:
            break
    if not won:
        return []
    async with sessions() as session:
        return list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(won))
            .order_by(OutboxMessage.id)))


def _mine(row: OutboxMessage, worker: str) -> tuple[ColumnElement[bool], ...]:
    """Still our claim: nobody reclaimed the row since we took it."""
    return (OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker, OutboxMessage.attempts == row.attempts)


async def _guarded(session: AsyncSession, row: OutboxMessage, worker: str,
                   **values: Any) -> bool:
    result = await session.execute(
        update(OutboxMessage).where(*_mine(row, worker)).values(**values)
        .execution_options(synchronize_session=False))
    return _rowcount(result) == 1


async def mark_sent(session: AsyncSession, row: OutboxMessage, worker: str, now: datetime,
                    message_id: str | None) -> bool:
    """Delivered. False if the claim was lost (another sender owns the row now)."""
    return await _guarded(session, row, worker, status=OutboxStatus.SENT, sent_at=now,
                          message_id=message_id, last_error=None, permanent=False)


async def mark_retry(session: AsyncSession, row: OutboxMessage, worker: str,
                     next_at: datetime, error: str, *, count_attempt: bool = True) -> bool:
    """Back to `pending` until `next_at`. `count_attempt=False` gives the attempt back
    (a 429 says nothing about the message, only that we were early)."""
    attempts = OutboxMessage.attempts if count_attempt else OutboxMessage.attempts - 1
    return await _guarded(session, row, worker, status=OutboxStatus.PENDING,
                          next_attempt_at=next_at, last_error=error[:MAX_ERROR],
                          attempts=attempts)


async def mark_failed(session: AsyncSession, row: OutboxMessage, worker: str, error: str, *,
                      permanent: bool, unreachable: bool = False) -> bool:
    """Given up. `unreachable` (blocked, deactivated, chat not found) also flags the
    account, and the member once none of their accounts is reachable, so admins see
    who cannot be reached; a message Telegram rejects for its content is permanent too
    but says nothing about the member."""
    ok = await _guarded(session, row, worker, status=OutboxStatus.FAILED,
                        last_error=error[:MAX_ERROR], permanent=permanent)
    if ok and unreachable and row.member_id is not None:
        await session.execute(
            update(Identity).where(Identity.member_id == row.member_id,
                                   Identity.channel == row.channel,
                                   Identity.chat_id == row.chat_id)
            .values(unreachable=True).execution_options(synchronize_session=False))
        reachable = exists().where(Identity.member_id == row.member_id,
                                   Identity.unreachable.is_(False))
        await session.execute(update(Member).where(Member.id == row.member_id, ~reachable)
                              .values(unreachable=True)
                              .execution_options(synchronize_session=False))
    return ok


async def release(session: AsyncSession, row: OutboxMessage, worker: str) -> bool:
    """Give a claimed but unattempted row back (e.g. its claim is getting old)."""
    return await _guarded(session, row, worker, status=OutboxStatus.PENDING,
                          claimed_at=None, claimed_by=None,
                          attempts=OutboxMessage.attempts - 1)


# -- status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One outbox row as an admin sees it."""

    row_id: int
    member_id: int | None
    member_name: str | None
    channel: str
    chat_id: str
    status: str
    attempts: int
    error: str | None
    permanent: bool
    sent_at: datetime | None


@dataclass(frozen=True)
class DeliveryStatus:
    counts: dict[str, int]  # status -> rows
    failures: list[Recipient] = field(default_factory=list)
    # channel -> status -> rows: where the messages went (a row names the channel it
    # was sent on, after any fallback to the member's other account)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, status: OutboxStatus) -> int:
        return self.counts.get(status.value, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        return self.count(OutboxStatus.SENT)

    @property
    def failed(self) -> int:
        return self.count(OutboxStatus.FAILED)

    @property
    def waiting(self) -> int:
        """Not finished yet: pending (incl. waiting for a retry) or being sent."""
        return self.count(OutboxStatus.PENDING) + self.count(OutboxStatus.SENDING)

    @property
    def done(self) -> bool:
        return self.waiting == 0


def _filters(broadcast_id: int | None, kind: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if broadcast_id is not None:
        where.append(OutboxMessage.broadcast_id == broadcast_id)
    if kind is not None:
        where.append(OutboxMessage.kind == kind)
    return where


async def recipients(session: AsyncSession, *, broadcast_id: int | None = None,
                     kind: str | None = None, statuses: Sequence[OutboxStatus] | None = None,
                     limit: int = 200) -> list[Recipient]:
    """Per-recipient status (with the member's name and the reason for a failure)."""
    where = _filters(broadcast_id, kind)
    if statuses is not None:
        where.append(OutboxMessage.status.in_([s.value for s in statuses]))
    rows = await session.execute(
        select(OutboxMessage, Member.display_name)
        .outerjoin(Member, Member.id == OutboxMessage.member_id)
        .where(*where).order_by(OutboxMessage.id).limit(limit))
    return [Recipient(row_id=m.id, member_id=m.member_id, member_name=name,
                      channel=m.channel, chat_id=m.chat_id, status=str(m.status),
                      attempts=m.attempts, error=m.last_error, permanent=m.permanent,
                      sent_at=m.sent_at)
            for m, name in rows]


async def delivery_status(session: AsyncSession, *, broadcast_id: int | None = None,
                          kind: str | None = None, max_failures: int = 200) -> DeliveryStatus:
    """Counts by status, and who failed and why (for a broadcast, a kind, or everything)."""
    counted = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(*_filters(broadcast_id, kind))
        .group_by(OutboxMessage.channel, OutboxMessage.status))
    counts: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, n in counted:
        counts[str(status)] = counts.get(str(status), 0) + int(n)
        by_channel.setdefault(str(channel), {})[str(status)] = int(n)
    failures = []
    if counts.get(OutboxStatus.FAILED.value):
        failures = await recipients(session, broadcast_id=broadcast_id, kind=kind,
                                    statuses=[OutboxStatus.FAILED], limit=max_failures)
    return DeliveryStatus(counts=counts, failures=failures, by_channel=by_channel)
