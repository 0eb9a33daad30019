"""The digest as messages: the chart photo with its caption, then a short text that fits
a phone, with a "Xem chi tiết" button for the full target table and a "Bản tin loa"
button for the month's loudspeaker bulletin (`reporting.bulletin`).

Shared by /tonghop (handlers) and the weekly job (scheduler), so what the Council asks
for is what it is sent. The full table (`render_digest_detail`) answers the button and
`/tonghop chitiet`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from reporting.buttons import Button, CommandAction, Flow, encode
from reporting.config import Target
from reporting.digest import Digest, GroupReport, TargetResult, places_for
from reporting.digest_lists import (
    bounded,
    flagged_rank,
    late_rank,
    missing_rank,
    on_time_rank,
)
from reporting.messages import Attachment, Option, Outgoing
from reporting.numbers import format_number
from reporting.services import Services
from reporting.targets import Verdict, needs_attention

SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}
DIGEST_COMMAND = "tonghop"  # the command a "Xem chi tiết" button runs (its detail view)
MAX_NAMES = 4  # missing or muted groups named on the short digest; more: counts only
MAX_REASON = 40  # characters of a mute's reason on the short digest
MAX_DEEDS = 1  # featured good deeds told (shortly) on the short digest

def _fmt(t: Target, value: Decimal | None, lang: str, natural: bool = False) -> str:
    """A value with enough decimals to compare with its target; the target as written."""
    if value is None:
        return "—"
    text = format_number(value, lang, None if natural else places_for(t))
    return f"{text}%" if t.unit and t.unit.vi == "%" else text


def must_stay_zero(r: TargetResult) -> bool:
    """A count the plan wants to stay at zero ("không để phát sinh"): no "= 0" shown."""
    return r.goal == 0 and r.target.comparator in ("==", "<=")


def _row(r: TargetResult, lang: str) -> dict[str, Any]:
    t = r.target
    unit = t.unit.get(lang) if t.unit else ""
    change = r.change
    return {
        "label": t.label.get(lang),
        # A cumulative amount as entered ("lũy kế 95,5"), never rounded to the plan's
        # decimals ("96"); others with enough decimals to compare with the goal.
        "value": _fmt(t, r.value, lang, natural=t.compute.kind == "cumulative"),
        "has_value": r.value is not None,
        # Value and goal in the same decimals: "66,0% / ≥66,0%", not "66,0% / ≥66%";
        # None: a keep-and-raise target without last year's figure.
        "goal": None if r.goal is None else f"{SIGNS[t.comparator]}{_fmt(t, r.goal, lang)}",
        "zero": must_stay_zero(r),  # "2 hộ (chỉ tiêu: không để phát sinh)", not "2 / =0 hộ"
        "is_zero": r.value == 0,
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


Render = Callable[..., str]  # `Services.t` or `reporting.texts.texts()`: (key, lang, **ctx)


def _lines(t: Render, lang: str, results: list[TargetResult]) -> list[str]:
    """One rendered line per target ("⚠️ Tỷ lệ …: 66,0% / ≥66,0%"), as both views show it."""
    return [t("digest_row", lang, r=_row(r, lang)) for r in results]


def verdict_counts(results: list[TargetResult]) -> dict[str, int]:
    """How many targets have each verdict ("met", "on_track", …; every verdict present)."""
    counted = Counter(str(r.verdict) for r in results)
    return {str(v): counted.get(str(v), 0) for v in Verdict}


def detail_button(digest: Digest) -> Button:
    """The "Xem chi tiết" button: the full table of the digest's period."""
    return Button(Flow.COMMAND, CommandAction.DETAIL, (digest.period.year, digest.period.month),
                  DIGEST_COMMAND)


def bulletin_button(digest: Digest) -> Button:
    """The "Bản tin loa" button: the loudspeaker bulletin of the digest's month."""
    return Button(Flow.COMMAND, CommandAction.BULLETIN,
                  (digest.period.year, digest.period.month), DIGEST_COMMAND)


