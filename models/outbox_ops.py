"""Writing to the outbox: idempotent enqueue, addressed to members' channel identities."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.members import Identity, Member
from models.outbox import OutboxMessage, OutboxStatus

# The terminal (`thidua chat`) only answers the person typing: no sender delivers to
# it, so proactive messages addressed there would wait forever.
NOT_DELIVERABLE = frozenset({"console"})


async def enqueue(session: AsyncSession, *, kind: str, dedupe_key: str, channel: str,
                  chat_id: str, body: dict[str, Any], now: datetime,
                  member_id: int | None = None, broadcast_id: int | None = None) -> bool:
    """Add one message unless one with the same dedupe key exists. True if added."""
    values = {
        "kind": kind, "dedupe_key": dedupe_key[:200], "channel": channel,
        "chat_id": chat_id, "payload": body, "member_id": member_id,
        "broadcast_id": broadcast_id, "status": OutboxStatus.PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "permanent": False,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(
        index_elements=["dedupe_key"])
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def addresses(session: AsyncSession,
                    member_ids: Iterable[int]) -> dict[int, list[Identity]]:
    """Each active member's channel identities (where their messages go)."""
    ids = list(member_ids)
    if not ids:
        return {}
    rows = await session.scalars(
        select(Identity).join(Member, Member.id == Identity.member_id)
        .where(Identity.member_id.in_(ids), Member.active.is_(True))
        .order_by(Identity.id))
    out: dict[int, list[Identity]] = {}
    for identity in rows:
        out.setdefault(identity.member_id, []).append(identity)
    return out


async def enqueue_to_members(session: AsyncSession, *, kind: str, key: str,
                             member_ids: Iterable[int], body: dict[str, Any], now: datetime,
                             broadcast_id: int | None = None) -> int:
    """One row per member identity, deduplicated by `key` + member + channel."""
    added = 0
    for member_id, identities in (await addresses(session, member_ids)).items():
        for ident in identities:
            if ident.channel in NOT_DELIVERABLE:
                continue
            added += await enqueue(
                session, kind=kind, dedupe_key=f"{key}:{member_id}:{ident.channel}",
                channel=ident.channel, chat_id=ident.chat_id, body=body, now=now,
                member_id=member_id, broadcast_id=broadcast_id)
    return added
