"""The year's sign-up (đăng ký thi đua): its window, what a group may register, the pledges.

Config `signup` gives the window as month-days (`01-01` to `01-31`); `window` turns it
into the dates of one year, the single place that does, so the chat, the reminders and
the Council's overview cannot disagree about whether the sign-up is open.

A pledge is one row per group and year (`models.Pledge`). Saving is an insert that
updates on conflict, so two leaders of one group pressing "Gửi đăng ký" at the same
moment, on two instances, leave one row (the later one's) instead of an error.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Group, Period, Pledge, Report, ReportStatus, ReportValue
from models.base import dialect_insert
from reporting.config import Indicator, Settings
from reporting.paperwork_config import Signup, month_day

WindowState = Literal["before", "open", "closed"]


@dataclass(frozen=True)
class Window:
    """The sign-up window of one year, both days included."""

    year: int
    opens: date
    closes: date

    def state(self, day: date) -> WindowState:
        if day < self.opens:
            return "before"
        return "open" if day <= self.closes else "closed"


def _day(text: str, year: int) -> date:
    # "02-29" is a valid month-day (config is checked in a leap year): in a common year
    # the window uses the last day of February instead of failing every February.
    if text == "02-29" and not calendar.isleap(year):
        return date(year, 2, 28)
    return month_day(text, year)


def window(signup: Signup, year: int) -> Window:
    return Window(year, _day(signup.opens, year), _day(signup.closes, year))


def households_indicator(settings: Settings) -> Indicator:
    return settings.report.indicator(settings.signup.households_indicator)


def households_cap(settings: Settings) -> str | None:
    """The indicator that bounds the households registering: the right side of the
    groups' own rule `cultured_families <= households`, so the ward's rule is the one
    source (None when the config has no such rule)."""
    wanted = settings.signup.households_indicator
    return next((r.right for r in settings.report.rules
                 if r.left == wanted and r.op in ("<=", "<")), None)


async def last_households(session: AsyncSession, settings: Settings,
                          group_id: int) -> int | None:
    """The group's households in its last submitted report (None: never reported)."""
    cap = households_cap(settings)
    if cap is None:
        return None
    number = await session.scalar(
        select(ReportValue.number)
        .join(Report, Report.id == ReportValue.report_id)
        .join(Period, Period.id == Report.period_id)
        .where(Report.group_id == group_id, Report.dataset == "group_monthly",
               Report.status == ReportStatus.SUBMITTED, ReportValue.indicator == cap,
               ReportValue.number.is_not(None))
        .order_by(Period.key.desc()).limit(1))
    return int(number) if number is not None else None


async def find_pledge(session: AsyncSession, group_id: int, year: int) -> Pledge | None:
    return await session.scalar(
        select(Pledge).where(Pledge.group_id == group_id, Pledge.year == year))


async def save_pledge(session: AsyncSession, group_id: int, year: int, titles: list[str],
                      households: int | None, member_id: int, now: datetime) -> Pledge:
    """Register (or register again: replace) the group's commitments for `year`."""
    insert = dialect_insert(session.get_bind().dialect.name)
    stmt = insert(Pledge).values(group_id=group_id, year=year, titles=titles,
                                 households=households, registered_by=member_id,
                                 registered_at=now, updated_at=now)
    # `registered_at` stays: it is when the group first signed up for the year.
    stmt = stmt.on_conflict_do_update(
        index_elements=["group_id", "year"],
        set_={"titles": stmt.excluded.titles, "households": stmt.excluded.households,
              "registered_by": stmt.excluded.registered_by,
              "updated_at": stmt.excluded.updated_at})
    await session.execute(stmt)
    pledge = await find_pledge(session, group_id, year)
    assert pledge is not None, "a pledge saved a moment ago"
    await session.refresh(pledge)  # the identity map may hold the row as it was before
    return pledge


@dataclass
class Tally:
    """Who has signed up for a year, and what the ward has registered in all."""

    year: int
    signed: list[str] = field(default_factory=list)  # group names, in config order
    missing: list[str] = field(default_factory=list)
    households: int = 0
    # title code → groups registering for it, in the configured order of titles
    titles: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.signed) + len(self.missing)


async def tally(session: AsyncSession, settings: Settings, year: int) -> Tally:
    """Active groups signed up for `year` or not, and the totals of their pledges."""
    groups = (await session.scalars(
        select(Group).where(Group.active.is_(True)).order_by(Group.id))).all()
    pledges = {p.group_id: p for p in await session.scalars(
        select(Pledge).where(Pledge.year == year))}
    out = Tally(year, titles=dict.fromkeys(settings.signup.titles, 0))
    for group in groups:
        pledge = pledges.get(group.id)
        if pledge is None:
            out.missing.append(group.name)
            continue
        out.signed.append(group.name)
        out.households += pledge.households or 0
        for code in pledge.titles:
            if code in out.titles:  # a title since removed from config is not counted
                out.titles[code] += 1
    return out


async def signed_groups(session: AsyncSession, year: int,
                        group_ids: Iterable[int]) -> set[int]:
    """Which of `group_ids` have a pledge for `year`."""
    ids = list(group_ids)
    if not ids:
        return set()
    rows = await session.scalars(
        select(Pledge.group_id).where(Pledge.year == year, Pledge.group_id.in_(ids)))
    return set(rows)
