"""The year's review on paper: the workbook "binh-xet-thi-dua-YYYY.xlsx" and the draft
"Tờ trình đề nghị khen thưởng" (.docx, the Nghị định 30/2020 layout).

Both are laid out from one `reporting.review.YearReview`, so the ranking, the lists
and the numbers in the workbook and in the Tờ trình are the same. Every word comes from
`templates/doc_review.yaml`. openpyxl and python-docx are imported only when a file is
made: the bot never loads them at start.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.config import Settings
from reporting.doc_texts import doc_texts
from reporting.export_cells import INT_FORMAT, PERCENT_FORMAT, Cell, Num
from reporting.numbers import format_percent
from reporting.review import GroupReview, YearReview, year_review

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from openpyxl import Workbook


def file_names(year: int) -> tuple[str, str]:
    """(workbook, Tờ trình) file names for `year`."""
    return f"binh-xet-thi-dua-{year}.xlsx", f"to-trinh-khen-thuong-{year}.docx"


def cultured_title(name: str) -> str:
    """"Bản văn hóa" for a bản (its name starts so), else "Tổ dân phố văn hóa"."""
    t = doc_texts()
    village = name.strip().casefold().startswith("bản")
    return t("review_title_village" if village else "review_title_town")


def _titles(review: YearReview, codes: tuple[str, ...]) -> str:
    return "; ".join(review.titles.get(c, c) for c in codes)


def _yes(flag: bool) -> str:
    return doc_texts()("review_yes" if flag else "review_no")


def _rate(achieved: int | None, registered: int | None) -> Decimal | None:
    """Households recognised per household registered, in %."""
    if not registered or achieved is None:
        return None
    return Decimal(achieved) * 100 / Decimal(registered)


def _collective_feat(review: YearReview, g: GroupReview) -> str:
    return doc_texts()("review_collective_feat", kept=len(g.pledged_achieved),
                       pledged=len(g.pledged), on_time=g.on_time, months=review.months,
                       met=g.targets_met, known=g.targets_known, deeds=g.deeds_recognised)


def _kind(subject_kind: str | None) -> str:
    t = doc_texts()
    return t("review_kind_collective" if subject_kind == "collective" else "review_kind_person")


def _month(period_key: str | None) -> str | None:
    """"2022-12" → "12/2022", as the ward writes a month."""
    if period_key is None:
        return None
    year, _, month = period_key.partition("-")
    return f"{month}/{year}"


def _int(value: int | None) -> Cell:
    return Num(value, INT_FORMAT) if value is not None else None


def _ranking_rows(review: YearReview) -> list[list[Cell]]:
    t = doc_texts()
    leaders = {g.code for g in review.leaders}
    rows: list[list[Cell]] = []
    for g in review.groups:
        rate = _rate(g.households_achieved, g.households_registered)
        rows.append([
            g.rank, g.code, g.name, _yes(g.signed_up),
            _titles(review, g.pledged) if g.signed_up else t("review_not_signed"),
            _titles(review, g.achieved), _yes(g.kept_pledge), _month(g.title_report),
            _int(g.households_registered), _int(g.households_achieved),
            Num(float(rate), PERCENT_FORMAT) if rate is not None else None,
            g.on_time, g.late, g.missing, g.targets_met, g.targets_known,
            g.deeds_submitted, g.deeds_featured, g.deeds_proposed,
            _yes(g.code in leaders)])
    return rows


def review_workbook(review: YearReview) -> Workbook:
    """Four sheets: Bình xét (the ranking, every column, and its rule), Tổ-Bản văn hóa,
    Gia đình văn hóa and Đề nghị khen thưởng."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from reporting.export import add_sheet

    t = doc_texts()
    wb = Workbook()
    for blank in list(wb.worksheets):  # add_sheet makes every sheet
        wb.remove(blank)
    wb.properties.title = t("review_workbook_title", year=review.year, ward=review.ward)
    wb.properties.creator = "Thi Đua Bot"
    c = [t(f"review_col_{k}") for k in (
        "rank", "code", "group", "signed", "pledged", "achieved", "kept", "title_report",
        "households_registered", "households_achieved", "households_rate", "on_time",
        "late", "missing", "targets", "targets_known", "deeds", "featured", "proposed",
        "leader")]
    ws = add_sheet(wb, t("review_sheet_ranking"), c, _ranking_rows(review))
    # The rule under the table, so a printed or forwarded sheet carries it.
    below = ws.max_row + 2
    ws.cell(row=below, column=1, value=t("review_rule_label")).font = Font(bold=True)
    rule = ws.cell(row=below + 1, column=1, value=t("review_rule", top=review.top_groups))
    rule.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=below + 1, start_column=1, end_row=below + 1, end_column=12)
    ws.row_dimensions[below + 1].height = 90
    if not review.final:
        ws.cell(row=below + 2, column=1,
                value=t("review_provisional", today=review.today, year=review.year))

    add_sheet(wb, t("review_sheet_cultured"),
              [t("review_col_no"), t("review_col_code"), t("review_col_group"),
               t("review_col_title")],
              [[n, g.code, g.name, cultured_title(g.name)]
               for n, g in enumerate(review.cultured, start=1)])

    registered, achieved = review.households()
    signed_registered, signed_achieved = review.households_of_signed()
    total_rate = _rate(signed_achieved, signed_registered)
    add_sheet(wb, t("review_sheet_families"),
              [t("review_col_no"), t("review_col_code"), t("review_col_group"),
               t("review_col_households_registered"), t("review_col_households_achieved"),
               t("review_col_households_rate")],
              [*([n, g.code, g.name, _int(g.households_registered),
                  _int(g.households_achieved),
                  Num(float(r), PERCENT_FORMAT) if (r := _rate(
                      g.households_achieved, g.households_registered)) is not None else None]
                 for n, g in enumerate(review.groups_in_order, start=1)),
               [None, None, t("review_total"), Num(registered, INT_FORMAT),
                Num(achieved, INT_FORMAT),
                Num(float(total_rate), PERCENT_FORMAT) if total_rate is not None else None]])

    add_sheet(wb, t("review_sheet_proposals"),
              [t("review_col_no"), t("review_col_subject"), t("review_col_kind"),
               t("review_col_group"), t("review_col_feat"), t("review_col_basis"),
               t("review_col_category"), t("review_col_date"), t("review_col_form")],
              _proposal_rows(review), wide=60)
    return wb


