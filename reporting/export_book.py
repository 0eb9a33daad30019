"""Where an export's rows go as they are made: an Excel workbook or one CSV file a sheet.

Both are written row by row (openpyxl's write-only workbook spools each sheet to a
temporary file; a CSV sheet is a file open for writing), so an export of 15,000 groups
never holds every cell in memory. The price of streaming: a column's width is decided
before its first row (a write-only sheet cannot be measured afterwards), from its header
and what is known of its content (`width_for`); sheets whose rows are few and already in
memory are fitted to them (`fitted_widths`), as before.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from reporting.answers import canonical_number
from reporting.export_cells import DATE_FORMAT, DATETIME_FORMAT, Cell, Mark, Num
from reporting.xlsx_rows import RowSpool, column_letter, moment, number, text

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell as XlCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

# Text starting with one of these is a formula (or becomes one) in Excel and LibreOffice:
# typed text starting so is stored as text in the workbook, quoted in the CSV.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WIDE = 50  # text longer than this wraps, and no column is wider
HEADER_FILL = "DDEBF7"


def shown_length(value: Cell) -> int:
    """How many characters a cell shows (numbers with their thousands separators)."""
    if value is None:
        return 0
    if isinstance(value, Num):
        return len(f"{value.value:,.1f}") if isinstance(value.value, float) else \
            len(f"{value.value:,}")
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, Mark):
        return len(value.text)
    return max((len(line) for line in str(value).splitlines()), default=0)


def width_for(header: str, longest: int, wide: int = WIDE) -> float:
    """A column's width: its content, at least a readable part of its header (long
    headers wrap), at most `wide`."""
    return min(max(longest, min(len(header), 24), 6) + 2, wide + 2)


def fitted_widths(headers: Sequence[str], rows: Sequence[Sequence[Cell]],
                  wide: int = WIDE) -> list[float]:
    """Widths fitted to rows already in memory."""
    return [width_for(h, max((shown_length(r[c]) for r in rows if c < len(r)), default=0),
                      wide) for c, h in enumerate(headers)]


class Sheet(Protocol):
    def append(self, row: Sequence[Cell]) -> None: ...


class Book(Protocol):
    def sheet(self, title: str, headers: Sequence[str], widths: Sequence[float], *,
              wide: int = WIDE, at: int | None = None) -> Sheet:
        """A new sheet; `at`: its place among the sheets made so far (default: last)."""
        ...


class XlsxSheet:
    """One write-only sheet: a bold, frozen header row, filters, widths set up front."""

    def __init__(self, ws: WriteOnlyWorksheet, headers: Sequence[str],
                 widths: Sequence[float], wide: int) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        self.ws, self.wide, self.rows, self.columns = ws, wide, 0, len(headers)
        # Both must be in place before the first row: they are written ahead of the rows.
        dimensions = cast(Any, ws).column_dimensions  # set by openpyxl; not in the stubs
        for c, width in enumerate(widths, start=1):
            dimensions[get_column_letter(c)].width = width
        ws.freeze_panes = "A2"
        self._wrap = Alignment(wrap_text=True, vertical="top")
        top = []
        for title in headers:
            cell = self._text(title)
            cell.font, cell.alignment = Font(bold=True), self._wrap
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            top.append(cell)
        ws.append(top)
        # A cell style is registered in the workbook once, by a cell made with it; the
        # rows name it by its index (`_style_id`).
        self._styles: dict[str, int] = {}
        self._letters = [column_letter(c) for c in range(max(len(headers), 26))]
        self._spool = RowSpool()

    def _cell(self, kind: str) -> XlCell:
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.ws)
        if kind == "wrap":
            cell.alignment = self._wrap
        elif kind == "quoted":
            cell.quotePrefix = True
        elif kind.startswith("fill:"):
            from openpyxl.styles import Alignment, PatternFill

            cell.fill = PatternFill("solid", fgColor=kind.removeprefix("fill:"))
            cell.alignment = Alignment(horizontal="center")
        elif kind:
            cell.number_format = kind
        return cell

    def _text(self, value: str) -> XlCell:
        """A header: text that looks like a formula stays text (openpyxl would otherwise
        store "=..." as a live formula), marked to show as typed in Excel."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.ws)
        cell.value = value
        if value.startswith(FORMULA_START):
            cell.data_type, cell.quotePrefix = "s", True
        return cell

    def _style_id(self, kind: str) -> int:
        """The workbook's index of a cell style (registered by asking a made cell)."""
        style = self._styles.get(kind)
        if style is None:
            style = self._styles[kind] = self._cell(kind).style_id
        return style

    def append(self, row: Sequence[Cell]) -> None:
        """One row as text (`reporting.xlsx_rows`); formats by the styles openpyxl made."""
        self.rows += 1
        r = str(self.rows + 1)
        parts = [f'<row r="{r}">']
        for c, value in enumerate(row):
            if value is None:
                continue
            ref = (self._letters[c] if c < len(self._letters) else column_letter(c)) + r
            # The kinds are disjoint: asked in the order they are most often met.
            if isinstance(value, Num):
                parts.append(number(ref, value.value, self._style_id(value.fmt)))
            elif isinstance(value, (int, float)):
                parts.append(number(ref, value))
            elif isinstance(value, datetime):
                parts.append(moment(ref, value, self._style_id(DATETIME_FORMAT)))
            elif isinstance(value, date):
                parts.append(moment(ref, value, self._style_id(DATE_FORMAT)))
            elif isinstance(value, Mark):
                parts.append(text(ref, value.text, self._style_id(f"fill:{value.fill}")))
            elif value.startswith(FORMULA_START):  # shown as typed, never a formula
                parts.append(text(ref, value, self._style_id("quoted")))
            elif len(value) > self.wide:
                parts.append(text(ref, value, self._style_id("wrap")))
            else:
                parts.append(text(ref, value))
        parts.append("</row>")
        self._spool.add("".join(parts))
        self.columns = max(self.columns, len(row))

    def finish(self) -> None:
        from openpyxl.utils import get_column_letter

        if self.rows:  # filters over the header and every row, as Excel's own button does
            # (a write-only sheet has them at run time; the type stubs miss it)
            last = f"{get_column_letter(self.columns)}{self.rows + 1}"
            cast(Any, self.ws).auto_filter.ref = f"A1:{last}"
        # openpyxl writes the sheet (header, settings, filter) to its file; the rows go in.
        self.ws.close()
        self._spool.splice(cast(Any, self.ws)._writer.out)


