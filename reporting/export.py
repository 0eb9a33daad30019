"""Spreadsheets for the ward office: one month's figures, or a year at a glance.

Cells hold real numbers, dates and times (in the ward's local time, without a zone,
as Excel expects) with Excel number formats, so the office can sum and chart them;
Excel shows them with the separators of the reader's locale. Target values come from
`reporting.digest_load.build_digest`, so the export always agrees with the digest.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed
from reporting.answers import canonical_number, format_value
from reporting.config import Indicator, IndicatorType, Settings
from reporting.digest import GroupReport
from reporting.digest_load import build_digest, deed_lines, group_reports, previous, ward_months
from reporting.export_cells import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    INT_FORMAT,
    PERCENT_FORMAT,
    Cell,
    Num,
)
from reporting.export_targets import target_rows
from reporting.lineage import origin_note
from reporting.periods import PeriodDates, parse_key, period_dates
from reporting.soft_checks import flag_notes
from reporting.yearly import LATE, MISSING, ON_TIME, GroupYear, YearSummary, year_summary

LANG = "vi"

FLAGGED = "Số liệu cần lưu ý"  # figures a soft check asked the leader about
STATES = {"submitted": "Đã gửi", "draft": "Đang soạn", "missing": "Chưa báo cáo"}
DEED_STATUSES: dict[str, str] = {
    DeedStatus.DRAFT: "Đang soạn",
    DeedStatus.NEW: "Mới gửi",
    DeedStatus.FEATURED: "Nêu gương",
    DeedStatus.PROPOSED: "Đề nghị khen thưởng",
    DeedStatus.NOT_NOW: "Chưa chọn",
}
# Text starting with one of these is a formula (or becomes one) in Excel and LibreOffice:
# typed text starting so is stored as text in the workbook, quoted in the CSV.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MARKS = {ON_TIME: "Đúng hạn", LATE: "Muộn", MISSING: "—"}
FILLS = {"Đúng hạn": "E2F0D9", "Muộn": "FFF2CC", "—": "F8D7DA"}




def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        dec = Decimal(value)
    except InvalidOperation:
        return None
    return dec if dec.is_finite() else None


def indicator_cell(ind: Indicator, value: str | None) -> Cell:
    """A stored answer as a spreadsheet cell: a number, "Có"/"Không", a label or text."""
    if value is None:
        return None
    if ind.type.numeric:
        dec = _decimal(value)
        if dec is None:
            return value  # an odd stored value is shown as it is
        if ind.type is IndicatorType.INTEGER and dec == dec.to_integral_value():
            return Num(int(dec), INT_FORMAT)
        fmt = PERCENT_FORMAT if ind.type is IndicatorType.PERCENT else DECIMAL_FORMAT
        return Num(float(dec), fmt)
    if ind.type in (IndicatorType.YES_NO, IndicatorType.CHOICE):
        return format_value(ind, value, LANG)
    return value


def total_cell(ind: Indicator, values: list[str | None]) -> Cell:
    """The totals row: counts of households and people add up; a yes/no question gives
    how many groups said yes; rates and texts have no total."""
    if ind.type is IndicatorType.YES_NO:
        return f"{sum(v == 'yes' for v in values)} {format_value(ind, 'yes', LANG)}"
    if ind.type not in (IndicatorType.INTEGER, IndicatorType.DECIMAL):
        return None
    numbers = [d for v in values if (d := _decimal(v)) is not None]
    if not numbers:
        return None
    total = sum(numbers, Decimal(0))
    if ind.type is IndicatorType.INTEGER and total == total.to_integral_value():
        return Num(int(total), INT_FORMAT)
    return Num(float(total), DECIMAL_FORMAT)


def header(ind: Indicator) -> str:
    label = ind.label.get(LANG)
    return f"{label} ({ind.unit.get(LANG)})" if ind.unit else label


def _shown_length(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, Num):
        return len(f"{value.value:,.1f}") if isinstance(value.value, float) else \
            len(f"{value.value:,}")
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def _set_text(cell: XlCell | MergedCell, value: str | int | float | None) -> None:
    """Put `value` in `cell`; text that looks like a formula stays text (openpyxl would
    otherwise store "=..." as a live formula), marked to show as typed in Excel."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def add_sheet(wb: Workbook, title: str, headers: Sequence[str],
              rows: Sequence[Sequence[Cell]], *, wide: int = 50) -> Worksheet:
    """A sheet with a bold, frozen header row, filters and widths fitted to the content."""
    ws: Worksheet = wb.create_sheet(title)
    for c, title_text in enumerate(headers, start=1):
        _set_text(ws.cell(row=1, column=c), title_text)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Num):
                cell.value, cell.number_format = value.value, value.fmt
            elif isinstance(value, datetime):
                cell.value, cell.number_format = value, DATETIME_FORMAT
            elif isinstance(value, date):
                cell.value, cell.number_format = value, DATE_FORMAT
            else:
                _set_text(cell, value)
                if isinstance(value, str) and len(value) > wide:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    for c, title_text in enumerate(headers, start=1):
        longest = max([_shown_length(row[c - 1]) for row in rows if c - 1 < len(row)],
                      default=0)
        # Long headers wrap; the column fits the data, at least a readable part of the header.
        width = max(longest, min(len(title_text), 24), 6) + 2
        ws.column_dimensions[get_column_letter(c)].width = min(width, wide + 2)
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
    return ws


