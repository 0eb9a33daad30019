"""The Nghị định 30/2020 layout, read back with python-docx, and the spans of documents."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH

from reporting.config import Settings
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
from reporting.spans import parse_span


def _made(settings: Settings, on: date | None = date(2022, 7, 5)) -> docx.document.Document:
    doc = new_document(settings, Letterhead("BC", "BÁO CÁO", "Sơ kết 6 tháng đầu năm 2022", on))
    heading(doc, "I. KẾT QUẢ")
    paragraph(doc, "Nội dung & kết quả <đạt>")  # no escaping on paper
    to_complete(doc, "Tồn tại, hạn chế")
    table(doc, ["Chỉ tiêu", "Kế hoạch"], [["Tỷ lệ BHYT", "95%"]], numeric=[1])
    close(doc, settings)
    return docx.Document(BytesIO(document_bytes(doc)))


def test_page_is_a4_with_the_decree_margins(settings: Settings) -> None:
    section = _made(settings).sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin,
             section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) if m is not None else None for m in sizes] == [210, 297, 20, 20, 30, 15]


def test_letterhead_motto_number_and_date(settings: Settings) -> None:
    doc = _made(settings)
    head = doc.tables[0]
    left, right = head.rows[0].cells
    assert left.text.splitlines() == ["UBND PHƯỜNG QUYẾT THẮNG", "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"]
    assert left.paragraphs[1].runs[0].bold
    assert right.paragraphs[0].text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    motto = right.paragraphs[1].runs[0]
    assert motto.text == "Độc lập - Tự do - Hạnh phúc" and motto.underline and motto.bold
    number, when = head.rows[1].cells
    assert number.text == "Số: …/BC-HĐTĐKT"
    assert when.text == "Quyết Thắng, ngày 05 tháng 7 năm 2022"
    assert when.paragraphs[0].runs[0].italic


def test_blank_date_left_for_the_office(settings: Settings) -> None:
    when = _made(settings, on=None).tables[0].rows[1].cells[1]
    assert when.text == "Quyết Thắng, ngày …… tháng …… năm ……"


def test_title_body_font_and_marked_sections(settings: Settings) -> None:
    doc = _made(settings)
    texts = [p.text for p in doc.paragraphs]
    title = doc.paragraphs[texts.index("BÁO CÁO")]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.runs[0].bold
    assert "Nội dung & kết quả <đạt>" in texts
    marked = doc.paragraphs[texts.index("[Văn phòng bổ sung: Tồn tại, hạn chế]")]
    assert marked.runs[0].font.highlight_color is not None
    for p in doc.paragraphs:
        for run in p.runs:
            assert run.font.name == "Times New Roman"
            assert run.font.size is None or 11 <= run.font.size.pt <= 14


def test_signature_block_and_recipients(settings: Settings) -> None:
    doc = _made(settings)
    to, sign = doc.tables[-1].rows[0].cells
    assert to.paragraphs[0].text == "Nơi nhận:"
    assert to.paragraphs[-1].text == "- Lưu: VT."
    lines = [p.text for p in sign.paragraphs]
    assert lines[:2] == ["TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG", "CHỦ TỊCH"]


@pytest.mark.parametrize(("text", "months", "key"), [
    ("2022-03", [3], "2022-03"), ("2022-Q2", [4, 5, 6], "2022-Q2"),
    ("2022-q4", [10, 11, 12], "2022-Q4"), ("2022-H1", [1, 2, 3, 4, 5, 6], "2022-H1"),
    ("2022-H2", list(range(7, 13)), "2022-H2"), ("2022", list(range(1, 13)), "2022")])
def test_spans(text: str, months: list[int], key: str) -> None:
    span = parse_span(text)
    assert span.months == months and span.key == key and span.year == 2022


@pytest.mark.parametrize("text", ["2022-13", "2022-Q5", "2022-H3", "22", "1999", "tháng 3", ""])
def test_not_spans(text: str) -> None:
    with pytest.raises(ValueError):
        parse_span(text)
