"""What a report document says, read from the database for one span.

Each part is read the way the rest of the bot reads it, so the document never tells a
different story: the targets are `digest_load.target_results` at the span's last
month (what the digest and the workbook of that month show), the months on time, late
and missing are `yearly.year_summary`'s marks, the good deeds are those the Council
featured or proposed, and the leaders' notes are the `notes` answers of submitted
reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed, Group, Period, Report, ReportStatus, ReportValue
from reporting.config import Settings
from reporting.digest_load import target_results
from reporting.periods import period_dates
from reporting.plan_config import Plan
from reporting.spans import Span
from reporting.targets import TargetResult
from reporting.yearly import LATE, MISSING, ON_TIME, PENDING, counted_months, year_summary

NOTES = "notes"  # the leaders' free-text answer "Ghi chú, kiến nghị (nếu có)"
SHOWN_DEEDS = (DeedStatus.FEATURED, DeedStatus.PROPOSED)


@dataclass(frozen=True)
class GroupMonths:
    """One group's reporting over the span's months."""

    code: str
    name: str
    on_time: list[int]  # months (1-12) submitted by the due date
    late: list[int]
    missing: list[int]  # not submitted, and the period has locked
    pending: list[int]  # not submitted, the period still open


@dataclass(frozen=True)
class Deed:
    group: str
    subject: str
    category: str  # the configured label, "" when none
    description: str
    happened_on: date | None
    proposed: bool  # proposed for commendation (else featured in the bulletin)


@dataclass(frozen=True)
class Note:
    group: str
    text: str
    months: list[int]  # every month the same request was written


@dataclass(frozen=True)
class ReportData:
    span: Span
    plan: Plan | None
    targets: list[TargetResult]
    groups: list[GroupMonths]
    open_months: list[int] = field(default_factory=list)  # not locked yet: none missing
    deeds: list[Deed] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def total(self, part: str) -> int:
        """Group-months on time, late, missing or pending over the span."""
        return sum(len(getattr(g, part)) for g in self.groups)


async def completeness(session: AsyncSession, settings: Settings, span: Span,
                       today: date) -> list[GroupMonths]:
    """Per active group: the span's months as `reporting.yearly` marks them."""
    summary = await year_summary(session, settings, span.year, today)
    out = []
    for g in summary.groups:
        marks = {m: g.months[m] for m in span.months}
        out.append(GroupMonths(g.code, g.name,
                               *([m for m, mark in marks.items() if mark == want]
                                 for want in (ON_TIME, LATE, MISSING, PENDING))))
    return out


def _month_after(span: Span) -> date:
    """The first day after the span."""
    return date(span.year + 1, 1, 1) if span.last == 12 else date(span.year, span.last + 1, 1)


async def span_deeds(session: AsyncSession, settings: Settings, span: Span) -> list[Deed]:
    """Deeds featured or proposed that were sent during the span (local time), by group
    in the ward's order, then as they came."""
    rows = (await session.execute(
        select(GoodDeed, Group.name).join(Group, Group.id == GoodDeed.group_id)
        .where(GoodDeed.status.in_(SHOWN_DEEDS),
               GoodDeed.submitted_at >= settings.ward.start_of(date(span.year, span.first, 1)),
               GoodDeed.submitted_at < settings.ward.start_of(_month_after(span)))
        .order_by(Group.id, GoodDeed.submitted_at, GoodDeed.id))).all()
    labels = {c.code: c.label.get("vi") for c in settings.good_deeds.categories}
    return [Deed(name, d.subject_name or "", labels.get(d.category or "", ""),
                 d.description or "", d.happened_on, d.status == DeedStatus.PROPOSED)
            for d, name in rows]


def _same(text: str) -> str:
    """The key two notes are the same request by: case, spaces, final stop ignored."""
    return re.sub(r"\s+", " ", text.casefold()).strip().rstrip(".;! ")


async def span_notes(session: AsyncSession, span: Span) -> list[Note]:
    """The leaders' notes of the span's submitted reports, one per group and request,
    with every month it was written (a request repeated month after month is one)."""
    rows = (await session.execute(
        select(Group.name, Period.key, ReportValue.value)
        .join(Report, Report.group_id == Group.id)
        .join(Period, Period.id == Report.period_id)
        .join(ReportValue, ReportValue.report_id == Report.id)
        .where(Period.key.in_(span.period_keys), Report.dataset == "group_monthly",
               Report.status == ReportStatus.SUBMITTED, ReportValue.indicator == NOTES)
        .order_by(Group.id, Period.key))).all()
    found: dict[tuple[str, str], Note] = {}
    for group, key, value in rows:
        text = (value or "").strip()
        if not text:
            continue
        month = int(key[5:7])
        note = found.setdefault((group, _same(text)), Note(group, text, []))
        if month not in note.months:
            note.months.append(month)
    return list(found.values())


async def load_report(session: AsyncSession, settings: Settings, span: Span,
                      today: date) -> ReportData:
    last = period_dates(settings.calendar, span.year, span.last)
    return ReportData(
        span=span, plan=settings.plan(span.year),
        targets=await target_results(session, settings, last),
        groups=await completeness(session, settings, span, today),
        open_months=[m for m in span.months
                     if m not in counted_months(settings, span.year, today)],
        deeds=await span_deeds(session, settings, span),
        notes=await span_notes(session, span))
