"""/nghi (/mute) <reason>: a leader who will not report this period stops reminders.

The reason is shown to the Council in /trangthai; `/nghi bỏ` turns reminders back on.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Ctx
from models import Period, Report, ReportStatus, Role
from models.mutes import mute as mute_group
from models.mutes import muted_groups, unmute
from reporting.messages import Reply
from reporting.periods import open_period

UNMUTE_WORDS = {"bỏ", "bo", "huỷ", "hủy", "huy", "off", "on", "tiếp", "tiep"}


async def mute(ctx: Ctx) -> Reply:
    if ctx.member is None or ctx.member.role != Role.LEADER or ctx.group is None:
        return Reply().add(ctx.t("report_leaders_only"))
    period = open_period(ctx.app.settings.calendar, ctx.today)
    if period is None:
        return Reply().add(ctx.t("mute_no_period"))
    submitted = await ctx.session.scalar(
        select(Report.id).join(Period, Period.id == Report.period_id)
        .where(Period.key == period.key, Report.group_id == ctx.group.id,
               Report.dataset == "group_monthly", Report.status == ReportStatus.SUBMITTED))
    if submitted is not None:  # reminders go only to groups that have not sent the month
        return Reply().add(ctx.t("mute_not_needed", period=period.label, group=ctx.group.name))
    reason = " ".join(ctx.inc.args).strip()
    if reason.lower() in UNMUTE_WORDS:
        await unmute(ctx.session, ctx.group.id, period.key)
        return Reply().add(ctx.t("unmuted", period=period.label, group=ctx.group.name))
    if not reason:
        current = (await muted_groups(ctx.session, period.key)).get(ctx.group.id)
        return Reply().add(ctx.t("mute_usage", period=period.label, current=current))
    await mute_group(ctx.session, ctx.group.id, period.key, ctx.member.id, reason, ctx.now)
    reason = (await muted_groups(ctx.session, period.key))[ctx.group.id]
    return Reply().add(ctx.t("muted", period=period.label, group=ctx.group.name,
                             reason=reason))
