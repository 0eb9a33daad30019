"""Council commands: /tonghop (/digest) and /xuat (/export).

The digest text and chart come from `reporting.digest_load.build_digest`, the same
function the weekly job uses, so what the Council asks for is what it is sent.
"""

from __future__ import annotations

from handlers.context import Ctx
from models.members import COUNCIL_ROLES
from reporting.digest_load import build_digest
from reporting.digest_text import render_digest
from reporting.messages import Attachment, Outgoing, Reply
from reporting.periods import PeriodDates, open_period, parse_key, period_dates, recent_periods


def allowed(ctx: Ctx) -> bool:
    return ctx.member is not None and ctx.member.role in COUNCIL_ROLES


def chosen_period(ctx: Ctx) -> PeriodDates | None:
    """`/tonghop 2022-03` or, by default, the period being reported now (else the last)."""
    cal = ctx.app.settings.calendar
    if ctx.inc.args:
        try:
            year, month = parse_key(ctx.inc.args[0])
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
        return Reply().add(ctx.t("bad_period", text=ctx.inc.args[0]))
    return period


async def digest(ctx: Ctx) -> Reply:
    period = _gate(ctx)
    if isinstance(period, Reply):
        return period
    built = await build_digest(ctx.session, ctx.app.settings, period, ctx.today)
    return Reply(messages=[render_digest(ctx.app, ctx.lang, built)])


async def export(ctx: Ctx) -> Reply:
    period = _gate(ctx)
    if isinstance(period, Reply):
        return period
    from reporting.export import period_workbook, workbook_bytes

    wb = await period_workbook(ctx.session, ctx.app.settings, period.key, ctx.today,
                               media_dir=ctx.app.media)
    doc = Attachment("document", workbook_bytes(wb), f"thidua-{period.key}.xlsx",
                     ctx.t("export_caption", period=period.label))
    return Reply(messages=[Outgoing("", attachments=[doc])])