def _proposal_rows(review: YearReview) -> list[list[Cell]]:
    """The collectives that led the ranking, then the good deeds proposed."""
    t = doc_texts()
    rows: list[list[Cell]] = [
        [None, g.name, t("review_kind_collective"), g.name, _collective_feat(review, g),
         t("review_basis_rank", rank=g.rank), None, None, None] for g in review.leaders]
    rows += [[None, d.subject, _kind(d.subject_kind), d.group_name, d.description,
              t("review_basis_deed"), d.category or None, d.happened_on, None]
             for d in review.deeds]
    for n, row in enumerate(rows, start=1):
        row[0] = n
    return rows


def _document(settings: Settings, review: YearReview, today: date) -> DocxDocument:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from reporting.docx_layout import Letterhead, heading, new_document, paragraph, to_complete

    t = doc_texts()
    doc = new_document(settings, Letterhead("TTr", t("review_kind"),
                                            t("review_summary", year=review.year), today))
    to = paragraph(doc, t("review_to", ward=settings.ward.name), indent=False)
    to.alignment = WD_ALIGN_PARAGRAPH.CENTER
    plan = settings.plan(review.year)
    if plan is not None and plan.source:
        paragraph(doc, t("review_basis_plan", source=plan.source))
    to_complete(doc, t("review_basis_law"))
    paragraph(doc, t("review_basis_results", year=review.year, groups=len(review.groups)))
    paragraph(doc, t("review_request", year=review.year))

    heading(doc, t("review_h_results"))
    registered, achieved = review.households()
    complete = sum(g.on_time + g.late == review.months for g in review.groups)
    punctual = sum(g.on_time == review.months for g in review.groups)
    paragraph(doc, t("review_results", year=review.year, groups=len(review.groups),
                     signed=review.signed_up, kept=sum(g.kept_pledge for g in review.groups),
                     complete=complete, months=review.months, punctual=punctual,
                     achieved=achieved, registered=registered,
                     deeds=sum(g.deeds_submitted for g in review.groups),
                     featured=sum(g.deeds_featured for g in review.groups),
                     proposed=sum(g.deeds_proposed for g in review.groups)))
    if not review.final:
        paragraph(doc, t("review_provisional", today=review.today, year=review.year),
                  italic=True)
    _ranking(doc, review)
    _proposals(doc, review)
    to_complete(doc, t("review_form"))
    paragraph(doc, t("review_closing"))
    return doc


