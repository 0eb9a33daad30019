"""The plan's figures summed by the database: `Totals` for a few months in a few grouped
statements, however many groups report.

The digest used to load every value of the year into Python to judge the plan (56,059
objects at 1,500 groups); here each statement returns a row per month and indicator
(or per month and ratio), and `reporting.targets` judges the totals with its rules
unchanged. Only what the plan reads is summed: a ratio's two figures over the reports
that gave both, "yes" answers of a share-of-groups target, and the year-to-date sums or
latest figure of an indicator a year-long target reads.

Values are stored as text (`report_values.value`: "12", "0.5", "yes", None for a
skipped question). A value counts as a number when it is one in canonical form
(`reporting.answers.canonical_number`: an optional minus, digits, maybe a fraction),
the form every number is stored in. Sums are exact on both databases: PostgreSQL sums
`numeric`; SQLite has no decimal type (a REAL sum would give 0.30000000000000004), so
there each value is summed as an integer of its digits, grouped by its number of
decimals, and the groups are added here as `Decimal`s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Numeric,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from models import Group, Period, Report, ReportStatus, ReportValue
from models.group_history import shown_in
from reporting.periods import PeriodDates
from reporting.plan_config import Plan
from reporting.target_totals import YES_NO, Pair, Sums, Totals, number, pairs_of, sums_of

GROUPS = "group_monthly"
YEAR_LONG = ("flow_ytd", "cumulative", "latest")
PG_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
Col = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True)
class NumberSql:
    """How a dialect tells a number from other text and sums numbers exactly."""

    postgresql: bool

    def test(self, v: Col) -> ColumnElement[bool]:
        if self.postgresql:
            return v.op("~", is_comparison=True)(PG_NUMBER)
        # GLOB has no repetition: digits, '.' and '-' only; a digit first (after an
        # optional '-') and last; no '-' after the first character; at most one '.'.
        glob = v.op("GLOB", is_comparison=True)
        return and_(not_(glob("*[^0-9.-]*")), glob("*[0-9]"),
                    or_(glob("[0-9]*"), glob("-[0-9]*")),
                    not_(func.substr(v, 2).op("GLOB", is_comparison=True)("*-*")),
                    not_(glob("*.*.*")))

    def scale(self, v: Col) -> ColumnElement[Any]:
        """Decimals of the value (SQLite), to group its integer sums by; 0 on PostgreSQL."""
        if self.postgresql:
            return literal_column("0")
        dot = func.instr(v, ".")
        return case((dot > 0, func.length(v) - dot), else_=0)

    def group(self, v: Col) -> list[ColumnElement[Any]]:
        return [] if self.postgresql else [self.scale(v)]

    def mantissa(self, v: Col) -> ColumnElement[Any]:
        if self.postgresql:
            return cast(v, Numeric)
        return cast(func.replace(v, ".", ""), Integer)


def exact(total: Any, scale: Any) -> Decimal:
    """A sum of mantissas of `scale` decimals as the number it stands for."""
    return Decimal(total).scaleb(-int(scale))


def _submitted_in(keys: Iterable[str]) -> ColumnElement[bool]:
    return and_(Period.key.in_(list(keys)), Report.dataset == GROUPS,
                Report.status == ReportStatus.SUBMITTED)


def _shown(keys: Sequence[str]) -> ColumnElement[bool]:
    # A month's groups as they were that month (`models.group_history`), as the digest lists.
    return or_(*(and_(Period.key == k, shown_in(k)) for k in keys))


async def group_counts(session: AsyncSession, keys: Sequence[str]) -> dict[str, int]:
    """How many groups each month had (one statement)."""
    if not keys:
        return {}
    parts = [select(literal(k).label("key"), func.count().label("n"))
             .select_from(Group).where(shown_in(k)) for k in keys]
    rows = await session.execute(union_all(*parts))
    return {k: int(n) for k, n in rows.all()}


@dataclass(frozen=True)
class MonthSums:
    """The months' submitted reports of their groups: per month and indicator the "yes"
    answers and the yes-or-no answers; per month and ratio its two figures summed."""

    yes: dict[tuple[str, str], int]
    known: dict[tuple[str, str], int]
    pairs: dict[tuple[str, str, str], Pair]


async def month_sums(session: AsyncSession, num: NumberSql, keys: Sequence[str],
                     share: Sequence[str], pairs: Sequence[tuple[str, str]]) -> MonthSums:
    """One statement: each report's few values the targets read, side by side (one
    index range per report), then summed by month."""
    numeric = sorted({code for pair in pairs for code in pair})
    codes = sorted(set(share) | set(numeric))
    v = ReportValue
    side = (select(Period.key.label("key"),
                   # A ratio's figure only when it is a number: tested once per value.
                   *(func.max(v.value).filter(v.indicator == c, num.test(v.value))
                     .label(f"c{i}") if c in numeric else
                     func.max(v.value).filter(v.indicator == c).label(f"c{i}")
                     for i, c in enumerate(codes)))
            .select_from(Report).join(Period, Period.id == Report.period_id)
            .join(Group, Group.id == Report.group_id).join(v, v.report_id == Report.id)
            .where(_submitted_in(keys), _shown(keys), v.indicator.in_(codes))
            .group_by(Period.key, Report.id).subquery())
    col = {c: side.c[f"c{i}"] for i, c in enumerate(codes)}
    parts: list[ColumnElement[Any]] = []
    for c in share:
        parts += [func.sum(case((col[c] == "yes", 1), else_=0)),
                  func.sum(case((col[c].in_(YES_NO), 1), else_=0))]
    for top, under in pairs:
        both = and_(col[top].is_not(None), col[under].is_not(None))
        parts += [func.sum(case((both, 1), else_=0)),
                  func.sum(case((both, num.mantissa(col[top])))),
                  func.sum(case((both, num.mantissa(col[under]))))]
    scales = [num.scale(col[c]) for c in numeric]
    grouped = [side.c.key, *(g for c in numeric for g in num.group(col[c]))]
    db = await session.connection()
    rows = await db.execute(select(side.c.key, *scales, *parts).group_by(*grouped))
    out = MonthSums({}, {}, {})
    for row in rows.all():
        key, scale = row[0], dict(zip(numeric, row[1:1 + len(numeric)], strict=True))
        figures = iter(row[1 + len(numeric):])
        for c in share:
            n_yes, n_known = int(next(figures) or 0), int(next(figures) or 0)
            out.yes[(key, c)] = out.yes.get((key, c), 0) + n_yes
            out.known[(key, c)] = out.known.get((key, c), 0) + n_known
        for top, under in pairs:
            usable, top_sum, under_sum = next(figures), next(figures), next(figures)
            if not usable:
                continue
            was = out.pairs.get((key, top, under), Pair())
            out.pairs[(key, top, under)] = Pair(
                was.usable + int(usable), was.numerator + exact(top_sum, scale[top]),
                was.denominator + exact(under_sum, scale[under]))
    return out


@dataclass
class YearSums:
    """One year's submitted group reports, month by month (the months asked for)."""

    sums: dict[tuple[str, str], Sums]  # (month, indicator) → that month's numbers
    reports: dict[str, int]  # month → reports with at least one value
    latest: dict[tuple[str, str], Decimal]  # (month, indicator) → its last report's number


