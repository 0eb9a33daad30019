"""A month's groups for the workbook, streamed: one statement, rows as the database sends
them, one group at a time.

`reporting.digest_load.group_reports` gives the same groups (its `GroupReport`s) but
loads them all first; an export of 15,000 groups writes each group's rows and forgets
it. What cannot wait for the stream (a flagged value's figure of last month, the widths
of the columns) is asked before it, in small aggregate statements.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Group, Member, Period, Report, ReportStatus, ReportValue
from models.group_history import shown_in
from reporting.answers import format_value
from reporting.config import Indicator, IndicatorType, Settings
from reporting.digest import GroupReport
from reporting.export_cells import DECIMAL_FORMAT, INT_FORMAT, Cell, Num
from reporting.soft_checks import flag_notes

LANG = "vi"
BATCH = 1_000  # groups fetched from the database at a time


def _period_id(key: str):  # type: ignore[no-untyped-def]  # a scalar subquery
    return select(Period.id).where(Period.key == key).scalar_subquery()


@dataclass(frozen=True)
class Sizes:
    """What the group sheets' widths are decided from before their first row."""

    groups: int
    code: int
    name: int
    submitter: int


async def sizes(session: AsyncSession, key: str) -> Sizes:
    groups = (await session.execute(
        select(func.count(), func.max(func.length(Group.code)),
               func.max(func.length(Group.name))).where(shown_in(key)))).one()
    submitter = await session.scalar(
        select(func.max(func.length(Member.display_name)))
        .join(Report, Report.submitted_by == Member.id)
        .where(Report.period_id == _period_id(key), Report.dataset == "group_monthly"))
    return Sizes(int(groups[0]), int(groups[1] or 0), int(groups[2] or 0), int(submitter or 0))


async def flagged_before(session: AsyncSession, key: str, before: str,
                         ) -> dict[str, dict[str, str | None]]:
    """Group code → its values of the month `before` (its report, whatever its state,
    as `group_reports` gives them), for the groups with a value a soft check asked about
    in `key` only: what their "Số liệu cần lưu ý" compares with."""
    this_month = (select(Report.group_id)
                  .join(ReportValue, ReportValue.report_id == Report.id)
                  .where(Report.period_id == _period_id(key),
                         Report.dataset == "group_monthly",
                         Report.status == ReportStatus.SUBMITTED,
                         ReportValue.soft_check.is_not(None)))
    rows = await session.execute(
        select(Group.code, ReportValue.indicator, ReportValue.value)
        .join(Report, Report.group_id == Group.id)
        .join(ReportValue, ReportValue.report_id == Report.id)
        .where(Report.period_id == _period_id(before), Report.dataset == "group_monthly",
               Group.id.in_(this_month)))
    out: dict[str, dict[str, str | None]] = {}
    for code, indicator, value in rows:
        out.setdefault(code, {})[indicator] = value
    return out


def _object_agg(dialect: str, key: Any, value: Any) -> Any:
    """A JSON object of key → value over a group of rows, in either database's words."""
    if dialect == "postgresql":
        return func.json_object_agg(key, value)
    return func.json_group_object(key, value)


