"""Soft checks in the monthly report: "Số này khác nhiều so với tháng trước. Đúng không?"

An answer that passes the hard rules but is far from the owner's last month, or above a
configured soft maximum (`reporting.soft_checks`), is stored at once, marked "asked",
and the leader is asked about it with "Đúng" / "Sửa". "Đúng" marks it confirmed and
moves on; "Sửa" asks the question again (a new answer replaces it and its mark). While
the check waits, the position is `Step.CHECK` (or `CHECK_CORRECT` when correcting a
submitted report), so a restart or a later /baocao finds the same question.
"""

from __future__ import annotations

from typing import Final

from handlers.context import Ctx
from handlers.flow import At
from handlers.report_views import Draft, Step, data, shown
from models.queries import month_values
from reporting.answers import canonical_number, format_value
from reporting.buttons import ReportAction
from reporting.config import Indicator
from reporting.messages import Option, Outgoing
from reporting.periods import parse_key, period_dates
from reporting.soft_checks import SoftFlag

__all__ = ["CHECKING", "answering", "check_reply", "checking", "confirmed_note",
           "remember_last_month", "soft_flag", "soft_question"]

CHECKING: Final = frozenset({Step.CHECK, Step.CHECK_CORRECT})
_RIGHT: Final = frozenset({"đúng", "dung", "đúng rồi", "dung roi", "đúng vậy", "đúng ạ",
                           "có", "co", "ok", "right", "yes"})
# "không" is not here: for a count it means 0, a new answer.
_FIX: Final = frozenset({"sửa", "sua", "sửa lại", "sua lai", "sai", "nhầm", "nham",
                         "edit", "fix"})


def checking(at: At[Step]) -> At[Step]:
    """The check step after answering at `at` (a question, or a correction)."""
    step = Step.CHECK_CORRECT if at.step is Step.CORRECT else Step.CHECK
    return At(step, at.index)


def answering(at: At[Step]) -> At[Step]:
    """The question a check step is about: where "Sửa" (or a new answer) goes."""
    step = Step.CORRECT if at.step is Step.CHECK_CORRECT else Step.QUESTION
    return At(step, at.index)


def check_reply(text: str) -> bool | None:
    """A typed "đúng" (True) or "sửa" (False); None: not a reply to the check."""
    words = " ".join(text.lower().split()).strip(" .!")
    if words in _RIGHT:
        return True
    if words in _FIX:
        return False
    return None


async def soft_flag(ctx: Ctx, d: Draft, ind: Indicator, value: str | None) -> SoftFlag | None:
    """Why a new answer deserves a second look, or None (non-numeric, skipped, usual)."""
    if value is None or not ind.type.numeric:
        return None
    checks = d.dataset.soft_checks
    last = None
    if checks.ratio(ind.code) is not None:
        await remember_last_month(ctx, d)
        assert d.last is not None
        last = d.last.get(ind.code)
    return checks.check(ind.code, value, last)


async def remember_last_month(ctx: Ctx, d: Draft) -> None:
    """Read the owner's answers of the month before, unless this report's conversation
    keeps them (`Draft.state`): /baocao reads them, the answers' checks then cost no
    query. A correction made to that month meanwhile shows at the next /baocao."""
    if d.last is not None or not any(d.dataset.soft_checks.ratio(i.code) is not None
                                     for i in d.indicators):
        return
    year, month = parse_key(d.period.key)
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    key = period_dates(ctx.app.settings.calendar, year, month).key
    d.last = await month_values(ctx.session, d.report, key)


def soft_question(ctx: Ctx, d: Draft, idx: int, flag: SoftFlag) -> Outgoing:
    """The check with its two buttons: "Đúng" and "Sửa"."""
    ind = d.indicators[idx]
    lang = ctx.lang
    limit = canonical_number(flag.limit) if flag.limit is not None else None
    text = ctx.t("soft_check", n=idx + 1, label=ind.label.get(lang), kind=flag.kind,
                 value=format_value(ind, flag.value, lang),
                 last=format_value(ind, flag.last, lang), limit=format_value(ind, limit, lang))
    rid = d.report.id
    return Outgoing(text, [[Option(ctx.t("btn_soft_right"), data(rid, idx, ReportAction.SOFT_OK)),
                            Option(ctx.t("btn_soft_fix"), data(rid, idx, ReportAction.SOFT_REDO))]])


def confirmed_note(ctx: Ctx, idx: int, ind: Indicator, value: str | None) -> str:
    """What the check's message becomes once the figure is confirmed."""
    return ctx.t("soft_confirmed", n=idx + 1, label=ind.short_label(ctx.lang),
                 value=shown(ctx, ind, value))