async def year_sums(session: AsyncSession, num: NumberSql, keys: Sequence[str],
                    codes: Sequence[str], latest_codes: Sequence[str]) -> YearSums:
    v = ReportValue
    rows = await session.execute(
        select(Period.key, v.indicator, num.scale(v.value), func.count(),
               func.sum(num.mantissa(v.value)))
        .select_from(Report).join(Period, Period.id == Report.period_id)
        .join(v, v.report_id == Report.id)
        .where(_submitted_in(keys), v.indicator.in_(list(codes)), num.test(v.value))
        .group_by(Period.key, v.indicator, *num.group(v.value)))
    sums: dict[tuple[str, str], Sums] = {}
    for key, code, scale, n, total in rows.all():
        was = sums.get((key, code), Sums())
        sums[(key, code)] = Sums(was.total + exact(total, scale), was.count + int(n))
    # As `groups_ytd` counted them: a report with no value at all is not a row.
    counted = await session.execute(
        select(Period.key, func.count()).select_from(Report)
        .join(Period, Period.id == Report.period_id)
        .where(_submitted_in(keys), exists().where(ReportValue.report_id == Report.id))
        .group_by(Period.key))
    latest: dict[tuple[str, str], Decimal] = {}
    if latest_codes:
        # Each month's last report (in report order) with a number for the indicator.
        rank = func.row_number().over(partition_by=(Period.key, v.indicator),
                                      order_by=Report.id.desc())
        ranked = (select(Period.key.label("key"), v.indicator.label("code"),
                         v.value.label("value"), rank.label("rank"))
                  .select_from(Report).join(Period, Period.id == Report.period_id)
                  .join(v, v.report_id == Report.id)
                  .where(_submitted_in(keys), v.indicator.in_(list(latest_codes)),
                         num.test(v.value))
                  .subquery())
        for key, code, value in (await session.execute(
                select(ranked.c.key, ranked.c.code, ranked.c.value)
                .where(ranked.c.rank == 1))).all():
            if (figure := number(value)) is not None:
                latest[(key, code)] = figure
    return YearSums(sums, {k: int(n) for k, n in counted.all()}, latest)


