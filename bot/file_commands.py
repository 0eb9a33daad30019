"""The `thidua` subcommands that write files: `export`, `document` and `review`.

Each opens the services as the other subcommands do (`bot.subcommands.cli_services`),
reads in one session and writes what it made; a bad argument is one line on stderr and
exit 2, a file that cannot be written one line and exit 1. The paths written are
printed one a line, so a script can pick them up.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.cli_open import cli_services, environment
from bot.settings import Environment
from reporting.config import Settings

# Imported by openpyxl when installed, and no use to the export (see below).
_UNUSED_BY_OPENPYXL = ("numpy", "PIL")


def _openpyxl_without_numpy() -> None:
    """Import openpyxl as if numpy and Pillow were absent, unless either is loaded.

    openpyxl imports numpy (when installed) only to accept numpy scalars as cell values
    (`openpyxl.compat.numbers`), and Pillow only to put pictures in a sheet
    (`openpyxl.drawing.image`); the export writes Python ints, floats and strings, no
    picture, and numpy was a fifth of the command's import time. A None in
    `sys.modules` makes such an import fail as if the package were not installed; the
    entries are removed at once, so both stay importable for whatever comes later. Only
    in this one-shot CLI command, single-threaded here: in the running bot a chart
    importing numpy in another thread at that moment would fail."""
    if "openpyxl" in sys.modules or any(name in sys.modules for name in _UNUSED_BY_OPENPYXL):
        return
    for name in _UNUSED_BY_OPENPYXL:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import openpyxl  # noqa: F401
    finally:
        for name in _UNUSED_BY_OPENPYXL:
            del sys.modules[name]


async def export(settings: Settings, *, period: str | None = None, year: int | None = None,
                 fmt: str | None = None, out: Path | None = None,
                 env: Environment | None = None) -> int:
    """`thidua export --period 2022-03` / `--year 2022`: an Excel workbook or CSV files."""
    _openpyxl_without_numpy()
    from reporting.export import (
        CsvBook,
        XlsxBook,
        period_deed_ids,
        period_title,
        write_period,
        write_year,
        year_title,
    )
    from reporting.media import write_photos
    from reporting.periods import parse_key, period_dates

    if period is not None:
        try:
            parse_key(period)
        except ValueError:
            print(f"Not a period: {period!r}. Use YYYY-MM, e.g. --period 2022-03",
                  file=sys.stderr)
            return 2
        name = f"thidua-{period}"
    elif year is not None and 2000 <= year <= 2100:
        name = f"thidua-{year}"
    else:
        print(f"Not a year: {year!r}. Use e.g. --year 2022", file=sys.stderr)
        return 2
    if fmt is None:
        fmt = "csv" if out is not None and out.suffix.lower() == ".csv" else "xlsx"
    target = out or Path(f"{name}.{fmt}")
    # The month's good-deed photos go beside the workbook, which names them relative to it.
    photos = Path(f"{target.stem}-anh")
    written_photos = 0
    csv_book = CsvBook(target) if fmt == "csv" else None
    try:
        async with cli_services(settings, environment(env)) as services, \
                services.sessions() as session:
            today = services.clock().astimezone(settings.ward.tz).date()
            if period is not None:
                month = period_dates(settings.calendar, *parse_key(period))
                # Rows go to the files as they are read (`reporting.export_book`); an
                # .xlsx is put together from its spooled sheets when saved.
                book = csv_book or XlsxBook(period_title(settings, month))
                await write_period(session, settings, period, today, book, media_dir=photos)
                deeds = await period_deed_ids(session, settings, month)
                try:
                    written_photos = await write_photos(session, deeds, target.parent / photos,
                                                        services.media)
                except OSError as exc:
                    print(f"Cannot write {target.parent / photos}: {exc.strerror or exc}",
                          file=sys.stderr)
                    return 1
            else:
                assert year is not None
                book = csv_book or XlsxBook(year_title(settings, year))
                await write_year(session, settings, year, today, book)
        if isinstance(book, XlsxBook):
            book.save(target)
            written = [target]
        else:
            written = book.close()
    except OSError as exc:
        print(f"Cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        if csv_book is not None:
            csv_book.close()
    for path in written:
        print(path)
    if written_photos:
        print(target.parent / photos)
    return 0


async def document(settings: Settings, *, period: str, out: Path | None = None,
                   env: Environment | None = None) -> int:
    """`thidua document --period 2022-H1`: the report on a span as a .docx, dated today."""
    from reporting.doc_report import report_document, report_file_name
    from reporting.spans import parse_span

    try:
        span = parse_span(period)
    except ValueError:
        print(f"Not a period: {period!r}. Use 2022-03, 2022-Q2, 2022-H1, 2022-H2 or 2022",
              file=sys.stderr)
        return 2
    target = out or Path(report_file_name(span))
    async with cli_services(settings, environment(env)) as services, \
            services.sessions() as session:
        today = services.clock().astimezone(settings.ward.tz).date()
        data = await report_document(session, settings, span, today)
    try:
        target.write_bytes(data)
    except OSError as exc:
        print(f"Cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


def _write_files(folder: Path, files: list[tuple[str, bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (folder / name).write_bytes(data)


async def review(settings: Settings, *, year: str, out_dir: Path = Path("."),
                 env: Environment | None = None) -> int:
    """`thidua review --year 2022`: the review's workbook and draft Tờ trình in `out_dir`,
    their paths printed one a line. The year is judged on today's data: before
    December's period locks the files say "tạm tính"."""
    from reporting.review_docs import review_files

    text = year.strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4
            and 2000 <= int(text) <= 2100):
        print(f"Not a year: {year!r}. Use e.g. --year 2022", file=sys.stderr)
        return 2
    async with cli_services(settings, environment(env)) as services, \
            services.sessions() as session:
        today = services.clock().astimezone(settings.ward.tz).date()
        if int(text) > today.year:
            print(f"The year {text} has not begun: nothing to review yet.", file=sys.stderr)
            return 2
        files = await review_files(session, settings, int(text), today)
    try:
        await asyncio.to_thread(_write_files, out_dir, files)
    except OSError as exc:
        print(f"Cannot write to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for name, _ in files:
        print(out_dir / name)
    return 0
