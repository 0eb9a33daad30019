"""/trangthai (/status): where the reports stand.

A leader sees their own group for the current and previous periods; Council members
and admins see every group for the current period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from handlers.context import Ctx
from models import Group, Member, Period, ReminderMute, Report, ReportStatus, ReportValue, Role
from models.group_history import shown_in
from reporting.messages import Reply
from reporting.periods import PeriodDates, is_open, open_period, recent_periods
from reporting.signup import tally, window


@dataclass
class GroupState:
    name: str
    state: str  # "submitted", "draft", "missing"; "before": locked before the group joined
    late: bool = False
    submitted_on: date | None = None
    answered: int = 0


def _focus_periods(ctx: Ctx) -> list[PeriodDates]:
    """The period being reported now (or the latest that opened) and the one before."""
    cal = ctx.app.settings.calendar
    current = open_period(cal, ctx.today)
    periods = [p for p in recent_periods(cal, ctx.today, 3) if p.opens_on <= ctx.today]
    if current is not None:
        periods = [p for p in periods if p.key <= current.key]
    return periods[:2]


async def _state(ctx: Ctx, group: Group, p: PeriodDates) -> GroupState:
    row = await ctx.session.execute(
        select(Report, func.count(ReportValue.id))
        .join(Period, Period.id == Report.period_id)
        .outerjoin(ReportValue, ReportValue.report_id == Report.id)
        .where(Period.key == p.key, Report.group_id == group.id,
               Report.dataset == "group_monthly")
        .group_by(Report.id))
    found = row.first()
    # A draft opened and left without an answer is no start: it reads as not reported.
    if found is None or (found[0].status != ReportStatus.SUBMITTED and not found[1]):
        return GroupState(group.name, "missing")
    report, answered = found
    if report.status == ReportStatus.SUBMITTED and report.submitted_at is not None:
        local = report.submitted_at.astimezone(ctx.app.settings.ward.tz).date()
        return GroupState(group.name, "submitted", report.late, local, answered)
    return GroupState(group.name, "draft", answered=answered)


async def show(ctx: Ctx) -> Reply:
    periods = _focus_periods(ctx)
    total = len(ctx.app.settings.report.indicators)
    if ctx.member is not None and ctx.member.role == Role.LEADER and ctx.group is not None:
        return await _leader(ctx, ctx.group, periods, total)
    if not periods:
        return Reply().add(ctx.t("status_none"))
    p = periods[0]
    # The groups of that month: after a merge, June is still Tổ 11's and Tổ 12's.
    groups = (await ctx.session.scalars(
        select(Group).where(shown_in(p.key)).order_by(Group.id))).all()
    states = [await _state(ctx, g, p) for g in groups]
    unreachable = list(await ctx.session.scalars(
        select(Member.display_name).where(Member.unreachable.is_(True),
                                          Member.active.is_(True)).order_by(Member.id)))
    by_id = {g.id: g.name for g in groups}
    muted = [{"group": by_id.get(m.group_id, "?"), "reason": m.reason}
             for m in await ctx.session.scalars(
                 select(ReminderMute).where(ReminderMute.period_key == p.key)
                 .order_by(ReminderMute.group_id))]
    text = ctx.t(
        "status_ward", period=p.label, due=p.due_on, days_left=(p.due_on - ctx.today).days,
        on_time=[s for s in states if s.state == "submitted" and not s.late],
        late=[s for s in states if s.state == "submitted" and s.late],
        drafts=[s for s in states if s.state == "draft"],
        missing=[s for s in states if s.state == "missing"],
        total_groups=len(states), total=total, unreachable=unreachable, muted=muted,
        # The Council reads targets against the year's plan: say plainly when there is none.
        no_plan=p.year if ctx.app.settings.plan(p.year) is None else None)
    return Reply().add(text + await _signup_line(ctx))


async def _signup_line(ctx: Ctx) -> str:
    """While the year's sign-up is open, the Council also reads how many have signed up."""
    win = window(ctx.app.settings.signup, ctx.today.year)
    if win.state(ctx.today) != "open":
        return ""
    counted = await tally(ctx.session, ctx.app.settings, win.year)
    return "\n\n" + ctx.t("signup_status_line", year=win.year, signed=len(counted.signed),
                          total=counted.total, closes=win.closes)


async def _leader(ctx: Ctx, group: Group, periods: list[PeriodDates], total: int) -> Reply:
    """A leader's own months: a reopened one is open until its new date, and a month that
    locked before anyone of the group registered was never theirs to report."""
    joined = await ctx.session.scalar(
        select(func.min(Member.created_at)).where(Member.group_id == group.id))
    joined_on = joined.astimezone(ctx.app.settings.ward.tz).date() if joined else None
    reopened = {key: until for key, until in await ctx.session.execute(
        select(Period.key, Period.reopened_until)
        .where(Period.key.in_([p.key for p in periods])))}
    rows = []
    for p in periods:
        until = reopened.get(p.key)
        until = until if until is not None and is_open(p, ctx.today, until) \
            and ctx.today >= p.locks_on else None
        st = await _state(ctx, group, p)
        if st.state == "missing" and until is None and joined_on is not None \
                and joined_on >= p.locks_on:
            st.state = "before"
        rows.append({"period": p.label, "due": p.due_on, "locks_on": p.locks_on,
                     "open": until is not None or is_open(p, ctx.today),
                     "reopened_until": until, "days_left": (p.due_on - ctx.today).days,
                     "st": st})
    return Reply().add(ctx.t("status_leader", group=group.name, rows=rows, total=total))
