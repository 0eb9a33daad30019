"""Spreadsheets for the ward office: one month's figures, or a year at a glance.

Cells hold real numbers, dates and times (in the ward's local time, without a zone,
as Excel expects) with Excel number formats, so the office can sum and chart them;
Excel shows them with the separators of the reader's locale. Target values come from
`reporting.digest_load.target_results`, the part of `build_digest` that judges the plan,
so the export always agrees with the digest.

A month is written as it is read (`write_period` into a `reporting.export_book` book):
the groups stream from the database (`reporting.export_groups`) into the workbook's
write-only sheets or the CSV files, so 15,000 groups never sit in memory as cells.
openpyxl is imported only when a workbook is made (it pulls in numpy when present).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeedStatus, GoodDeed
from reporting.answers import format_value
from reporting.config import Indicator, IndicatorType, Settings
from reporting.digest import TargetResult
from reporting.digest_load import deed_lines, previous, target_results, ward_months
from reporting.export_book import (
    FORMULA_START,
    WIDE,
    Book,
    CsvBook,
    Exported,
    XlsxBook,
    fitted_widths,
    slug,
    width_for,
    workbook_bytes,
    write_csv,
)
from reporting.export_cells import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    INT_FORMAT,
    PERCENT_FORMAT,
    Cell,
    Mark,
    Num,
)
from reporting.export_groups import (
    Totals,
    flagged_before,
    notes_of,
    sizes,
    stream_groups,
)
from reporting.export_groups import decimal_of as _decimal
from reporting.export_targets import judged_beside, target_rows
from reporting.lineage import origin_note
from reporting.periods import PeriodDates, parse_key, period_dates
from reporting.yearly import LATE, MISSING, ON_TIME, GroupYear, YearSummary, year_summary

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["CsvBook", "Exported", "XlsxBook", "period_workbook", "slug", "workbook_bytes",
           "write_csv", "write_period", "write_year", "year_workbook"]

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
MARKS = {ON_TIME: "Đúng hạn", LATE: "Muộn", MISSING: "—"}
FILLS = {"Đúng hạn": "E2F0D9", "Muộn": "FFF2CC", "—": "F8D7DA"}
# The widest a figure of each kind is shown ("1,234,567", "98.6"): a streamed column is
# sized before its numbers are seen.
SHOWN_WIDTH = {IndicatorType.INTEGER: 9, IndicatorType.DECIMAL: 11, IndicatorType.PERCENT: 6}


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


# Figures as the bot stores most of them: digits, a minus, a point. For these, int() and
# float() give what the Decimal of `indicator_cell` gives (both round the same decimal
# number to the nearest float), without it.
_WHOLE = re.compile(r"[0-9]+")
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def cell_maker(ind: Indicator) -> Callable[[str | None], Cell]:
    """`indicator_cell` for one indicator, its kind looked at once: the group sheet
    makes 15,000 cells a column. Plain figures skip the Decimal; an answer's label is
    worked out once per answer; anything else goes through `indicator_cell`."""
    kind = ind.type
    if kind is IndicatorType.INTEGER:
        def whole(value: str | None) -> Cell:
            if value is not None and _WHOLE.fullmatch(value):
                return Num(int(value), INT_FORMAT)
            return indicator_cell(ind, value)
        return whole
    if kind.numeric:
        fmt = PERCENT_FORMAT if kind is IndicatorType.PERCENT else DECIMAL_FORMAT

        def fraction(value: str | None) -> Cell:
            if value is not None and _PLAIN.fullmatch(value):
                return Num(float(value), fmt)
            return indicator_cell(ind, value)
        return fraction
    if kind in (IndicatorType.YES_NO, IndicatorType.CHOICE):
        labels: dict[str, Cell] = {}

        def label(value: str | None) -> Cell:
            if value is None:
                return None
            shown = labels.get(value)
            if shown is None:
                shown = labels[value] = indicator_cell(ind, value)
            return shown
        return label
    return lambda value: value


def header(ind: Indicator) -> str:
    label = ind.label.get(LANG)
    return f"{label} ({ind.unit.get(LANG)})" if ind.unit else label


def _indicator_width(ind: Indicator) -> int:
    """How wide an indicator's answers are shown, known from config alone: its kind of
    number, the longest of its choices ("Có"/"Không", "Tốt"…), free text at the cap."""
    if ind.type in (IndicatorType.YES_NO, IndicatorType.CHOICE):
        shown = [format_value(ind, v, LANG) or "" for v in ("yes", "no")] + \
            [c.label.get(LANG) for c in getattr(ind, "choices", None) or []]
        # The totals row's "12 Có" is a count and a label.
        return max((len(x) for x in shown), default=0) + 7
    return SHOWN_WIDTH.get(ind.type, WIDE)


def add_sheet(wb: Workbook, title: str, headers: Sequence[str],
              rows: Sequence[Sequence[Cell]], *, wide: int = WIDE) -> Worksheet:
    """A sheet of an ordinary (in-memory) workbook, laid out as the streamed ones: bold,
    frozen header row, filters, widths fitted to the content (the review's workbook,
    which edits its sheets after)."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws: Worksheet = wb.create_sheet(title)
    for r, row in enumerate([headers, *rows], start=1):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            if isinstance(value, Num):
                cell.value, cell.number_format = value.value, value.fmt
            elif isinstance(value, datetime):
                cell.value, cell.number_format = value, DATETIME_FORMAT
            elif isinstance(value, date):
                cell.value, cell.number_format = value, DATE_FORMAT
            else:
                cell.value = value.text if isinstance(value, Mark) else value
                if isinstance(value, str) and value.startswith(FORMULA_START):
                    cell.data_type, cell.quotePrefix = "s", True
                if isinstance(value, str) and len(value) > wide:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for c, width in enumerate(fitted_widths(headers, rows, wide), start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = ws.dimensions
    return ws


def _fitted(book: Book, title: str, headers: Sequence[str], rows: Sequence[Sequence[Cell]],
            *, wide: int = WIDE, at: int | None = None) -> None:
    """A sheet whose few rows are in memory already: fitted to them, then written."""
    sheet = book.sheet(title, headers, fitted_widths(headers, rows, wide), wide=wide, at=at)
    for row in rows:
        sheet.append(row)


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


def period_title(settings: Settings, period: PeriodDates) -> str:
    return f"Thi đua {settings.ward.name} tháng {period.label}"


async def write_period(session: AsyncSession, settings: Settings, period_key: str,
                       today: date, book: Book, *,
                       media_dir: str | Path | None = None) -> None:
    """One month into `book`: group figures, ward figures, targets, good deeds and
    submissions; the two group sheets filled together as the groups stream past.

    Photo paths are given under `media_dir`: the folder beside the workbook where
    `thidua export` writes the month's photos (default: `thidua-<period>-anh`, where
    `thidua export --period <period>` puts them, so /xuat names the same files).
    Raises ValueError for a malformed period key.
    """
    year, month = parse_key(period_key)
    period = period_dates(settings.calendar, year, month)
    # Of the digest only its targets: the rest of it (each group's state, the deeds to
    # show) is no part of the workbook. Judged beside the stream where it can be.
    judging = judged_beside(session, settings, period)
    try:
        await _write_month(session, settings, period, book, media_dir, judging)
    finally:
        if judging is not None:  # awaited already, unless the stream failed
            if not judging.done():
                judging.cancel()
            # The stream's failure is the one to tell; the judging's own is retrieved
            # here so that it is not reported later as "never retrieved".
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await judging


async def _write_month(session: AsyncSession, settings: Settings, period: PeriodDates,
                       book: Book, media_dir: str | Path | None,
                       judging: asyncio.Task[list[TargetResult]] | None) -> None:
    # Everything else that is not streamed is read first: a streamed result holds the
    # session's connection until its last row.
    ward_ds = settings.datasets.get("ward_progress")
    ward_rows: list[list[Cell]] = []
    if ward_ds is not None:
        figures = (await ward_months(session, period.year, period.month))[-1]
        ward_rows = [[i.code, i.label.get(LANG), indicator_cell(i, figures.get(i.code)),
                      i.unit.get(LANG) if i.unit else None] for i in ward_ds.indicators]
    deeds = await _deed_rows(session, settings, period,
                             Path(media_dir or f"thidua-{period.key}-anh"))
    size = await sizes(session, period.key)
    before = await flagged_before(session, period.key, previous(period, settings).key)

    indicators = settings.report.indicators
    code_w = width_for("Mã tổ", size.code)
    name_w = width_for("Tên tổ", max(size.name, len("Tổng cộng")))
    state_w = width_for("Trạng thái", max(max(len(s) for s in STATES.values()),
                                          len(f"{size.groups}/{size.groups} đã gửi")))
    group_heads = ["Mã tổ", "Tên tổ", "Trạng thái", *(header(i) for i in indicators), FLAGGED]
    group_sheet = book.sheet("Số liệu tổ", group_heads, [
        code_w, name_w, state_w,
        *(width_for(header(i), _indicator_width(i)) for i in indicators),
        width_for(FLAGGED, WIDE)])
    _fitted(book, "Số liệu phường", ["Mã", "Chỉ tiêu", "Giá trị", "Đơn vị"], ward_rows)
    _fitted(book, "Gương người tốt", ["Mã", "Người, tập thể", "Tổ", "Lĩnh vực", "Nội dung",
                                      "Ngày", "Trạng thái", "Ảnh"], deeds, wide=60)
    sub_heads = ["Mã tổ", "Tên tổ", "Trạng thái", "Thời điểm gửi", "Người gửi", "Hạn nộp",
                 "Số lần sửa"]
    sub_sheet = book.sheet("Nộp báo cáo", sub_heads, [
        code_w, width_for("Tên tổ", size.name), state_w, width_for("Thời điểm gửi", 16),
        width_for("Người gửi", size.submitter), width_for("Hạn nộp", len("Đúng hạn")),
        width_for("Số lần sửa", 3)])

    totals = Totals(indicators)
    cells = [(i.code, cell_maker(i)) for i in indicators]
    blank = [None] * len(indicators)
    async for g in stream_groups(session, period.key):
        totals.add(g)
        done = g.submitted
        values = g.values
        group_sheet.append([
            g.code, g.name, STATES[g.state],
            # Only submitted figures, as in the digest: a draft is still being typed.
            *([cell(values.get(code)) for code, cell in cells] if done else blank),
            notes_of(g, before.get(g.code, {}), settings) if done else None])
        sub_sheet.append([g.code, g.name, STATES[g.state],
                          _local(g.submitted_at, settings) if done else None,
                          g.submitted_by if done else None,
                          ("Muộn" if g.late else "Đúng hạn") if done else None,
                          g.corrections])
    group_sheet.append([None, "Tổng cộng", f"{totals.submitted}/{totals.groups} đã gửi",
                        *(totals.cell(i) for i in indicators), f"{totals.flagged} tổ"])
    judged = await judging if judging is not None else \
        await target_results(session, settings, period)
    # Third, after the ward's figures, though made last (its widths fit its rows).
    _fitted(book, "Chỉ tiêu", ["Mã", "Chỉ tiêu", "Giá trị", "Yêu cầu", "Mức kế hoạch",
                               "Đơn vị", "Kết quả", "Dựa trên", "Tháng trước"],
            target_rows(judged), at=2)


async def period_workbook(session: AsyncSession, settings: Settings, period_key: str,
                          today: date, *, media_dir: str | Path | None = None) -> Exported:
    """`write_period` into an .xlsx in memory: its bytes (/xuat sends them as they are),
    readable as a workbook by callers that look inside."""
    year, month = parse_key(period_key)
    book = XlsxBook(period_title(settings, period_dates(settings.calendar, year, month)))
    await write_period(session, settings, period_key, today, book, media_dir=media_dir)
    return Exported(book.data())


def _named(g: GroupYear) -> str:
    """"Tổ 13 (hợp nhất từ Tổ 11, Tổ 12 từ 07/2022)": where a row's months come from."""
    note = origin_note(list(g.origins))
    return f"{g.name} ({note})" if note else g.name


def _year_sheets(book: Book, summary: YearSummary) -> None:
    year = summary.year
    _fitted(book, f"Tổng kết năm {year}",
            ["Mã tổ", "Tên tổ", "Số tháng đúng hạn", "Số tháng muộn", "Số tháng thiếu",
             "Chỉ tiêu đạt", "Chỉ tiêu có số liệu", "Gương đã gửi", "Gương được nêu",
             "Gương đề nghị khen thưởng"],
            [[g.code, _named(g), g.count(ON_TIME), g.count(LATE), g.count(MISSING),
              g.targets_met, g.targets_known, g.deeds_submitted, g.deeds_featured,
              g.deeds_proposed] for g in summary.groups])
    _fitted(book, f"Nộp báo cáo năm {year}",
            ["Mã tổ", "Tên tổ", *(f"{m:02d}/{year}" for m in range(1, 13))],
            [[g.code, _named(g),
              *(Mark(MARKS[g.months[m]], FILLS[MARKS[g.months[m]]]) if g.months[m] in MARKS
                else None for m in range(1, 13))]
             for g in summary.groups])


async def write_year(session: AsyncSession, settings: Settings, year: int, today: date,
                     book: Book) -> None:
    """A year per group: months on time, late and missing, targets met, good deeds.

    Months are counted missing once their period has locked by `today` (all twelve
    once the year is over); a group's targets are measured on its own submitted
    reports of the year (see `reporting.yearly`).
    """
    _year_sheets(book, await year_summary(session, settings, year, today))


def year_title(settings: Settings, year: int) -> str:
    return f"Thi đua {settings.ward.name} năm {year}"


async def year_workbook(session: AsyncSession, settings: Settings, year: int,
                        today: date) -> Exported:
    """`write_year` into an .xlsx in memory (see `period_workbook`)."""
    book = XlsxBook(year_title(settings, year))
    await write_year(session, settings, year, today, book)
    return Exported(book.data())
