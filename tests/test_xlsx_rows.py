"""Rows written as text (`reporting.xlsx_rows`) read back by openpyxl as the values,
formats and styles the cells carried."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import load_workbook

from reporting.export_book import XlsxBook
from reporting.export_cells import DATE_FORMAT, DATETIME_FORMAT, INT_FORMAT, Mark, Num
from reporting.xlsx_rows import column_letter, text, worked_text


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_every_kind_of_cell_reads_back() -> None:
    book = XlsxBook("Tháng 12/2022")
    sheet = book.sheet("Tổ", ["Mã", "Tên", "Số", "Nộp lúc", "Ngày", "Dấu", "Ghi chú", "Cờ"],
                       [10] * 8, wide=20)
    long = "Một ghi chú dài hơn hai mươi ký tự"
    sheet.append(["to-1", "Tổ 1 <A & B>", Num(1234, INT_FORMAT), datetime(2022, 12, 5, 14, 30),
                  date(2022, 12, 1), Mark("Đúng hạn", "E2F0D9"), long, True])
    sheet.append(["to-2", "=SUM(A1)", 2.5, None, None, None, " cách \x07đầu\r", float("nan")])
    wb = load_workbook(io.BytesIO(book.data()))
    ws = wb["Tổ"]
    assert ws.max_row == 3 and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H3"
    first = [c.value for c in ws[2]]
    assert first == ["to-1", "Tổ 1 <A & B>", 1234, datetime(2022, 12, 5, 14, 30),
                     datetime(2022, 12, 1), "Đúng hạn", long, True]
    assert ws["C2"].number_format == INT_FORMAT
    assert ws["D2"].number_format == DATETIME_FORMAT and ws["E2"].number_format == DATE_FORMAT
    assert ws["F2"].fill.fgColor.rgb.endswith("E2F0D9")
    assert ws["G2"].alignment.wrap_text is True and ws["A2"].alignment.wrap_text is not True
    second = [c.value for c in ws[3]]
    # A formula stays text; a control character is dropped; spaces and \r are kept.
    assert second == ["to-2", "=SUM(A1)", 2.5, None, None, None, " cách đầu\r", None]
    assert ws["B3"].data_type == "s" and ws["B3"].quotePrefix is True
    assert ws["A1"].font.bold is True and [c.value for c in ws[1]][:2] == ["Mã", "Tên"]


def test_plain_text_is_written_as_the_general_path_writes_it() -> None:
    # `text` skips the escaping for text that needs none; it must decide that right for
    # every character that does need it (controls, XML's own, spaces at either end).
    tricky = ["", "to-1", "Tổ 1", "A & B", "<b>", "a>b", "x\ty", "x\ny", "x\ry", "\x07bell",
              " lead", "trail ", "\u00a0nbsp", "nbsp\u00a0", "\u3000wide", "in side",
              "\x1cfs", "line\u2028sep", "z" * 32767, "z" * 32768, "é" * 40000]
    for value in tricky:
        for style in (None, 4):
            assert text("B7", value, style) == worked_text("B7", value, style), value[:20]
    for code in range(0x3000 + 1):  # every one-character text up to CJK spaces
        for value in (chr(code), f"a{chr(code)}", f"{chr(code)}a", f"a{chr(code)}a"):
            assert text("A1", value) == worked_text("A1", value), hex(code)
