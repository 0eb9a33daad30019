"""The layout of an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I).

A4 portrait with the decree's margins (top and bottom 20 mm, left 30 mm, right 15 mm),
Times New Roman, 14 pt body and 13 pt header lines; top left the governing body and,
in bold, the issuing body; top right the national motto, "Độc lập - Tự do - Hạnh phúc"
underlined; below them "Số: …/BC-HĐTĐKT" left and the place and date right in italics;
the document type and its summary centred in bold; the body justified with a first-line
indent; "Nơi nhận:" bottom left and the signature block bottom right. Page numbers are
centred at the top from the second page on. Every word comes from `templates/doc_*.yaml`.

python-docx is imported here only: a document is made on request, never at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING

from reporting.config import Settings
from reporting.doc_texts import doc_texts

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

FONT = "Times New Roman"
BODY_PT = 14
HEADER_PT = 12  # the letterhead's lines (Phụ lục I: 12–13 pt)
TABLE_PT = 12
SIGNER_PT = 13  # the signer's authority and title (Phụ lục I: 13–14 pt)
SMALL_PT = 11  # the recipients' list (Phụ lục I: 11 pt)
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
# The letterhead and the closing block are wider than the 165 mm of text: "CỘNG HÒA XÃ
# HỘI CHỦ NGHĨA VIỆT NAM" and "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG" must each stay on one
# line, so both tables reach `_OUTDENT_MM` into the (30 mm) left margin.
_HEADER_COLUMNS_MM = (87, 93)
_CLOSE_COLUMNS_MM = (75, 105)
_OUTDENT_MM = 15


@dataclass(frozen=True)
class Letterhead:
    kind_code: str  # after "Số: …/": "BC" (báo cáo), "TTr" (tờ trình)
    kind: str  # "BÁO CÁO", "TỜ TRÌNH"
    summary: str  # the document's summary line (trích yếu)
    on: date | None  # the date written; None leaves "ngày … tháng … năm …" for the office


def authority(settings: Settings) -> str:
    return settings.documents.authority or doc_texts()("doc_authority",
                                                       ward_name=settings.ward.name)


def place(settings: Settings) -> str:
    return settings.documents.place or settings.ward.place


def _font(run_or_style: object, size: int, *, bold: bool = False, italic: bool = False,
          underline: bool = False) -> None:
    from docx.shared import Pt

    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = FONT
    font.size = Pt(size)
    font.bold = bold or None
    font.italic = italic or None
    font.underline = underline or None


def _line(cell_or_doc: DocxDocument | _Cell, text: str, size: int, *, bold: bool = False,
          italic: bool = False, underline: bool = False, centre: bool = True,
          first: bool = False) -> Paragraph:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    para = cell_or_doc.paragraphs[0] if first else cell_or_doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER if centre else WD_ALIGN_PARAGRAPH.LEFT
    para.paragraph_format.space_after = Pt(0)
    para.paragraph_format.space_before = Pt(0)
    _font(para.add_run(text), size, bold=bold, italic=italic, underline=underline)
    return para


def _widths(grid: Table, widths_mm: Sequence[float], outdent_mm: float = 0) -> None:
    """Fixed column widths. Word reads the cells' widths, LibreOffice the table grid's:
    both are set, and the layout is fixed so neither stretches a column to its text."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    grid.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    grid._tbl.tblPr.append(layout)
    if outdent_mm:
        indent = OxmlElement("w:tblInd")
        indent.set(qn("w:w"), str(-round(Mm(outdent_mm).twips)))
        indent.set(qn("w:type"), "dxa")
        grid._tbl.tblPr.append(indent)
    for column, width in zip(grid.columns, widths_mm, strict=True):
        column.width = Mm(width)
        for cell in column.cells:
            cell.width = Mm(width)


def _page_numbers(doc: DocxDocument) -> None:
    """A centred PAGE field at the top of every page but the first."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = doc.sections[0]
    section.different_first_page_header_footer = True
    para = section.header.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = para.add_run()
    _font(run, BODY_PT)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def blank_page() -> DocxDocument:
    """An empty A4 document with the decree's margins and a 14 pt Times New Roman body."""
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    normal = doc.styles["Normal"]
    _font(normal, BODY_PT)
    normal.paragraph_format.space_after = Pt(6)
    return doc


