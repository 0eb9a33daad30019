"""Which month a /baocao is about, and what to say when none is open."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.context import Ctx
from models import Conversation, Group, Period, Report, ReportStatus
from models.queries import ensure_period, find_period
from reporting.periods import (
    PeriodDates,
    is_open,
    last_closed,
    next_opening,
    open_period,
    parse_key,
    parse_month,
    period_dates,
)


async def current_period(ctx: Ctx) -> tuple[PeriodDates | None, Period | None]:
    """The period to report: `/baocao 3/2022` names one (e.g. reopened by an admin; any
    form `reporting.periods.parse_month` reads, "tháng 3", "T3/2022", "2022-03");
    otherwise the calendar's open period, and only when none is open, a reopened one.

    A reopened month must never stand in front of the month everyone is reporting.
    """
    cal = ctx.app.settings.calendar
    if ctx.inc.args:
        try:
            year, month = parse_month(" ".join(ctx.inc.args), ctx.today)
        except ValueError:
            return None, None  # `closed_message` says the month was not understood
        dates = period_dates(cal, year, month)
        row = await find_period(ctx.session, dates.key)
        if not is_open(dates, ctx.today, row.reopened_until if row else None):
            return dates, None  # named, but closed: say so about that very month
        return dates, row or await ensure_period(ctx.session, *dates.row)
    current = open_period(cal, ctx.today)
    if current is not None:
        return current, await ensure_period(ctx.session, *current.row)
    reopened = await ctx.session.scalar(
        select(Period).where(Period.reopened_until >= ctx.today).order_by(Period.key))
    if reopened is None:
        return None, None
    year, month = parse_key(reopened.key)
    return period_dates(cal, year, month), reopened


def closed_message(ctx: Ctx) -> str:
    """Why there is nothing to report: the named month is unreadable, or none is open."""
    if ctx.inc.args:
        text = " ".join(ctx.inc.args)
        try:
            parse_month(text, ctx.today)
        except ValueError:
            return ctx.t("bad_period", text=text)
    cal = ctx.app.settings.calendar
    closed = last_closed(cal, ctx.today)
    upcoming = next_opening(cal, ctx.today)
    recently: date | None = closed.locks_on if closed else None
    return ctx.t("no_open_period", closed=closed.label if closed else None, locked_on=recently,
                 next_period=upcoming.label, opens_on=upcoming.opens_on)


async def cancel_text(ctx: Ctx, conv: Conversation) -> str:
    """`/huy` in the report: which month (the group's or the ward's figures) was stopped."""
    rid = conv.data.get("report_id")
    report = await ctx.session.get(Report, rid) if isinstance(rid, int) else None
    period = await ctx.session.get(Period, report.period_id) if report else None
    if report is None or period is None:
        return ctx.t("cancelled")
    year, month = parse_key(period.key)
    return ctx.t("report_cancelled", ward=report.dataset == "ward_progress",
                 period=period_dates(ctx.app.settings.calendar, year, month).label,
                 group=ctx.group.name if ctx.group else "",
                 submitted=report.status == ReportStatus.SUBMITTED)


def outside_group(ctx: Ctx, group: Group, dates: PeriodDates) -> str | None:
    """Why the leader's group has no report for this month (formed by a merge or split
    after it, or ended before it: config's `group_changes`), or None when it has one.

    Such a report would belong to no digest: June is read with the groups of June.
    """
    cal = ctx.app.settings.calendar
    if group.valid_from is not None and dates.key < group.valid_from:
        since = period_dates(cal, *parse_key(group.valid_from))
        return ctx.t("report_group_not_yet", group=group.name, since=since.label,
                     period=dates.label)
    if group.valid_until is not None and dates.key >= group.valid_until:
        until = period_dates(cal, *parse_key(group.valid_until))
        return ctx.t("report_group_ended", group=group.name, since=until.label)
    return None
