"""The Council's digest against a fixture ward whose numbers are worked out by hand.

March 2022, digest read on 8 April (due 5 April, locks 10 April):
- Tổ 1 (Lan) on time; Tổ 2 (Hùng) on time, then corrects cultured families 95 → 90;
  Tổ 3 (Hoa) late on 7 April; Tổ 4 has a draft; the other 11 have nothing.
- In February only Tổ 1 reported (cultured families 110 of 120 households).
- The ward office entered production value 90, 95 and 100 billion for Jan–Mar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Period, Report, ReportStatus, ReportValue
from reporting.buttons import Button, Flow, ReportAction, encode
from reporting.digest_load import build_digest
from reporting.periods import period_dates
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, Person, register, submit_month

LAN = LAN_MARCH
HUNG = {"households": "100", "cultured_families": "95", "residents": "380",
        "health_insured": "360", "internet_users": "370", "children_under_5": "25",
        "malnourished_under_5": "1", "children_under_6": "35", "vaccinated_under_6": "35",
        "new_poor_households": "1", "serious_incidents": "0", "safe_area": "có",
        "drug_free": "có", "cultured_group": "có", "sanitation": "2",
        "notes": "<b>Đường</b> & </code> ngõ 3 hỏng"}
HOA = {"households": "80", "cultured_families": "80", "residents": "300",
       "health_insured": "270", "internet_users": "290", "children_under_5": "20",
       "malnourished_under_5": "0", "children_under_6": "28", "vaccinated_under_6": "28",
       "new_poor_households": "0", "serious_incidents": "1", "safe_area": "không",
       "drug_free": "có", "cultured_group": "có", "sanitation": "1"}


async def ward_figures(app: Services, key: str, production: str) -> None:
    """What the ward office enters: a submitted ward_progress report for a month."""
    year, month = int(key[:4]), int(key[5:])
    p = period_dates(app.settings.calendar, year, month)
    now = datetime(2022, 4, 1, tzinfo=UTC)
    async with app.sessions() as s, s.begin():
        period = await s.scalar(select(Period).where(Period.key == key))
        if period is None:
            period = Period(key=key, opens_on=p.opens_on, due_on=p.due_on, locks_on=p.locks_on)
            s.add(period)
            await s.flush()
        report = Report(group_id=None, period_id=period.id, dataset="ward_progress",
                        status=ReportStatus.SUBMITTED, submitted_at=now, created_at=now,
                        updated_at=now)
        s.add(report)
        await s.flush()
        s.add(ReportValue(report_id=report.id, indicator="production_value", value=production,
                          number=Decimal(production), updated_at=now))


@pytest.fixture
async def ward(services: Services, clock: Clock) -> Person:
    """Build the month described above; return Mai, a Council member."""
    lan = await register(services, "1", "Lan", "to-1")
    hung = await register(services, "2", "Hùng", "to-2")
    hoa = await register(services, "3", "Hoa", "to-3")
    tuan = await register(services, "4", "Tuấn", "to-4")
    mai = await register(services, "9", "Mai", None, "council")
    clock.set_local(2022, 3, 2)
    await submit_month(lan, {**LAN, "cultured_families": "110"})
    clock.set_local(2022, 4, 3)
    await submit_month(lan, LAN)
    await submit_month(hung, HUNG)
    await hung.send("/baocao")
    await hung.press("Sửa một mục")
    await hung.press("2. Gia đình văn hóa")
    await hung.send("90")
    await tuan.send("/baocao")
    await tuan.send("50")
    clock.set_local(2022, 4, 7)
    await submit_month(hoa, HOA)
    for key, value in (("2022-01", "90"), ("2022-02", "95"), ("2022-03", "100")):
        await ward_figures(services, key, value)
    clock.set_local(2022, 4, 8)
    return mai


async def test_digest_numbers_match_the_hand_count(services: Services, ward: Person) -> None:
    p = period_dates(services.settings.calendar, 2022, 3)
    async with services.sessions() as s:
        digest = await build_digest(s, services.settings, p, services.clock().date())
    assert [g.name for g in digest.on_time] == ["Tổ 1", "Tổ 2"]
    assert [g.name for g in digest.late] == ["Tổ 3"]
    assert len(digest.missing) == 12 and digest.rate == Decimal(20)
    r = {t.target.code: t for t in digest.targets}
    assert r["cultured_families_rate"].value == Decimal(100) * 288 / 300  # 96 %
    assert r["cultured_families_rate"].met is False
    assert r["cultured_families_rate"].previous == Decimal(100) * 110 / 120
    assert r["vaccination_rate"].value == Decimal(100) * 102 / 103 and r["vaccination_rate"].met
    assert r["malnutrition_rate"].value == Decimal(100) * 1 / 75
    assert r["health_insurance_rate"].value == Decimal(100) * 1060 / 1130
    assert r["internet_rate"].value == Decimal(100) * 1100 / 1130
    assert (r["new_poor_households"].value, r["new_poor_households"].met) == (Decimal(1), False)
    assert (r["serious_incidents"].value, r["serious_incidents"].met) == (Decimal(1), False)
    assert r["cultured_groups_rate"].value == Decimal(100) * 2 / 3
    assert (r["drug_free_groups"].value, r["drug_free_groups"].met) == (Decimal(100), True)
    assert r["safe_areas"].value == Decimal(100) * 2 / 3
    assert (r["vaccination_rate"].based_on, r["vaccination_rate"].of_total) == (3, 15)
    prod = r["production_value"]
    assert (prod.value, prod.based_on, prod.of_total, prod.met) == (Decimal(285), 3, 3, False)
    assert r["nursery_enrolment"].value is None and r["nursery_enrolment"].met is None


async def test_tonghop_shows_the_same_numbers(services: Services, ward: Person) -> None:
    reply = await ward.send("/tonghop")
    [out] = reply.messages
    text = out.text
    assert "Bản tin thi đua tháng 03/2022" in text
    assert "(đã quá 3 ngày)" in text and "khóa sổ ngày 10/04/2022" in text
    assert "Nộp báo cáo: 3/15 tổ (20%)" in text
    assert "✅ Đúng hạn (2): Tổ 1, Tổ 2" in text and "⏰ Muộn (1): Tổ 3" in text
    assert "⭕ Chưa nộp (12): Tổ 4, Tổ 5" in text
    assert ("⚠️ Tỷ lệ gia đình văn hóa: <b>96,0%</b> / ≥98% "
            "(+4,3% so với tháng trước) · theo 3/15 tổ") in text
    assert "✅ Trẻ dưới 6 tuổi được tiêm chủng: <b>99,0%</b> / &gt;98%" in text
    assert "⚠️ Tỷ lệ trẻ dưới 5 tuổi suy dinh dưỡng: <b>1,33%</b> / &lt;0,04%" in text
    assert "⚠️ Hộ nghèo, cận nghèo phát sinh mới: <b>1</b> / =0 hộ" in text
    assert "⚠️ Tổng giá trị sản xuất: <b>285</b> / ≥1.192 tỷ đồng" in text
    assert "▫️ Huy động trẻ nhà trẻ: <b>—</b>" in text
    [chart] = out.attachments
    assert chart.kind == "photo" and chart.data.startswith(b"\x89PNG")
    assert "đạt 2/21 chỉ tiêu" in (chart.caption or "")
    # The same digest for an explicit period, and a clear message for a bad one.
    assert (await ward.send("/tonghop 2022-03")).messages[0].text == text
    await ward.send("/tonghop tháng-ba")
    assert "Không hiểu kỳ" in ward.last_text


async def test_user_text_in_a_good_deed_shows_literally(services: Services, ward: Person,
                                                        clock: Clock) -> None:
    hung = Person(services, "2", "Hùng")
    await hung.send("/guongtot")
    await hung.press("Tập thể")
    await hung.send("<b>Chi hội</b> & </code> Phụ nữ")
    await hung.send("Dọn vệ sinh <i>ngõ</i> 3 & trồng hoa.")
    await hung.press("Hôm nay")
    await hung.press("Bảo vệ môi trường")
    await hung.press("Xong")
    await hung.press("Gửi")
    text = (await ward.send("/digest")).messages[0].text
    assert ("🆕 &lt;b&gt;Chi hội&lt;/b&gt; &amp; &lt;/code&gt; Phụ nữ (Tổ 2): "
            "Dọn vệ sinh &lt;i&gt;ngõ&lt;/i&gt; 3 &amp; trồng hoa.") in text
    await ward.send("/guongtot")
    await ward.press("Đưa vào bản tin")
    text = (await ward.send("/digest")).messages[0].text
    assert "⭐ &lt;b&gt;Chi hội&lt;/b&gt;" in text and "🆕" not in text


async def test_ward_office_enters_ward_figures_by_chat(services: Services) -> None:
    """Thảo (admin) enters March's ward figures with /baocao; the digest counts them."""
    thao = await register(services, "7", "Thảo", None, "admin")
    await thao.send("/baocao")
    assert "Câu 1/11" in thao.last_text and "Phường Quyết Thắng" in thao.last_text
    answers = ["100,5", "850", "70", "100", "100", "99,2", "100", "100", "100", "3", "bỏ qua"]
    for text in answers:
        await thao.send(text)
    await thao.send("0")  # the last item (roads) is required: 0 this month
    assert "Kiểm tra lại báo cáo" in thao.last_text, thao.last_text
    await thao.press("Gửi báo cáo")
    assert "Đã gửi báo cáo tháng 03/2022 của Phường Quyết Thắng" in thao.all_text
    p = period_dates(services.settings.calendar, 2022, 3)
    async with services.sessions() as s:
        digest = await build_digest(s, services.settings, p, services.clock().date())
    r = {t.target.code: t for t in digest.targets}
    assert r["production_value"].value == Decimal("100.5")
    assert (r["nursery_enrolment"].value, r["nursery_enrolment"].met) == (Decimal(70), True)
    assert (r["promotion_rate"].value, r["promotion_rate"].met) == (Decimal("99.2"), True)
    assert r["alleys_asphalted"].value == Decimal(3)
    # A leader cannot open the ward's figures, even with a forged button.
    lan = await register(services, "1", "Lan")
    async with services.sessions() as s:
        ward_report = await s.scalar(select(Report).where(Report.dataset == "ward_progress"))
    assert ward_report is not None
    await lan.press_data(encode(Button(Flow.REPORT, ReportAction.PICK, (ward_report.id,))))
    assert "không có quyền" in lan.last_text
