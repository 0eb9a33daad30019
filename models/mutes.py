"""Leaders who will not report a period (e.g. on leave): no reminders, reason kept.

The reason is for the Council (the digest and /trangthai show it), so a mute without
one is refused. One mute per group and period: muting again replaces the reason.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import dialect_insert
from models.outbox import ReminderMute

MAX_REASON = 300  # the column's size


async def mute(session: AsyncSession, group_id: int, period_key: str, member_id: int,
               reason: str, now: datetime) -> None:
    """Stop reminders to `group_id` for `period_key`, saying why (ValueError if blank)."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period_key):
        raise ValueError(f"not a period key: {period_key!r}")
    reason = " ".join(reason.split())[:MAX_REASON]
    if not reason:
        raise ValueError("a mute needs a reason the Council can read")
    dialect = session.get_bind().dialect.name
    insert = dialect_insert(dialect)
    changes = {"member_id": member_id, "reason": reason, "created_at": now}
    # An upsert, so two leaders of one group muting at once do not collide.
    stmt = insert(ReminderMute).values(group_id=group_id, period_key=period_key, **changes)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["group_id", "period_key"], set_=changes))


async def unmute(session: AsyncSession, group_id: int, period_key: str) -> bool:
    """Reminders again (the leader will report after all). True if a mute was removed."""
    result = await session.execute(delete(ReminderMute).where(
        ReminderMute.group_id == group_id, ReminderMute.period_key == period_key))
    return bool(getattr(result, "rowcount", 0))


async def muted_groups(session: AsyncSession, period_key: str) -> dict[int, str]:
    """group id → reason, for every group muted for `period_key`."""
    rows = await session.execute(select(ReminderMute.group_id, ReminderMute.reason)
                                 .where(ReminderMute.period_key == period_key))
    return {group_id: reason for group_id, reason in rows.all()}
