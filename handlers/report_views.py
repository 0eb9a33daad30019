"""How the monthly report looks: its steps, questions, summary and item picker.

A report button carries the report id, so a handler can check the presser's group
against the report's, and (on a question) the item index, so a stale button from an
earlier question is recognised instead of misapplied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from markupsafe import Markup

from handlers.context import Ctx
from handlers.flow import At
from models import Period, Report, ReportStatus
from models.queries import Edit
from reporting.address import address_of
from reporting.answers import choice_options, format_value
from reporting.buttons import Button, Flow, ReportAction, encode
from reporting.config import Dataset, Indicator, IndicatorType
from reporting.examples import number_example
from reporting.html_text import abbreviate
from reporting.messages import Option, Outgoing
from reporting.periods import PeriodDates


class Step(StrEnum):
    """Where a leader is in the report (stored as earlier releases did: `q:3`, `summary`)."""

    QUESTION = "q"  # asking item i, in order
    CORRECT = "e"  # correcting item i, chosen from the summary
    SUMMARY = "summary"
    PICK = "pick"  # choosing the item to correct
    CONFIRM = "c"  # "1,234" typed for item i: confirming 1.234 (`report_confirm`)
    CHECK = "k"  # item i was answered, a soft check asks "Đúng không?"
    CHECK_CORRECT = "ke"  # the same, while correcting item i
    CARRY = "cy"  # last month's stocks and titles shown: "Không thay đổi"? (`report_carry`)


SUMMARY: At[Step] = At(Step.SUMMARY)
PICK: At[Step] = At(Step.PICK)
CARRY: At[Step] = At(Step.CARRY)


@dataclass
class Draft:
    """A report with its period and answers, loaded for one event."""

    report: Report
    period: Period
    dates: PeriodDates
    values: dict[str, str | None]  # indicator code → answer (None: skipped)
    dataset: Dataset  # group_monthly for leaders, ward_progress for the ward office
    owner: str  # the group's name, or the ward's for ward figures
    # Several editors may share a draft (two leaders of one group, the ward's admins):
    # who last changed each answer, and at which version of the report.
    edits: dict[str, Edit] = field(default_factory=dict)
    me: int | None = None  # the member acting
    seen: int = 0  # the version this member last saw (the conversation keeps it)
    known: int = 0  # the version this event's messages show (`report_editors.store`)
    # Last month's submitted answers, read at /baocao and kept in the conversation, so
    # the answers' soft checks cost no query (None: not read yet).
    last: dict[str, str | None] | None = None

    def others(self) -> dict[str, Edit]:
        """Answers another editor changed since this member last saw the draft."""
        return {code: e for code, e in self.edits.items()
                if e.version > self.seen and e.member_id != self.me}

    def state(self) -> dict[str, object]:
        """The conversation's data: the report, the version its messages show, and
        last month's answers once read."""
        state: dict[str, object] = {"report_id": self.report.id, "seen": self.known}
        if self.last is not None:
            state["last_month"] = self.last
        return state

    @property
    def indicators(self) -> list[Indicator]:
        return self.dataset.indicators

    def answer(self, code: str) -> str | None:
        return self.values.get(code)

    def answered(self, code: str) -> bool:
        return code in self.values

    @property
    def submitted(self) -> bool:
        return self.report.status == ReportStatus.SUBMITTED


def others_note(ctx: Ctx, d: Draft) -> str | None:
    """"Đồng chí Hùng đã sửa mục 1, 4 lúc 09:12 …": one line per other editor."""
    by_member: dict[int | None, list[tuple[int, Edit]]] = {}
    others = d.others()
    for i, ind in enumerate(d.indicators):
        if ind.code in others:
            by_member.setdefault(others[ind.code].member_id, []).append((i + 1, others[ind.code]))
    if not by_member:
        return None
    tz = ctx.app.settings.ward.tz
    changes = []
    for items in by_member.values():
        e = items[-1][1]
        who = address_of(e.name, e.role, e.address, ctx.app.settings.address, ctx.lang)
        changes.append({"who": who[:1].upper() + who[1:],
                        "numbers": ", ".join(str(n) for n, _ in items),
                        "at": max(x.at for _, x in items).astimezone(tz)})
    return ctx.t("others_changed", changes=changes)


def _with_others(ctx: Ctx, d: Draft, text: str) -> str:
    note = others_note(ctx, d)
    return text if note is None else Markup("{}\n\n{}").format(note, text)


def data(report_id: int, item: int | None, action: ReportAction, arg: str = "") -> str:
    """A question's button (about item `item`), or the summary's (item None)."""
    ids = (report_id,) if item is None else (report_id, item)
    return encode(Button(Flow.REPORT, action, ids, arg))


