"""Members over time: who is on the roster, and the admin's changes to it.

A ward runs the bot for years and its leaders change. A member is never deleted here:
reports, answers, audit rows and good deeds point at their row (`submitted_by`,
`updated_by`, `reported_by`), and the Council's history must keep naming who did what.
So leaving is `active = False` (the router then answers every command with "your
account is deactivated"), a move changes `group_id` only (a report belongs to its
group, so a draft the leader started stays with the old group), and a handover is an
invite that deactivates the leader it replaces when redeemed (`models.invites`).

Each change also closes the member's open conversations: a leader moved half-way
through the old group's report must not keep typing answers into it, and a
deactivated one has nothing left to continue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.conversation import Conversation
from models.members import Group, Identity, Member, Role
from models.reports import Report, ReportValue

__all__ = ["Change", "MemberRow", "Reach", "deactivate", "handover_target", "is_deactivated",
           "list_members", "move", "reactivate"]


class Change(StrEnum):
    """What became of a requested change (the handler and CLI word each one)."""

    DONE = "done"
    UNKNOWN = "unknown"  # no member with that id
    ALREADY = "already"  # already (in)active, or already in that group
    SELF = "self"  # an admin may not lock themselves out
    NOT_LEADER = "not_leader"  # only a leader belongs to a group that can change


@dataclass(frozen=True)
class Reach:
    """One channel account of a member, and whether the channel can reach it."""

    channel: str
    unreachable: bool


@dataclass(frozen=True)
class MemberRow:
    """One line of the roster."""

    id: int
    name: str
    role: Role
    group_code: str | None
    group_name: str | None
    active: bool
    unreachable: bool
    channels: tuple[Reach, ...]
    last_active: datetime | None
    inactive_since: datetime | None
    inactive_reason: str | None

    @property
    def reachable(self) -> bool:
        """Some channel account can still be reached (what a broadcast depends on)."""
        return not self.unreachable and any(not c.unreachable for c in self.channels)


def _latest(*stamps: datetime | None) -> datetime | None:
    present = [s for s in stamps if s is not None]
    return max(present) if present else None


async def list_members(session: AsyncSession, group_id: int | None = None,
                       member_id: int | None = None) -> list[MemberRow]:
    """The roster, by group then role then name; members without a group (the Council,
    admins) after the groups. Last activity is the latest of: a message from one of
    their accounts (or its registration), an answer they gave, a report they submitted
    (aggregated in SQL)."""
    query = (select(Member, Group).outerjoin(Group, Group.id == Member.group_id)
             .order_by(Group.id.is_(None), Group.id, Member.role, Member.display_name,
                       Member.id))
    if group_id is not None:
        query = query.where(Member.group_id == group_id)
    if member_id is not None:
        query = query.where(Member.id == member_id)
    rows = (await session.execute(query)).all()
    ids = [m.id for m, _ in rows]
    if not ids:
        return []
    reach: dict[int, list[Reach]] = {}
    used: dict[int, datetime | None] = {}
    for ident in await session.scalars(select(Identity).where(Identity.member_id.in_(ids))
                                       .order_by(Identity.channel)):
        reach.setdefault(ident.member_id, []).append(Reach(ident.channel, ident.unreachable))
        # Registering is the account's first use (it is not stamped as one).
        used[ident.member_id] = _latest(used.get(ident.member_id),
                                        ident.last_used_at or ident.created_at)
    answered: dict[int | None, datetime | None] = {
        who: at for who, at in (await session.execute(
            select(ReportValue.updated_by, func.max(ReportValue.updated_at))
            .where(ReportValue.updated_by.in_(ids)).group_by(ReportValue.updated_by))).all()}
    submitted: dict[int | None, datetime | None] = {
        who: at for who, at in (await session.execute(
            select(Report.submitted_by, func.max(Report.submitted_at))
            .where(Report.submitted_by.in_(ids)).group_by(Report.submitted_by))).all()}
    return [MemberRow(m.id, m.display_name, Role(m.role), g.code if g else None,
                      g.name if g else None, m.active, m.unreachable,
                      tuple(reach.get(m.id, ())),
                      _latest(used.get(m.id), answered.get(m.id), submitted.get(m.id)),
                      m.inactive_since, m.inactive_reason)
            for m, g in rows]


async def end_conversations(session: AsyncSession, member_id: int) -> None:
    """Close every flow the member is in, on every channel they have."""
    accounts = select(Identity.channel, Identity.external_id).where(
        Identity.member_id == member_id)
    for channel, external_id in (await session.execute(accounts)).all():
        await session.execute(delete(Conversation).where(
            Conversation.channel == channel, Conversation.external_id == external_id))


async def deactivate(session: AsyncSession, member_id: int, now: datetime,
                     reason: str | None, by: int | None = None) -> tuple[Change, Member | None]:
    """The member can no longer act; everything they did stays theirs."""
    member = await session.get(Member, member_id)
    if member is None:
        return Change.UNKNOWN, None
    if by is not None and by == member_id:
        return Change.SELF, member
    if not member.active:
        return Change.ALREADY, member
    member.active, member.inactive_since = False, now
    member.inactive_reason = (reason or "").strip()[:200] or None
    await end_conversations(session, member.id)
    return Change.DONE, member


async def reactivate(session: AsyncSession, member_id: int) -> tuple[Change, Member | None]:
    member = await session.get(Member, member_id)
    if member is None:
        return Change.UNKNOWN, None
    if member.active:
        return Change.ALREADY, member
    member.active, member.inactive_since, member.inactive_reason = True, None, None
    return Change.DONE, member


async def move(session: AsyncSession, member_id: int,
               group: Group) -> tuple[Change, Member | None]:
    """A leader now reports for `group`; the old group's reports (drafts too) stay there."""
    member = await session.get(Member, member_id)
    if member is None:
        return Change.UNKNOWN, None
    if member.role != Role.LEADER:
        return Change.NOT_LEADER, member
    if member.group_id == group.id:
        return Change.ALREADY, member
    member.group_id = group.id
    await end_conversations(session, member.id)
    return Change.DONE, member


async def is_deactivated(session: AsyncSession, channel: str, external_id: str) -> bool:
    """This chat account belongs to a member an admin deactivated."""
    return bool(await session.scalar(
        select(func.count()).select_from(Identity)
        .join(Member, and_(Member.id == Identity.member_id, Member.active.is_(False)))
        .where(Identity.channel == channel, Identity.external_id == external_id)))


async def handover_target(session: AsyncSession, member_id: int,
                          group: Group) -> Member | str:
    """The leader a handover invite for `group` may replace, or why not (a template key:
    the CLI words the same reasons)."""
    member = await session.get(Member, member_id)
    if member is None:
        return "handover_unknown"
    if member.role != Role.LEADER or member.group_id != group.id or not member.active:
        return "handover_not_leader"
    return member
