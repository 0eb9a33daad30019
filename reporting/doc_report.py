"""The report on the emulation movement as a Word document, ready to edit and sign.

A month or a quarter gives "Kết quả thực hiện phong trào thi đua …", six months a báo
cáo sơ kết, the year a báo cáo tổng kết, all in the layout of `reporting.docx_layout`
(Nghị định 30/2020/NĐ-CP). The body: I. every target of the year's plan as the digest
and the workbook judge it at the span's last month (the same `TargetResult`s, written
with the workbook's `requirement` and `verdict_text` and the digest's decimals), II.
reporting on time, late and missing per group, III. the good deeds featured or proposed,
IV. the leaders' notes as "khó khăn, kiến nghị", V.-VI. parts the office writes itself.
Every word comes from `templates/doc_report.yaml`; the data from
`reporting.doc_report_data`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.config import Settings
from reporting.digest import places_for
from reporting.doc_report_data import ReportData, load_report
from reporting.doc_texts import doc_texts
from reporting.docx_layout import (
    Letterhead,
    close,
    document_bytes,
    heading,
    new_document,
    paragraph,
    table,
    to_complete,
)
from reporting.export_targets import requirement, verdict_counts, verdict_text
from reporting.numbers import format_number
from reporting.plan_config import Target
from reporting.spans import Span
from reporting.targets import HUNDRED, TargetResult

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

LANG = "vi"  # the ward files its documents in Vietnamese
# Column widths in mm: 165 mm of text width between the decree's margins.
_TARGET_WIDTHS = (12, 61, 24, 24, 20, 24)
_GROUP_WIDTHS = (12, 38, 22, 22, 22, 49)
_DEED_WIDTHS = (11, 24, 30, 28, 48, 24)


def report_file_name(span: Span) -> str:
    """"bao-cao-thi-dua-2022-H1.docx": what the CLI writes and the chat sends."""
    return f"bao-cao-thi-dua-{span.key}.docx"


def span_phrase(span: Span) -> str:
    """"tháng 3 năm 2022", "quý II năm 2022", "6 tháng đầu năm 2022", "năm 2022"."""
    return doc_texts()("doc_report_span", kind=span.kind, number=span.number, year=span.year)


def next_span(span: Span) -> Span:
    """The span the direction (section VI) is for: the next month, quarter or half;
    after the second half or the year, the next year."""
    if span.kind == "month":
        year, month = (span.year + 1, 1) if span.last == 12 else (span.year, span.last + 1)
        return Span(year, month, month, "month")
    if span.kind == "quarter":
        if span.last == 12:
            return Span(span.year + 1, 1, 3, "quarter")
        return Span(span.year, span.last + 1, span.last + 3, "quarter")
    if span.kind == "half" and span.last == 6:
        return Span(span.year, 7, 12, "half")
    return Span(span.year + 1, 1, 12, "year")


def summary_line(span: Span) -> str:
    return doc_texts()("doc_report_summary", kind=span.kind, span=span_phrase(span),
                       next=span_phrase(next_span(span)))


def _percent_unit(t: Target) -> bool:
    return t.unit is not None and t.unit.vi == "%"


def value_text(t: Target, value: Decimal | None) -> str:
    """A target's value as the workbook's cell shows it (`export_targets.target_format`):
    the digest's decimals (`places_for`), "%" for a rate; "—" without data."""
    if value is None:
        return "—"
    text = format_number(value, LANG, places_for(t))
    return f"{text}%" if _percent_unit(t) else text


def share_of_plan(r: TargetResult) -> Decimal | None:
    """% of the plan reached: a cumulative amount's share of the year's plan (as the
    digest says "đạt Y% kế hoạch năm"), an amount or rate to reach its share of the
    goal; none for a count or rate the plan wants to stay under."""
    if r.value is None or r.goal is None:
        return None
    if r.target.compute.kind == "cumulative":
        return r.plan_share
    if r.target.comparator in (">=", ">") and r.goal > 0:
        return HUNDRED * r.value / r.goal
    return None


def target_rows(results: list[TargetResult]) -> list[list[str]]:
    """The targets table's body: STT, target (unit), plan, achieved, % of plan, verdict."""
    t = doc_texts()
    rows = []
    for n, r in enumerate(results, start=1):
        target = r.target
        unit = target.unit.get(LANG) if target.unit and not _percent_unit(target) else None
        share = share_of_plan(r)
        rows.append([str(n), t("doc_report_target_label", label=target.label.get(LANG),
                                 unit=unit),
                     requirement(target, r.goal), value_text(target, r.value),
                     "—" if share is None else f"{format_number(share, LANG, 1)}%",
                     verdict_text(r)])
    return rows


def _months(months: list[int]) -> str:
    return ", ".join(str(m) for m in months)


def _rate(part: int, whole: int) -> str:
    return format_number(HUNDRED * part / whole if whole else Decimal(0), LANG, 1)


