"""Council commands: /tonghop (/digest) and /xuat (/export).

The digest text and chart come from `reporting.digest_load.build_digest`, the same
function the weekly job uses, so what the Council asks for is what it is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handlers.context import Ctx, Services
from handlers.types import Attachment, Outgoing, Reply
from models import Role
from reporting.chart import chart_png
from reporting.config import Target
from reporting.digest import Digest, TargetResult, places_for
from reporting.digest_load import build_digest
from reporting.numbers import format_number
from reporting.periods import PeriodDates, open_period, parse_key, period_dates, recent_periods

COUNCIL_ROLES = (Role.COUNCIL, Role.ADMIN)
SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}


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


def _fmt(t: Target, value: Decimal | None, lang: str, natural: bool = False) -> str:
    """A value with enough decimals to compare with its target; the target as written."""
    if value is None:
        return "—"
    text = format_number(value, lang, None if natural else places_for(t))
    return f"{text}%" if t.unit and t.unit.vi == "%" else text


def _row(r: TargetResult, lang: str) -> dict[str, Any]:
    t = r.target
    unit = t.unit.get(lang) if t.unit else ""
    change = r.change
    return {
        "label": t.label.get(lang),
        "value": _fmt(t, r.value, lang),
        "goal": f"{SIGNS[t.comparator]}{_fmt(t, t.value, lang, natural=True)}",
        "unit": "" if unit == "%" else unit,
        "met": r.met,
        "change": None if change is None or change == 0 else
        ("+" if change > 0 else "−") + _fmt(t, abs(change), lang),
        "partial": r.partial and r.value is not None,
        "based_on": r.based_on,
        "of_total": r.of_total,
        "ward": t.compute.kind.startswith("ward_"),
    }


def render_digest(app: Services, lang: str, digest: Digest) -> Outgoing:
    """The digest as a chart photo with a caption, then the full text (any channel)."""
    text = app.t(
        "digest", lang, d=digest, period=digest.period.label, ward=digest.ward,
        rate=format_number(digest.rate, lang, 0),
        submitted=len(digest.on_time) + len(digest.late), total=len(digest.groups),
        rows=[_row(r, lang) for r in digest.targets], year=digest.period.year)
    caption = app.t("digest_caption", lang, period=digest.period.label,
                    met=sum(1 for r in digest.targets if r.met),
                    total=len(digest.targets))
    chart = Attachment("photo", chart_png(digest, lang),
                       f"tien-do-{digest.period.key}.png", caption)
    return Outgoing(text, attachments=[chart])


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
