"""A month that carries last month's figures: stocks and titles shown, kept in one tap.

When the group (or the ward office, for its own figures) submitted a report in the last
`CARRY_MONTHS` months, /baocao opens with that report's `stock` figures (and its `title`
figures outside the title month) and the buttons "Không thay đổi" / "Sửa một mục"; either
stores them in the draft as if answered, and the month asks only its `flow` questions.
The carried answers travel in the conversation's data, so the screen shows again after a
restart without a query.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.flow import At, FlowName, goto
from handlers.report_store import store
from handlers.report_views import (
    CARRY,
    PICK,
    SUMMARY,
    Draft,
    Step,
    data,
    picker,
    question,
    shown,
    summary,
)
from models.queries import last_submitted
from reporting.answers import check_rules
from reporting.buttons import ReportAction
from reporting.config_changes import CARRY_MONTHS, carried
from reporting.messages import Option, Outgoing, Reply
from reporting.periods import parse_key

__all__ = ["CARRY", "SAME_WORDS", "carry_screen", "find_carry", "first_problem", "following",
           "same"]
SAME_WORDS = {"không thay đổi", "khong thay doi", "không đổi", "khong doi", "no change",
              "unchanged", "giữ nguyên", "giu nguyen", "keep"}


async def find_carry(ctx: Ctx, d: Draft) -> dict[str, object] | None:
    """The conversation data of the carry step (None: this month asks everything)."""
    if d.submitted or d.values:
        return None
    year, month = d.dates.year, d.dates.month
    months = year * 12 + month - 1 - CARRY_MONTHS
    since = f"{months // 12:04d}-{months % 12 + 1:02d}"
    last = await last_submitted(ctx.session, d.report, d.dates.key, since)
    if last is None:
        return None
    values = carried(d.indicators, last[1], month, d.dataset.title_month)
    if not values:
        return None
    last_year, last_month = parse_key(last[0])
    return {"report_id": d.report.id, "carry": values,
            "last": f"{last_month:02d}/{last_year:04d}"}


def carry_data(d: Draft, conv_data: dict[str, object]) -> dict[str, str | None] | None:
    """The carried answers saved with the conversation, if they are this report's."""
    carry = conv_data.get("carry")
    if conv_data.get("report_id") != d.report.id or not isinstance(carry, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in carry.items()}


def carry_screen(ctx: Ctx, d: Draft, conv_data: dict[str, object]) -> Outgoing:
    """Last month's stocks and titles, compactly, with "Không thay đổi" / "Sửa một mục"."""
    carry = carry_data(d, conv_data) or {}
    items = [{"n": i + 1, "label": ind.short_label(ctx.lang),
              "value": shown(ctx, ind, carry[ind.code])}
             for i, ind in enumerate(d.indicators) if ind.code in carry]
    left = sum(1 for ind in d.indicators if ind.code not in carry)
    text = ctx.t("carry_intro", period=d.dates.label, group=d.owner, due=d.dates.due_on,
                 last=conv_data.get("last"), items=items, left=left)
    rid = d.report.id
    rows = [[Option(ctx.t("btn_same"), data(rid, None, ReportAction.SAME))],
            [Option(ctx.t("btn_same_edit"), data(rid, None, ReportAction.SAME_EDIT))]]
    # A figure typed here answers question 1: a channel with numbered menus (the console,
    # Zalo) must take "2" as that figure, not as the second button.
    return Outgoing(text, rows, expects="number" if d.indicators[0].type.numeric else None)


async def same(ctx: Ctx, d: Draft, edit_one: bool, edit: str | None = None) -> Reply:
    """"Không thay đổi" (or "Sửa một mục"): store the carried answers in the draft, as if
    answered, then ask the month's first unanswered question (or pick the item to fix)."""
    assert ctx.member is not None
    carry = carry_data(d, ctx.conv.data if ctx.conv else {}) or {}
    for ind in d.indicators:
        if ind.code in carry and not d.answered(ind.code):
            value = carry[ind.code]
            await store(ctx, d, ind, value)
    reply = Reply().add(ctx.t("carry_kept", count=len(carry)), edit=edit) \
        if edit is not None else Reply()
    nxt = None if edit_one else following(d, 0, correcting=True)
    at = PICK if edit_one else SUMMARY if nxt is None else At(Step.QUESTION, nxt)
    await goto(ctx, FlowName.REPORT, at, d.state())
    reply.messages.append(picker(ctx, d) if at == PICK else summary(ctx, d) if nxt is None
                          else question(ctx, d, nxt))
    return reply


def following(d: Draft, idx: int, correcting: bool = False) -> int | None:
    """The question after item `idx` (None: the summary): the next one, past stocks and
    titles already answered (carried); after a correction, the first unanswered one (the
    flow questions of a carried month)."""
    inds = d.indicators
    if correcting:
        return next((i for i, ind in enumerate(inds) if not d.answered(ind.code)), None)
    return next((i for i in range(idx + 1, len(inds))
                 if inds[i].changes == "flow" or not d.answered(inds[i].code)), None)


def first_problem(ctx: Ctx, d: Draft) -> tuple[int, str] | None:
    """Before submitting: the first required item unanswered, or the first answer a rule
    refuses (carried figures meet today's rules too), with its error message."""
    for i, ind in enumerate(d.indicators):
        if ind.required and d.answer(ind.code) is None:
            return i, ctx.t("err_missing")
    for i, ind in enumerate(d.indicators):
        broken = check_rules(d.dataset, ind.code, d.answer(ind.code), d.values, ctx.lang) \
            if d.answer(ind.code) is not None else None
        if broken is not None:
            return i, ctx.t(broken.key, **broken.params)
    return None