async def stream_groups(session: AsyncSession, key: str) -> AsyncIterator[GroupReport]:
    """Each group of period `key` (as `group_reports`: the groups of that month, by id)
    with its report's state; a submitted report's values, flags and corrections too (a
    draft's figures are never shown, so never fetched).

    One row a group: the database folds a report's values (and the flags of the values
    a soft check asked about) into JSON objects, so Python handles 15,000 rows, not the
    twelve times as many value rows; and the rows are read through the session's Core
    connection, without the ORM's per-row work.
    """
    period_id = _period_id(key)
    connection = await session.connection()
    dialect = connection.dialect.name
    submitted = Report.status == ReportStatus.SUBMITTED
    # Each report's values, flags and corrections are subqueries on that one report
    # (the unique (report_id, indicator) index, a dozen rows): the database sends the
    # first groups at once and the rest as it goes. Joined to aggregates over the whole
    # month instead, it read every month's values and sorted them (a second at 15,000
    # groups) before the first row.
    corrections = (
        # Corrections of a submitted report; a shared draft's changes are not any.
        select(func.count()).select_from(AuditEntry)
        .where(AuditEntry.report_id == Report.id,
               or_(AuditEntry.reason.is_(None), AuditEntry.reason != "draft"))
        .scalar_subquery())
    values = (
        select(_object_agg(dialect, ReportValue.indicator, ReportValue.value))
        .where(ReportValue.report_id == Report.id, submitted).scalar_subquery())
    flags = (
        select(_object_agg(dialect, ReportValue.indicator, ReportValue.soft_check))
        .where(ReportValue.report_id == Report.id, ReportValue.soft_check.is_not(None),
               submitted).scalar_subquery())
    query = (
        select(Group.code, Group.name, Report.id, submitted, Report.late,
               Report.submitted_at, Member.display_name, corrections, values, flags)
        .select_from(Group)
        .outerjoin(Report, and_(Report.group_id == Group.id, Report.period_id == period_id,
                                Report.dataset == "group_monthly"))
        .outerjoin(Member, Member.id == Report.submitted_by)
        .where(shown_in(key)).order_by(Group.id)
        .execution_options(yield_per=BATCH))
    result = await connection.stream(query)
    async for rows in result.partitions():
        for code, name, report_id, submitted, late, at, by, n, v, f in rows:
            if report_id is None:
                yield GroupReport(code, name, "missing")
            elif not submitted:
                yield GroupReport(code, name, "draft", bool(late), corrections=int(n or 0))
            else:
                yield GroupReport(code, name, "submitted", bool(late), at, by,
                                  _json(v), int(n or 0), _json(f))


def _json(text: str | dict[str, Any] | None) -> dict[str, Any]:
    if text is None:
        return {}
    return text if isinstance(text, dict) else dict(json.loads(text))


def decimal_of(value: str | None) -> Decimal | None:
    """A stored figure as a finite Decimal; None for blanks, words and NaN/infinity."""
    if value is None:
        return None
    try:
        dec = Decimal(value)
    except InvalidOperation:
        return None
    return dec if dec.is_finite() else None


class Totals:
    """The totals row, added up group by group as they stream past: counts of households
    and people add up; a yes/no question gives how many groups said yes; rates and texts
    have no total."""

    def __init__(self, indicators: list[Indicator]) -> None:
        self.indicators = indicators
        self.groups = self.submitted = self.flagged = 0
        self.yes: dict[str, int] = {i.code: 0 for i in indicators}
        self.sums: dict[str, Decimal | None] = {i.code: None for i in indicators}
        # Which indicators count yeses and which add up, sorted out once, not per group.
        self._yes = [i.code for i in indicators if i.type is IndicatorType.YES_NO]
        self._summed = [i.code for i in indicators
                        if i.type in (IndicatorType.INTEGER, IndicatorType.DECIMAL)]

    def add(self, g: GroupReport) -> None:
        self.groups += 1
        if not g.submitted:
            return
        self.submitted += 1
        self.flagged += bool(g.flagged)
        values = g.values
        for code in self._yes:
            if values.get(code) == "yes":
                self.yes[code] += 1
        for code in self._summed:
            if (dec := decimal_of(values.get(code))) is not None:
                self.sums[code] = (self.sums[code] or Decimal(0)) + dec

    def cell(self, ind: Indicator) -> Cell:
        if ind.type is IndicatorType.YES_NO:
            return f"{self.yes[ind.code]} {format_value(ind, 'yes', LANG)}"
        total = self.sums[ind.code]
        if total is None:
            return None
        if ind.type is IndicatorType.INTEGER and total == total.to_integral_value():
            return Num(int(total), INT_FORMAT)
        return Num(float(total), DECIMAL_FORMAT)


def notes_of(g: GroupReport, before: dict[str, str | None],
             settings: Settings) -> str | None:
    """A flagged group's "Số liệu cần lưu ý": last month's figure and this month's."""
    if not g.flagged:
        return None
    by_code = {i.code: i for i in settings.report.indicators}
    return flag_notes(g.flagged, {
        code: (ind.short_label(LANG), format_value(ind, before.get(code), LANG),
               format_value(ind, g.values.get(code), LANG))
        for code, ind in by_code.items()})
