"""Small, reusable database operations shared by handlers, CLI and jobs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.conversation import Conversation
from models.members import Group, Identity, Member
from models.reports import AuditEntry, Period, Report, ReportValue


async def sync_groups(session: AsyncSession, groups: Iterable[tuple[str, str]]) -> None:
    """Mirror config's groups (code, name) into the database: add new ones, rename,
    retire missing."""
    existing = {g.code: g for g in (await session.scalars(select(Group))).all()}
    wanted = dict(groups)
    for code, name in wanted.items():
        row = existing.get(code)
        if row is None:
            session.add(Group(code=code, name=name, active=True))
        else:
            row.name, row.active = name, True
    for code, row in existing.items():
        if code not in wanted:
            row.active = False


async def member_for(session: AsyncSession, channel: str, external_id: str) -> Member | None:
    return await session.scalar(
        select(Member)
        .join(Identity, Identity.member_id == Member.id)
        .where(Identity.channel == channel, Identity.external_id == external_id,
               Member.active.is_(True))
    )


async def group_by_code(session: AsyncSession, code: str) -> Group | None:
    return await session.scalar(select(Group).where(Group.code == code))


async def ensure_period(session: AsyncSession, key: str, opens_on: date, due_on: date,
                        locks_on: date) -> Period:
    row = await session.scalar(select(Period).where(Period.key == key))
    if row is None:
        row = Period(key=key, opens_on=opens_on, due_on=due_on, locks_on=locks_on)
        session.add(row)
        await session.flush()
    return row


async def find_period(session: AsyncSession, key: str) -> Period | None:
    return await session.scalar(select(Period).where(Period.key == key))


async def find_report(session: AsyncSession, group_id: int | None, period_id: int,
                      dataset: str = "group_monthly") -> Report | None:
    """A group's report, or the ward's own (group_id None) for ward_progress."""
    owner = Report.group_id.is_(None) if group_id is None else Report.group_id == group_id
    return await session.scalar(
        select(Report).where(owner, Report.period_id == period_id, Report.dataset == dataset)
    )


async def report_values(session: AsyncSession, report_id: int) -> dict[str, ReportValue]:
    rows = await session.scalars(select(ReportValue).where(ReportValue.report_id == report_id))
    return {r.indicator: r for r in rows}


async def set_value(session: AsyncSession, report: Report, indicator: str, value: str | None,
                    number: Decimal | None, member_id: int, now: datetime,
                    audited: bool) -> tuple[str | None, bool]:
    """Store one answer; audit it when the report is already submitted.

    Returns (old value, whether it changed).
    """
    row = await session.scalar(
        select(ReportValue).where(ReportValue.report_id == report.id,
                                  ReportValue.indicator == indicator)
    )
    old = row.value if row else None
    changed = row is None or row.value != value
    if row is None:
        row = ReportValue(report_id=report.id, indicator=indicator)
        session.add(row)
    row.value, row.number, row.updated_by, row.updated_at = value, number, member_id, now
    report.updated_at = now
    if audited and changed:
        session.add(AuditEntry(report_id=report.id, indicator=indicator, old_value=old,
                               new_value=value, member_id=member_id, at=now,
                               reason="correction"))
    return old, changed


async def get_conversation(session: AsyncSession, channel: str,
                           external_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel,
                                   Conversation.external_id == external_id)
    )


async def save_conversation(session: AsyncSession, channel: str, external_id: str, flow: str,
                            step: str, data: dict[str, object], now: datetime) -> Conversation:
    conv = await get_conversation(session, channel, external_id)
    if conv is None:
        conv = Conversation(channel=channel, external_id=external_id)
        session.add(conv)
    conv.flow, conv.step, conv.data, conv.updated_at = flow, step, dict(data), now
    return conv


async def clear_conversation(session: AsyncSession, channel: str, external_id: str) -> None:
    await session.execute(
        delete(Conversation).where(Conversation.channel == channel,
                                   Conversation.external_id == external_id)
    )
