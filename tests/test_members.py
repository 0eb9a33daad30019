"""Thảo (admin) keeps the roster over the years: who is there and reachable, who left,
who moved to another tổ, and a leader handing Tổ 1 over to a successor mid-month."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from models import Identity, Member, Report, ReportStatus, ReportValue
from models.roster import MemberRow, list_members
from reporting.digest_load import group_reports
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, MONTH, Person, register, submit_month


async def _id(app: Services, name: str) -> int:
    async with app.sessions() as s:
        mid = await s.scalar(select(Member.id).where(Member.display_name == name))
    assert mid is not None, name
    return mid


async def _report(app: Services, group_code: str) -> tuple[Report, dict[str, int | None]]:
    """Tổ X's report of March 2022, and who last changed each answer."""
    from models import Group, Period

    async with app.sessions() as s:
        report = await s.scalar(select(Report).join(Group, Group.id == Report.group_id)
                                .join(Period, Period.id == Report.period_id)
                                .where(Group.code == group_code, Period.key == "2022-03"))
        assert report is not None, group_code
        by = {v.indicator: v.updated_by for v in await s.scalars(
            select(ReportValue).where(ReportValue.report_id == report.id))}
    return report, by


async def test_the_roster_shows_activity_and_reach(services: Services, clock: Clock) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await register(services, "3", "Hùng", "to-3")
    await register(services, "5", "Minh", None, "council")
    await submit_month(lan, LAN_MARCH)
    async with services.sessions() as s, s.begin():  # Hùng blocked the bot
        await s.execute(update(Identity).where(Identity.external_id == "3")
                        .values(unreachable=True))
    clock.advance(hours=2)

    rows = {r.name: r for r in await _rows(services)}
    assert rows["Lan"].last_active == clock() - timedelta(hours=2)
    assert rows["Lan"].reachable and not rows["Hùng"].reachable
    assert rows["Lan"].group_code == "to-1" and rows["Minh"].group_code is None

    await thao.send("/thanhvien")
    text = thao.last_text
    lan_id, hung_id = await _id(services, "Lan"), await _id(services, "Hùng")
    lan_line = next(line for line in text.splitlines() if f"#{lan_id} " in line)
    assert "🟢" in lan_line and "test" in lan_line  # her one account, on channel "test"
    assert "09:00 ngày 03/04/2022" in lan_line  # her answers and submission
    hung_line = next(line for line in text.splitlines() if f"#{hung_id} " in line)
    assert "🟠" in hung_line and "09:00 ngày 03/04/2022" in hung_line  # registered then
    assert "4 đang hoạt động" in text
    # Groups in config order, the Council and admins after them.
    assert text.index("Tổ 1") < text.index("Tổ 3") < text.index("Hội đồng Thi đua")

    await thao.send("/thanhvien to-3")
    assert f"#{hung_id} " in thao.last_text and f"#{lan_id} " not in thao.last_text

    await lan.send("/thanhvien")
    assert "chỉ dành cho quản trị viên" in lan.last_text
    await register(services, "5b", "Mai", None, "council")
    mai = Person(services, "5b", "Mai")
    await mai.send("/thanhvien")
    assert "chỉ dành cho quản trị viên" in mai.last_text


async def _rows(app: Services) -> list[MemberRow]:
    async with app.sessions() as s:
        return await list_members(s)


