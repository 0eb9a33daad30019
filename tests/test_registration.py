"""Registration with one-time codes, help per role, cancel keeps the draft."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Identity, Member, Role
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import Person, make_invite, register


async def test_a_code_works_once(services: Services) -> None:
    code = await make_invite(services, "to-4")
    lan, hoa = Person(services, "1", "Lan"), Person(services, "2", "Hoa")
    await lan.send(f"/start {code}")
    assert "Chào đồng chí Lan" in lan.last_text and "Tổ 4" in lan.last_text
    assert "/baocao" in lan.last_text  # tells her what she can do
    await hoa.send(f"/start {code}")
    assert "đã được sử dụng" in hoa.last_text
    async with services.sessions() as s:
        members = (await s.scalars(select(Member))).all()
        identities = (await s.scalars(select(Identity))).all()
    assert [(m.display_name, m.role) for m in members] == [("Lan", Role.LEADER)]
    assert [(i.channel, i.external_id) for i in identities] == [("test", "1")]


async def test_a_code_expires(services: Services, clock: Clock) -> None:
    code = await make_invite(services, "to-1", ttl=timedelta(days=7))
    clock.advance(days=7, seconds=1)
    lan = Person(services, "1", "Lan")
    await lan.send(f"/start {code}")
    assert "hết hạn" in lan.last_text


async def test_start_then_code_with_spaces_and_lower_case(services: Services) -> None:
    code = await make_invite(services, "to-2")
    lan = Person(services, "1", "Lan")
    await lan.send("/start")
    assert "mã mời" in lan.last_text
    await lan.send(f" {code[:4].lower()} {code[4:]} ")
    assert "đăng ký thành công" in lan.last_text


async def test_wrong_codes_are_limited_per_hour(services: Services, clock: Clock) -> None:
    code = await make_invite(services, "to-1")
    minh = Person(services, "9", "Minh")
    for _ in range(5):
        await minh.send("/start AAAAAAAA")
    await minh.send(f"/start {code}")  # even the right code waits now
    assert "quá nhiều lần" in minh.last_text
    clock.advance(hours=1, minutes=1)
    await minh.send(f"/start {code}")
    assert "đăng ký thành công" in minh.last_text


async def test_registered_member_sending_start_is_greeted(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/start")
    assert "Chào đồng chí Lan" in lan.last_text


async def test_help_depends_on_the_role(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "2", "Mai", group=None, role="council")
    await lan.send("/trogiup")
    assert "/baocao" in lan.last_text
    await mai.send("/help")
    assert "/baocao" not in mai.last_text and "/trangthai" in mai.last_text
    await mai.send("/lenhla")
    assert "chưa hiểu lệnh /lenhla" in mai.last_text


async def test_cancel_keeps_the_draft_and_report_resumes(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    await lan.send("/huy")
    assert "Đã dừng" in lan.last_text
    await lan.send("118")  # not in a report any more: a hint, not an answer
    assert "/baocao" in lan.last_text
    await lan.send("/report")
    assert "đã trả lời 1/12" in lan.last_text and "Câu 2/12" in lan.last_text


async def test_status_for_leader_and_council(services: Services, clock: Clock) -> None:
    lan = await register(services, "1", "Lan", group="to-1")
    hung = await register(services, "2", "Hùng", group="to-2")
    mai = await register(services, "3", "Mai", group=None, role="council")
    await lan.send("/baocao")
    await lan.send("120")
    await hung.send("/trangthai")
    assert "Tháng 03/2022: ⭕ chưa báo cáo — hạn 05/04/2022 (còn 2 ngày)" in hung.last_text
    # February locked before Tổ 2 registered: not a month it failed to report.
    assert "Tháng 02/2022: ➖ không phải báo cáo" in hung.last_text
    await lan.send("/status")
    assert "✍️ đang soạn (1/12 câu)" in lan.last_text
    clock.set_local(2022, 4, 6)
    await mai.send("/trangthai")
    text = mai.last_text
    assert "Tình hình báo cáo tháng 03/2022" in text and "đã quá 1 ngày" in text
    assert "Đã gửi: 0/15 tổ" in text
    assert "Đang soạn: Tổ 1" in text
    assert "Chưa nộp: Tổ 2, Tổ 3" in text


async def test_group_chats_only_serve_reading_commands(services: Services) -> None:
    """In a group chat: no registration, no conversations, no chatter; the Council's
    reading commands say where they work (test_council_chats has the Council's chat)."""
    from handlers.router import handle
    from reporting.messages import Incoming

    code = await make_invite(services, "to-1")
    await register(services, "2", "Mai", None, "council")

    async def in_group(user: str, text: str) -> str:
        word = text.split()[0]
        command = word[1:] if word.startswith("/") else None
        reply = await handle(services, Incoming(
            channel="test", chat_id="-100500", user_id=user, display_name=user, text=text,
            command=command, args=tuple(text.split()[1:]) if command else (), private=False))
        return "\n".join(m.text for m in reply.messages)

    assert "nhắn riêng" in await in_group("1", f"/start {code}")
    assert await in_group("2", "chào cả nhà") == ""
    assert "nhắn riêng" in await in_group("2", "/baocao")
    assert await in_group("2", "/trangthai") == services.t("council_chat_only", "vi")
    lan = Person(services, "1", "Lan")
    await lan.send(f"/start {code}")  # the code was not used up in the group
    assert "đăng ký thành công" in lan.last_text


async def test_a_member_switches_to_english_and_back(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/lang fr")
    assert "/ngonngu en" in lan.last_text
    await lan.send("/lang en")
    assert lan.last_text == "Messages are now in English."
    await lan.send("/help")
    assert "/report — send or edit your group's monthly report" in lan.last_text
    await lan.send("/report")
    assert "Question 1/12 · Tổ 1 · 03/2022" in lan.last_text
    assert "Households in the group (unit: households)" in lan.last_text
    await lan.send("/ngonngu vi")
    assert lan.last_text == "Đã chuyển sang tiếng Việt."
