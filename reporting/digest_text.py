"""The digest as a message: the chart photo with its caption, then the full text.

Shared by /tonghop (handlers) and the weekly job (scheduler), so what the Council asks
for is what it is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reporting.chart import chart_png
from reporting.config import Target
from reporting.digest import Digest, TargetResult, places_for
from reporting.messages import Attachment, Outgoing
from reporting.numbers import format_number
from reporting.services import Services

SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}


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
        # A cumulative amount as entered ("lũy kế 95,5"), never rounded to the plan's
        # decimals ("96"); others with enough decimals to compare with the goal.
        "value": _fmt(t, r.value, lang, natural=t.compute.kind == "cumulative"),
        # Value and goal in the same decimals: "66,0% / ≥66,0%", not "66,0% / ≥66%";
        # None: a keep-and-raise target without last year's figure.
        "goal": None if r.goal is None else f"{SIGNS[t.comparator]}{_fmt(t, r.goal, lang)}",
        "unit": "" if unit == "%" else unit,
        "met": r.met,
        "verdict": str(r.verdict),
        "kind": t.compute.kind,
        "plan_share": None if r.plan_share is None else format_number(r.plan_share, lang, 1),
        "expected_share": None if r.expected_share is None else
        format_number(r.expected_share, lang, 0),
        "reference": None if t.reference is None or r.reference_share is None else
        {"label": t.reference.label.get(lang),
         "share": format_number(r.reference_share, lang, 1)},
        "baseline": t.judge == "keep_and_raise",
        "change": None if change is None or change == 0 else
        ("+" if change > 0 else "−") + _fmt(t, abs(change), lang),
        "partial": r.partial and r.value is not None,
        "based_on": r.based_on,
        "of_total": r.of_total,
        "counted": r.unit_of_count,
    }


def render_digest(app: Services, lang: str, digest: Digest) -> Outgoing:
    """The digest as a chart photo with a caption, then the full text (any channel)."""
    text = app.t(
        "digest", lang, d=digest, period=digest.period.label, ward=digest.ward,
        rate=format_number(digest.rate, lang, 0),
        submitted=len(digest.on_time) + len(digest.late), total=len(digest.groups),
        rows=[_row(r, lang) for r in digest.targets],
        year=digest.plan.year if digest.plan else digest.period.year, plan=digest.plan)
    caption = app.t("digest_caption", lang, period=digest.period.label,
                    met=sum(1 for r in digest.targets if r.met),
                    total=len(digest.targets))
    chart = Attachment("photo", chart_png(digest, lang),
                       f"tien-do-{digest.period.key}.png", caption)
    return Outgoing(text, attachments=[chart])
