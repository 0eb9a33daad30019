"""/baocao (/report): the leader's monthly report, one question at a time.

Every answer is stored the moment it is given (a draft), and the position in the
conversation is a database row, so a leader can stop, come back days later or after a
restart, and continue at the same question. The steps are `report_views.Step`.
"""

from __future__ import annotations

from handlers import report_carry as carry
from handlers.context import Ctx
from handlers.flow import At, FlowName, FlowSpec, end, goto, parse_step
from handlers.report_checks import (
    CHECKING,
    answering,
    check_reply,
    checking,
    confirmed_note,
    remember_last_month,
    soft_flag,
    soft_question,
)
from handlers.report_confirm import ask, base_step, pending, prompt
from handlers.report_editors import submit
from handlers.report_load import GROUP, WARD, draft, load_for_member, loaded_report
from handlers.report_period import cancel_text, closed_message, current_period, outside_group
from handlers.report_store import store
from handlers.report_views import (
    PICK,
    SUMMARY,
    Draft,
    Step,
    answered_note,
    picker,
    question,
    shown,
    summary,
)
from models import Conversation, Role
from models.queries import mark_value, open_report
from reporting.answers import (
    AnswerError,
    NeedsConfirmation,
    check_rules,
    choice_options,
    is_back,
    is_skip,
    parse_answer,
    yes_or_no,
)
from reporting.buttons import Button, Flow, ReportAction
from reporting.messages import Outgoing, Reply
from reporting.soft_checks import ASKED, CONFIRMED

__all__ = ["FLOW", "on_button", "on_text", "resume", "start"]
SUBMIT_WORDS = {"gửi", "gui", "xác nhận", "xac nhan", "ok", "submit", "đồng ý", "dong y"}
EDIT_WORDS = {"sửa", "sua", "edit"}
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
    outside = outside_group(ctx, ctx.group, dates) if dataset == GROUP and ctx.group else None
    if outside is not None:
        return Reply().add(outside)
    group_id = ctx.group.id if dataset == GROUP and ctx.group else None
    # Two editors starting at once (e.g. two admins on two instances) share one report.
    report = await open_report(ctx.session, group_id, period.id, dataset, ctx.member.id, ctx.now)
    loaded = await loaded_report(ctx, report.id)
    assert loaded is not None
    d = draft(ctx, loaded, dates)
    if d.submitted:
        await _goto(ctx, d, SUMMARY)
        return Reply(messages=[summary(ctx, d)])
    carried = await carry.find_carry(ctx, d)  # last month's stocks and titles kept?
    if carried is not None:
        await goto(ctx, FlowName.REPORT, carry.CARRY, carried)
        return Reply(messages=[carry.carry_screen(ctx, d, carried)])
    step = _resume_step(ctx, d)
    d.last = None  # read afresh at each /baocao (a correction to last month shows)
    await remember_last_month(ctx, d)  # here, not at the answers' soft checks
    intro = ctx.t("report_intro", period=dates.label, group=d.owner,
                  answered=len(d.values), total=len(d.indicators), due=dates.due_on,
                  resumed=bool(d.values))
    await _goto(ctx, d, step)
    return Reply(messages=[_render_step(ctx, d, step, intro=intro)])


async def resume(ctx: Ctx, conv: Conversation) -> Reply:
    """Show the step the leader is at (after a button that is out of date)."""
    rid = conv.data.get("report_id")
    loaded = await load_for_member(ctx, rid) if isinstance(rid, int) else None
    if isinstance(loaded, Reply):
        return loaded
    if loaded is None:
        await end(ctx)
        return Reply().add(ctx.t("idle_hint", is_leader=True))
    return Reply(messages=[_render_step(ctx, loaded, _resume_step(ctx, loaded))])


