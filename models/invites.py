"""One-time registration codes: creation and redemption."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.members import CodeAttempt, Group, Identity, Invite, Member, Role

# No 0/O or 1/I/L: codes are read aloud and typed by older leaders on small phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Forgive spaces, dashes and lower case: " abcd-efgh " → "ABCDEFGH"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


async def create_invite(session: AsyncSession, group: Group | None, role: Role,
                        now: datetime, ttl: timedelta) -> tuple[str, Invite]:
    code = new_code()
    invite = Invite(code_hash=hash_code(code), group_id=group.id if group else None,
                    role=role, created_at=now, expires_at=now + ttl)
    session.add(invite)
    await session.flush()
    return code, invite


class Redeem(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    TOO_MANY = "too_many"


@dataclass
class Redemption:
    outcome: Redeem
    member: Member | None = None
    group: Group | None = None


async def wrong_attempts(session: AsyncSession, channel: str, external_id: str,
                         since: datetime) -> int:
    count = await session.scalar(
        select(func.count()).select_from(CodeAttempt).where(
            CodeAttempt.channel == channel, CodeAttempt.external_id == external_id,
            CodeAttempt.at >= since)
    )
    return int(count or 0)


async def redeem(session: AsyncSession, code: str, *, channel: str, external_id: str,
                 chat_id: str, display_name: str, language: str, now: datetime,
                 max_wrong_per_hour: int) -> Redemption:
    """Bind a channel identity to a new member, consuming the invite exactly once."""
    if await wrong_attempts(session, channel, external_id,
                            now - timedelta(hours=1)) >= max_wrong_per_hour:
        return Redemption(Redeem.TOO_MANY)
    # Lock the row on PostgreSQL so two simultaneous uses cannot both succeed.
    invite = await session.scalar(
        select(Invite).where(Invite.code_hash == hash_code(code)).with_for_update()
    )
    outcome = None
    if invite is None:
        outcome = Redeem.UNKNOWN
    elif invite.used_at is not None:
        outcome = Redeem.USED
    elif invite.expires_at <= now:
        outcome = Redeem.EXPIRED
    if outcome is not None:
        session.add(CodeAttempt(channel=channel, external_id=external_id, at=now))
        return Redemption(outcome)
    assert invite is not None
    member = Member(display_name=display_name[:200] or "?", role=invite.role,
                    group_id=invite.group_id, language=language, created_at=now)
    session.add(member)
    await session.flush()
    session.add(Identity(member_id=member.id, channel=channel, external_id=external_id,
                         chat_id=chat_id, created_at=now))
    invite.used_at, invite.used_by = now, member.id
    group = await session.get(Group, invite.group_id) if invite.group_id else None
    return Redemption(Redeem.OK, member, group)
