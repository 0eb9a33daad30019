"""The ward office's spreadsheets, checked against figures worked out by hand.

March 2022 is reported through the handlers (Tổ 1 and Tổ 2 on time, Tổ 2 then
corrects a figure, Tổ 3 late, Tổ 4 leaves a draft, the rest nothing); February,
the ward's own figures and the good deeds are inserted as rows.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DeedPhoto,
    DeedStatus,
    GoodDeed,
    Member,
    Report,
    ReportStatus,
    ReportValue,
)
from models.queries import ensure_period, group_by_code
from reporting.config import Settings
from reporting.digest_load import build_digest
from reporting.export import (
    period_workbook,
    workbook_bytes,
    write_csv,
    year_workbook,
)
from reporting.export_targets import verdict_text
from reporting.periods import parse_key, period_dates
from reporting.services import Services
from reporting.targets import Verdict
from tests.conftest import Clock
from tests.helpers import Person, register

MARCH = "2022-03"
GROUP_HEADERS = [
    "Mã tổ", "Tên tổ", "Trạng thái",
    "Số hộ gia đình (hộ)", "Số hộ đạt danh hiệu Gia đình văn hóa (hộ)",
    "Số nhân khẩu (người)", "Số người có thẻ Bảo hiểm y tế (người)",
    "Số người sử dụng Internet (người)", "Số trẻ em dưới 5 tuổi (trẻ)",
    "Số trẻ em dưới 6 tuổi (trẻ)",
    "Tổ, bản đạt tiêu chuẩn “An toàn về an ninh trật tự”?",
    "Tổ, bản đạt đơn vị không có ma túy?",
    "Tổ, bản đạt danh hiệu Tổ dân phố văn hóa/Bản văn hóa?",
    "Vệ sinh môi trường đường, ngõ, khu dân cư trong tháng",
    "Ghi chú, kiến nghị (nếu có)",
    "Số liệu cần lưu ý",
]
NUMBERS = ["households", "cultured_families", "residents", "health_insured", "internet_users",
           "children_under_5", "children_under_6"]
YES_NO = ["safe_area", "drug_free", "cultured_group"]

# March, answered in the chat (numbers in question order, then the buttons pressed).
LAN_MARCH = ["120", "118", "450", "430", "440", "30", "40"]
HUNG_MARCH = ["100", "95", "380", "370", "300", "25", "35"]
TUAN_MARCH = ["80", "80", "300", "290", "250", "20", "28"]
# February, stored directly: numbers, yes/no answers, sanitation.
FEBRUARY = {
    "to-1": (["120", "117", "448", "425", "436", "29", "40"],
             ["yes", "yes", "yes"], "good", False),
    "to-2": (["100", "96", "380", "372", "330", "25", "34"],
             ["yes", "yes", "yes"], "fair", True),
    "to-3": (["80", "79", "298", "285", "240", "20", "27"],
             ["yes", "yes", "yes"], "good", False),
    "to-5": (["150", "150", "500", "490", "495", "40", "50"],
             ["yes", "yes", "yes"], "good", False),
}
WARD: dict[str, dict[str, str | None]] = {  # ward_progress by month (None: skipped)
    "2022-01": {"production_value": "95.5", "budget_revenue": "820", "nursery_enrolment": "60",
                "malnutrition_rate": "0.05", "new_poor_households": "1",
                "serious_incidents": "0"},
    "2022-02": {"production_value": "101.25", "new_poor_households": None},
    "2022-03": {"production_value": "110", "budget_revenue": "905.5",
                "nursery_enrolment": "67.5", "alleys_asphalted": "2",
                "vaccination_rate": "98.6", "malnutrition_rate": None,
                "serious_incidents": "1"},
}


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=7)


async def submit(p: Person, numbers: list[str], yes_no: list[str], sanitation: str,
                 notes: str | None = None) -> None:
    await p.send("/baocao")
    for text in numbers:
        await p.send(text)
    for label in yes_no:
        await p.press(label)
    await p.press(sanitation)
    if notes is None:
        await p.press("Bỏ qua")
    else:
        await p.send(notes)
    assert "Kiểm tra lại báo cáo" in p.last_text, p.last_text
    await p.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" in p.all_text, p.all_text


def _number(value: str | None) -> Decimal | None:
    return Decimal(value) if value and re.fullmatch(r"\d+(\.\d+)?", value) else None


async def insert_report(s: AsyncSession, settings: Settings, key: str, group: str | None,
                        values: dict[str, str | None], *, late: bool = False,
                        at: datetime, by: int | None = None) -> None:
    period = await ensure_period(s, *period_dates(settings.calendar, *parse_key(key)).row)
    row = await group_by_code(s, group) if group else None
    dataset = "group_monthly" if group else "ward_progress"
    report = Report(group_id=row.id if row else None, period_id=period.id, dataset=dataset,
                    status=ReportStatus.SUBMITTED, late=late, submitted_by=by,
                    submitted_at=at, created_at=at, updated_at=at)
    s.add(report)
    await s.flush()
    for code, value in values.items():
        s.add(ReportValue(report_id=report.id, indicator=code, value=value,
                          number=_number(value), updated_at=at))


async def insert_deed(s: AsyncSession, group: str, by: int, status: DeedStatus,
                      at: datetime, subject: str, photos: tuple[str, ...] = ()) -> int:
    row = await group_by_code(s, group)
    assert row is not None
    deed = GoodDeed(group_id=row.id, reported_by=by, subject_kind="person",
                    subject_name=subject, description=f"{subject} giúp đỡ hàng xóm",
                    happened_on=at.date() - timedelta(days=2), category="help_poor",
                    status=status, created_at=at,
                    submitted_at=None if status is DeedStatus.DRAFT else at)
    s.add(deed)
    await s.flush()
    for n, path in enumerate(photos):
        s.add(DeedPhoto(deed_id=deed.id, channel="test", file_id=f"f{n}", local_path=path,
                        position=n))
    return deed.id


@dataclass
class Ward:
    app: Services
    deeds: dict[str, int]


@pytest.fixture
async def ward(services: Services, clock: Clock, settings: Settings) -> Ward:
    lan = await register(services, "100", "Nguyễn Thị Lan", group="to-1")
    hung = await register(services, "200", "Trần Văn Hùng", group="to-2")
    tuan = await register(services, "300", "Lò Văn Tuấn", group="to-3")
    hoa = await register(services, "400", "Cầm Thị Hoa", group="to-4")
    await submit(lan, LAN_MARCH, ["Đạt", "Đạt", "Chưa đạt"], "Tốt")
    await submit(hung, HUNG_MARCH, ["Đạt", "Đạt", "Đạt"], "Khá", "Cần thêm đèn đường ngõ 5")
    await hung.send("/baocao")
    await hung.press("Sửa một mục")
    await hung.press("5. Dùng Internet")
    await hung.send("320")
    assert "Đã sửa" in hung.last_text, hung.last_text
    await hoa.send("/baocao")
    for text in ["90", "88", "310"]:
        await hoa.send(text)
    clock.set_local(2022, 4, 7, 10, 30)  # two days after the due date
    await submit(tuan, TUAN_MARCH, ["Chưa đạt", "Đạt", "Đạt"], "Yếu")

    deeds: dict[str, int] = {}
    async with services.sessions() as s, s.begin():
        ids = {m.display_name: m.id for m in await s.scalars(select(Member))}
        leaders = {"to-1": ids["Nguyễn Thị Lan"], "to-2": ids["Trần Văn Hùng"],
                   "to-3": ids["Lò Văn Tuấn"], "to-5": None}
        for group, (numbers, answers, sanitation, late) in FEBRUARY.items():
            values: dict[str, str | None] = {
                **dict(zip(NUMBERS, numbers, strict=True)),
                **dict(zip(YES_NO, answers, strict=True)), "sanitation": sanitation,
                "notes": None}
            await insert_report(s, settings, "2022-02", group, values, late=late,
                                at=local(2022, 3, 7 if late else 4), by=leaders[group])
        for key, figures in WARD.items():
            await insert_report(s, settings, key, None, dict(figures), at=local(2022, 4, 2))
        deeds["featured"] = await insert_deed(
            s, "to-1", ids["Nguyễn Thị Lan"], DeedStatus.FEATURED, local(2022, 3, 15),
            "Bà Lò Thị Mai", ("good-deeds/1/0.jpg", "good-deeds/1/1.jpg"))
        deeds["new"] = await insert_deed(s, "to-2", ids["Trần Văn Hùng"], DeedStatus.NEW,
                                         local(2022, 3, 31, 23, 50), "Anh Quàng Văn Nam")
        deeds["proposed"] = await insert_deed(
            s, "to-1", ids["Nguyễn Thị Lan"], DeedStatus.PROPOSED, local(2022, 2, 10),
            "Ông Cà Văn Pọm")
        deeds["window"] = await insert_deed(s, "to-2", ids["Trần Văn Hùng"],
                                            DeedStatus.NOT_NOW, local(2022, 4, 9, 23, 50),
                                            "Chị Tòng Thị Én")
        deeds["locked"] = await insert_deed(s, "to-3", ids["Lò Văn Tuấn"], DeedStatus.NEW,
                                            local(2022, 4, 10, 0, 10), "Cô Hà Thị Thu")
        deeds["draft"] = await insert_deed(s, "to-3", ids["Lò Văn Tuấn"], DeedStatus.DRAFT,
                                           local(2022, 3, 20), "Em Lường Văn Tú")
    return Ward(services, deeds)


async def march_workbook(w: Ward) -> Workbook:
    async with w.app.sessions() as s:
        wb = await period_workbook(s, w.app.settings, MARCH, date(2022, 4, 7))
    return load_workbook(BytesIO(workbook_bytes(wb)))


def rows(ws: Worksheet) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def by_code(ws: Worksheet) -> dict[str, list[Any]]:
    """Rows by their code, leaving out the totals row (it has no code)."""
    return {str(r[0]): r for r in rows(ws)[1:] if r[0] is not None}


def totals(ws: Worksheet) -> list[Any]:
    last = rows(ws)[-1]
    assert last[0] is None and str(last[1]).startswith("Tổng cộng"), last
    return last


async def test_group_and_ward_figures(ward: Ward) -> None:
    wb = await march_workbook(ward)
    assert wb.sheetnames == ["Số liệu tổ", "Số liệu phường", "Chỉ tiêu", "Gương người tốt",
                             "Nộp báo cáo"]
    ws = wb["Số liệu tổ"]
    assert rows(ws)[0] == GROUP_HEADERS
    assert ws.freeze_panes == "A2"
    groups = by_code(ws)
    assert list(groups) == [g.code for g in ward.app.settings.groups]
    assert groups["to-1"] == ["to-1", "Tổ 1", "Đã gửi", 120, 118, 450, 430, 440, 30, 40,
                              "Đạt", "Đạt", "Chưa đạt", "Tốt", None, None]
    # Tổ 2's corrected figure (300 → 320) is the one exported.
    assert groups["to-2"] == ["to-2", "Tổ 2", "Đã gửi", 100, 95, 380, 370, 320, 25, 35,
                              "Đạt", "Đạt", "Đạt", "Khá", "Cần thêm đèn đường ngõ 5", None]
    assert groups["to-3"][2:4] == ["Đã gửi", 80] and groups["to-3"][-3] == "Yếu"
    # A draft's half-typed figures are left out, as in the digest.
    assert groups["to-4"] == ["to-4", "Tổ 4", "Đang soạn", *[None] * 13]
    assert groups["ban-3"] == ["ban-3", "Bản 3", "Chưa báo cáo", *[None] * 13]
    # Issue 8: a totals row — households and people add up over the submitted groups
    # (Tổ 1, 2, 3), a yes/no question counts the groups that said yes, rates and notes
    # have none.
    total = totals(ws)
    assert total[2] == "3/15 đã gửi" and total[3] == 120 + 100 + 80
    assert total[GROUP_HEADERS.index("Ghi chú, kiến nghị (nếu có)")] is None \
        if "Ghi chú, kiến nghị (nếu có)" in GROUP_HEADERS else True
    assert [c for c in total if isinstance(c, str) and c.endswith(" Đạt")]
    households = ws.cell(row=2, column=4)
    assert type(households.value) is int and households.number_format == "#,##0"
    assert ws.column_dimensions["D"].width >= 10

    ward_sheet = by_code(wb["Số liệu phường"])
    assert rows(wb["Số liệu phường"])[0] == ["Mã", "Chỉ tiêu", "Giá trị", "Đơn vị"]
    assert ward_sheet["production_value"][1:] == ["Giá trị sản xuất trong tháng", 110,
                                                  "tỷ đồng"]
    assert ward_sheet["budget_revenue"][2] == pytest.approx(905.5)
    assert ward_sheet["nursery_enrolment"][2:] == [pytest.approx(67.5), "%"]
    assert ward_sheet["alleys_asphalted"][2] == 2
    assert ward_sheet["school_enrolment"][2] is None
    # A "when known" figure skipped in March is empty, not 0 (January's is not carried).
    assert ward_sheet["malnutrition_rate"][2] is None
    assert ward_sheet["vaccination_rate"][2:] == [pytest.approx(98.6), "%"]
    cells = {str(r[0].value): r[2] for r in wb["Số liệu phường"].iter_rows(min_row=2)}
    assert cells["nursery_enrolment"].number_format == '0.0"%"'
    assert cells["production_value"].number_format == "#,##0.0###"
    assert cells["alleys_asphalted"].number_format == "#,##0"


async def test_targets_worked_out_by_hand_and_as_in_the_digest(ward: Ward) -> None:
    wb = await march_workbook(ward)
    ws = wb["Chỉ tiêu"]
    assert rows(ws)[0] == ["Mã", "Chỉ tiêu", "Giá trị", "Yêu cầu", "Mức kế hoạch", "Đơn vị",
                           "Kết quả", "Dựa trên", "Tháng trước"]
    t = by_code(ws)
    # Submitted in March: Tổ 1, Tổ 2 (internet corrected to 320) and Tổ 3 (late).
    # Issue 8: 3 of 15 groups is below the plan's 80% coverage, so every group-based
    # target is "Tạm tính" (it was Đạt/Chưa đạt from 3 groups); a share of groups is
    # over all 15 groups (it was over the 3 that answered); drug-free groups is "keep
    # and raise" against 2021, which has no data (it was Đạt against 100%).
    expected = {
        "cultured_families_rate": ((118 + 95 + 80) / (120 + 100 + 80) * 100, "Tạm tính"),
        "health_insurance_rate": ((430 + 370 + 290) / (450 + 380 + 300) * 100, "Tạm tính"),
        "internet_rate": ((440 + 320 + 250) / (450 + 380 + 300) * 100, "Tạm tính"),
        "cultured_groups_rate": (2 / 15 * 100, "Tạm tính"),  # no, yes, yes
        "drug_free_groups": (3 / 15 * 100, "Chưa có số liệu năm trước"),
        "safe_areas": (2 / 15 * 100, "Tạm tính"),  # yes, yes, no
    }
    for code, (value, met) in expected.items():
        assert t[code][2] == pytest.approx(value), code
        assert t[code][6] == met, code
        assert t[code][7] == "3/15 tổ, bản", code
    # Issue 8: cumulative amounts are judged on pace in March (3/12 = 25% of the year),
    # not against the full year's amount (all three were "Chưa đạt").
    ward_expected = {
        # 306,75 of 1.192 = 25,7% ≥ 25%
        "production_value": (95.5 + 101.25 + 110, "Đúng tiến độ", "3/3 tháng"),
        # 1.725,5 of 10.082 = 17,1% < 25%; none in February
        "budget_revenue": (820 + 905.5, "Chậm tiến độ", "2/3 tháng"),
        "alleys_asphalted": (2, "Chậm tiến độ", "1/3 tháng"),  # 2 of 9 = 22,2%
        "nursery_enrolment": (67.5, "Đạt", "Số liệu mới nhất"),  # latest: March
        # Entered by the ward office when known; a month without them is not a zero.
        "vaccination_rate": (98.6, "Đạt", "Số liệu mới nhất"),
        "malnutrition_rate": (0.05, "Chưa đạt", "Số liệu mới nhất"),  # January's, still
        "new_poor_households": (1, "Chưa đạt", "1/3 tháng"),  # skipped in February
        "serious_incidents": (0 + 1, "Chưa đạt", "2/3 tháng"),
    }
    for code, (value, met, based) in ward_expected.items():
        assert t[code][2] == pytest.approx(value), code
        assert t[code][6:8] == [met, based], code
    assert t["school_enrolment"][2] is None
    assert t["school_enrolment"][6:8] == ["Chưa có số liệu", None]
    assert t["cultured_families_rate"][3:6] == ["≥ 98,0%", 98, "%"]  # as the digest writes it
    assert t["malnutrition_rate"][3] == "< 0,04%"
    assert t["budget_revenue"][3] == "≥ 10.082"
    # February's reports (Tổ 1, 2, 3, 5) give "last month".
    assert t["cultured_families_rate"][8] == pytest.approx(
        (117 + 96 + 79 + 150) / (120 + 100 + 80 + 150) * 100)
    cells = {str(r[0].value): r for r in ws.iter_rows(min_row=2)}
    assert cells["cultured_families_rate"][2].number_format == '#,##0.0"%"'
    assert cells["malnutrition_rate"][2].number_format == '#,##0.00"%"'
    assert cells["production_value"][2].number_format == "#,##0"

    # The same numbers as the digest, target by target.
    settings = ward.app.settings
    async with ward.app.sessions() as s:
        digest = await build_digest(s, settings, period_dates(settings.calendar, 2022, 3),
                                    date(2022, 4, 7))
    assert len(digest.targets) == len(t)
    for r in digest.targets:
        row = t[r.target.code]
        assert row[2] == (None if r.value is None else pytest.approx(float(r.value)))
        assert row[6] == verdict_text(r)
        assert row[6] == {Verdict.MET: "Đạt", Verdict.ON_TRACK: "Đúng tiến độ",
                          Verdict.BEHIND: "Chậm tiến độ", Verdict.NOT_MET: "Chưa đạt",
                          Verdict.PROVISIONAL: "Tạm tính",
                          Verdict.NO_DATA: "Chưa có số liệu năm trước"
                          if r.value is not None and r.goal is None
                          else "Chưa có số liệu"}[r.verdict]


async def test_submissions_and_good_deeds(ward: Ward) -> None:
    wb = await march_workbook(ward)
    ws = wb["Nộp báo cáo"]
    assert rows(ws)[0] == ["Mã tổ", "Tên tổ", "Trạng thái", "Thời điểm gửi", "Người gửi",
                           "Hạn nộp", "Số lần sửa"]
    sub = by_code(ws)
    assert sub["to-1"] == ["to-1", "Tổ 1", "Đã gửi", datetime(2022, 4, 3, 9, 0),
                           "Nguyễn Thị Lan", "Đúng hạn", 0]
    assert sub["to-2"] == ["to-2", "Tổ 2", "Đã gửi", datetime(2022, 4, 3, 9, 0),
                           "Trần Văn Hùng", "Đúng hạn", 1]
    assert sub["to-3"] == ["to-3", "Tổ 3", "Đã gửi", datetime(2022, 4, 7, 10, 30),
                           "Lò Văn Tuấn", "Muộn", 0]
    assert sub["to-4"] == ["to-4", "Tổ 4", "Đang soạn", None, None, None, 0]
    assert sub["to-5"] == ["to-5", "Tổ 5", "Chưa báo cáo", None, None, None, 0]
    assert ws.cell(row=2, column=4).number_format == "dd/mm/yyyy hh:mm"

    deeds = rows(wb["Gương người tốt"])
    assert deeds[0] == ["Mã", "Người, tập thể", "Tổ", "Lĩnh vực", "Nội dung", "Ngày",
                        "Trạng thái", "Ảnh"]
    # Submitted from 1 March until March locks (10 April, local time): not February's,
    # not one sent after the lock, no draft.
    # Where `thidua export --period 2022-03` writes them, beside thidua-2022-03.xlsx.
    photos = ", ".join(str(Path("thidua-2022-03-anh") / f"good-deeds/1/{n}.jpg")
                       for n in (0, 1))
    assert deeds[1:] == [
        [ward.deeds["featured"], "Bà Lò Thị Mai", "Tổ 1",
         "Giúp đỡ người nghèo, hoàn cảnh khó khăn", "Bà Lò Thị Mai giúp đỡ hàng xóm",
         datetime(2022, 3, 13), "Nêu gương", photos],
        [ward.deeds["new"], "Anh Quàng Văn Nam", "Tổ 2",
         "Giúp đỡ người nghèo, hoàn cảnh khó khăn", "Anh Quàng Văn Nam giúp đỡ hàng xóm",
         datetime(2022, 3, 29), "Mới gửi", None],
        [ward.deeds["window"], "Chị Tòng Thị Én", "Tổ 2",
         "Giúp đỡ người nghèo, hoàn cảnh khó khăn", "Chị Tòng Thị Én giúp đỡ hàng xóm",
         datetime(2022, 4, 7), "Chưa chọn", None],
    ]


async def test_csv_one_file_per_sheet(ward: Ward, tmp_path: Path) -> None:
    wb = await march_workbook(ward)
    paths = write_csv(wb, tmp_path / "thidua-2022-03.xlsx")
    assert [p.name for p in paths] == [
        "thidua-2022-03-so-lieu-to.csv", "thidua-2022-03-so-lieu-phuong.csv",
        "thidua-2022-03-chi-tieu.csv", "thidua-2022-03-guong-nguoi-tot.csv",
        "thidua-2022-03-nop-bao-cao.csv"]
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in paths)

    def read(path: Path) -> list[list[str]]:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))

    groups = read(paths[0])
    assert groups[0] == GROUP_HEADERS
    assert groups[1] == ["to-1", "Tổ 1", "Đã gửi", "120", "118", "450", "430", "440", "30",
                         "40", "Đạt", "Đạt", "Chưa đạt", "Tốt", "", ""]
    assert groups[4][:4] == ["to-4", "Tổ 4", "Đang soạn", ""]
    figures = {r[0]: r for r in read(paths[1])}
    assert figures["production_value"][2] == "110"
    assert figures["budget_revenue"][2] == "905.5"
    targets = {r[0]: r for r in read(paths[2])}
    assert Decimal(targets["cultured_families_rate"][2]) == pytest.approx(
        Decimal(293) / Decimal(300) * 100)
    # Issue 8: from 3 of 15 groups, below the 80% coverage: provisional (was "Chưa đạt").
    assert targets["cultured_families_rate"][6] == "Tạm tính"
    submissions = {r[0]: r for r in read(paths[4])}
    assert submissions["to-3"][3:] == ["2022-04-07 10:30:00", "Lò Văn Tuấn", "Muộn", "0"]
    assert submissions["to-2"][6] == "1"


async def test_year_summary(ward: Ward) -> None:
    settings = ward.app.settings
    async with ward.app.sessions() as s:
        # 15 April: January to March have locked, April has not.
        wb = load_workbook(BytesIO(workbook_bytes(
            await year_workbook(s, settings, 2022, date(2022, 4, 15)))))
        year_over = await year_workbook(s, settings, 2022, date(2023, 1, 2))
    assert wb.sheetnames == ["Tổng kết năm 2022", "Nộp báo cáo năm 2022"]
    summary = wb["Tổng kết năm 2022"]
    assert rows(summary)[0] == [
        "Mã tổ", "Tên tổ", "Số tháng đúng hạn", "Số tháng muộn", "Số tháng thiếu",
        "Chỉ tiêu đạt", "Chỉ tiêu có số liệu", "Gương đã gửi", "Gương được nêu",
        "Gương đề nghị khen thưởng"]
    # Tổ 1's six group targets over February + March (ratios of the year's sums); the
    # health-station, ward and police figures are the ward office's, not a group's.
    # Issue 8: drug-free groups is "keep and raise" against last year's rate, not a
    # fixed 100%, so a group's year is measured on the five other targets (it was six).
    lan_met = [
        (425 + 430) / (448 + 450) * 100 >= 95,  # health insurance
        (436 + 440) / (448 + 450) * 100 >= 98,  # internet
        (117 + 118) / (120 + 120) * 100 >= 98,  # cultured families
        1 / 2 * 100 >= 90,  # cultured group: yes in February, no in March
        2 / 2 * 100 >= 90,  # safe area
    ]
    assert sum(lan_met) == 2
    tuan_met = [
        (285 + 290) / (298 + 300) * 100 >= 95, (240 + 250) / (298 + 300) * 100 >= 98,
        (79 + 80) / (80 + 80) * 100 >= 98, 2 / 2 * 100 >= 90, 1 / 2 * 100 >= 90,
    ]
    assert sum(tuan_met) == 3
    year = by_code(summary)
    assert year["to-1"] == ["to-1", "Tổ 1", 2, 0, 1, sum(lan_met), 5, 2, 1, 1]
    assert year["to-2"][2:5] == [1, 1, 1]  # February late, March on time, January missing
    assert year["to-2"][7:] == [2, 0, 0]  # March's new one and April's "not now"
    assert year["to-3"] == ["to-3", "Tổ 3", 1, 1, 1, sum(tuan_met), 5, 1, 0, 0]
    assert year["to-4"] == ["to-4", "Tổ 4", 0, 0, 3, 0, 0, 0, 0, 0]  # a draft is missing
    assert year["to-5"][2:7] == [1, 0, 2, 5, 5]
    assert year["ban-3"][2:7] == [0, 0, 3, 0, 0]

    grid = wb["Nộp báo cáo năm 2022"]
    assert rows(grid)[0] == ["Mã tổ", "Tên tổ", *(f"{m:02d}/2022" for m in range(1, 13))]
    marks = by_code(grid)
    assert marks["to-2"] == ["to-2", "Tổ 2", "—", "Muộn", "Đúng hạn", *[None] * 9]
    assert marks["to-3"][2:6] == ["—", "Đúng hạn", "Muộn", None]
    assert marks["to-4"][2:5] == ["—", "—", "—"]
    # Once the year is over every month counts.
    assert by_code(year_over["Tổng kết năm 2022"])["to-1"][2:5] == [2, 0, 10]
    assert by_code(year_over["Nộp báo cáo năm 2022"])["to-4"][2:] == ["—"] * 12


EVIL_NAME = '=HYPERLINK("http://evil","x")'


async def test_typed_text_is_never_a_formula(ward: Ward, tmp_path: Path) -> None:
    """Whatever people type (a display name, a note, a deed) and the plan's own "= 0"
    stay text: no live formula in the workbook, a quote before them in the CSV."""
    evil = await register(ward.app, "500", EVIL_NAME, group="to-5")
    await submit(evil, LAN_MARCH, ["Đạt", "Đạt", "Đạt"], "Tốt", "=1+2")
    async with ward.app.sessions() as s, s.begin():
        deed = await s.get(GoodDeed, ward.deeds["new"])
        assert deed is not None
        deed.description = "+84 912 345 678 gọi hộ khi cần"
    wb = await march_workbook(ward)

    def cell(sheet: str, code: str | int, column: int) -> Any:
        found = [r[column] for r in wb[sheet].iter_rows(min_row=2) if r[0].value == code]
        assert len(found) == 1, (sheet, code)
        return found[0]

    typed = {
        "Nộp báo cáo": (cell("Nộp báo cáo", "to-5", 4), EVIL_NAME),
        "Số liệu tổ": (cell("Số liệu tổ", "to-5", len(GROUP_HEADERS) - 2), "=1+2"),
        "Gương người tốt": (cell("Gương người tốt", ward.deeds["new"], 4),
                            "+84 912 345 678 gọi hộ khi cần"),
        "Chỉ tiêu": (cell("Chỉ tiêu", "new_poor_households", 3), "= 0"),
    }
    for sheet, (c, text) in typed.items():
        assert (c.value, c.data_type) == (text, "s"), sheet

    paths = {p.name: p for p in write_csv(wb, tmp_path / "thidua-2022-03.xlsx")}

    def csv_rows(name: str) -> dict[str, list[str]]:
        with paths[f"thidua-2022-03-{name}.csv"].open(encoding="utf-8-sig", newline="") as f:
            return {r[0]: r for r in csv.reader(f)}

    assert csv_rows("nop-bao-cao")["to-5"][4] == "'" + EVIL_NAME
    assert csv_rows("so-lieu-to")["to-5"][-2] == "'=1+2"
    assert csv_rows("guong-nguoi-tot")[str(ward.deeds["new"])][4] == \
        "'+84 912 345 678 gọi hộ khi cần"
    assert csv_rows("chi-tieu")["new_poor_households"][3] == "'= 0"
    # Ordinary text and numbers are left alone.
    assert csv_rows("nop-bao-cao")["to-1"][4] == "Nguyễn Thị Lan"
    assert csv_rows("so-lieu-to")["to-5"][3] == "120"