async def on_button(ctx: Ctx, b: Button) -> Reply:
    rid, item = b.id(0), b.id(1)
    if rid is None:
        return Reply(toast=ctx.t("button_expired"))
    loaded = await load_for_member(ctx, rid)
    if isinstance(loaded, Reply):
        return loaded
    d, conv = loaded, ctx.conv
    if conv is None or conv.data.get("report_id") != d.report.id:
        # A button from an earlier session: pick up where the report stands instead.
        reply = await start(ctx)
        reply.toast = ctx.t("button_expired")
        return reply
    at = _position(d, conv)
    if item is None:
        return await _summary_action(ctx, d, at, b)
    if item >= len(d.indicators):
        return Reply(toast=ctx.t("button_expired"))
    if at is not None and at.step in CHECKING:
        if at.index == item and b.action in (ReportAction.SOFT_OK, ReportAction.SOFT_REDO):
            return await _checked(ctx, d, at, b.action is ReportAction.SOFT_OK, ctx.inc.message_id)
        at = answering(at)  # the question's own buttons still work (e.g. "Giữ nguyên")
    if b.action in (ReportAction.CONFIRM, ReportAction.RETYPE) and at == At(Step.CONFIRM, item):
        base, value = base_step(conv, at), pending(conv)
        await _goto(ctx, d, base)  # back at the question, should a rule refuse the figure
        if b.action is ReportAction.CONFIRM and value is not None:
            return await _apply(ctx, d, base, value, edit=ctx.inc.message_id)
        return Reply(messages=[question(ctx, d, item)])
    if b.action is ReportAction.EDIT:
        if at not in (SUMMARY, PICK):
            return _stale(ctx, d, at)
        return await _goto_reply(ctx, d, At(Step.CORRECT, item))
    if at not in (At(Step.QUESTION, item), At(Step.CORRECT, item)):
        return _stale(ctx, d, at)
    assert at is not None
    ind = d.indicators[item]
    msg_id = ctx.inc.message_id
    if b.action is ReportAction.PAUSE:
        await end(ctx)
        return Reply().add(ctx.t("paused"), edit=msg_id)
    if b.action is ReportAction.BACK:
        return await _move(ctx, d, max(item - 1, 0), edit=msg_id)
    if b.action is ReportAction.SKIP and not ind.required:
        return await _apply(ctx, d, at, None, edit=msg_id)
    if b.action is ReportAction.KEEP and d.answered(ind.code):
        return await _advance(ctx, d, at, edit=msg_id,
                              note=answered_note(ctx, item, ind, d.answer(ind.code)))
    if b.action is ReportAction.VALUE and b.arg in {c for c, _ in choice_options(ind)}:
        return await _apply(ctx, d, at, b.arg, edit=msg_id)
    return Reply(toast=ctx.t("button_expired"))


async def on_text(ctx: Ctx, conv: Conversation) -> Reply | None:
    text = ctx.inc.text
    if text is None:
        return None  # a photo or a sticker: not an answer
    rid = conv.data.get("report_id")
    if not isinstance(rid, int):
        await end(ctx)
        return Reply().add(ctx.t("idle_hint", is_leader=True))
    loaded = await load_for_member(ctx, rid)
    if isinstance(loaded, Reply):
        return loaded
    d = loaded
    at = _position(d, conv)
    words = text.strip().lower()
    if at == SUMMARY:
        if words in SUBMIT_WORDS and not d.submitted:
            return await submit(ctx, d, None)
        if words in EDIT_WORDS:
            return await _goto_reply(ctx, d, PICK)
        return Reply(messages=[summary(ctx, d, note=ctx.t("summary_hint"))])
    if at == PICK:
        n = words.rstrip(".")
        if n.isdigit() and 1 <= int(n) <= len(d.indicators):
            return await _goto_reply(ctx, d, At(Step.CORRECT, int(n) - 1))
        return Reply(messages=[picker(ctx, d)])
    if at == carry.CARRY:
        if words in carry.SAME_WORDS or words in EDIT_WORDS:
            return await carry.same(ctx, d, words in EDIT_WORDS)
        at = At(Step.QUESTION, 0)  # a figure typed: this month is answered in full
        await _goto(ctx, d, at)
    if at is not None and at.step in CHECKING:
        right = check_reply(text)
        if right is not None:
            return await _checked(ctx, d, at, right)
        at = answering(at)  # anything else is a new answer to the same question
    if at is None or at.index is None:
        return await _goto_reply(ctx, d, _resume_step(ctx, d))
    idx = at.index
    ind = d.indicators[idx]
    if at.step is Step.CONFIRM:  # "Ý là 1.234?": yes, no, or a new answer to the question
        at, yes, value = base_step(conv, at), yes_or_no(text), pending(conv)
        await _goto(ctx, d, at)
        if yes is not None:
            return await (_apply(ctx, d, at, value) if yes and value else _goto_reply(ctx, d, at))
    if is_back(text) and at.step is Step.QUESTION:
        return await _move(ctx, d, max(idx - 1, 0))
    if is_skip(text):
        if ind.required:
            return Reply(messages=[question(ctx, d, idx, error=ctx.t("err_required"))])
        return await _apply(ctx, d, at, None)
    if words in KEEP_WORDS and d.answered(ind.code):
        return await _advance(ctx, d, at)
    try:
        value = parse_answer(ind, text, ctx.lang)
    except NeedsConfirmation as unsure:
        return await ask(ctx, d, at, unsure)
    except AnswerError as err:
        return Reply(messages=[question(ctx, d, idx, error=ctx.t(err.key, **err.params))])
    return await _apply(ctx, d, at, value)


