"""/suaso (/fix): an admin corrects one figure of a group's submitted report, with a reason.

    /suaso to-3 3/2022 households 125 Số hộ theo rà soát của công an phường

Before this, the office had to reopen the month and ask the leader to type the figure
again. The figure is read and checked exactly as the leader's answer would be
(`reporting.answers`: the same forgiving numbers, choices, bounds and cross-field
rules), and stored through `models.queries.set_value` as a correction: the audit row
names the admin and keeps the reason, the digest counts it among the report's
corrections, and the group's leaders are told what changed. The month may be open or
locked: a correction needs no reopening, but it needs a submitted report to correct.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Ctx
from handlers.members import is_admin
from handlers.notices import tell
from handlers.report_load import GROUP
from handlers.report_views import shown
from models import Member, ReportStatus, Role
from models.queries import find_period, find_report, group_by_code, report_values, set_value
from reporting.answers import AnswerError, NeedsConfirmation, check_rules, number_of, parse_answer
from reporting.config import Indicator
from reporting.messages import Reply
from reporting.periods import parse_month, period_dates

__all__ = ["correct"]


def _indicator(ctx: Ctx, text: str) -> Indicator | None:
    """By code (`households`) or by its number in the report (`1`)."""
    inds = ctx.app.settings.datasets[GROUP].indicators
    word = text.strip().lower().rstrip(".")
    if word.isdigit():
        n = int(word)
        return inds[n - 1] if 1 <= n <= len(inds) else None
    return next((i for i in inds if i.code == word), None)


def _usage(ctx: Ctx) -> Reply:
    codes = ", ".join(g.code for g in ctx.app.settings.groups)
    return Reply().add(ctx.t("fix_usage", codes=codes))


async def correct(ctx: Ctx) -> Reply:
    """`/suaso GROUP MONTH INDICATOR VALUE REASON...`."""
    if not is_admin(ctx):
        return Reply().add(ctx.t("admin_only"))
    args = list(ctx.inc.args)
    if len(args) < 5:  # the reason is not optional: it is what the audit is for
        return _usage(ctx)
    group_text, month_text, ind_text, value_text = args[:4]
    reason = " ".join(args[4:]).strip()[:500]
    group = await group_by_code(ctx.session, group_text.lower())
    if group is None:
        codes = ", ".join(g.code for g in ctx.app.settings.groups)
        return Reply().add(ctx.t("members_bad_group", text=group_text, codes=codes))
    try:
        year, month = parse_month(month_text, ctx.today)
    except ValueError:
        reply = Reply().add(ctx.t("bad_period", text=month_text))
        reply.messages += _usage(ctx).messages
        return reply
    ind = _indicator(ctx, ind_text)
    ds = ctx.app.settings.datasets[GROUP]
    if ind is None:
        return Reply().add(ctx.t("fix_bad_indicator", text=ind_text, n=len(ds.indicators),
                                 codes=", ".join(i.code for i in ds.indicators)))
    dates = period_dates(ctx.app.settings.calendar, year, month)
    period = await find_period(ctx.session, dates.key)
    report = await find_report(ctx.session, group.id, period.id) if period else None
    if report is None or report.status != ReportStatus.SUBMITTED:
        return Reply().add(ctx.t("fix_no_report", group=group.name, period=dates.label,
                                 draft=report is not None))
    try:
        value = parse_answer(ind, value_text, ctx.lang)
    except NeedsConfirmation as unsure:
        # No back-and-forth here: the admin types the figure without separators.
        return Reply().add(ctx.t("fix_unsure", **unsure.params))
    except AnswerError as err:
        return Reply().add(ctx.t("fix_bad_value", label=ind.label.get(ctx.lang),
                                 error=ctx.t(err.key, **err.params)))
    values = await report_values(ctx.session, report.id)
    broken = check_rules(ds, ind.code, value, values, ctx.lang)
    if broken is not None:
        return Reply().add(ctx.t("fix_bad_value", label=ind.label.get(ctx.lang),
                                 error=ctx.t(broken.key, **broken.params)))
    assert ctx.member is not None
    old, changed = await set_value(ctx.session, report, values, ind.code, value,
                                   number_of(ind, value), ctx.member.id, ctx.now,
                                   audited=True, note=reason)
    label = ind.label.get(ctx.lang)
    if not changed:
        return Reply().add(ctx.t("fix_same", label=label, value=shown(ctx, ind, value)))
    params = {"group": group.name, "period": dates.label, "label": label,
              "old": shown(ctx, ind, old), "new": shown(ctx, ind, value), "reason": reason}
    leaders = await ctx.session.scalars(select(Member).where(
        Member.group_id == group.id, Member.role == Role.LEADER, Member.active.is_(True)))
    await tell(ctx, leaders.all(), kind="corrected", key=f"corrected:{report.id}:{report.version}",
               text="fix_notice", **params)
    return Reply().add(ctx.t("fix_done", **params))