def _ranking(doc: DocxDocument, review: YearReview) -> None:
    from reporting.docx_layout import heading, paragraph, table

    t = doc_texts()
    heading(doc, t("review_h_ranking"))
    paragraph(doc, t("review_rule", top=review.top_groups))
    table(doc, [t(f"review_col_{k}") for k in (
        "rank", "group", "titles_short", "on_time", "targets", "recognised")],
        [[str(g.rank), g.name,
          f"{len(g.pledged_achieved)}/{len(g.pledged)}" if g.signed_up
          else t("review_not_signed"),
          f"{g.on_time}/{review.months}", f"{g.targets_met}/{g.targets_known}",
          str(g.deeds_recognised)] for g in review.groups],
        widths_mm=(16, 35, 30, 28, 26, 30), numeric=(0, 3, 4, 5))


def _proposals(doc: DocxDocument, review: YearReview) -> None:
    from reporting.docx_layout import heading, paragraph, table

    t = doc_texts()
    heading(doc, t("review_h_proposals"))

    def listed(title: str, headers: list[str], rows: list[list[str]],
               widths: tuple[float, ...], numeric: tuple[int, ...] = (0,)) -> None:
        heading(doc, title)
        if rows:
            table(doc, headers, rows, widths_mm=widths, numeric=numeric)
        else:
            paragraph(doc, t("review_none"))

    no, group = t("review_col_no"), t("review_col_group")
    listed(t("review_h_cultured", year=review.year, n=len(review.cultured)),
           [no, group, t("review_col_title")],
           [[str(n), g.name, cultured_title(g.name)]
            for n, g in enumerate(review.cultured, start=1)], (15, 70, 80))
    registered, achieved = review.households()
    rows = [[str(n), g.name, _num(g.households_registered), _num(g.households_achieved),
             _pct(_rate(g.households_achieved, g.households_registered))]
            for n, g in enumerate(review.groups_in_order, start=1)]
    signed_registered, signed_achieved = review.households_of_signed()
    rows.append(["", t("review_total"), _num(registered), _num(achieved),
                 _pct(_rate(signed_achieved, signed_registered))])
    listed(t("review_h_families", year=review.year, achieved=achieved),
           [no, group, t("review_col_households_registered"),
            t("review_col_households_achieved"), t("review_col_households_rate")],
           rows, (15, 50, 35, 35, 30), (0, 2, 3, 4))
    listed(t("review_h_collectives", n=len(review.leaders)),
           [no, t("review_col_collective"), t("review_col_feat")],
           [[str(n), g.name, f"{t('review_basis_rank', rank=g.rank)}. "
             f"{_collective_feat(review, g)}"]
            for n, g in enumerate(review.leaders, start=1)], (15, 40, 110))
    listed(t("review_h_deeds", n=len(review.deeds)),
           [no, t("review_col_subject"), group, t("review_col_feat")],
           [[str(n), d.subject, d.group_name, d.description]
            for n, d in enumerate(review.deeds, start=1)], (12, 40, 28, 85))


def _num(value: int | None) -> str:
    from reporting.numbers import format_number

    return format_number(value) if value is not None else "—"


def _pct(value: Decimal | None) -> str:
    return format_percent(value) if value is not None else "—"


def commendation_document(settings: Settings, review: YearReview, today: date) -> bytes:
    """The draft Tờ trình (kind "TTr") to the ward's Chủ tịch, dated `today`, with the
    review's summary, its ranking and rule, the proposal lists, the parts the office
    completes, "Nơi nhận" and the signature block."""
    from reporting.docx_layout import close, document_bytes

    doc = _document(settings, review, today)
    close(doc, settings)
    return document_bytes(doc)


def files_of(settings: Settings, review: YearReview,
             today: date) -> list[tuple[str, bytes]]:
    """The workbook and the Tờ trình of a review already made."""
    from reporting.export import workbook_bytes

    book, paper = file_names(review.year)
    return [(book, workbook_bytes(review_workbook(review))),
            (paper, commendation_document(settings, review, today))]


async def review_files(session: AsyncSession, settings: Settings, year: int,
                       today: date) -> list[tuple[str, bytes]]:
    """[(workbook name, bytes), (Tờ trình name, bytes)]: what the CLI writes and the
    demo leaves in its folder (the chat command sends the same `files_of`)."""
    return files_of(settings, await year_review(session, settings, year, today), today)