def _new_workbook(title: str) -> Workbook:
    wb = Workbook()
    for ws in list(wb.worksheets):
        wb.remove(ws)
    wb.properties.title = title
    wb.properties.creator = "Thi Đua Bot"
    return wb


def _local(moment: datetime | None, settings: Settings) -> datetime | None:
    """A UTC moment as the ward's wall-clock time without a zone (Excel has none)."""
    if moment is None:
        return None
    return moment.astimezone(settings.ward.tz).replace(tzinfo=None)


async def period_deed_ids(session: AsyncSession, settings: Settings,
                          period: PeriodDates) -> set[int]:
    """The good deeds a month's workbook lists (see `_deed_rows`)."""
    since = settings.ward.start_of(date(period.year, period.month, 1))
    until = settings.ward.start_of(period.locks_on)
    return set(await session.scalars(select(GoodDeed.id).where(
        GoodDeed.submitted_at >= since, GoodDeed.submitted_at < until)))


async def _deed_rows(session: AsyncSession, settings: Settings, period: PeriodDates,
                     media: Path) -> list[list[Cell]]:
    """Good deeds submitted from the 1st of the month until the period locks (local
    time), in the order they came: the month and its reporting window, so deeds sent
    with the month's report are in it (those of the 1st-9th also appear next month)."""
    ids = await period_deed_ids(session, settings, period)
    since = settings.ward.start_of(date(period.year, period.month, 1))
    statuses: list[DeedStatus] = [s for s in DeedStatus if s is not DeedStatus.DRAFT]
    lines = await deed_lines(session, settings, statuses, since=since, limit=100_000)
    return [[d.id, d.subject, d.group, d.category, d.description, d.happened_on,
             DEED_STATUSES.get(d.status, d.status),
             ", ".join(str(media / p) for p in d.photos) or None]
            for d in lines if d.id in ids]


async def _flag_notes(session: AsyncSession, settings: Settings, period: PeriodDates,
                      groups: list[GroupReport]) -> dict[str, str | None]:
    """Group code → its "Số liệu cần lưu ý": values a soft check asked the leader about."""
    if not any(g.flagged for g in groups):
        return {}
    last = await group_reports(session, previous(period, settings).key)
    before = {g.code: g.values for g in last}
    by_code = {i.code: i for i in settings.report.indicators}
    return {g.code: flag_notes(g.flagged, {
        code: (ind.short_label(LANG), format_value(ind, before.get(g.code, {}).get(code), LANG),
               format_value(ind, g.values.get(code), LANG))
        for code, ind in by_code.items()}) for g in groups}