def _short_reason(reason: str) -> str:
    """A mute's reason cut at a word to fit one line of the short digest."""
    if len(reason) <= MAX_REASON:
        return reason
    cut = reason[: MAX_REASON - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;.") + "…"


def _common(digest: Digest, lang: str) -> dict[str, Any]:
    return {"d": digest, "period": digest.period.label, "ward": digest.ward,
            "rate": format_number(digest.rate, lang, 0),
            "submitted": len(digest.on_time) + len(digest.late), "total": len(digest.groups),
            "year": digest.plan.year if digest.plan else digest.period.year,
            "plan": digest.plan}


def short_context(t: Render, lang: str, digest: Digest,
                  muted: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the short `digest` template is given (also checked by tests/test_texts.py)."""
    reasons = dict(muted or {})
    missing: list[GroupReport] = [g for g in digest.missing if g.code not in reasons]
    excused = [{"name": g.name, "reason": _short_reason(reasons[g.code])}
               for g in digest.missing if g.code in reasons]
    featured = digest.featured_deeds
    return {**_common(digest, lang),
            "missing": missing, "excused": excused, "names": MAX_NAMES,
            "counts": verdict_counts(digest.targets), "targets_total": len(digest.targets),
            "attention": _lines(t, lang, needs_attention(digest.targets)),
            "featured": featured[:MAX_DEEDS], "featured_count": len(featured),
            "new_deeds": len(digest.new_deeds)}


def caption_context(digest: Digest) -> dict[str, Any]:
    return {"period": digest.period.label, "plan": digest.plan,
            "year": digest.plan.year if digest.plan else digest.period.year,
            "counts": verdict_counts(digest.targets), "total": len(digest.targets)}


def detail_context(t: Render, lang: str, digest: Digest) -> dict[str, Any]:
    # Submitted figures a soft check asked about (far from last month, very high).
    flagged = [g for g in digest.groups if g.submitted and g.flagged]
    # Each list is a count and at most `MAX_LISTED` names (`reporting.digest_lists`), so
    # the table stays one or two messages at any number of groups.
    return {**_common(digest, lang), "rows": _lines(t, lang, digest.targets),
            "on_time": bounded(digest.on_time, on_time_rank),
            "late": bounded(digest.late, late_rank),
            "missing": bounded(digest.missing, missing_rank),
            "flagged": bounded(flagged, flagged_rank)}


def digest_text(app: Services, lang: str, digest: Digest,
                muted: Mapping[str, str] | None = None, *, read_on: str | None = None,
                buttons: bool | None = None) -> str:
    """The digest's short text, worded for the messenger it is read on (`read_on`), or
    for one with or without buttons (`buttons`, for a text queued to several)."""
    ctx = short_context(app.t, lang, digest, muted)
    if buttons is not None:
        ctx["buttons"] = buttons
    return app.t("digest", lang, read_on=read_on, **ctx)


def render_digest(app: Services, lang: str, digest: Digest,
                  muted: Mapping[str, str] | None = None, *,
                  read_on: str | None = None) -> Outgoing:
    """The digest as a chart photo with a caption, then a short text with a button to
    the full table (any channel). `muted`: group code → reason, for groups excused
    from reporting the period (`models.mutes`)."""
    text = digest_text(app, lang, digest, muted, read_on=read_on)
    caption = app.t("digest_caption", lang, **caption_context(digest))
    # Pillow loads here, on the first chart, not when the bot starts: many runs never
    # draw a chart.
    from reporting.chart import chart_png

    chart = Attachment("photo", chart_png(digest, lang),
                       f"tien-do-{digest.period.key}.png", caption)
    button = Option(app.t("digest_detail_button", lang), encode(detail_button(digest)))
    # The month's good deeds as a text to read on the ward's loudspeaker (a .docx too).
    loudspeaker = Option(app.t("digest_bulletin_button", lang),
                         encode(bulletin_button(digest)))
    return Outgoing(text, options=[[button, loudspeaker]], attachments=[chart])


def render_digest_detail(app: Services, lang: str, digest: Digest) -> Outgoing:
    """The full digest: every group by name and every target of the plan, one line each."""
    text = app.t("digest_detail", lang, **detail_context(app.t, lang, digest))
    return Outgoing(text)
