"""One-time registration codes: creation and redemption.

A code is 8 characters of a 31-letter alphabet (~2^40): too few to survive an offline
search of an unsalted hash, so the database keeps HMAC-SHA256 of it under the
installation's invite key (THIDUA_SECRET_KEY, else a random key kept in `app_secrets`):
a stolen database alone does not give the codes away. Rows made before that carry
`hash_scheme = sha256` and are accepted until they are used or expire.

Guessing online is bounded twice: per user (`max_wrong_per_hour`), and for everyone
together (`max_wrong_overall` in `OVERALL_WINDOW`), since a guesser can use many
accounts. While the overall limit is reached, registration by code pauses for all;
paused tries are not recorded, so the pause ends one window after the last counted
wrong code.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.members import CodeAttempt, Group, HashScheme, Identity, Invite, Member, Role
from models.roster import Change, deactivate

log = logging.getLogger(__name__)

# No 0/O or 1/I/L: codes are read aloud and typed by older leaders on small phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
OVERALL_WINDOW = timedelta(minutes=10)
LEGACY_GRACE = timedelta(days=30)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Forgive spaces, dashes and lower case: " abcd-efgh " → "ABCDEFGH"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    """The legacy scheme (plain SHA-256), still read for rows made before 0008."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


@dataclass(frozen=True)
class InviteKey:
    """The installation's key for invite hashes; its repr never shows it.

    `on_new_code` sees each code this process makes, in clear: the runtime passes its
    log redaction, since replies and API echoes carry the code in plain text.
    """

    secret: bytes = field(repr=False)
    on_new_code: Callable[[str], None] | None = field(default=None, repr=False,
                                                      compare=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("an invite key needs at least 16 bytes")

    def hash(self, code: str) -> str:
        return hmac.new(self.secret, normalise_code(code).encode(), hashlib.sha256).hexdigest()


async def create_invite(session: AsyncSession, group: Group | None, role: Role,
                        now: datetime, ttl: timedelta, *, key: InviteKey,
                        replaces: Member | None = None) -> tuple[str, Invite]:
    """A one-time code for `role` in `group`; with `replaces`, a handover: the member
    registering with it takes over from that one, who is deactivated then."""
    code = new_code()
    if key.on_new_code is not None:
        key.on_new_code(code)
    invite = Invite(code_hash=key.hash(code), hash_scheme=HashScheme.HMAC,
                    group_id=group.id if group else None, role=role, created_at=now,
                    expires_at=now + ttl,
                    replaces_member_id=replaces.id if replaces else None)
    session.add(invite)
    await session.flush()
    return code, invite


async def create_link_code(session: AsyncSession, member: Member, now: datetime,
                           ttl: timedelta, *, key: InviteKey) -> tuple[str, Invite]:
    """A code that adds the account typing it to `member` (`/lienket`).

    The same row, hash and limits as an invite: only the redemption differs. Codes the
    member asked for before and has not used are voided, so one code is open at a time.
    """
    await session.execute(delete(Invite).where(Invite.link_member_id == member.id,
                                               Invite.used_at.is_(None)))
    code, invite = await create_invite(session, None, member.role, now, ttl, key=key)
    invite.group_id, invite.link_member_id = member.group_id, member.id
    await session.flush()
    return code, invite


class Redeem(StrEnum):
    OK = "ok"
    LINKED = "linked"  # a link code: the account now belongs to an existing member
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    TOO_MANY = "too_many"  # this user guessed wrong too often
    PAUSED = "paused"  # everyone together did: registration by code waits


@dataclass
class Redemption:
    outcome: Redeem
    member: Member | None = None
    group: Group | None = None
    replaced: Member | None = None  # the leader a handover code deactivated


async def wrong_attempts(session: AsyncSession, channel: str | None, external_id: str | None,
                         since: datetime) -> int:
    """Wrong codes since `since`: one user's, or everyone's when no user is given."""
    query = select(func.count()).select_from(CodeAttempt).where(CodeAttempt.at >= since)
    if channel is not None and external_id is not None:
        query = query.where(CodeAttempt.channel == channel,
                            CodeAttempt.external_id == external_id)
    return int(await session.scalar(query) or 0)


async def _find(session: AsyncSession, code: str, key: InviteKey,
                now: datetime) -> Invite | None:
    wanted = and_(Invite.hash_scheme == HashScheme.HMAC, Invite.code_hash == key.hash(code))
    # The legacy hash is computed only while legacy rows are recent (usable, or lapsed
    # less than LEGACY_GRACE ago, so "used"/"expired" are still told right): a plain
    # SHA-256 of what the user typed is not worth handing to the SQL layer otherwise.
    legacy_open = await session.scalar(select(exists().where(
        Invite.hash_scheme == HashScheme.SHA256, Invite.expires_at > now - LEGACY_GRACE)))
    if legacy_open:
        wanted = or_(wanted, and_(Invite.hash_scheme == HashScheme.SHA256,
                                  Invite.code_hash == hash_code(code)))
    # Lock the row on PostgreSQL so two simultaneous uses cannot both succeed.
    return await session.scalar(select(Invite).where(wanted).with_for_update())


async def redeem(session: AsyncSession, code: str, *, channel: str, external_id: str,
                 chat_id: str, display_name: str, language: str, now: datetime,
                 key: InviteKey, max_wrong_per_hour: int,
                 max_wrong_overall: int) -> Redemption:
    """Bind a channel identity to a new member, consuming the invite exactly once."""
    if await wrong_attempts(session, channel, external_id,
                            now - timedelta(hours=1)) >= max_wrong_per_hour:
        return Redemption(Redeem.TOO_MANY)
    overall = await wrong_attempts(session, None, None, now - OVERALL_WINDOW)
    if overall >= max_wrong_overall:
        return Redemption(Redeem.PAUSED)
    invite = await _find(session, code, key, now)
    outcome = None
    if invite is None:
        outcome = Redeem.UNKNOWN
    elif invite.used_at is not None:
        outcome = Redeem.USED
    elif invite.expires_at <= now:
        outcome = Redeem.EXPIRED
    if outcome is not None:
        session.add(CodeAttempt(channel=channel, external_id=external_id, at=now))
        if overall + 1 == max_wrong_overall:
            log.warning("registration by code paused: %d wrong codes in %d minutes from "
                        "all users", max_wrong_overall, OVERALL_WINDOW.seconds // 60)
        return Redemption(outcome)
    assert invite is not None
    if invite.link_member_id is not None:
        return await _link(session, invite, channel=channel, external_id=external_id,
                           chat_id=chat_id, now=now)
    member = Member(display_name=display_name[:200] or "?", role=invite.role,
                    group_id=invite.group_id, language=language, created_at=now)
    session.add(member)
    await session.flush()
    session.add(Identity(member_id=member.id, channel=channel, external_id=external_id,
                         chat_id=chat_id, created_at=now))
    invite.used_at, invite.used_by = now, member.id
    group = await session.get(Group, invite.group_id) if invite.group_id else None
    replaced = None
    if invite.replaces_member_id is not None:
        # In this very transaction: the group is never left with both or neither. The
        # group's draft stays the group's, so the new leader's /baocao continues it.
        done, replaced = await deactivate(session, invite.replaces_member_id, now,
                                          f"bàn giao cho #{member.id}")
        if done is not Change.DONE:
            replaced = None  # already gone (deactivated by hand meanwhile): nothing to do
    return Redemption(Redeem.OK, member, group, replaced)


async def _link(session: AsyncSession, invite: Invite, *, channel: str, external_id: str,
                chat_id: str, now: datetime) -> Redemption:
    """Add this account to the member who asked for the code. A member has one account
    per channel: linking a new one on a channel replaces the old (a new phone number)."""
    member = await session.get(Member, invite.link_member_id)
    if member is None or not member.active:
        session.add(CodeAttempt(channel=channel, external_id=external_id, at=now))
        return Redemption(Redeem.UNKNOWN)
    await session.execute(delete(Identity).where(Identity.member_id == member.id,
                                                 Identity.channel == channel))
    session.add(Identity(member_id=member.id, channel=channel, external_id=external_id,
                         chat_id=chat_id, created_at=now, last_used_at=now))
    invite.used_at, invite.used_by = now, member.id
    group = await session.get(Group, member.group_id) if member.group_id else None
    return Redemption(Redeem.LINKED, member, group)
