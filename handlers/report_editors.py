"""Several editors on one draft: two leaders of one group, or the ward office's admins.

Each change bumps the report's version and stamps the answer with it
(`report_store.store`); the conversation keeps the version a member last saw, so
their next question or summary names what the others changed since ("Đồng chí Hùng đã
sửa mục 1 lúc 09:12") and the summary marks those items. "Gửi báo cáo" carries the
version its summary showed, and the report is submitted only at that version
(`models.queries.submit_report`, a compare-and-set); otherwise the summary is shown
again with the changes marked, to be confirmed anew. So what is submitted is exactly
what the submitter confirmed, and every change of an earlier answer is audited.
"""

from __future__ import annotations

from handlers import report_carry as carry
from handlers.context import Ctx
from handlers.flow import At, FlowName, end, goto
from handlers.report_load import load_for_member
from handlers.report_views import SUMMARY, Draft, Step, question, summary
from models.queries import submit_report
from reporting.messages import Reply
from reporting.periods import is_late

__all__ = ["submit"]


async def submit(ctx: Ctx, d: Draft, shown: int | None, edit: str | None = None) -> Reply:
    """Submit the draft as the summary at version `shown` showed it (None: the one the
    conversation last showed, for a typed "gửi")."""
    problem = carry.first_problem(ctx, d)  # unanswered, or refused by a rule
    if problem is not None:
        await goto(ctx, FlowName.REPORT, At(Step.QUESTION, problem[0]), d.state())
        return Reply(messages=[question(ctx, d, problem[0], error=problem[1])])
    assert ctx.member is not None
    confirmed = d.seen if shown is None else shown
    late = is_late(d.dates, ctx.today)
    if not await submit_report(ctx.session, d.report, confirmed, ctx.member.id, ctx.now, late):
        return await _changed(ctx, d, confirmed)
    await end(ctx)
    reply = Reply()
    if edit is not None:
        reply.add(summary(ctx, d).text, edit=edit)
    local = ctx.now.astimezone(ctx.app.settings.ward.tz)
    return reply.add(ctx.t("submitted_ok", period=d.dates.label,
                           group=d.owner, at=local,
                           late=d.report.late, due=d.dates.due_on, locks_on=d.dates.locks_on))


async def _changed(ctx: Ctx, d: Draft, confirmed: int) -> Reply:
    """Not submitted: the report changed after the confirmed summary. Show it again, as it
    is now, marking what changed since that summary."""
    fresh = await load_for_member(ctx, d.report.id)  # re-read: another editor committed
    if isinstance(fresh, Reply):
        return fresh
    fresh.seen = min(fresh.seen, confirmed)
    await goto(ctx, FlowName.REPORT, SUMMARY, fresh.state())
    # Submitted meanwhile by the other editor: their summary stands, shown as it is.
    note = None if fresh.submitted else ctx.t("submit_changed")
    return Reply(messages=[summary(ctx, fresh, note=note)])
