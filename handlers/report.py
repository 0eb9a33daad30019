"""/baocao (/report): the leader's monthly report, one question at a time.

Every answer is stored the moment it is given (a draft), and the position in the
conversation is a database row, so a leader can stop, come back days later or after a
restart, and continue at the same question. Steps: `q:<i>` asking item i in order,
`e:<i>` correcting item i from the summary, `summary`, `pick` (choose an item to edit).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Final

from handlers.context import Ctx
from handlers.report_period import closed_message, current_period
from handlers.report_views import (
    PREFIX,
    Draft,
    answered_note,
    picker,
    question,
    shown,
    summary,
)
from models import Conversation, Member, Period, Report, ReportStatus, ReportValue, Role
from models.queries import (
    clear_conversation,
    find_report,
    get_conversation,
    report_values,
    save_conversation,
    set_value,
)
from reporting.answers import (
    AnswerError,
    check_rules,
    choice_options,
    is_back,
    is_skip,
    parse_answer,
)
from reporting.config import Indicator, IndicatorType
from reporting.messages import Outgoing, Reply
from reporting.periods import (
    PeriodDates,
    is_late,
    is_open,
    parse_key,
    period_dates,
)

__all__ = ["PREFIX", "on_callback", "on_text", "start"]
log = logging.getLogger(__name__)
SUBMIT_WORDS = {"gửi", "gui", "xác nhận", "xac nhan", "ok", "submit", "đồng ý", "dong y"}
EDIT_WORDS = {"sửa", "sua", "edit"}
GROUP: Final = "group_monthly"
WARD: Final = "ward_progress"
KEEP_WORDS = {"giữ nguyên", "giu nguyen", "keep"}


# --- entry points -------------------------------------------------------------------

def _dataset_for(ctx: Ctx) -> str | None:
    """Leaders report their group's month; admins enter the ward's own figures."""
    if ctx.member is None:
        return None
    if ctx.member.role == Role.LEADER and ctx.group is not None:
        return GROUP
    if ctx.member.role == Role.ADMIN and WARD in ctx.app.settings.datasets:
        return WARD
    return None


async def start(ctx: Ctx) -> Reply:
    """Open (or resume) this month's report: the leader's group, or the ward's figures."""
    dataset = _dataset_for(ctx)
    if dataset is None or ctx.member is None:
        return Reply().add(ctx.t("report_leaders_only"))
    dates, period = await current_period(ctx)
    if dates is not None and period is None:
        if dates.opens_on > ctx.today:
            return Reply().add(closed_message(ctx))
        return Reply().add(ctx.t("period_locked", period=dates.label, locks_on=dates.locks_on))
    if dates is None or period is None:
        return Reply().add(closed_message(ctx))
    group_id = ctx.group.id if dataset == GROUP and ctx.group else None
    report = await find_report(ctx.session, group_id, period.id, dataset)
    if report is None:
        report = Report(group_id=group_id, period_id=period.id, dataset=dataset,
                        status=ReportStatus.DRAFT, started_by=ctx.member.id,
                        created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(report)
        await ctx.session.flush()
    d = _draft(ctx, report, period, dates, await report_values(ctx.session, report.id))
    if d.submitted:
        await _goto(ctx, d, "summary")
        return Reply(messages=[summary(ctx, d)])
    step = await _resume_step(ctx, d)
    intro = ctx.t("report_intro", period=dates.label, group=d.owner,
                  answered=len(d.values), total=len(d.indicators), due=dates.due_on,
                  resumed=bool(d.values))
    await _goto(ctx, d, step)
    return Reply(messages=[_render_step(ctx, d, step, intro=intro)])


async def on_callback(ctx: Ctx, payload: str) -> Reply:
    parts = payload.split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        return Reply(toast=ctx.t("button_expired"))
    _, rid_s, item, action = parts
    loaded = await _load_for_member(ctx, int(rid_s))
    if isinstance(loaded, Reply):
        return loaded
    d, conv = loaded
    if conv is None or conv.data.get("report_id") != d.report.id:
        # A button from an earlier session: pick up where the report stands instead.
        reply = await start(ctx)
        reply.toast = ctx.t("button_expired")
        return reply
    if item == "-":
        return await _summary_action(ctx, d, conv, action)
    if not item.isdigit() or int(item) >= len(d.indicators):
        return Reply(toast=ctx.t("button_expired"))
    idx = int(item)
    if action == "e":
        if conv.step not in ("summary", "pick"):
            return _stale(ctx, d, conv)
        await _goto(ctx, d, f"e:{idx}")
        return Reply(messages=[question(ctx, d, idx)])
    if conv.step not in (f"q:{idx}", f"e:{idx}"):
        return _stale(ctx, d, conv)
    ind = d.indicators[idx]
    msg_id = ctx.inc.message_id
    if action == "p":
        await clear_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
        return Reply().add(ctx.t("paused"), edit=msg_id)
    if action == "b":
        return await _move(ctx, d, max(idx - 1, 0), edit=msg_id)
    if action == "s" and not ind.required:
        return await _apply(ctx, d, conv, idx, None, edit=msg_id)
    if action == "k" and d.answered(ind.code):
        return await _advance(ctx, d, conv, idx, edit=msg_id,
                              note=answered_note(ctx, idx, ind, d.answer(ind.code)))
    if action.startswith("v."):
        code = action[2:]
        if code in {c for c, _ in _choices(ind)}:
            return await _apply(ctx, d, conv, idx, code, edit=msg_id)
    return Reply(toast=ctx.t("button_expired"))


async def on_text(ctx: Ctx, conv: Conversation, text: str) -> Reply:
    rid = conv.data.get("report_id")
    if not isinstance(rid, int):
        await clear_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
        return Reply().add(ctx.t("idle_hint", is_leader=True))
    loaded = await _load_for_member(ctx, rid)
    if isinstance(loaded, Reply):
        return loaded
    d, _ = loaded
    step = conv.step
    words = text.strip().lower()
    if step == "summary":
        if words in SUBMIT_WORDS and not d.submitted:
            return await _submit(ctx, d)
        if words in EDIT_WORDS:
            return await _goto_reply(ctx, d, "pick")
        return Reply(messages=[summary(ctx, d, note=ctx.t("summary_hint"))])
    if step == "pick":
        n = words.rstrip(".")
        if n.isdigit() and 1 <= int(n) <= len(d.indicators):
            return await _goto_reply(ctx, d, f"e:{int(n) - 1}")
        return Reply(messages=[picker(ctx, d)])
    kind, _, item = step.partition(":")
    if kind not in ("q", "e") or not item.isdigit() or int(item) >= len(d.indicators):
        return await _goto_reply(ctx, d, await _resume_step(ctx, d))
    idx = int(item)
    ind = d.indicators[idx]
    if is_back(text) and kind == "q":
        return await _move(ctx, d, max(idx - 1, 0))
    if is_skip(text):
        if ind.required:
            return Reply(messages=[question(ctx, d, idx, error=ctx.t("err_required"))])
        return await _apply(ctx, d, conv, idx, None)
    if words in KEEP_WORDS and d.answered(ind.code):
        return await _advance(ctx, d, conv, idx)
    try:
        value = parse_answer(ind, text, ctx.lang)
    except AnswerError as err:
        return Reply(messages=[question(ctx, d, idx, error=ctx.t(err.key, **err.params))])
    return await _apply(ctx, d, conv, idx, value)


# --- steps --------------------------------------------------------------------------

async def _apply(ctx: Ctx, d: Draft, conv: Conversation, idx: int, value: str | None,
                 edit: str | None = None) -> Reply:
    """Check and store one answer, then move on."""
    ind = d.indicators[idx]
    others = {code: row.value for code, row in d.values.items()}
    broken = check_rules(d.dataset, ind.code, value, others, ctx.lang)
    if broken is not None:
        return Reply(messages=[question(ctx, d, idx, error=ctx.t(broken.key, **broken.params))])
    assert ctx.member is not None
    old, changed = await set_value(ctx.session, d.report, ind.code, value, _number(ind, value),
                                   ctx.member.id, ctx.now, audited=d.submitted)
    d.values = await report_values(ctx.session, d.report.id)
    note = answered_note(ctx, idx, ind, value)
    correction = None
    if d.submitted and changed:
        correction = ctx.t("corrected", label=ind.label.get(ctx.lang),
                           old=shown(ctx, ind, old), new=shown(ctx, ind, value))
    return await _advance(ctx, d, conv, idx, edit=edit, note=note, correction=correction)


async def _advance(ctx: Ctx, d: Draft, conv: Conversation, idx: int, edit: str | None = None,
                   note: str | None = None, correction: str | None = None) -> Reply:
    reply = Reply()
    if edit is not None and note is not None:
        reply.add(note, edit=edit)  # freeze the answered question, buttons gone
    if conv.step.startswith("e:") or idx + 1 >= len(d.indicators):
        await _goto(ctx, d, "summary")
        reply.messages.append(summary(ctx, d, note=correction))
    else:
        await _goto(ctx, d, f"q:{idx + 1}")
        reply.messages.append(question(ctx, d, idx + 1))
    return reply


async def _move(ctx: Ctx, d: Draft, idx: int, edit: str | None = None) -> Reply:
    reply = Reply()
    if edit is not None:
        reply.add(ctx.t("went_back"), edit=edit)
    await _goto(ctx, d, f"q:{idx}")
    reply.messages.append(question(ctx, d, idx))
    return reply


async def _summary_action(ctx: Ctx, d: Draft, conv: Conversation, action: str) -> Reply:
    msg_id = ctx.inc.message_id
    if action == "ok" and conv.step == "summary" and not d.submitted:
        return await _submit(ctx, d, edit=msg_id)
    if action == "ed" and conv.step == "summary":
        return await _goto_reply(ctx, d, "pick")
    if action == "sum" and conv.step == "pick":
        return await _goto_reply(ctx, d, "summary")
    if action in ("p", "done") and conv.step == "summary":
        await clear_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
        return Reply().add(ctx.t("paused" if action == "p" else "closed"), edit=msg_id)
    return _stale(ctx, d, conv)


async def _submit(ctx: Ctx, d: Draft, edit: str | None = None) -> Reply:
    missing = [i for i, ind in enumerate(d.indicators)
               if ind.required and d.answer(ind.code) is None]
    if missing:
        await _goto(ctx, d, f"q:{missing[0]}")
        return Reply(messages=[question(ctx, d, missing[0], error=ctx.t("err_missing"))])
    assert ctx.member is not None
    d.report.status = ReportStatus.SUBMITTED
    d.report.submitted_at = ctx.now
    d.report.submitted_by = ctx.member.id
    d.report.late = is_late(d.dates, ctx.today)
    d.report.updated_at = ctx.now
    await clear_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
    reply = Reply()
    if edit is not None:
        reply.add(summary(ctx, d).text, edit=edit)
    local = ctx.now.astimezone(ctx.app.settings.ward.tz)
    return reply.add(ctx.t("submitted_ok", period=d.dates.label,
                           group=d.owner, at=local,
                           late=d.report.late, due=d.dates.due_on, locks_on=d.dates.locks_on))


# --- helpers ------------------------------------------------------------------------

async def _goto(ctx: Ctx, d: Draft, step: str) -> None:
    await save_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id, "report", step,
                            {"report_id": d.report.id}, ctx.now)


