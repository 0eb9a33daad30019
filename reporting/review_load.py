"""What the year's review reads from the database besides `reporting.yearly`.

Three small loads: each group's sign-up (`models.Pledge`), the one report a group's
titles and "Gia đình văn hóa" households are read from, and the good deeds the Council
proposed for commendation. A handful of queries per ward, whatever the number of
groups: the review is made on request, for one ward's year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed, Group, Period, Pledge, Report, ReportStatus, ReportValue
from reporting.config import Settings


@dataclass(frozen=True)
class Signed:
    """One group's sign-up for the year."""

    titles: tuple[str, ...]
    households: int | None


@dataclass(frozen=True)
class TitleReport:
    """The report a group's titles are read from, and what it answered."""

    period_key: str
    values: dict[str, str | None]


@dataclass(frozen=True)
class ProposedDeed:
    """A good deed the Council marked "đề nghị khen thưởng"."""

    id: int
    subject: str
    subject_kind: str | None  # "person" | "collective" (None: not told)
    group_code: str
    group_name: str
    category: str  # the category's label, "" if none
    description: str
    happened_on: date | None


def year_bounds(settings: Settings, year: int) -> tuple[datetime, datetime]:
    """The year in the ward's local time, as UTC moments [start, end)."""
    return settings.ward.start_of(date(year, 1, 1)), settings.ward.start_of(date(year + 1, 1, 1))


async def pledges(session: AsyncSession, year: int) -> dict[str, Signed]:
    """Group code → its sign-up for `year` (groups that did not sign up are absent)."""
    rows = await session.execute(select(Group.code, Pledge.titles, Pledge.households)
                                 .join(Group, Group.id == Pledge.group_id)
                                 .where(Pledge.year == year))
    return {code: Signed(tuple(titles or ()), households)
            for code, titles, households in rows.all()}


async def title_reports(session: AsyncSession, settings: Settings, year: int,
                        indicators: list[str]) -> dict[str, TitleReport]:
    """Group code → the report its titles are judged on: the submitted report of the
    dataset's `title_month` (December in the shipped config: the month titles are asked
    again), or else the group's latest submitted report of the year. Only `indicators`
    are loaded."""
    title_month = settings.report.title_month or 12
    keys = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    rows = await session.execute(
        select(Group.code, Period.key, Report.id)
        .join(Report, Report.group_id == Group.id)
        .join(Period, Period.id == Report.period_id)
        .where(Period.key.in_(keys), Report.dataset == "group_monthly",
               Report.status == ReportStatus.SUBMITTED))
    wanted = f"{year:04d}-{title_month:02d}"
    chosen: dict[str, tuple[str, int]] = {}
    for code, key, report_id in rows.all():
        held = chosen.get(code)
        # The title month wins; otherwise the latest month ("2022-11" > "2022-10").
        if held is None or (held[0] != wanted and (key == wanted or key > held[0])):
            chosen[code] = (key, report_id)
    values: dict[int, dict[str, str | None]] = {rid: {} for _, rid in chosen.values()}
    if values and indicators:
        for rid, indicator, value in (await session.execute(
                select(ReportValue.report_id, ReportValue.indicator, ReportValue.value)
                .where(ReportValue.report_id.in_(list(values)),
                       ReportValue.indicator.in_(indicators)))).all():
            values[rid][indicator] = value
    return {code: TitleReport(key, values[rid]) for code, (key, rid) in chosen.items()}


async def proposed_deeds(session: AsyncSession, settings: Settings,
                         year: int) -> list[ProposedDeed]:
    """Good deeds submitted during `year` (local time) that the Council proposed for
    commendation, in the order they came: the same deeds `reporting.yearly` counts as
    "đề nghị khen thưởng", so the list and the per-group counts agree."""
    start, end = year_bounds(settings, year)
    labels = {c.code: c.label.get("vi") for c in settings.good_deeds.categories}
    rows = await session.execute(
        select(GoodDeed, Group.code, Group.name).join(Group, Group.id == GoodDeed.group_id)
        .where(GoodDeed.status == DeedStatus.PROPOSED, GoodDeed.submitted_at >= start,
               GoodDeed.submitted_at < end)
        .order_by(GoodDeed.submitted_at, GoodDeed.id))
    return [ProposedDeed(d.id, d.subject_name or "", d.subject_kind, code, name,
                         labels.get(d.category or "", ""), d.description or "", d.happened_on)
            for d, code, name in rows.all()]


async def has_reports(session: AsyncSession, year: int) -> bool:
    """Whether any group reported a month of `year`."""
    found = await session.scalar(
        select(Report.id).join(Period, Period.id == Report.period_id)
        .where(Period.key.like(f"{year:04d}-%"), Report.dataset == "group_monthly")
        .limit(1))
    return found is not None
