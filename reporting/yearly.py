"""A year at a glance per group: submissions, the plan's targets and good deeds.

Plain data, loaded with `reporting.digest_load.group_reports` month by month (the
same reading of reports the digest uses); `reporting.export` lays it out in a
workbook. A group merged during the year adds its predecessors' months
(`reporting.lineage`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed, Group
from reporting.config import Settings, Target
from reporting.digest import GroupReport, Values
from reporting.digest_load import group_reports
from reporting.lineage import Origin, year_groups
from reporting.periods import period_dates
from reporting.plan_config import GROUP_KINDS
from reporting.targets import Figures, compare, value_of

ON_TIME, LATE, MISSING, PENDING = "on_time", "late", "missing", "pending"
# The group did not exist that month (formed or split off later, or split up before).
ABSENT = "absent"


@dataclass(frozen=True)
class GroupYear:
    code: str
    name: str
    # Month (1-12) → ON_TIME, LATE, MISSING (not submitted, period counted), PENDING
    # (not submitted, period not locked yet) or ABSENT. A month of a merged group's
    # predecessors is on time when all of them were, late when one was, and so on.
    months: dict[int, str]
    targets_met: int
    targets_known: int  # group-computable targets with data for this group
    deeds_submitted: int
    deeds_featured: int
    deeds_proposed: int
    # Merged from, split from, renamed during the year (`reporting.lineage`).
    origins: tuple[Origin, ...] = ()

    def count(self, mark: str) -> int:
        return sum(1 for m in self.months.values() if m == mark)


@dataclass(frozen=True)
class YearSummary:
    year: int
    today: date
    counted_months: list[int]  # months whose period has locked (all 12 once the year is over)
    targets: list[Target]  # the group-computable ones
    groups: list[GroupYear]


def counted_months(settings: Settings, year: int, today: date) -> list[int]:
    if today > date(year, 12, 31):
        return list(range(1, 13))
    return [m for m in range(1, 13)
            if today >= period_dates(settings.calendar, year, m).locks_on]


def group_targets(settings: Settings, year: int) -> list[Target]:
    """The year's targets a single group's reports can be measured against: those
    computed from group reports, and counts of events the groups report."""
    plan = settings.plan(year)
    if plan is None:
        return []
    asked = {i.code for i in settings.report.indicators}
    return [t for t in plan.targets if t.value is not None and (
        t.compute.kind in GROUP_KINDS
        or (t.compute.kind == "flow_ytd" and t.compute.indicator in asked))]


def _mark(reports: list[GroupReport], counted: bool) -> str:
    """One month of a row: of its group, or of the groups later merged into it."""
    if not reports:
        return ABSENT
    if all(r.submitted for r in reports):
        return LATE if any(r.late for r in reports) else ON_TIME
    return MISSING if counted else PENDING


def targets_for(targets: list[Target], months: list[Values]) -> tuple[int, int]:
    """(met, with data) for one group over its submitted months.

    `compute` over a group's months gives exactly the yearly reading: a ratio of the
    year's sums, the share of months answering yes, the sum over the months.
    """
    met = known = 0
    # The group's months stand where the ward's groups stand in the digest: a share of
    # groups becomes the share of the group's months, a ratio the ratio of its sums.
    mine = Figures(month=12, groups_total=len(months), groups=months, groups_ytd=months,
                   ward_months=[], group_indicators=frozenset().union(*months)
                   if months else frozenset())
    for t in targets:
        value, _, _, _ = value_of(t, mine)
        if value is not None and t.value is not None:
            known += 1
            met += compare(t.comparator, value, t.value)
    return met, known


async def _deed_counts(session: AsyncSession, settings: Settings,
                       year: int) -> dict[tuple[str, str], int]:
    """(group code, status) → deeds submitted during the year (local time)."""
    start = settings.ward.start_of(date(year, 1, 1))
    end = settings.ward.start_of(date(year + 1, 1, 1))
    rows = await session.execute(
        select(Group.code, GoodDeed.status, func.count())
        .join(Group, Group.id == GoodDeed.group_id)
        .where(GoodDeed.submitted_at >= start, GoodDeed.submitted_at < end,
               GoodDeed.status != DeedStatus.DRAFT)
        .group_by(Group.code, GoodDeed.status))
    return {(code, str(status)): int(n) for code, status, n in rows.all()}


async def year_summary(session: AsyncSession, settings: Settings, year: int,
                       today: date) -> YearSummary:
    counted = counted_months(settings, year, today)
    by_month = {m: {r.code: r for r in await group_reports(session, f"{year:04d}-{m:02d}")}
                for m in range(1, 13)}
    targets = group_targets(settings, year)
    deeds = await _deed_counts(session, settings, year)
    statuses = [str(s) for s in DeedStatus if s is not DeedStatus.DRAFT]
    out = []
    for row in await year_groups(session, year):
        codes = [g.code for g in row.parts]
        reports = {m: [by_month[m][c] for c in codes if c in by_month[m]]
                   for m in range(1, 13)}
        # Each predecessor's month counts as a report of its own: a ratio adds their
        # sums, a share counts their answers (as the digest does for the ward's groups).
        submitted = [r.values for month in reports.values() for r in month if r.submitted]
        met, known = targets_for(targets, submitted)
        per_status = Counter({s: sum(deeds.get((c, s), 0) for c in codes) for s in statuses})
        out.append(GroupYear(
            code=row.group.code, name=row.group.name,
            months={m: _mark(r, m in counted) for m, r in reports.items()},
            targets_met=met, targets_known=known,
            deeds_submitted=sum(per_status.values()),
            deeds_featured=per_status[DeedStatus.FEATURED],
            deeds_proposed=per_status[DeedStatus.PROPOSED],
            origins=tuple(row.origins)))
    return YearSummary(year, today, counted, targets, out)