class XlsxBook:
    """An .xlsx written sheet by sheet, row by row (openpyxl's write-only workbook)."""

    def __init__(self, title: str) -> None:
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)
        self.wb.properties.title = title
        self.wb.properties.creator = "Thi Đua Bot"
        self._sheets: list[XlsxSheet] = []

    def sheet(self, title: str, headers: Sequence[str], widths: Sequence[float], *,
              wide: int = WIDE, at: int | None = None) -> XlsxSheet:
        made = XlsxSheet(self.wb.create_sheet(title, at), headers, widths, wide)
        self._sheets.append(made)
        return made

    def save(self, target: Path | IO[bytes]) -> None:
        for s in self._sheets:
            s.finish()
        self.wb.save(target)

    def data(self) -> bytes:
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()


def slug(text: str) -> str:
    """"Số liệu tổ" → "so-lieu-to": a file-name-safe ASCII form."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "sheet"


def csv_text(value: object) -> str:
    """Plain machine-readable values: 1234, 98.5, 2022-04-03 09:00:00. Text that a
    spreadsheet would take for a formula ("=...", "+...", "-...", "@...") gets a leading
    "'" so it opens as text (the usual CSV-injection guard)."""
    if isinstance(value, Num):
        value = value.value
    elif isinstance(value, Mark):
        value = value.text
    if value is None:
        return ""
    if isinstance(value, float):
        return canonical_number(Decimal(repr(value)))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


class CsvSheet:
    def __init__(self, file: IO[str], headers: Sequence[str]) -> None:
        self._writer = csv.writer(file)
        self.append(headers)

    def append(self, row: Sequence[Cell]) -> None:
        self._writer.writerow([csv_text(v) for v in row])


class CsvBook:
    """One CSV per sheet, `<out stem>-<sheet slug>.csv` beside `out`, in UTF-8 with a BOM
    so Excel reads the Vietnamese text correctly; each file written as its rows come."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.paths: list[Path] = []
        self._files: list[IO[str]] = []

    def sheet(self, title: str, headers: Sequence[str], widths: Sequence[float], *,
              wide: int = WIDE, at: int | None = None) -> CsvSheet:
        path = self.out.with_name(f"{self.out.stem}-{slug(title)}.csv")
        file = path.open("w", encoding="utf-8-sig", newline="")
        self._files.append(file)
        self.paths.insert(len(self.paths) if at is None else at, path)
        return CsvSheet(file, headers)

    def close(self) -> list[Path]:
        """Close every file; returns the paths written, in sheet order."""
        for f in self._files:
            f.close()
        self._files = []
        return self.paths


def write_csv(workbook: Workbook | Exported, out: Path) -> list[Path]:
    """A workbook already made (read back if streamed) as CSV files, like `CsvBook`."""
    book = CsvBook(out)
    try:
        for ws in workbook.worksheets:
            rows = ws.iter_rows(values_only=True)
            head = next(rows, ())
            sheet = book.sheet(ws.title, [str(h or "") for h in head], [])
            for row in rows:
                sheet.append(cast(list[Cell], list(row)))
    finally:
        book.close()
    return book.paths


class Exported:
    """A streamed workbook's bytes (what /xuat sends), read back into cells only when a
    caller looks inside (a test, a CSV made from it)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._read: Workbook | None = None

    @property
    def book(self) -> Workbook:
        if self._read is None:
            from openpyxl import load_workbook

            self._read = load_workbook(io.BytesIO(self.data))
        return self._read

    @property
    def sheetnames(self) -> list[str]:
        return list(self.book.sheetnames)

    @property
    def worksheets(self) -> list[Worksheet]:
        return cast("list[Worksheet]", self.book.worksheets)

    def __getitem__(self, name: str) -> Worksheet:
        return cast("Worksheet", self.book[name])


def workbook_bytes(wb: Workbook | Exported) -> bytes:
    if isinstance(wb, Exported):
        return wb.data
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