def year_to_date(year: YearSums, keys: Sequence[str]) -> tuple[dict[str, Sums], int]:
    """Indicator → its numbers over the months `keys` (January → the month, in order),
    and how many reports those months had."""
    total: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    latest: dict[str, Decimal] = {}
    for key in keys:
        for (k, code), s in year.sums.items():
            if k == key:
                total[code] += s.total
                count[code] += s.count
        for (k, code), n in year.latest.items():
            if k == key:
                latest[code] = n
    sums = {code: Sums(total[code], count[code], latest.get(code)) for code in total}
    return sums, sum(year.reports.get(k, 0) for k in keys)


def month_keys(p: PeriodDates) -> list[str]:
    return [f"{p.year:04d}-{m:02d}" for m in range(1, p.month + 1)]


WardMonths = Mapping[int, Sequence[Mapping[str, str | None]]]


async def plan_totals(session: AsyncSession, plan: Plan, group_codes: frozenset[str],
                      periods: Sequence[PeriodDates], ward: WardMonths,
                      groups_total: Mapping[str, int] | None = None) -> dict[str, Totals]:
    """Period key → what `plan` is judged on for it. `ward`: year → the ward office's
    figures month by month (read only if a target needs them); `groups_total`: the
    months whose group count is already known."""
    num = NumberSql(session.get_bind().dialect.name == "postgresql")
    keys = list(dict.fromkeys(p.key for p in periods))
    known_totals = dict(groups_total or {})
    known_totals.update(await group_counts(session, [k for k in keys if k not in known_totals]))
    share = sorted({t.compute.indicator for t in plan.targets
                    if t.compute.kind == "share_of_groups" and t.compute.indicator})
    pairs = sorted(pairs_of(plan.targets))
    month = await month_sums(session, num, keys, share, pairs) if share or pairs \
        else MonthSums({}, {}, {})
    long_codes = sorted({t.compute.indicator for t in plan.targets if t.compute.indicator
                         and t.compute.kind in YEAR_LONG and t.compute.indicator in group_codes})
    latest_codes = sorted({t.compute.indicator for t in plan.targets
                           if t.compute.kind == "latest" and t.compute.indicator in group_codes})
    years: dict[int, YearSums] = {}
    if long_codes:
        last_month: dict[int, PeriodDates] = {}
        for p in periods:
            if p.year not in last_month or p.month > last_month[p.year].month:
                last_month[p.year] = p
        for y, p in last_month.items():
            years[y] = await year_sums(session, num, month_keys(p), long_codes, latest_codes)
    out: dict[str, Totals] = {}
    for p in periods:
        group_sums, group_rows = year_to_date(years[p.year], month_keys(p)) \
            if p.year in years else ({}, 0)
        months = list(ward.get(p.year, ()))[:p.month]
        out[p.key] = Totals(
            month=p.month, groups_total=known_totals.get(p.key, 0),
            yes={c: n for (k, c), n in month.yes.items() if k == p.key},
            known={c: n for (k, c), n in month.known.items() if k == p.key},
            pairs={(t, u): s for (k, t, u), s in month.pairs.items() if k == p.key},
            group_sums=group_sums, group_rows=group_rows,
            ward_sums=sums_of(months), ward_rows=p.month,
            group_indicators=group_codes)
    return out


async def ward_figures(session: AsyncSession, upto: Mapping[int, int]
                       ) -> dict[int, list[dict[str, str | None]]]:
    """Year → the ward office's submitted figures month by month, January to `upto[year]`
    (a month it entered nothing is empty; of two entries the later's values win), in one
    statement: a dozen rows a month."""
    keys = {f"{y:04d}-{m:02d}": (y, m) for y, last in upto.items() for m in range(1, last + 1)}
    out: dict[int, list[dict[str, str | None]]] = {
        y: [{} for _ in range(last)] for y, last in upto.items()}
    rows = await session.execute(
        select(Period.key, ReportValue.indicator, ReportValue.value)
        .join(Report, Report.period_id == Period.id)
        .join(ReportValue, ReportValue.report_id == Report.id)
        .where(Period.key.in_(list(keys)), Report.dataset == "ward_progress",
               Report.status == ReportStatus.SUBMITTED)
        .order_by(Period.key, Report.id))
    for key, code, value in rows.all():
        year, month = keys[key]
        out[year][month - 1][code] = value
    return out


def reads_ward(plan: Plan, group_codes: frozenset[str]) -> bool:
    """Whether a target of `plan` reads the ward office's figures."""
    return any(t.compute.kind in YEAR_LONG and t.compute.indicator
               and t.compute.indicator not in group_codes for t in plan.targets)
