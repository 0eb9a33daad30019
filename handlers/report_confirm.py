"""The report's confirmation step: "1,234" typed on a whole-number question.

Vietnamese writes thousands with "." and decimals with ",", so "1,234" is 1.234 to the
parser, yet no one reports a fraction of a household. Instead of refusing, the leader
is asked "Ý là 1.234 (một nghìn hai trăm ba mươi tư)?" with "Đúng" and "Gõ lại". The
step is `Step.CONFIRM` at the item; the figure waits in the conversation's data, with
the step it came from (asking in order, or correcting from the summary), and nothing
is stored until it is confirmed. Anything else typed there is a new answer.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.flow import At, FlowName, goto
from handlers.report_views import Draft, Step, data, question
from models import Conversation
from reporting.answers import NeedsConfirmation
from reporting.buttons import ReportAction
from reporting.messages import Option, Outgoing, Reply
from reporting.number_words import number_words
from reporting.numbers import format_number

__all__ = ["ask", "base_step", "pending", "prompt"]


def pending(conv: Conversation | None) -> str | None:
    """The figure waiting for confirmation ("1234"), if the data holds a sound one."""
    value = conv.data.get("pending") if conv is not None else None
    return value if isinstance(value, str) and value.isdigit() and len(value) <= 15 else None


def base_step(conv: Conversation | None, at: At[Step]) -> At[Step]:
    """The question step a confirmation belongs to (QUESTION unless it was a correction)."""
    came_from = conv.data.get("from") if conv is not None else None
    step = Step.CORRECT if came_from == Step.CORRECT.value else Step.QUESTION
    return At(step, at.index)


async def ask(ctx: Ctx, d: Draft, at: At[Step], err: NeedsConfirmation) -> Reply:
    """Move to the confirmation of `err.value` for the item at `at`, and ask."""
    assert at.index is not None
    await goto(ctx, FlowName.REPORT, At(Step.CONFIRM, at.index),
               {**d.state(), "pending": err.value, "typed": err.params["typed"],
                "from": at.step.value})
    return Reply(messages=[prompt(ctx, d, at.index)])


def prompt(ctx: Ctx, d: Draft, idx: int) -> Outgoing:
    """"Ý là 1.234 (…)?" with its two buttons; the question again if nothing waits."""
    value = pending(ctx.conv)
    if value is None or ctx.conv is None:
        return question(ctx, d, idx)
    number = format_number(int(value), ctx.lang)
    text = ctx.t("confirm_number", n=idx + 1, label=d.indicators[idx].label.get(ctx.lang),
                 typed=str(ctx.conv.data.get("typed", value)), number=number,
                 words=number_words(int(value), ctx.lang))
    rid = d.report.id
    return Outgoing(text, [[
        Option(ctx.t("btn_confirm_number", number=number),
               data(rid, idx, ReportAction.CONFIRM)),
        Option(ctx.t("btn_retype"), data(rid, idx, ReportAction.RETYPE)),
    ]])
