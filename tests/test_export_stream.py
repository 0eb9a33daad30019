"""The streamed month export at a generated size: every group's row, once, in order,
with its own figures, across many fetch batches (made tiny here), in the workbook and
in the CSV files alike."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.assembly import open_services
from models import Report, ReportStatus, ReportValue
from models.queries import ensure_period
from reporting import export_groups
from reporting.config import Group as GroupConfig
from reporting.config import Settings
from reporting.export import CsvBook, XlsxBook, write_period
from reporting.periods import period_dates
from tests.conftest import Clock

GROUPS = 640
MARCH = "2022-03"
AT = datetime(2022, 4, 2, 2, 0, tzinfo=UTC)  # 9:00 in the ward


def state_of(i: int) -> str:
    return "missing" if i % 10 == 0 else "draft" if i % 10 == 1 else "submitted"


async def fill(app_settings: Settings, url: str, clock: Clock) -> None:
    async with open_services(app_settings, url, clock=clock, migrate=False) as app, \
            app.sessions() as s, s.begin():
        period = await ensure_period(s, *period_dates(app_settings.calendar, 2022, 3).row)
        reports: list[dict[str, object]] = []
        values: list[dict[str, object]] = []
        for i in range(1, GROUPS + 1):
            if state_of(i) == "missing":
                continue
            rid = len(reports) + 1
            submitted = state_of(i) == "submitted"
            reports.append({
                "id": rid, "group_id": i, "period_id": period.id, "dataset": "group_monthly",
                "status": ReportStatus.SUBMITTED if submitted else ReportStatus.DRAFT,
                "late": i % 7 == 0, "submitted_at": AT if submitted else None,
                "created_at": AT, "updated_at": AT})
            # A draft's figures are typed but must not show: 9 999 would stand out.
            households = i if submitted else 9_999
            for code, value in (("households", str(households)), ("residents", str(3 * i)),
                                ("safe_area", "yes" if i % 2 == 0 else "no")):
                values.append({"report_id": rid, "indicator": code, "value": value,
                               "number": Decimal(value) if value.isdigit() else None,
                               "updated_at": AT})
        await s.execute(insert(Report), reports)
        await s.execute(insert(ReportValue), values)


@pytest.fixture
def ward(settings: Settings) -> Settings:
    made = [GroupConfig(code=f"g-{i:04d}", name=f"Tổ {i}") for i in range(1, GROUPS + 1)]
    return settings.model_copy(update={"groups": made})


async def test_every_group_streams_into_both_sheets_and_the_totals(
        ward: Settings, db_url: str, clock: Clock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_groups, "BATCH", 7)  # groups a batch: 92 batches
    await fill(ward, db_url, clock)
    submitted = [i for i in range(1, GROUPS + 1) if state_of(i) == "submitted"]
    async with open_services(ward, db_url, clock=clock, migrate=False) as app:
        book = XlsxBook("test")
        async with app.sessions() as s:
            await write_period(s, ward, MARCH, date(2022, 4, 7), book)
        csv_book = CsvBook(tmp_path / "thang-3.csv")
        async with app.sessions() as s:
            await write_period(s, ward, MARCH, date(2022, 4, 7), csv_book)
        paths = csv_book.close()

    wb = load_workbook(BytesIO(book.data()))
    rows = list(wb["Số liệu tổ"].iter_rows(min_row=2, values_only=True))
    *groups, total = rows
    assert [r[0] for r in groups] == [f"g-{i:04d}" for i in range(1, GROUPS + 1)]
    states = {"submitted": "Đã gửi", "draft": "Đang soạn", "missing": "Chưa báo cáo"}
    for i, row in enumerate(groups, start=1):
        assert row[2] == states[state_of(i)], row
        # households, then cultured families (not given), then residents
        assert row[3:6] == ((i, None, 3 * i) if state_of(i) == "submitted"
                            else (None, None, None)), row
    assert total[2] == f"{len(submitted)}/{GROUPS} đã gửi"
    assert total[3] == sum(submitted) and total[5] == 3 * sum(submitted)
    safe = 3 + [i.code for i in ward.report.indicators].index("safe_area")
    assert total[safe] == f"{sum(1 for i in submitted if i % 2 == 0)} Đạt"

    sent = list(wb["Nộp báo cáo"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in sent] == [f"g-{i:04d}" for i in range(1, GROUPS + 1)]
    assert sum(1 for r in sent if r[5] == "Muộn") == sum(1 for i in submitted if i % 7 == 0)
    assert all(r[3] == datetime(2022, 4, 2, 9, 0) for r in sent if r[2] == "Đã gửi")
    sheet = wb["Số liệu tổ"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{GROUPS + 2}"

    with paths[0].open(encoding="utf-8-sig", newline="") as f:
        from_csv = list(csv.reader(f))
    assert len(from_csv) == GROUPS + 2 and from_csv[0][0] == "Mã tổ"
    assert [r[0] for r in from_csv[1:-1]] == [r[0] for r in groups]
    assert from_csv[-1][3] == str(sum(submitted))