def new_document(settings: Settings, head: Letterhead) -> DocxDocument:
    """An A4 document with the letterhead, the number and date, the type and summary."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    t = doc_texts()
    doc = blank_page()
    _page_numbers(doc)

    grid: Table = doc.add_table(rows=2, cols=2)
    _widths(grid, _HEADER_COLUMNS_MM, _OUTDENT_MM)
    left, right = grid.rows[0].cells
    _line(left, authority(settings).upper(), HEADER_PT, first=True)
    _line(left, settings.documents.issuer.upper(), HEADER_PT, bold=True)
    _line(right, t("doc_motto_nation"), HEADER_PT, bold=True, first=True)
    _line(right, t("doc_motto"), BODY_PT, bold=True, underline=True)
    number, when = grid.rows[1].cells
    _line(number, t("doc_number", kind_code=head.kind_code,
                     issuer_code=settings.documents.issuer_code), HEADER_PT, first=True)
    dated = (t("doc_place_date", place=place(settings), day=head.on.day, month=head.on.month,
               year=head.on.year) if head.on else
             t("doc_place_date_blank", place=place(settings)))
    _line(when, dated, BODY_PT, italic=True, first=True)
    for cell in (number, when):  # a line's gap below the motto, as on printed documents
        cell.paragraphs[0].paragraph_format.space_before = Pt(6)

    title = _line(doc, head.kind, BODY_PT, bold=True)
    title.paragraph_format.space_before = Pt(12)
    summary = _line(doc, head.summary, BODY_PT, bold=True)
    summary.paragraph_format.space_after = Pt(12)
    summary.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def heading(doc: DocxDocument, text: str) -> Paragraph:
    """A section heading of the body ("I. KẾT QUẢ …", "1. Chỉ tiêu …"): bold, left."""
    from docx.shared import Mm, Pt

    para = doc.add_paragraph()
    para.paragraph_format.first_line_indent = Mm(10)
    para.paragraph_format.space_before = Pt(6)
    _font(para.add_run(text), BODY_PT, bold=True)
    return para


def paragraph(doc: DocxDocument, text: str, *, italic: bool = False, bold: bool = False,
              indent: bool = True) -> Paragraph:
    """A body paragraph: justified, first line indented 10 mm (Phụ lục I: 1–1,27 cm)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        para.paragraph_format.first_line_indent = Mm(10)
    _font(para.add_run(text), BODY_PT, bold=bold, italic=italic)
    return para


def to_complete(doc: DocxDocument, what: str) -> Paragraph:
    """A part the office writes itself, marked in italics on a yellow highlight."""
    from docx.enum.text import WD_COLOR_INDEX

    para = paragraph(doc, doc_texts()("doc_to_complete", what=what), italic=True)
    para.runs[0].font.highlight_color = WD_COLOR_INDEX.YELLOW
    return para


def table(doc: DocxDocument, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
          widths_mm: Sequence[float] | None = None, numeric: Sequence[int] = ()) -> Table:
    """A bordered table, 12 pt, bold header row; columns in `numeric` right-aligned."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    grid: Table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    grid.style = "Table Grid"
    for r, values in enumerate([list(headers), *[list(row) for row in rows]]):
        for c, value in enumerate(values):
            cell = grid.rows[r].cells[c]
            para = cell.paragraphs[0]
            para.paragraph_format.space_after = Pt(0)
            if r == 0:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif c in numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(para.add_run(str(value)), TABLE_PT, bold=r == 0)
    if widths_mm is not None:
        _widths(grid, widths_mm)
    doc.add_paragraph()
    return grid


def close(doc: DocxDocument, settings: Settings) -> Table:
    """"Nơi nhận:" bottom left, the signature block bottom right."""

    d = settings.documents
    grid: Table = doc.add_table(rows=1, cols=2)
    _widths(grid, _CLOSE_COLUMNS_MM, _OUTDENT_MM)
    to, sign = grid.rows[0].cells
    _line(to, doc_texts()("doc_recipients"), HEADER_PT - 1, bold=True, italic=True,
          centre=False, first=True)
    for line in d.recipients:
        _line(to, f"- {line}", SMALL_PT, centre=False)
    _line(sign, d.signer_for.upper(), SIGNER_PT, bold=True, first=True)
    _line(sign, d.signer_title.upper(), SIGNER_PT, bold=True)
    for _ in range(4):  # room for the signature and the seal
        _line(sign, "", BODY_PT)
    _line(sign, d.signer_name or "", BODY_PT, bold=True)
    return grid


def document_bytes(doc: DocxDocument) -> bytes:
    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()