async def test_a_deactivated_leader_cannot_act_and_keeps_history(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    lan_id = await _id(services, "Lan")

    await thao.send(f"/thanhvien tat #{lan_id} chuyển đi nơi khác")
    assert "Lan" in thao.last_text and "Tổ 1" in thao.last_text
    await thao.press("Hủy")  # changed her mind: nothing happens
    assert (await _member(services, lan_id)).active
    await lan.send("/trangthai")
    assert "Tổ 1" in lan.last_text

    await thao.send(f"/thanhvien tat #{lan_id} chuyển đi nơi khác")
    await thao.press("Xác nhận")
    member = await _member(services, lan_id)
    assert not member.active and member.inactive_reason == "chuyển đi nơi khác"

    for attempt in ("/baocao", "/trangthai", "/guongtot", "120", "/start ABCDEFGH"):
        reply = await lan.send(attempt)
        assert "đã ngừng hoạt động" in lan.last_text, (attempt, reply)
    # Her history stays hers: the submitted report, its answers, the digest's name.
    report, by = await _report(services, "to-1")
    assert report.submitted_by == lan_id and set(by.values()) == {lan_id}
    async with services.sessions() as s:
        march = {g.code: g for g in await group_reports(s, "2022-03")}
    assert march["to-1"].state == "submitted" and march["to-1"].submitted_by == "Lan"

    await thao.send("/thanhvien")
    assert "1 đang hoạt động, 1 đã ngừng hoạt động" in thao.last_text
    await thao.send(f"/thanhvien bat #{lan_id}")
    assert (await _member(services, lan_id)).active
    await lan.send("/trangthai")
    assert "đã ngừng hoạt động" not in lan.last_text and "Tổ 1" in lan.last_text


async def _member(app: Services, mid: int) -> Member:
    async with app.sessions() as s:
        member = await s.get(Member, mid)
    assert member is not None
    return member


async def test_bad_ids_and_refusals(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    thao_id, lan_id = await _id(services, "Thảo"), await _id(services, "Lan")
    await thao.send("/thanhvien tat Lan")
    assert "Không hiểu số thành viên" in thao.last_text
    await thao.send("/thanhvien tat #999")
    assert "#999" in thao.last_text and not thao.options()
    await thao.send(f"/thanhvien tat #{thao_id}")
    assert "chính mình" in thao.last_text
    await thao.send(f"/thanhvien chuyen #{lan_id} to-99")
    assert "to-99" in thao.last_text and "to-3" in thao.last_text
    await thao.send(f"/thanhvien chuyen #{thao_id} to-3")
    assert "không phải tổ trưởng" in thao.last_text
    await thao.send("/thanhvien to-99")
    assert "Cách dùng" in thao.last_text
    await thao.send("/moi to-1 thay #999")
    assert "Không có thành viên #999" in thao.last_text
    await thao.send(f"/moi to-2 thay #{lan_id}")  # Lan leads Tổ 1, not Tổ 2
    assert "không phải tổ trưởng đang hoạt động của Tổ 2" in thao.last_text
    # Lan cannot confirm a change, nor press an admin's button.
    await lan.send(f"/thanhvien tat #{thao_id}")
    assert "chỉ dành cho quản trị viên" in lan.last_text
    await thao.send(f"/thanhvien tat #{lan_id}")
    await lan.press_data(thao.find("Xác nhận").data)
    assert (await _member(services, lan_id)).active
    # Where there are no buttons, "có" confirms; anything else asks again.
    await thao.send("để xem")
    assert "có" in thao.last_text and (await _member(services, lan_id)).active
    await thao.send("có")
    assert not (await _member(services, lan_id)).active


async def test_a_leader_moves_to_another_group(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    lan_id = await _id(services, "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    await lan.send("118")
    assert "Câu 3/12" in lan.last_text

    await thao.send(f"/thanhvien chuyen #{lan_id} to-3")
    assert "Tổ 1" in thao.last_text and "Tổ 3" in thao.last_text
    await thao.press("Xác nhận")
    assert (await _member(services, lan_id)).group_id is not None

    await lan.send("450")  # her Tổ 1 conversation was closed: not an answer any more
    assert "Câu" not in lan.last_text
    await lan.send("/baocao")
    assert "Bắt đầu báo cáo tháng 03/2022 của Tổ 3" in lan.last_text
    await lan.send("80")
    old, old_by = await _report(services, "to-1")
    new, new_by = await _report(services, "to-3")
    assert old.status == ReportStatus.DRAFT and old_by == {"households": lan_id,
                                                           "cultured_families": lan_id}
    assert new.started_by == lan_id and new_by == {"households": lan_id}
    await thao.send(f"/thanhvien chuyen #{lan_id} to-3")
    assert "đã là tổ trưởng của Tổ 3" in thao.last_text


async def test_handover_mid_month_keeps_the_draft(services: Services, clock: Clock) -> None:
    """Lan answers five questions of March, then hands Tổ 1 over to Hoa, who finishes."""
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    lan_id = await _id(services, "Lan")
    await lan.send("/baocao")
    for code in MONTH[:5]:
        await lan.send(LAN_MARCH[code])
    assert "Câu 6/12" in lan.last_text

    clock.advance(hours=3)
    await thao.send(f"/moi to-1 thay #{lan_id}")
    match = re.search(r"Mã mời: ([A-Z0-9]{8})", thao.last_text)
    assert match and "bàn giao" in thao.last_text, thao.last_text
    assert (await _member(services, lan_id)).active  # not until Hoa registers

    hoa = Person(services, "11", "Hoa")
    await hoa.send(f"/start {match.group(1)}")
    assert "đăng ký thành công" in hoa.all_text and "Lan" in hoa.last_text
    hoa_id = await _id(services, "Hoa")
    assert not (await _member(services, lan_id)).active

    await lan.send(LAN_MARCH["children_under_5"])  # her half-way conversation is over
    assert "đã ngừng hoạt động" in lan.last_text
    await hoa.send("/baocao")
    assert "đã trả lời 5/12 câu" in hoa.last_text and "Câu 6/12" in hoa.last_text
    for code in MONTH[5:]:
        await hoa.send(LAN_MARCH.get(code, "bỏ qua"))
    await hoa.press("Gửi báo cáo")
    assert "Đã gửi báo cáo" in hoa.all_text

    report, by = await _report(services, "to-1")
    assert report.status == ReportStatus.SUBMITTED and report.submitted_by == hoa_id
    assert report.started_by == lan_id
    assert {code for code, who in by.items() if who == lan_id} == set(MONTH[:5])
    assert {code for code, who in by.items() if who == hoa_id} == set(MONTH[5:])
    # The same code cannot hand the group over twice.
    again = Person(services, "12", "Bình")
    await again.send(f"/start {match.group(1)}")
    assert "đăng ký thành công" not in again.last_text