async def _goto_reply(ctx: Ctx, d: Draft, step: str) -> Reply:
    await _goto(ctx, d, step)
    return Reply(messages=[_render_step(ctx, d, step)])


def _render_step(ctx: Ctx, d: Draft, step: str, intro: str | None = None) -> Outgoing:
    if step == "summary":
        return summary(ctx, d, note=intro)
    if step == "pick":
        return picker(ctx, d)
    return question(ctx, d, int(step.partition(":")[2]), intro=intro)


async def _resume_step(ctx: Ctx, d: Draft) -> str:
    """Where to continue: the saved position, else the first unanswered item."""
    conv = await get_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
    if conv is not None and conv.flow == "report" and conv.data.get("report_id") == d.report.id:
        kind, _, item = conv.step.partition(":")
        valid = item.isdigit() and int(item) < len(d.indicators)
        if conv.step in ("summary", "pick") or (kind in ("q", "e") and valid):
            return conv.step
    for i, ind in enumerate(d.indicators):
        if not d.answered(ind.code):
            return f"q:{i}"
    return "summary"


def _stale(ctx: Ctx, d: Draft, conv: Conversation) -> Reply:
    """A button from an earlier message: say so and show where we are now."""
    return Reply(messages=[_render_step(ctx, d, conv.step)], toast=ctx.t("button_expired"))


