"""Thảo (admin) invites from the chat and reopens a locked month for corrections."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEntry
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, Person, register, submit_month


async def test_invite_from_the_chat(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    services.bot_username = "ThiDuaQTBot"
    await thao.send("/moi")
    assert "Cách dùng" in thao.last_text and "to-3" in thao.last_text
    await thao.send("/moi to-3")
    match = re.search(r"Mã mời: ([A-Z0-9]{8}) \(tổ trưởng, trưởng bản, Tổ 3\)", thao.last_text)
    assert match, thao.last_text
    assert f"https://t.me/ThiDuaQTBot?start={match.group(1)}" in thao.last_text
    hoa = Person(services, "3", "Hoa")
    await hoa.send(f"/start {match.group(1)}")
    assert "Tổ 3" in hoa.last_text and "đăng ký thành công" in hoa.last_text
    lan = await register(services, "1", "Lan")
    await lan.send("/moi to-1 admin")
    assert "chỉ dành cho quản trị viên" in lan.last_text


async def test_reopen_a_locked_month_for_a_correction(services: Services, clock: Clock) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    clock.set_local(2022, 4, 15)
    await lan.send("/baocao")
    assert "đã khóa" in lan.last_text
    await lan.send("/mokhoa 2022-03")
    assert "chỉ dành cho quản trị viên" in lan.last_text
    await thao.send("/mokhoa tháng-ba")
    assert "Cách dùng" in thao.last_text
    await thao.send("/mokhoa 2022-03 2")
    assert "đến hết ngày 16/04/2022" in thao.last_text and "/baocao 2022-03" in thao.last_text
    await lan.send("/baocao")
    assert "Báo cáo đã gửi tháng 03/2022" in lan.last_text
    await lan.press("Sửa một mục")
    await lan.press("1. Số hộ")
    await lan.send("121")
    assert "120 hộ → 121 hộ" in lan.last_text
    async with services.sessions() as s:
        assert [a.new_value for a in await s.scalars(select(AuditEntry))] == ["121"]
    clock.set_local(2022, 4, 17)
    await lan.send("/baocao")
    assert "đã khóa" in lan.last_text


async def test_a_reopened_month_does_not_hide_the_open_one(services: Services,
                                                           clock: Clock) -> None:
    """On 3 April March is open; reopening February must not send leaders there."""
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await thao.send("/mokhoa 2022-02 5")
    await lan.send("/baocao")
    assert "tháng 03/2022" in lan.last_text and "02/2022" not in lan.last_text
    await lan.send("/baocao 2022-02")
    assert "Bắt đầu báo cáo tháng 02/2022" in lan.last_text
    await lan.send("/baocao 2022-01")
    assert "đã khóa" in lan.last_text