def _targets(doc: DocxDocument, data: ReportData) -> None:
    t, span = doc_texts(), data.span
    heading(doc, t("doc_report_h_targets", year=span.year))
    if data.plan is None:
        paragraph(doc, t("doc_report_no_plan", year=span.year))
        return
    table(doc, [t(f"doc_report_col_{c}") for c in ("no", "target", "plan", "done", "share",
                                                    "verdict")],
          target_rows(data.targets), widths_mm=_TARGET_WIDTHS, numeric=(2, 3, 4))
    paragraph(doc, t("doc_report_targets_total", total=len(data.targets),
                     counts=[(n, label.lower()) for n, label in verdict_counts(data.targets)]))
    paragraph(doc, t("doc_report_targets_note", month=span.last, year=span.year),
              italic=True)


def _groups(doc: DocxDocument, data: ReportData, span_text: str) -> None:
    t = doc_texts()
    heading(doc, t("doc_report_h_groups"))
    on_time, late, missing = (data.total(p) for p in ("on_time", "late", "missing"))
    submitted = on_time + late
    paragraph(doc, t("doc_report_groups_summary", span=span_text, groups=len(data.groups),
                     due=submitted + missing, submitted=submitted,
                     rate=_rate(submitted, submitted + missing), on_time=on_time,
                     on_time_rate=_rate(on_time, submitted + missing), late=late,
                     missing=missing, pending=_months(data.open_months)))
    rows = [[str(n), g.name, str(len(g.on_time)), str(len(g.late)), str(len(g.missing)),
             t("doc_report_months_note", late=_months(g.late), missing=_months(g.missing))]
            for n, g in enumerate(data.groups, start=1)]
    rows.append(["", t("doc_report_total_row"), str(on_time), str(late), str(missing), ""])
    table(doc, [t(f"doc_report_col_{c}") for c in ("no", "group", "on_time", "late",
                                                    "missing", "months")],
          rows, widths_mm=_GROUP_WIDTHS, numeric=(2, 3, 4))


def _deeds(doc: DocxDocument, data: ReportData, span_text: str) -> None:
    t = doc_texts()
    heading(doc, t("doc_report_h_deeds"))
    if not data.deeds:
        paragraph(doc, t("doc_report_deeds_none", span=span_text))
        return
    paragraph(doc, t("doc_report_deeds_intro", span=span_text, count=len(data.deeds),
                     proposed=sum(d.proposed for d in data.deeds)))
    rows = [[str(n), d.group, d.subject, d.category,
             t("doc_report_deed_text", description=d.description.rstrip(" ."),
               happened_on=d.happened_on),
             t("doc_report_deed_proposed" if d.proposed else "doc_report_deed_featured")]
            for n, d in enumerate(data.deeds, start=1)]
    table(doc, [t(f"doc_report_col_{c}") for c in ("no", "group", "subject", "category",
                                                    "deed", "deed_status")],
          rows, widths_mm=_DEED_WIDTHS)


def _notes(doc: DocxDocument, data: ReportData, span_text: str) -> None:
    t = doc_texts()
    heading(doc, t("doc_report_h_notes"))
    if not data.notes:
        paragraph(doc, t("doc_report_notes_none", span=span_text))
        return
    paragraph(doc, t("doc_report_notes_intro"))
    for note in data.notes:
        paragraph(doc, t("doc_report_note", group=note.group, months=_months(note.months),
                         text=note.text))


def render_report(settings: Settings, data: ReportData, today: date) -> bytes:
    """The document for `data`, dated `today`."""
    t, span = doc_texts(), data.span
    span_text, next_text = span_phrase(span), span_phrase(next_span(span))
    ward = settings.ward.mid
    doc = new_document(settings, Letterhead("BC", t("doc_report_kind"), summary_line(span),
                                            today))
    source = data.plan.source if data.plan is not None else None
    paragraph(doc, t("doc_report_opening", source=source, year=span.year, ward=ward,
                     span=span_text))
    _targets(doc, data)
    _groups(doc, data, span_text)
    _deeds(doc, data, span_text)
    _notes(doc, data, span_text)
    heading(doc, t("doc_report_h_shortcomings"))
    to_complete(doc, t("doc_report_shortcomings"))
    heading(doc, t("doc_report_h_direction", next=next_text))
    to_complete(doc, t("doc_report_direction", next=next_text))
    paragraph(doc, t("doc_report_closing", span=span_text, ward=ward, kind=span.kind))
    close(doc, settings)
    return document_bytes(doc)


async def report_document(session: AsyncSession, settings: Settings, span: Span,
                          today: date) -> bytes:
    """The .docx report on `span`, read from the database, dated `today` (which also
    decides which months count as missing: those whose period has locked)."""
    return render_report(settings, await load_report(session, settings, span, today), today)
