"""What the health check and the metrics read from the outbox: depth and oldest age.

Both are one aggregate query (`ix_outbox_due` covers the status filter), cheap enough to
run on every `/healthz` probe and `/metrics` scrape, so nothing needs sampling in the
background. A row counts as waiting while it is pending (including a retry not yet
due) or being sent: either way the member has not got it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.members import Member, Role
from models.outbox import OutboxMessage, OutboxStatus

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def depth_by_status(session: AsyncSession) -> dict[str, int]:
    """Rows per status, every status present (0 when there are none)."""
    counts = {status.value: 0 for status in OutboxStatus}
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    for status, n in rows:
        counts[str(status)] = int(n)
    return counts


async def oldest_waiting(session: AsyncSession) -> datetime | None:
    """When the oldest row not yet delivered was enqueued; None if none waits."""
    found: datetime | None = await session.scalar(
        select(func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_([s.value for s in WAITING])))
    if found is not None and found.tzinfo is None:  # SQLite keeps no zone; all are UTC
        found = found.replace(tzinfo=UTC)
    return found


async def admin_ids(session: AsyncSession) -> list[int]:
    """The active admins: who hears about the bot's errors when no chat is configured."""
    rows = await session.scalars(
        select(Member.id).where(Member.role == Role.ADMIN, Member.active.is_(True))
        .order_by(Member.id))
    return list(rows)
