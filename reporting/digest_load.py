"""Fill the digest's plain structures from the database (a handful of queries)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AuditEntry,
    DeedPhoto,
    DeedStatus,
    GoodDeed,
    Group,
    Member,
    Period,
    Report,
    ReportStatus,
    ReportValue,
)
from models.group_history import shown_in
from models.mutes import muted_groups
from reporting.config import Settings
from reporting.digest import DeedLine, Digest, GroupReport, Values
from reporting.digest_sums import plan_totals, reads_ward, ward_figures
from reporting.periods import PeriodDates, period_dates
from reporting.targets import Figures, TargetResult, judge_plan


def previous(p: PeriodDates, settings: Settings) -> PeriodDates:
    year, month = (p.year - 1, 12) if p.month == 1 else (p.year, p.month - 1)
    return period_dates(settings.calendar, year, month)


async def group_reports(session: AsyncSession, period_key: str, *,
                        values: bool = True) -> list[GroupReport]:
    """Each group of the period (as it was that month: `models.group_history`) with its
    report's state and, if `values`, its values (the workbook shows them; the digest does
    not, and at 15,000 groups they are 180,000 rows it need not read).

    Narrow rows only (Core selects, no ORM objects): the groups, their reports with the
    submitter's name, the values a soft check flagged, the corrections counted."""
    # Core rows straight from the connection: no ORM result processing for 15,000 rows.
    db = await session.connection()
    groups = (await db.execute(
        select(Group.id, Group.code, Group.name).where(shown_in(period_key))
        .order_by(Group.id))).all()
    reports = {gid: (rid, status, late, at, by) for rid, gid, status, late, at, by in (
        await db.execute(
            select(Report.id, Report.group_id, Report.status, Report.late,
                   Report.submitted_at, Member.display_name)
            .join(Period, Period.id == Report.period_id)
            .outerjoin(Member, Member.id == Report.submitted_by)
            .where(Period.key == period_key, Report.dataset == "group_monthly")
            .order_by(Report.id))).all()}
    of_period = (select(Report.id).join(Period, Period.id == Report.period_id)
                 .where(Period.key == period_key, Report.dataset == "group_monthly"))
    answers: dict[int, dict[str, str | None]] = {}
    flagged: dict[int, dict[str, str]] = {}
    corrections: dict[int, int] = {}
    if reports:
        v = ReportValue
        wanted = select(v.report_id, v.indicator, v.value, v.soft_check) \
            .where(v.report_id.in_(of_period))
        if not values:  # the few a soft check flagged (a partial index holds them)
            wanted = wanted.where(v.soft_check.is_not(None))
        for rid, indicator, value, soft_check in (await db.execute(wanted)).all():
            if values:
                answers.setdefault(rid, {})[indicator] = value
            if soft_check is not None:
                flagged.setdefault(rid, {})[indicator] = soft_check
        rows = await session.execute(
            # Corrections of a submitted report; a shared draft's changes are not any.
            select(AuditEntry.report_id, func.count()).where(
                AuditEntry.report_id.in_(of_period),
                or_(AuditEntry.reason.is_(None), AuditEntry.reason != "draft"))
            .group_by(AuditEntry.report_id))
        corrections = {rid: int(n) for rid, n in rows.all()}
    out = []
    for gid, code, name in groups:
        r = reports.get(gid)
        if r is None:
            out.append(GroupReport(code, name, "missing"))
            continue
        rid, status, late, at, by = r
        out.append(GroupReport(code, name, "submitted" if status == ReportStatus.SUBMITTED
                               else "draft", late, at, by, dict(answers.get(rid, {})),
                               corrections.get(rid, 0), dict(flagged.get(rid, {}))))
    return out


async def _submitted(session: AsyncSession, dataset: str, year: int,
                     upto_month: int) -> dict[str, dict[int, dict[str, str | None]]]:
    """Submitted reports of `dataset` from January to `upto_month`: period key → report id →
    its values, in period and report order (every month present, maybe empty)."""
    keys = [f"{year:04d}-{m:02d}" for m in range(1, upto_month + 1)]
    rows = await session.execute(
        select(Period.key, Report.id, ReportValue.indicator, ReportValue.value)
        .join(Report, Report.period_id == Period.id)
        .join(ReportValue, ReportValue.report_id == Report.id)
        .where(Period.key.in_(keys), Report.dataset == dataset,
               Report.status == ReportStatus.SUBMITTED)
        .order_by(Period.key, Report.id))
    out: dict[str, dict[int, dict[str, str | None]]] = {k: {} for k in keys}
    for key, rid, indicator, value in rows.all():
        out[key].setdefault(rid, {})[indicator] = value
    return out


async def ward_months(session: AsyncSession, year: int, upto_month: int) -> list[Values]:
    """Submitted ward_progress figures from January to `upto_month`, one dict a month."""
    by_key = await _submitted(session, "ward_progress", year, upto_month)
    months: list[Values] = []
    for reports in by_key.values():
        merged: dict[str, str | None] = {}
        for values in reports.values():
            merged.update(values)
        months.append(merged)
    return months


