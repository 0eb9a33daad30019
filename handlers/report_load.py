"""Loading a monthly report for the member acting on it: whose it is, and whether open."""

from __future__ import annotations

import logging
from typing import Final

from handlers.context import Ctx
from handlers.flow import end
from handlers.report_views import Draft
from models import Member, Period, Report, Role
from models.queries import report_with_values
from reporting.messages import Reply
from reporting.periods import PeriodDates, is_open, parse_key, period_dates

__all__ = ["GROUP", "WARD", "draft", "load_for_member"]
log = logging.getLogger("handlers.report")
GROUP: Final = "group_monthly"
WARD: Final = "ward_progress"


async def load_for_member(ctx: Ctx, report_id: int) -> Draft | Reply:
    """Load a report the member may edit, or the reply that explains why not."""
    loaded = await report_with_values(ctx.session, report_id)
    member = ctx.member
    if loaded is None or member is None or not _may_edit(member, loaded[0]):
        log.warning("member %s tried to act on report %s of another group",
                    member.id if member else None, report_id)
        return Reply(toast=ctx.t("not_your_report")).add(ctx.t("not_your_report"))
    report, period, values = loaded
    year, month = parse_key(period.key)
    dates = period_dates(ctx.app.settings.calendar, year, month)
    if not is_open(dates, ctx.today, period.reopened_until):
        await end(ctx)
        return Reply().add(ctx.t("period_locked", period=dates.label, locks_on=dates.locks_on))
    return draft(ctx, report, period, dates, values)


def _may_edit(member: Member, report: Report) -> bool:
    """A leader edits only their own group's report; the ward's figures are admins'."""
    if report.dataset == WARD:
        return member.role == Role.ADMIN
    return (member.role == Role.LEADER and member.group_id is not None
            and report.group_id == member.group_id)


def draft(ctx: Ctx, report: Report, period: Period, dates: PeriodDates,
          values: dict[str, str | None]) -> Draft:
    settings = ctx.app.settings
    owner = ctx.group.name if report.dataset == GROUP and ctx.group else settings.ward.name
    dataset = settings.datasets[WARD if report.dataset == WARD else GROUP]
    return Draft(report, period, dates, values, dataset, owner)