def _choices(ind: Indicator) -> list[tuple[str, str]]:
    return choice_options(ind, "vi")


def _number(ind: Indicator, value: str | None) -> Decimal | None:
    """The numeric mirror of an answer, for aggregation in SQL (yes = 1, no = 0)."""
    if value is None:
        return None
    if ind.type.numeric:
        return Decimal(value)
    if ind.type is IndicatorType.YES_NO:
        return Decimal(1 if value == "yes" else 0)
    return None


async def _load_for_member(ctx: Ctx, report_id: int) -> tuple[Draft, Conversation | None] | Reply:
    """Load a report the member may edit, or the reply that explains why not."""
    report = await ctx.session.get(Report, report_id)
    member = ctx.member
    if report is None or member is None or not _may_edit(member, report):
        log.warning("member %s tried to act on report %s of another group",
                    member.id if member else None, report_id)
        return Reply(toast=ctx.t("not_your_report")).add(ctx.t("not_your_report"))
    period = await ctx.session.get(Period, report.period_id)
    assert period is not None
    year, month = parse_key(period.key)
    dates = period_dates(ctx.app.settings.calendar, year, month)
    if not is_open(dates, ctx.today, period.reopened_until):
        await clear_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
        return Reply().add(ctx.t("period_locked", period=dates.label, locks_on=dates.locks_on))
    conv = await get_conversation(ctx.session, ctx.inc.channel, ctx.inc.user_id)
    return _draft(ctx, report, period, dates, await report_values(ctx.session, report.id)), conv


def _may_edit(member: Member, report: Report) -> bool:
    """A leader edits only their own group's report; the ward's figures are admins'."""
    if report.dataset == WARD:
        return member.role == Role.ADMIN
    return (member.role == Role.LEADER and member.group_id is not None
            and report.group_id == member.group_id)


def _draft(ctx: Ctx, report: Report, period: Period, dates: PeriodDates,
           values: dict[str, ReportValue]) -> Draft:
    settings = ctx.app.settings
    owner = ctx.group.name if report.dataset == GROUP and ctx.group else settings.ward.name
    dataset = settings.datasets[WARD if report.dataset == WARD else GROUP]
    return Draft(report, period, dates, values, dataset, owner)
