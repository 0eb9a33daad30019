"""A write-only sheet's data rows as SpreadsheetML text, spliced into openpyxl's sheet.

openpyxl builds an lxml element (and a cell object) for every cell it writes: about
8 µs a cell, two seconds for the 255,000 cells of an export of 15,000 groups. The rows
are plain here: a value, its cell reference and, where formatted, the index of a style
openpyxl registered (`XlsxSheet` asks a styled cell for its `style_id`), so writing them
as text is one string a cell. openpyxl still writes everything else (the header row,
widths, frozen pane, filter, styles, the workbook around): `splice` puts the spooled
rows into the sheet file it wrote, before `</sheetData>`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date, datetime
from math import isfinite
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

# What XML 1.0 cannot carry (openpyxl refuses such text); dropped from what members typed.
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_ENTITIES = {"\r": "&#13;"}  # kept as typed, not folded into a newline by a reader
# Text that needs none of `worked_text`'s work: nothing to drop or escape (no control
# character, "&", "<" or ">"), no space at either end. Most cells: codes, names, labels.
_WORK = re.compile(r"[\000-\037&<>]|^\s|\s\Z")
MAX_TEXT = 32767  # Excel's limit for a cell, as openpyxl cuts
EXCEL_EPOCH = datetime(1899, 12, 30)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _style(style: int | None) -> str:
    return "" if style is None else f' s="{style}"'


def number(ref: str, value: float, style: int | None = None) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}"{_style(style)} t="b"><v>{int(value)}</v></c>'
    if not isfinite(value):
        return ""  # as openpyxl: no cell for NaN or infinity
    return f'<c r="{ref}"{_style(style)} t="n"><v>{value:.16g}</v></c>'


def moment(ref: str, value: date, style: int) -> str:
    """A date or a (zone-less, local) time as Excel's day number, shown by `style`."""
    if isinstance(value, datetime):
        days = (value - EXCEL_EPOCH).total_seconds() / 86400
    else:
        days = (value - EXCEL_EPOCH.date()).days
    return number(ref, days, style)


def text(ref: str, value: str, style: int | None = None) -> str:
    if len(value) <= MAX_TEXT and _WORK.search(value) is None:
        return f'<c r="{ref}"{_style(style)} t="inlineStr"><is><t>{value}</t></is></c>'
    return worked_text(ref, value, style)


def worked_text(ref: str, value: str, style: int | None = None) -> str:
    """Any text: characters XML cannot carry dropped, cut at Excel's limit, escaped,
    its spaces kept (what `text` does when a value needs it)."""
    value = _ILLEGAL.sub("", value)[:MAX_TEXT]
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return (f'<c r="{ref}"{_style(style)} t="inlineStr"><is><t{space}>'
            f"{escape(value, _ENTITIES)}</t></is></c>")


class RowSpool:
    """The rows as they come, in a temporary file (an export never holds them all)."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in splice
        self._pending: list[str] = []

    def add(self, row: str) -> None:
        self._pending.append(row)
        if len(self._pending) >= 500:
            self._flush()

    def _flush(self) -> None:
        self.file.write("".join(self._pending).encode("utf-8"))
        self._pending.clear()

    def splice(self, sheet_xml: str | Path) -> None:
        """Put the rows into the sheet file openpyxl closed (its header row in it)."""
        self._flush()
        path = Path(sheet_xml)
        written = path.read_bytes()  # small: the header row and the sheet's settings
        if b"</sheetData>" in written:
            head, tail = written.split(b"</sheetData>", 1)
        else:
            head, tail = written.replace(b"<sheetData/>", b"<sheetData>", 1).split(
                b"<sheetData>", 1)
            head += b"<sheetData>"
        with path.open("wb") as out:
            out.write(head)
            self.file.seek(0)
            shutil.copyfileobj(self.file, out, 1 << 20)
            out.write(b"</sheetData>" + tail)
        self.file.close()
