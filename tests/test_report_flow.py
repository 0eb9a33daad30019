"""Lan, leader of Tổ 1, reports March 2022 through the handlers (no channel)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from models import AuditEntry, Report, ReportStatus, ReportValue
from reporting.buttons import Button, ReportAction, decode, encode
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import Person, register


async def answer_all(lan: Person) -> None:
    await lan.send("/baocao")
    for text in ["120", "118", "450", "430", "440", "30", "40"]:
        await lan.send(text)
    await lan.press("Đạt")
    await lan.press("Đạt")
    await lan.press("Chưa đạt")
    await lan.press("Tốt")
    await lan.press("Bỏ qua")


async def test_lan_reports_march_on_time(services: Services) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    reply = await lan.send("/baocao")
    assert "Câu 1/12" in lan.last_text and "Số hộ gia đình" in lan.last_text
    assert reply.messages[-1].options  # pause button at least
    for text in ["120", "118", "450", "430", "1.234"]:
        await lan.send(text)
    # 1.234 internet users > 450 residents: re-asked with the reason, nothing lost.
    assert "(1.234) không thể lớn hơn số nhân khẩu ở câu 3 (450)" in lan.last_text
    assert "Câu 5/12" in lan.last_text
    await lan.send("440")
    await lan.send("30")
    await lan.send("25")
    # Fewer children under 6 than under 5 is refused, naming both figures.
    assert ("Số trẻ em dưới 6 tuổi (25) không thể nhỏ hơn "
            "số trẻ em dưới 5 tuổi ở câu 6 (30)") in lan.last_text
    assert "Câu 7/12" in lan.last_text
    await lan.send("40")
    await lan.press("Đạt")
    await lan.send("có")
    await lan.press("Chưa đạt")
    await lan.send("2")  # choice by its number: Khá
    await lan.press("Bỏ qua")
    assert "Kiểm tra lại báo cáo" in lan.last_text
    assert "Dùng Internet: 440 người" in lan.last_text
    assert "Vệ sinh môi trường: Khá" in lan.last_text
    await lan.press("Gửi báo cáo")
    assert "Đã gửi báo cáo tháng 03/2022 của Tổ 1" in lan.all_text
    assert "đúng hạn" in lan.all_text
    async with services.sessions() as s:
        report = await s.scalar(select(Report))
        assert report is not None
        assert report.status == ReportStatus.SUBMITTED and report.late is False
        values = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
    assert values["internet_users"] == "440"
    assert values["children_under_5"] == "30" and values["children_under_6"] == "40"
    # Figures a leader cannot know each month are no longer asked of them.
    assert not {"malnourished_under_5", "vaccinated_under_6", "new_poor_households",
                "serious_incidents"} & set(values)
    assert values["safe_area"] == "yes" and values["cultured_group"] == "no"
    assert values["sanitation"] == "fair" and values["notes"] is None


async def test_late_submission_and_correction_is_audited(services: Services,
                                                         clock: Clock) -> None:
    clock.set_local(2022, 4, 7)  # two days after the due date
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await answer_all(lan)
    await lan.press("Gửi báo cáo")
    assert "nộp muộn" in lan.all_text
    clock.advance(hours=2)
    await lan.send("/baocao")
    assert "Báo cáo đã gửi" in lan.last_text
    await lan.press("Sửa một mục")
    await lan.press("1. Số hộ")
    await lan.send("125")
    assert "Đã sửa “Số hộ gia đình”: 120 hộ → 125 hộ" in lan.last_text
    async with services.sessions() as s:
        audit = (await s.scalars(select(AuditEntry))).all()
    assert [(a.indicator, a.old_value, a.new_value) for a in audit] == [
        ("households", "120", "125")]


async def test_locked_period(services: Services, clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await lan.send("120")
    clock.set_local(2022, 4, 10)  # March locks on 10 April
    await lan.send("118")
    assert "đã khóa (hạn cuối sửa báo cáo: hết ngày 09/04/2022)" in lan.last_text
    clock.set_local(2022, 4, 15)
    await lan.send("/baocao")
    assert "Kỳ báo cáo tháng 03/2022 đã khóa" in lan.last_text
    assert "tháng 04/2022 sẽ mở ngày 25/04/2022" in lan.last_text


async def test_unregistered_user_is_told_how_to_register(services: Services) -> None:
    minh = Person(services, "999", "Minh")
    for command in ("/baocao", "/trangthai", "/huy", "hello"):
        await minh.send(command)
        assert "chưa đăng ký" in minh.last_text
    await minh.send("/start")
    assert "mã mời" in minh.last_text
    for _ in range(5):
        await minh.send("WRONG123")
        assert "không đúng" in minh.last_text
    await minh.send("WRONG123")
    assert "quá nhiều lần" in minh.last_text


async def test_leader_cannot_touch_another_groups_report(services: Services) -> None:
    lan = await register(services, "100", "Lan", group="to-1")
    hung = await register(services, "200", "Hùng", group="to-2")
    await lan.send("/baocao")
    lan_button = decode(lan.options()[0].data)  # Lan's report, item 0: pause
    assert isinstance(lan_button, Button) and lan_button.action is ReportAction.PAUSE
    await hung.send("/baocao")
    forged = encode(replace(lan_button, action=ReportAction.VALUE, arg="yes"))
    reply = await hung.press_data(forged)
    assert "không có quyền" in hung.last_text
    assert reply.toast is not None
    async with services.sessions() as s:
        assert (await s.scalars(select(ReportValue))).all() == []


async def test_council_cannot_report(services: Services) -> None:
    mai = await register(services, "300", "Mai", group=None, role="council")
    await mai.send("/baocao")
    assert "Chỉ tổ trưởng" in mai.last_text
    await mai.send("/trangthai")
    assert "Chưa nộp" in mai.last_text
