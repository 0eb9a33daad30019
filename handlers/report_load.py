"""Loading a monthly report for the member acting on it: whose it is, and whether open."""

from __future__ import annotations

import logging
from typing import Final

from handlers.context import Ctx
from handlers.flow import end
from handlers.report_views import Draft
from models import Member, Report, Role
from models.queries import Loaded, report_with_values
from reporting.messages import Reply
from reporting.periods import PeriodDates, is_open, parse_key, period_dates

__all__ = ["GROUP", "WARD", "draft", "load_for_member", "loaded_report"]
log = logging.getLogger("handlers.report")
GROUP: Final = "group_monthly"
WARD: Final = "ward_progress"


async def loaded_report(ctx: Ctx, report_id: int) -> Loaded | None:
    """The report as this event read it with the member, else read now. Taken once:
    after this event's own writes a second look must go to the database."""
    pre, ctx.draft = ctx.draft, None
    if pre is not None and pre.report.id == report_id:
        return pre
    return await report_with_values(ctx.session, report_id)


async def load_for_member(ctx: Ctx, report_id: int) -> Draft | Reply:
    """Load a report the member may edit, or the reply that explains why not."""
    loaded = await loaded_report(ctx, report_id)
    member = ctx.member
    if loaded is None or member is None or not _may_edit(member, loaded.report):
        log.warning("member %s tried to act on report %s of another group",
                    member.id if member else None, report_id)
        return Reply(toast=ctx.t("not_your_report")).add(ctx.t("not_your_report"))
    year, month = parse_key(loaded.period.key)
    dates = period_dates(ctx.app.settings.calendar, year, month)
    if not is_open(dates, ctx.today, loaded.period.reopened_until):
        await end(ctx)
        return Reply().add(ctx.t("period_locked", period=dates.label, locks_on=dates.locks_on))
    return draft(ctx, loaded, dates)


def _may_edit(member: Member, report: Report) -> bool:
    """A leader edits only their own group's report; the ward's figures are admins'."""
    if report.dataset == WARD:
        return member.role == Role.ADMIN
    return (member.role == Role.LEADER and member.group_id is not None
            and report.group_id == member.group_id)


def draft(ctx: Ctx, loaded: Loaded, dates: PeriodDates) -> Draft:
    settings = ctx.app.settings
    report = loaded.report
    owner = ctx.group.name if report.dataset == GROUP and ctx.group else settings.ward.name
    dataset = settings.datasets[WARD if report.dataset == WARD else GROUP]
    me = ctx.member.id if ctx.member else None
    return Draft(report, loaded.period, dates, loaded.values, dataset, owner, loaded.edits,
                 me=me, seen=_seen(ctx, loaded, me), known=report.version,
                 last=_last(ctx, loaded))


def _last(ctx: Ctx, loaded: Loaded) -> dict[str, str | None] | None:
    """Last month's answers as the conversation keeps them for this report, if it does."""
    conv = ctx.conv
    if conv is None or conv.data.get("report_id") != loaded.report.id:
        return None
    last = conv.data.get("last_month")
    if not isinstance(last, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in last.items()}


def _seen(ctx: Ctx, loaded: Loaded, me: int | None) -> int:
    """The version of the report this member last saw: kept in the conversation while
    they are in this report; otherwise (paused, or a new /baocao) at least their own
    latest change, so what others changed after it is shown."""
    conv = ctx.conv
    if conv is not None and conv.data.get("report_id") == loaded.report.id:
        seen = conv.data.get("seen")
        if isinstance(seen, int):
            return seen
    return max((e.version for e in loaded.edits.values() if e.member_id == me), default=0)
