"""Council commands: /tonghop (/digest) and /xuat (/export).

The digest text and chart come from `reporting.digest_load.build_digest`, the same
function the weekly job uses, so what the Council asks for is what it is sent.
`/tonghop chitiet` (`/digest detail`), or the digest's "Xem chi tiết" button, shows the
full target table instead of the short digest; `/tonghop bantin`, or its "Bản tin loa"
button, the loudspeaker bulletin of good deeds (`handlers.bulletin`).
"""

from __future__ import annotations

from handlers import bulletin
from handlers.context import Ctx
from models.members import COUNCIL_ROLES
from reporting.buttons import Button, CommandAction, decode
from reporting.digest_load import build_digest, muted_codes
from reporting.digest_text import render_digest, render_digest_detail
from reporting.messages import Attachment, Outgoing, Reply
from reporting.periods import PeriodDates, open_period, parse_month, period_dates, recent_periods


def allowed(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role in COUNCIL_ROLES


DETAIL_WORDS = frozenset({"chitiet", "chi-tiet", "detail"})  # `/tonghop 2022-03 chitiet`


def _period_args(ctx: Ctx) -> list[str]:
    return [a for a in ctx.inc.args if a.lower() not in DETAIL_WORDS]


def _detail_button(ctx: Ctx) -> Button | None:
    """The "Xem chi tiết" button that ran this command, if it was one."""
    button = decode(ctx.inc.callback) if ctx.inc.callback else None
    if isinstance(button, Button) and button.action == CommandAction.DETAIL \
            and len(button.ids) == 2:
        return button
    return None


def chosen_period(ctx: Ctx) -> PeriodDates | None:
    """`/tonghop 3/2022` (any form `parse_month` reads: "tháng 3", "2022-03") or, by
    default, the period being reported now (else the last)."""
    cal = ctx.app.settings.calendar
    button = _detail_button(ctx)
    if button is not None:
        year, month = button.ids
        return period_dates(cal, year, month) if 1 <= month <= 12 else None
    args = _period_args(ctx)
    if args:
        try:
            year, month = parse_month(" ".join(args), ctx.today)
        except ValueError:
            return None
        return period_dates(cal, year, month)
    current = open_period(cal, ctx.today)
    if current is not None:
        return current
    return next(p for p in recent_periods(cal, ctx.today) if p.opens_on <= ctx.today)


def _gate(ctx: Ctx) -> PeriodDates | Reply:
    """The period a Council command is about, or the reply that explains why not."""
    if not allowed(ctx):
        return Reply().add(ctx.t("council_only"))
    period = chosen_period(ctx)
    if period is None:
        args = _period_args(ctx) or list(ctx.inc.args)
        return Reply().add(ctx.t("bad_period", text=" ".join(args)))
    return period


async def digest(ctx: Ctx) -> Reply:
    if bulletin.asked(ctx):  # `/tonghop bantin …` or the digest's "Bản tin loa" button
        return await bulletin.show(ctx)
    period = _gate(ctx)
    if isinstance(period, Reply):
        return period
    built = await build_digest(ctx.session, ctx.app.settings, period, ctx.today)
    detail = _detail_button(ctx) is not None or \
        any(a.lower() in DETAIL_WORDS for a in ctx.inc.args)
    if detail:
        return Reply(messages=[render_digest_detail(ctx.app, ctx.lang, built)])
    muted = await muted_codes(ctx.session, period.key)
    return Reply(messages=[render_digest(ctx.app, ctx.lang, built, muted,
                                         read_on=ctx.inc.channel)])


async def export(ctx: Ctx) -> Reply:
    period = _gate(ctx)
    if isinstance(period, Reply):
        return period
    from reporting.export import period_workbook, workbook_bytes

    wb = await period_workbook(ctx.session, ctx.app.settings, period.key, ctx.today)
    doc = Attachment("document", workbook_bytes(wb), f"thidua-{period.key}.xlsx",
                     ctx.t("export_caption", period=period.label))
    return Reply(messages=[Outgoing("", attachments=[doc])])
