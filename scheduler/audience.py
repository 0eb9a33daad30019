"""Who a scheduled message is for: leaders and their groups' report states, the Council."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Group, Member, Period, Report, ReportStatus, Role
from models.group_history import shown_in
from models.members import COUNCIL_ROLES


@dataclass(frozen=True)
class Leader:
    member_id: int
    language: str
    group_id: int
    group_name: str


@dataclass(frozen=True)
class Recipient:
    """A Council member (by id, reached on each of their channels) or a Council chat."""

    language: str
    member_id: int | None = None
    chat_id: int | None = None


async def leaders(session: AsyncSession, period_key: str | None = None) -> list[Leader]:
    """Active leaders of active groups (a retired group gets no messages); with a
    period, of the groups of that month (a group merged or split from July is asked
    for June, its successors for July: `models.group_history`)."""
    where = Group.active.is_(True) if period_key is None else shown_in(period_key)
    rows = await session.execute(
        select(Member.id, Member.language, Group.id, Group.name)
        .join(Group, Group.id == Member.group_id)
        .where(Member.role == Role.LEADER, Member.active.is_(True), where)
        .order_by(Member.id))
    return [Leader(*row) for row in rows.all()]


async def report_states(session: AsyncSession, period_key: str) -> dict[int, ReportStatus]:
    """group id → its report's status for the period; a group with none is absent."""
    rows = await session.execute(
        select(Report.group_id, Report.status).join(Period, Period.id == Report.period_id)
        .where(Period.key == period_key, Report.dataset == "group_monthly",
               Report.group_id.is_not(None)))
    return {group_id: ReportStatus(status) for group_id, status in rows.all() if group_id}


async def council(session: AsyncSession, chats: list[int], language: str) -> list[Recipient]:
    """The configured Council chats; without any, every member who may run /tonghop.

    That is the Council and the admins (`models.members.COUNCIL_ROLES`): the people
    the digest is for are the people allowed to ask for it.
    """
    if chats:
        return [Recipient(language, chat_id=chat) for chat in chats]
    rows = await session.execute(
        select(Member.id, Member.language)
        .where(Member.role.in_(COUNCIL_ROLES), Member.active.is_(True)).order_by(Member.id))
    return [Recipient(lang, member_id=member_id) for member_id, lang in rows.all()]