FLOW = FlowSpec(FlowName.REPORT, Flow.REPORT, on_text=on_text, on_button=on_button,
                resume=resume, on_cancel=cancel_text)


# --- steps --------------------------------------------------------------------------

async def _apply(ctx: Ctx, d: Draft, at: At[Step], value: str | None,
                 edit: str | None = None) -> Reply:
    """Check and store one answer, then move on."""
    assert at.index is not None and ctx.member is not None
    idx = at.index
    ind = d.indicators[idx]
    broken = check_rules(d.dataset, ind.code, value, d.values, ctx.lang)
    if broken is not None:
        return Reply(messages=[question(ctx, d, idx, error=ctx.t(broken.key, **broken.params))])
    flag = await soft_flag(ctx, d, ind, value)
    # `d.values` is updated in place: the summary shown next needs no second read.
    old, changed = await store(ctx, d, ind, value, soft_check=ASKED if flag else None)
    note = answered_note(ctx, idx, ind, value)
    if flag is not None:  # kept, and asked about: "Đúng" moves on, "Sửa" asks again
        await _goto(ctx, d, checking(at))
        reply = Reply().add(note, edit=edit) if edit is not None else Reply()
        reply.messages.append(soft_question(ctx, d, idx, flag))
        return reply
    correction = None
    if d.submitted and changed:
        correction = ctx.t("corrected", label=ind.label.get(ctx.lang),
                           old=shown(ctx, ind, old), new=shown(ctx, ind, value))
    return await _advance(ctx, d, at, edit=edit, note=note, correction=correction)


async def _checked(ctx: Ctx, d: Draft, at: At[Step], right: bool,
                   edit: str | None = None) -> Reply:
    """The leader's word on a soft check: the figure is right, or to be typed again."""
    assert at.index is not None
    ind = d.indicators[at.index]
    if not right:
        reply = Reply().add(answered_note(ctx, at.index, ind, d.answer(ind.code)), edit=edit) \
            if edit is not None else Reply()
        await _goto(ctx, d, answering(at))
        reply.messages.append(question(ctx, d, at.index))
        return reply
    await mark_value(ctx.session, d.report.id, ind.code, CONFIRMED)
    return await _advance(ctx, d, answering(at), edit=edit,
                          note=confirmed_note(ctx, at.index, ind, d.answer(ind.code)))


async def _advance(ctx: Ctx, d: Draft, at: At[Step], edit: str | None = None,
                   note: str | None = None, correction: str | None = None) -> Reply:
    assert at.index is not None
    reply = Reply()
    if edit is not None and note is not None:
        reply.add(note, edit=edit)  # freeze the answered question, buttons gone
    nxt = carry.following(d, at.index, correcting=at.step is Step.CORRECT)
    if nxt is None:
        await _goto(ctx, d, SUMMARY)
        reply.messages.append(summary(ctx, d, note=correction))
    else:
        await _goto(ctx, d, At(Step.QUESTION, nxt))
        reply.messages.append(question(ctx, d, nxt))
    return reply