def _unit(ctx: Ctx, ind: Indicator) -> str | None:
    return ind.unit.get(ctx.lang) if ind.unit and ind.type is not IndicatorType.PERCENT else None


def shown(ctx: Ctx, ind: Indicator, value: str | None) -> str:
    """An answer as messages show it: formatted, with its unit, a long text abbreviated
    (the stored value stays whole)."""
    text = format_value(ind, value, ctx.lang)
    if ind.type is IndicatorType.TEXT:
        text = abbreviate(text)
    unit = _unit(ctx, ind)
    return f"{text} {unit}" if unit and value is not None else text


def question(ctx: Ctx, d: Draft, idx: int, error: str | None = None,
             intro: str | None = None) -> Outgoing:
    inds = d.indicators
    ind = inds[idx]
    rid = d.report.id
    current = shown(ctx, ind, d.answer(ind.code)) if d.answered(ind.code) else None
    text = ctx.t(
        "question", intro=intro, error=error, period=d.dates.label,
        group=d.owner, n=idx + 1, total=len(inds),
        label=ind.label.get(ctx.lang), unit=_unit(ctx, ind),
        help=ind.help.get(ctx.lang) if ind.help else None, current=current,
        kind=ind.type.value, required=ind.required, correcting=d.submitted,
        when_known=ind.frequency == "when_known",
        example=number_example(ind, ctx.lang) if ind.type.numeric else None,
    )
    text = _with_others(ctx, d, text)
    rows: list[list[Option]] = []
    choices = choice_options(ind, ctx.lang)
    if choices:
        per_row = 2 if len(choices) <= 2 else 1
        buttons = [Option(label, data(rid, idx, ReportAction.VALUE, code))
                   for code, label in choices]
        rows += [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    nav: list[Option] = []
    if idx > 0 and not d.submitted:
        nav.append(Option(ctx.t("btn_back"), data(rid, idx, ReportAction.BACK)))
    if not ind.required:
        nav.append(Option(ctx.t("btn_skip"), data(rid, idx, ReportAction.SKIP)))
    if current is not None:
        nav.append(Option(ctx.t("btn_keep"), data(rid, idx, ReportAction.KEEP)))
    if nav:
        rows.append(nav)
    rows.append([Option(ctx.t("btn_pause"), data(rid, idx, ReportAction.PAUSE))])
    return Outgoing(text, rows, expects="number" if ind.type.numeric else None)


def answered_note(ctx: Ctx, idx: int, ind: Indicator, value: str | None) -> str:
    """The text a question's message is edited to once it has been answered."""
    return ctx.t("answered", n=idx + 1, label=ind.short_label(ctx.lang),
                 value=shown(ctx, ind, value))


def summary(ctx: Ctx, d: Draft, note: str | None = None) -> Outgoing:
    """The answers to check, marking those another editor changed since this member last
    looked; "Gửi báo cáo" carries the version shown, so only what was shown is sent."""
    others = d.others()
    items = [
        {"n": i + 1, "label": ind.short_label(ctx.lang),
         "value": shown(ctx, ind, d.answer(ind.code)), "missing": not d.answered(ind.code),
         "changed": ind.code in others}
        for i, ind in enumerate(d.indicators)
    ]
    local = d.report.submitted_at.astimezone(ctx.app.settings.ward.tz) \
        if d.report.submitted_at else None
    text = ctx.t("summary", period=d.dates.label, group=d.owner,
                 items=items, submitted=d.submitted, submitted_at=local, late=d.report.late,
                 locks_on=d.dates.locks_on, note=note)
    text = _with_others(ctx, d, text)
    rid = d.report.id
    if d.submitted:
        rows = [[Option(ctx.t("btn_edit"), data(rid, None, ReportAction.PICK)),
                 Option(ctx.t("btn_done"), data(rid, None, ReportAction.DONE))]]
    else:
        rows = [[Option(ctx.t("btn_submit"), data(rid, None, ReportAction.SUBMIT, str(d.known)))],
                [Option(ctx.t("btn_edit"), data(rid, None, ReportAction.PICK)),
                 Option(ctx.t("btn_later"), data(rid, None, ReportAction.PAUSE))]]
    return Outgoing(text, rows)


def picker(ctx: Ctx, d: Draft) -> Outgoing:
    inds = d.indicators
    buttons = [Option(f"{i + 1}. {ind.short_label(ctx.lang)}",
                      data(d.report.id, i, ReportAction.EDIT))
               for i, ind in enumerate(inds)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([Option(ctx.t("btn_back_summary"), data(d.report.id, None, ReportAction.SUMMARY))])
    return Outgoing(ctx.t("pick_item", total=len(inds)), rows)