async def deed_lines(session: AsyncSession, settings: Settings, statuses: list[DeedStatus],
                     since: datetime | None = None, limit: int = 20,
                     until: datetime | None = None) -> list[DeedLine]:
    """Deeds of `statuses` submitted in [since, until), oldest first, at most `limit`."""
    query = (select(GoodDeed, Group.name).join(Group, Group.id == GoodDeed.group_id)
             .where(GoodDeed.status.in_(statuses)).order_by(GoodDeed.submitted_at)
             .limit(limit))
    if since is not None:
        query = query.where(GoodDeed.submitted_at >= since)
    if until is not None:
        query = query.where(GoodDeed.submitted_at < until)
    rows = (await session.execute(query)).all()
    photos: dict[int, list[str]] = defaultdict(list)
    if rows:
        for p in await session.scalars(
                select(DeedPhoto).where(DeedPhoto.deed_id.in_([d.id for d, _ in rows]))
                .order_by(DeedPhoto.deed_id, DeedPhoto.position)):
            if p.local_path:
                photos[p.deed_id].append(p.local_path)
    labels = {c.code: c.label.get(settings.ward.language) for c in settings.good_deeds.categories}
    return [DeedLine(d.id, d.subject_name or "", group, labels.get(d.category or "", ""),
                     d.description or "", d.happened_on, d.status, tuple(photos[d.id]))
            for d, group in rows]


async def groups_ytd(session: AsyncSession, year: int, upto_month: int) -> list[Values]:
    """Every submitted group report of `year` from January to `upto_month` (its values)."""
    by_key = await _submitted(session, "group_monthly", year, upto_month)
    return [values for reports in by_key.values() for values in reports.values()]


async def figures(session: AsyncSession, settings: Settings, period: PeriodDates,
                  groups: list[GroupReport] | None = None) -> Figures:
    """What the plan is judged on for `period` (the groups' reports loaded if not given)."""
    groups = groups if groups is not None else await group_reports(session, period.key)
    codes = frozenset(i.code for i in settings.report.indicators)
    return Figures(month=period.month, groups_total=len(groups),
                   groups=[g.values for g in groups if g.submitted],
                   groups_ytd=await groups_ytd(session, period.year, period.month),
                   ward_months=await ward_months(session, period.year, period.month),
                   group_indicators=codes)


async def target_results(session: AsyncSession, settings: Settings, period: PeriodDates,
                         groups: list[GroupReport] | None = None) -> list[TargetResult]:
    """The period's plan judged, with last month's values and last year's baselines.

    The figures are totals the database sums (`reporting.digest_sums`): a fixed number
    of statements whatever the number of groups."""
    plan = settings.plan(period.year)
    if plan is None:
        return []
    prev = previous(period, settings)
    wanted = [period, prev]
    december = None
    if any(t.baseline is not None and t.baseline.last_year for t in plan.targets):
        december = period_dates(settings.calendar, period.year - 1, 12)
        wanted.append(december)
    codes = frozenset(i.code for i in settings.report.indicators)
    ward: dict[int, list[dict[str, str | None]]] = {}
    if reads_ward(plan, codes):
        ward = await ward_figures(session, {y: max(q.month for q in wanted if q.year == y)
                                            for y in {q.year for q in wanted}})
    totals = await plan_totals(session, plan, codes, wanted, ward,
                               {period.key: len(groups)} if groups is not None else None)
    before = judge_plan(plan, totals[prev.key])
    baselines: dict[str, Decimal | None] = {}
    if december is not None:
        baselines = {r.target.code: r.value for r in judge_plan(plan, totals[december.key])}
    return judge_plan(plan, totals[period.key],
                      previous={r.target.code: r.value for r in before}, baselines=baselines)


async def muted_codes(session: AsyncSession, period_key: str) -> dict[str, str]:
    """Group code → reason, for the groups excused from reporting `period_key`."""
    reasons = await muted_groups(session, period_key)
    if not reasons:
        return {}
    rows = await session.execute(select(Group.id, Group.code)
                                 .where(Group.id.in_(list(reasons))))
    return {code: reasons[gid] for gid, code in rows.all()}


async def build_digest(session: AsyncSession, settings: Settings, period: PeriodDates,
                       today: date, *, values: bool = False) -> Digest:
    """The one digest, shown by /tonghop and sent by the weekly job; `values`: with each
    group's values (the workbook's), which the digest itself does not show."""
    groups = await group_reports(session, period.key, values=values)
    month_start = settings.ward.start_of(date(period.year, period.month, 1))
    return Digest(
        ward=settings.ward.name, period=period, today=today, groups=groups,
        targets=await target_results(session, settings, period, groups),
        plan=settings.plan(period.year),
        new_deeds=await deed_lines(session, settings, [DeedStatus.NEW]),
        featured_deeds=await deed_lines(session, settings, [DeedStatus.FEATURED],
                                        since=month_start))
