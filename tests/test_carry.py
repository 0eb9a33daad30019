"""Issue 9 (1): a month whose figures did not change is sent in a few taps.

Lan, leader of Tổ 1, sends February in full. In March /baocao shows February's stocks
and titles with "Không thay đổi"; one tap keeps them and only the month's own questions
(sanitation, notes) are asked. Titles are asked again in the title month (December); a
group's first report, or one after a year without any, asks everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from models import Report, ReportStatus, ReportValue
from reporting.config_changes import carried
from reporting.config_file import load_settings
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, Person, register, submit_month
from tests.test_config import GM, indicator, load_error, shipped_raw, write

STOCKS = ["households", "residents", "health_insured", "internet_users", "children_under_5",
          "children_under_6"]
TITLES = ["cultured_families", "safe_area", "drug_free", "cultured_group"]
FEBRUARY = {"households": "120", "cultured_families": "118", "residents": "450",
            "health_insured": "430", "internet_users": "440", "children_under_5": "30",
            "children_under_6": "40", "safe_area": "yes", "drug_free": "yes",
            "cultured_group": "no"}


async def _stored(services: Services) -> tuple[ReportStatus, dict[str, str | None]]:
    """The status and answers of the latest report."""
    async with services.sessions() as s:
        report = (await s.scalars(select(Report).order_by(Report.id.desc()))).first()
        assert report is not None
        rows = await s.execute(select(ReportValue.indicator, ReportValue.value)
                               .where(ReportValue.report_id == report.id))
        return report.status, {code: value for code, value in rows}


async def _lan_after_february(services: Services, clock: Clock) -> Person:
    clock.set_local(2022, 3, 3)  # February's report
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await submit_month(lan, LAN_MARCH)
    clock.set_local(2022, 4, 3)  # March's
    return lan


async def test_an_unchanged_month_in_five_messages_and_taps(services: Services,
                                                           clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    before = len(lan.replies)
    await lan.send("/baocao")
    screen = lan.last_text
    assert "Số liệu theo báo cáo tháng 02/2022" in screen
    assert "1. Số hộ: 120 hộ" in screen and "10. Tổ, bản văn hóa: Chưa đạt" in screen
    assert "Vệ sinh" not in screen and "trả lời 2 câu của tháng này" in screen
    assert "bác" not in screen.lower()
    await lan.press("Không thay đổi")
    assert "Giữ nguyên 10 mục theo báo cáo tháng trước" in lan.all_text
    assert "Câu 11/12" in lan.last_text and "Vệ sinh môi trường" in lan.last_text
    await lan.press("Tốt")
    assert "Câu 12/12" in lan.last_text
    await lan.press("Bỏ qua")
    assert "Kiểm tra lại báo cáo tháng 03/2022" in lan.last_text
    assert "7. Trẻ dưới 6 tuổi: 40 trẻ" in lan.last_text
    await lan.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" in lan.all_text
    taps = len(lan.replies) - before
    assert taps == 5  # /baocao, Không thay đổi, Tốt, Bỏ qua, Gửi báo cáo
    status, values = await _stored(services)
    assert status == ReportStatus.SUBMITTED
    assert values == {**FEBRUARY, "sanitation": "good", "notes": None}


async def test_typed_words_keep_the_figures_too(services: Services, clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    await lan.send("/baocao")
    await lan.send("không thay đổi")
    assert "Câu 11/12" in lan.last_text
    await lan.send("/baocao")  # coming back: at the month's own question, the rest kept
    assert "Câu 11/12" in lan.last_text and "tiếp tục" in lan.last_text.lower()


async def test_the_carry_screen_shows_again_after_cancelling(services: Services,
                                                            clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    await lan.send("/baocao")
    await lan.send("/huy")
    await lan.send("/baocao")
    assert "Không thay đổi" in lan.last_text and "1. Số hộ: 120 hộ" in lan.last_text


async def test_one_figure_changed(services: Services, clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    await lan.send("/baocao")
    await lan.press("Sửa một mục")
    await lan.press("3. Nhân khẩu")
    await lan.send("100")  # fewer residents than households: the rule still applies
    assert "⚠️" in lan.last_text and "Câu 3/12" in lan.last_text
    await lan.send("460")
    assert "Câu 11/12" in lan.last_text  # then the month's own questions
    await lan.press("Khá")
    await lan.send("Đã sửa cống rãnh")
    await lan.press("Gửi báo cáo")
    status, values = await _stored(services)
    assert status == ReportStatus.SUBMITTED
    assert values == {**FEBRUARY, "residents": "460", "sanitation": "fair",
                      "notes": "Đã sửa cống rãnh"}


async def test_a_figure_typed_on_the_screen_answers_everything(services: Services,
                                                               clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    screen = await lan.send("/baocao")
    assert screen.messages[-1].expects == "number"  # "2" in a numbered menu is a figure
    await lan.send("121")
    assert "Câu 2/12" in lan.last_text
    status, values = await _stored(services)
    assert status == ReportStatus.DRAFT and values == {"households": "121"}


async def test_carried_figures_meet_the_rules_at_submission(services: Services,
                                                            clock: Clock) -> None:
    lan = await _lan_after_february(services, clock)
    async with services.sessions() as s, s.begin():  # e.g. a figure fixed by the office
        await s.execute(update(ReportValue).where(ReportValue.indicator == "residents")
                        .values(value="100", number=100))
    await lan.send("/baocao")
    await lan.press("Không thay đổi")
    await lan.press("Tốt")
    await lan.press("Bỏ qua")
    await lan.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" not in lan.all_text
    assert "⚠️" in lan.last_text and "Câu 1/12" in lan.last_text  # households vs residents
    assert (await _stored(services))[0] == ReportStatus.DRAFT


async def test_titles_are_asked_again_in_december(services: Services, clock: Clock) -> None:
    clock.set_local(2022, 12, 3)  # November
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await submit_month(lan, LAN_MARCH)
    clock.set_local(2023, 1, 3)  # December: the title month of the shipped config
    await lan.send("/baocao")
    assert "1. Số hộ: 120 hộ" in lan.last_text and "văn hóa:" not in lan.last_text
    assert "trả lời 6 câu của tháng này" in lan.last_text
    await lan.press("Không thay đổi")
    assert "Câu 2/12" in lan.last_text and "Gia đình văn hóa" in lan.last_text
    await lan.send("119")
    assert "Câu 8/12" in lan.last_text  # past the carried stocks
    for label in ["Đạt", "Đạt", "Đạt", "Tốt", "Bỏ qua", "Gửi báo cáo"]:
        await lan.press(label)
    status, values = await _stored(services)
    assert status == ReportStatus.SUBMITTED
    assert values == {**FEBRUARY, "cultured_families": "119", "cultured_group": "yes",
                      "sanitation": "good", "notes": None}


@pytest.mark.parametrize(("months_later", "carries"), [(11, True), (13, False)])
async def test_after_a_year_without_a_report_everything_is_asked(
        services: Services, clock: Clock, months_later: int, carries: bool) -> None:
    lan = await _lan_after_february(services, clock)
    year, month = divmod(2 + months_later - 1, 12)  # the month reported
    clock.set_local(2022 + year + (month + 1) // 12, (month + 1) % 12 + 1, 3)
    await lan.send("/baocao")
    assert ("Không thay đổi" in lan.last_text) is carries
    assert ("Câu 1/12" in lan.last_text) is not carries


async def test_a_groups_first_report_asks_everything(services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    assert "Câu 1/12" in lan.last_text and "Không thay đổi" not in lan.last_text


def test_what_a_month_carries() -> None:
    gm = load_settings(Path(__file__).parent.parent / "config.yaml").datasets["group_monthly"]
    assert [i.code for i in gm.indicators if i.changes == "stock"] == STOCKS
    assert sorted(i.code for i in gm.indicators if i.changes == "title") == sorted(TITLES)
    last = {**FEBRUARY, "sanitation": "good", "notes": "x"}
    assert carried(gm.indicators, last, 3, gm.title_month) == FEBRUARY
    assert set(carried(gm.indicators, last, 12, gm.title_month)) == set(STOCKS)
    assert carried(gm.indicators, {"households": "1"}, 3, 12) == {"households": "1"}


@pytest.mark.parametrize(("change", "key", "reason"), [
    (lambda raw: raw["datasets"]["group_monthly"].pop("title_month"),
     f"{GM}.indicators[1] (cultured_families).changes", "set the dataset's title_month"),
    (lambda raw: raw["datasets"]["group_monthly"].update(title_month=13),
     f"{GM}.title_month", "less than or equal to 12"),
    (lambda raw: indicator(raw, "households").update(changes="stocks"),
     f"{GM}.indicators[0] (households).changes", "'flow', 'stock' or 'title'"),
])
def test_a_wrong_frequency_stops_loading(tmp_path: Path, change: object, key: str,
                                         reason: str) -> None:
    raw = shipped_raw()
    assert callable(change)
    change(raw)
    message = load_error(write(tmp_path, raw))
    assert f": {key}: " in message and reason in message, message
