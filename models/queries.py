"""Small, reusable database operations shared by handlers, CLI and jobs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.conversation import Conversation
from models.members import Group, Identity, Member
from models.reports import AuditEntry, Period, Report, ReportStatus, ReportValue


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


async def who_is(session: AsyncSession, channel: str, external_id: str,
                 ) -> tuple[Member | None, Group | None, Conversation | None]:
    """The member behind a chat user, with their group and their conversation.

    Every event needs all three, so a member's costs one query; a stranger's
    conversation (registering) is looked up on its own.
    """
    row = (await session.execute(
        select(Member, Group, Conversation)
        .join(Identity, Identity.member_id == Member.id)
        .outerjoin(Group, Group.id == Member.group_id)
        .outerjoin(Conversation, and_(Conversation.channel == Identity.channel,
                                      Conversation.external_id == Identity.external_id))
        .where(Identity.channel == channel, Identity.external_id == external_id,
               Member.active.is_(True))
    )).first()
    if row is not None:
        return row[0], row[1], row[2]
    return None, None, await get_conversation(session, channel, external_id)


async def group_by_code(session: AsyncSession, code: str) -> Group | None:
    return await session.scalar(select(Group).where(Group.code == code))


async def ensure_period(session: AsyncSession, key: str, opens_on: date, due_on: date,
                        locks_on: date) -> Period:
    row = await session.scalar(select(Period).where(Period.key == key))
    if row is None:
        # Leaders of different groups start the month's report at the same moment (the
        # inbox handles chats side by side): the first insert wins, the others read it.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
            else sqlite.insert
        await session.execute(insert(Period).values(
            key=key, opens_on=opens_on, due_on=due_on, locks_on=locks_on)
            .on_conflict_do_nothing(index_elements=["key"]))
        row = await session.scalar(select(Period).where(Period.key == key))
        assert row is not None
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


async def report_values(session: AsyncSession, report_id: int) -> dict[str, str | None]:
    """A report's answers: indicator code → value (None: skipped)."""
    rows = await session.execute(select(ReportValue.indicator, ReportValue.value)
                                 .where(ReportValue.report_id == report_id))
    return {code: value for code, value in rows}


async def report_with_values(session: AsyncSession, report_id: int,
                             ) -> tuple[Report, Period, dict[str, str | None]] | None:
    """A report, its period and its answers in one query (each answer costs one event)."""
    rows = (await session.execute(
        select(Report, Period, ReportValue.indicator, ReportValue.value)
        .join(Period, Period.id == Report.period_id)
        .outerjoin(ReportValue, ReportValue.report_id == Report.id)
        .where(Report.id == report_id)
    )).all()
    if not rows:
        return None
    answers = {row[2]: row[3] for row in rows if row[2] is not None}
    return rows[0][0], rows[0][1], answers


async def set_value(session: AsyncSession, report: Report, answers: dict[str, str | None],
                    indicator: str, value: str | None, number: Decimal | None,
                    member_id: int, now: datetime, audited: bool,
                    soft_check: str | None = None) -> tuple[str | None, bool]:
    """Store one answer (one upsert) and note it in `answers`, the report's answers as
    loaded in this transaction; audit it when the report is already submitted.
    `soft_check` marks a value a soft check asked about (a new answer clears it).

    Returns (old value, whether it changed).
    """
    old = answers.get(indicator)
    changed = indicator not in answers or old != value
    fields = {"value": value, "number": number, "soft_check": soft_check,
              "updated_by": member_id, "updated_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ReportValue).values(report_id=report.id, indicator=indicator,
                                              **fields)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ReportValue.report_id, ReportValue.indicator], set_=fields))
    answers[indicator] = value
    report.updated_at = now
    if audited and changed:
        session.add(AuditEntry(report_id=report.id, indicator=indicator, old_value=old,
                               new_value=value, member_id=member_id, at=now,
                               reason="correction"))
    return old, changed


async def last_month_value(session: AsyncSession, report: Report, period_key: str,
                           indicator: str) -> str | None:
    """The owner's submitted answer to `indicator` for `period_key` (None: none)."""
    same_owner = Report.group_id.is_(None) if report.group_id is None \
        else Report.group_id == report.group_id
    return await session.scalar(
        select(ReportValue.value).join(Report, Report.id == ReportValue.report_id)
        .join(Period, Period.id == Report.period_id)
        .where(Period.key == period_key, same_owner, Report.dataset == report.dataset,
               Report.status == ReportStatus.SUBMITTED, ReportValue.indicator == indicator))


async def mark_value(session: AsyncSession, report_id: int, indicator: str,
                     soft_check: str | None) -> None:
    """Set the soft-check mark of one stored answer (e.g. confirmed by the leader)."""
    await session.execute(update(ReportValue).where(
        ReportValue.report_id == report_id, ReportValue.indicator == indicator)
        .values(soft_check=soft_check))


async def get_conversation(session: AsyncSession, channel: str,
                           external_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(Conversation.channel == channel,
                                   Conversation.external_id == external_id)
    )


async def last_submitted(session: AsyncSession, report: Report, before_key: str,
                         since_key: str) -> tuple[str, dict[str, str | None]] | None:
    """The owner's latest submitted report of this dataset for a month in
    [since_key, before_key): its period key and answers (None: there is none)."""
    same_owner = Report.group_id.is_(None) if report.group_id is None \
        else Report.group_id == report.group_id
    row = (await session.execute(
        select(Report.id, Period.key).join(Period, Period.id == Report.period_id)
        .where(same_owner, Report.dataset == report.dataset,
               Report.status == ReportStatus.SUBMITTED,
               Period.key < before_key, Period.key >= since_key)
        .order_by(Period.key.desc()).limit(1))).first()
    if row is None:
        return None
    return row[1], await report_values(session, row[0])