async def _move(ctx: Ctx, d: Draft, idx: int, edit: str | None = None) -> Reply:
    reply = Reply()
    if edit is not None:
        reply.add(ctx.t("went_back"), edit=edit)
    await _goto(ctx, d, At(Step.QUESTION, idx))
    reply.messages.append(question(ctx, d, idx))
    return reply


async def _summary_action(ctx: Ctx, d: Draft, at: At[Step] | None, b: Button) -> Reply:
    msg_id, action = ctx.inc.message_id, b.action
    if action in (ReportAction.SAME, ReportAction.SAME_EDIT) and at == carry.CARRY:
        return await carry.same(ctx, d, action is ReportAction.SAME_EDIT, edit=msg_id)
    if action is ReportAction.SUBMIT and at == SUMMARY and not d.submitted:
        # The version the summary showed (none on a button from before versions).
        return await submit(ctx, d, int(b.arg) if b.arg.isdigit() else None, edit=msg_id)
    if action is ReportAction.PICK and at == SUMMARY:
        return await _goto_reply(ctx, d, PICK)
    if action is ReportAction.SUMMARY and at == PICK:
        return await _goto_reply(ctx, d, SUMMARY)
    if action in (ReportAction.PAUSE, ReportAction.DONE) and at == SUMMARY:
        await end(ctx)
        return Reply().add(ctx.t("paused" if action is ReportAction.PAUSE else "closed"),
                           edit=msg_id)
    return _stale(ctx, d, at)


# --- helpers ------------------------------------------------------------------------

async def _goto(ctx: Ctx, d: Draft, at: At[Step]) -> None:
    await goto(ctx, FlowName.REPORT, at, d.state())


async def _goto_reply(ctx: Ctx, d: Draft, at: At[Step]) -> Reply:
    await _goto(ctx, d, at)
    return Reply(messages=[_render_step(ctx, d, at)])


def _render_step(ctx: Ctx, d: Draft, at: At[Step], intro: str | None = None) -> Outgoing:
    if at == SUMMARY:
        return summary(ctx, d, note=intro)
    if at == PICK:
        return picker(ctx, d)
    if at == carry.CARRY:
        return carry.carry_screen(ctx, d, ctx.conv.data if ctx.conv else {})
    assert at.index is not None  # `_position` lets through only valid positions
    if at.step is Step.CONFIRM:
        return prompt(ctx, d, at.index)
    return question(ctx, d, at.index, intro=intro)


def _position(d: Draft, conv: Conversation | None) -> At[Step] | None:
    """The saved position in this report, if it is one this report has."""
    if conv is None or conv.flow != FlowName.REPORT or conv.data.get("report_id") != d.report.id:
        return None
    at = parse_step(Step, conv.step)
    if at in (SUMMARY, PICK) or (at == carry.CARRY and "carry" in conv.data):
        return at
    if at is not None and at.step in (Step.QUESTION, Step.CORRECT, Step.CONFIRM, *CHECKING) \
            and at.index is not None and at.index < len(d.indicators):
        return at
    return None


def _resume_step(ctx: Ctx, d: Draft) -> At[Step]:
    """Where to continue: the saved position, else the first unanswered item."""
    at = _position(d, ctx.conv)
    if at is not None:
        return at
    for i, ind in enumerate(d.indicators):
        if not d.answered(ind.code):
            return At(Step.QUESTION, i)
    return SUMMARY


def _stale(ctx: Ctx, d: Draft, at: At[Step] | None) -> Reply:
    """A button from an earlier message: say so and show where we are now."""
    if at is None:
        at = _resume_step(ctx, d)
    return Reply(messages=[_render_step(ctx, d, at)], toast=ctx.t("button_expired"))