async def period_workbook(session: AsyncSession, settings: Settings, period_key: str,
                          today: date, *, media_dir: str | Path | None = None) -> Workbook:
    """One month: group figures, ward figures, targets, good deeds and submissions.

    Photo paths are given under `media_dir`: the folder beside the workbook where
    `thidua export` writes the month's photos (default: `thidua-<period>-anh`, where
    `thidua export --period <period>` puts them, so /xuat names the same files).
    Raises ValueError for a malformed period key.
    """
    year, month = parse_key(period_key)
    period = period_dates(settings.calendar, year, month)
    digest = await build_digest(session, settings, period, today, values=True)
    notes = await _flag_notes(session, settings, period, digest.groups)
    wb = _new_workbook(f"Thi đua {settings.ward.name} tháng {period.label}")

    indicators = settings.report.indicators
    submitted = [g for g in digest.groups if g.submitted]
    add_sheet(wb, "Số liệu tổ", ["Mã tổ", "Tên tổ", "Trạng thái",
                                 *(header(i) for i in indicators), FLAGGED],
              [*([g.code, g.name, STATES[g.state],
                  # Only submitted figures, as in the digest: a draft is still being typed.
                  *(indicator_cell(i, g.values.get(i.code)) if g.submitted else None
                    for i in indicators),
                  notes.get(g.code) if g.submitted else None]
                 for g in digest.groups),
               [None, "Tổng cộng", f"{len(submitted)}/{len(digest.groups)} đã gửi",
                *(total_cell(i, [g.values.get(i.code) for g in submitted])
                  for i in indicators),
                f"{sum(1 for g in submitted if g.flagged)} tổ"]])

    ward_ds = settings.datasets.get("ward_progress")
    ward_rows: list[list[Cell]] = []
    if ward_ds is not None:
        figures = (await ward_months(session, year, month))[-1]
        ward_rows = [[i.code, i.label.get(LANG), indicator_cell(i, figures.get(i.code)),
                      i.unit.get(LANG) if i.unit else None] for i in ward_ds.indicators]
    add_sheet(wb, "Số liệu phường", ["Mã", "Chỉ tiêu", "Giá trị", "Đơn vị"], ward_rows)

    add_sheet(wb, "Chỉ tiêu", ["Mã", "Chỉ tiêu", "Giá trị", "Yêu cầu", "Mức kế hoạch",
                               "Đơn vị", "Kết quả", "Dựa trên", "Tháng trước"],
              target_rows(digest.targets))

    add_sheet(wb, "Gương người tốt", ["Mã", "Người, tập thể", "Tổ", "Lĩnh vực", "Nội dung",
                                      "Ngày", "Trạng thái", "Ảnh"],
              await _deed_rows(session, settings, period,
                               Path(media_dir or f"thidua-{period_key}-anh")), wide=60)

    add_sheet(wb, "Nộp báo cáo", ["Mã tổ", "Tên tổ", "Trạng thái", "Thời điểm gửi",
                                  "Người gửi", "Hạn nộp", "Số lần sửa"],
              [[g.code, g.name, STATES[g.state],
                _local(g.submitted_at, settings) if g.submitted else None,
                g.submitted_by if g.submitted else None,
                ("Muộn" if g.late else "Đúng hạn") if g.submitted else None,
                g.corrections]
               for g in digest.groups])
    return wb


def _named(g: GroupYear) -> str:
    """"Tổ 13 (hợp nhất từ Tổ 11, Tổ 12 từ 07/2022)": where a row's months come from."""
    note = origin_note(list(g.origins))
    return f"{g.name} ({note})" if note else g.name


def _year_sheets(wb: Workbook, summary: YearSummary) -> None:
    year = summary.year
    add_sheet(wb, f"Tổng kết năm {year}",
              ["Mã tổ", "Tên tổ", "Số tháng đúng hạn", "Số tháng muộn", "Số tháng thiếu",
               "Chỉ tiêu đạt", "Chỉ tiêu có số liệu", "Gương đã gửi", "Gương được nêu",
               "Gương đề nghị khen thưởng"],
              [[g.code, _named(g), g.count(ON_TIME), g.count(LATE), g.count(MISSING),
                g.targets_met, g.targets_known, g.deeds_submitted, g.deeds_featured,
                g.deeds_proposed] for g in summary.groups])
    ws = add_sheet(wb, f"Nộp báo cáo năm {year}",
                   ["Mã tổ", "Tên tổ", *(f"{m:02d}/{year}" for m in range(1, 13))],
                   [[g.code, _named(g), *(MARKS.get(g.months[m], "") for m in range(1, 13))]
                    for g in summary.groups])
    for row in ws.iter_rows(min_row=2, min_col=3):
        for cell in row:
            color = FILLS.get(str(cell.value))
            if color:
                cell.fill = PatternFill("solid", fgColor=color)
            cell.alignment = Alignment(horizontal="center")


async def year_workbook(session: AsyncSession, settings: Settings, year: int,
                        today: date) -> Workbook:
    """A year per group: months on time, late and missing, targets met, good deeds.

    Months are counted missing once their period has locked by `today` (all twelve
    once the year is over); a group's targets are measured on its own submitted
    reports of the year (see `reporting.yearly`).
    """
    summary = await year_summary(session, settings, year, today)
    wb = _new_workbook(f"Thi đua {settings.ward.name} năm {year}")
    _year_sheets(wb, summary)
    return wb


def slug(text: str) -> str:
    """"Số liệu tổ" → "so-lieu-to": a file-name-safe ASCII form."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "sheet"


def _csv_text(value: object) -> str:
    """Plain machine-readable values: 1234, 98.5, 2022-04-03 09:00:00. Text that a
    spreadsheet would take for a formula ("=...", "+...", "-...", "@...") gets a leading
    "'" so it opens as text (the usual CSV-injection guard)."""
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


def write_csv(workbook: Workbook, out: Path) -> list[Path]:
    """One CSV per sheet, `<out stem>-<sheet slug>.csv` beside `out`, in UTF-8 with a BOM
    so Excel reads the Vietnamese text correctly. Returns the paths written."""
    paths = []
    for ws in workbook.worksheets:
        path = out.with_name(f"{out.stem}-{slug(ws.title)}.csv")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in ws.iter_rows(values_only=True):
            writer.writerow([_csv_text(v) for v in row])
        path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
        paths.append(path)
    return paths


def workbook_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
