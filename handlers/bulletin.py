"""`/tonghop bantin` (`/digest bulletin`): the loudspeaker bulletin of good deeds.

`/tonghop bantin` tells this month's featured and proposed deeds, `/tonghop bantin tuan`
the last seven days, `/tonghop bantin tháng 3/2022` a named month; the digest's "Bản tin
loa" button, the month of that digest. The Council gets the text to read aloud as a
message of its own (easy to forward to the announcer) and the .docx to print or edit.

It is an option of /tonghop, not a command of its own, so the Council's reading rules
(who, and in which chat: `handlers.router.COUNCIL_READ`) hold for it unchanged.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from handlers.context import Ctx
from models.members import COUNCIL_ROLES
from reporting.bulletin import Bulletin, bulletin, bulletin_document, bulletin_text
from reporting.buttons import Button, CommandAction, decode
from reporting.messages import Attachment, Outgoing, Reply
from reporting.periods import parse_month

WORDS = frozenset({"bantin", "ban-tin", "bảntin", "bản-tin", "bulletin", "loa"})
WEEK = frozenset({"tuan", "tuần", "week", "7ngay", "7-ngay"})
WEEK_DAYS = 7


def _button(ctx: Ctx) -> Button | None:
    """The digest's "Bản tin loa" button that ran this command, if it was one."""
    button = decode(ctx.inc.callback) if ctx.inc.callback else None
    if isinstance(button, Button) and button.action == CommandAction.BULLETIN \
            and len(button.ids) == 2:
        return button
    return None


def asked(ctx: Ctx) -> bool:
    """/tonghop was asked for the bulletin (typed, or the digest's button)."""
    if ctx.inc.callback:
        return _button(ctx) is not None
    return bool(ctx.inc.args) and ctx.inc.args[0].lower() in WORDS


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _span(ctx: Ctx) -> tuple[date, date] | None:
    """The days the bulletin covers; None when the words after "bantin" are no span."""
    button = _button(ctx)
    if button is not None:
        year, month = button.ids
        return _month(year, month) if 1 <= month <= 12 and 2000 <= year <= 2100 else None
    rest = " ".join(ctx.inc.args[1:]).strip()
    if not rest:
        return _month(ctx.today.year, ctx.today.month)
    if rest.lower() in WEEK:
        return ctx.today - timedelta(days=WEEK_DAYS - 1), ctx.today
    try:
        return _month(*parse_month(rest, ctx.today))
    except ValueError:
        return None


def _label(b: Bulletin) -> str | None:
    """"03/2022" for a month; None: the template names the days."""
    return f"{b.first.month:02d}/{b.first.year:04d}" if b.kind == "month" else None


async def show(ctx: Ctx) -> Reply:
    """The bulletin's text and .docx, or why there is none."""
    if ctx.member is None or ctx.member.role not in COUNCIL_ROLES:
        return Reply().add(ctx.t("council_only"))
    span = _span(ctx)
    if span is None:
        return Reply().add(ctx.t("bulletin_usage", text=" ".join(ctx.inc.args[1:])))
    b = await bulletin(ctx.session, ctx.app.settings, *span)
    when = {"label": _label(b), "first": b.first, "last": b.last}
    if b.empty:
        return Reply().add(ctx.t("bulletin_empty", **when))
    doc = Attachment("document", bulletin_document(ctx.app.settings, b, ctx.today),
                     f"ban-tin-loa-{b.key}.docx",
                     ctx.t("bulletin_caption", n=len(b.deeds), left_out=b.left_out, **when))
    return Reply(messages=[Outgoing(ctx.t("bulletin_message", text=bulletin_text(b)),
                                    attachments=[doc])])
