"""End to end: the real PTB Application over HTTP against the fake Bot API server.

Lan leads Tổ 1, Hùng leads Tổ 2, Minh is not registered. The clock is 3 April 2022,
09:00 in the ward: March is being reported and is due on 5 April.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.demo import BotStack, bot_stack
from fakes.telegram import BotEvent, FakeBotApi, FakeUser
from models import AuditEntry, DeedPhoto, Report, ReportStatus, ReportValue
from reporting.buttons import Button, Flow, ReportAction, decode, encode
from reporting.media import photo_bytes
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import make_invite

TYPED = ["120", "118", "450", "430", "440", "30", "40"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def stack(services: Services, fake: FakeBotApi) -> AsyncIterator[BotStack]:
    async with bot_stack(services, fake) as running:
        yield running


async def say(user: FakeUser, text: str, replies: int = 1) -> str:
    await user.send(text)
    events = await user.expect(replies)
    return "\n".join(e.text or "" for e in events)


async def press(user: FakeUser, label: str, replies: int = 2) -> str:
    await user.press(label)
    events = await user.expect(replies)
    return "\n".join(e.text or "" for e in events)


async def join(services: Services, user: FakeUser, group: str = "to-1") -> None:
    code = await make_invite(services, group)
    assert "đăng ký thành công" in await say(user, f"/start {code}")


async def values(services: Services) -> dict[str, str | None]:
    async with services.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


async def test_lan_registers_and_reports_by_typing_and_buttons(
        stack: BotStack, fake: FakeBotApi, services: Services) -> None:
    lan = fake.user(1001, "Nguyễn Thị", "Lan")
    code = await make_invite(services, "to-1")
    await lan.send("/start")
    assert "mã mời" in (await lan.next()).text  # type: ignore[operator]
    reply = await say(lan, code.lower())  # typed in lower case: still accepted
    assert "Chào đồng chí Lan!" in reply and "Nguyễn Thị Lan" in reply and "Tổ 1" in reply

    assert "Câu 1/12" in await say(lan, "/baocao")
    for text in TYPED[:6]:
        await say(lan, text)
    # Fewer children under 6 than under 5: refused, and the same question is asked again.
    rejected = await say(lan, "25")
    assert ("Số trẻ em dưới 6 tuổi (25) không thể nhỏ hơn số trẻ em dưới 5 tuổi "
            "ở câu 6 (30)") in rejected
    assert "Câu 7/12" in rejected
    for text in TYPED[6:]:
        await say(lan, text)
    answered = await press(lan, "Đạt")
    assert "An toàn ANTT: Đạt ✓" in answered and "Câu 9/12" in answered
    await press(lan, "Đạt")
    await press(lan, "Chưa đạt")
    await press(lan, "Tốt")
    summary = await press(lan, "Bỏ qua")
    assert "Kiểm tra lại báo cáo tháng 03/2022 · Tổ 1" in summary
    assert "7. Trẻ dưới 6 tuổi: 40 trẻ" in summary

    # A correction at the summary, before submitting.
    assert "sửa mục nào" in await press(lan, "Sửa một mục", 1)
    assert "Câu 3/12" in await press(lan, "3. Nhân khẩu", 1)
    assert "3. Nhân khẩu: 1.450 người" in await say(lan, "1.450")
    done = await press(lan, "Gửi báo cáo")
    assert "Đã gửi báo cáo tháng 03/2022 của Tổ 1" in done and "đúng hạn" in done

    async with services.sessions() as s:
        report = await s.scalar(select(Report))
        assert report is not None and report.status == ReportStatus.SUBMITTED
        assert not report.late
    stored = await values(services)
    assert stored["residents"] == "1450" and stored["sanitation"] == "good"
    assert stored["notes"] is None and len(stored) == 12  # every question, notes skipped

    methods = {e.method for e in fake.events}
    assert {"sendMessage", "editMessageText", "answerCallbackQuery"} <= methods
    assert all(e.ok for e in fake.events), [e.summary() for e in fake.events if not e.ok]
    assert len(lan.callback_answers) == 8  # every button press was answered


async def test_lan_resumes_after_the_bot_restarts_mid_report(
        stack: BotStack, fake: FakeBotApi, services: Services) -> None:
    lan = fake.user(1001, "Lan")
    await join(services, lan)
    await say(lan, "/baocao")
    for text in TYPED[:5]:
        await say(lan, text)
    await stack.restart()  # a new Application: nothing kept in memory
    # She simply answers the next question: her place was kept in the database.
    assert "Câu 7/12" in await say(lan, "30")
    await stack.restart()
    resumed = await say(lan, "/baocao")
    assert "Tiếp tục báo cáo tháng 03/2022 của Tổ 1 (đã trả lời 6/12 câu)" in resumed
    assert "Câu 7/12" in resumed
    assert (await values(services))["internet_users"] == "440"


async def test_correction_after_submission_is_audited(
        stack: BotStack, fake: FakeBotApi, services: Services, clock: Clock) -> None:
    lan = fake.user(1001, "Lan")
    await join(services, lan)
    await say(lan, "/baocao")
    for text in TYPED:
        await say(lan, text)
    for label in ("Đạt", "Đạt", "Chưa đạt", "Khá", "Bỏ qua"):
        await press(lan, label)
    await press(lan, "Gửi báo cáo")
    clock.advance(days=2)  # 5 April: still before the lock
    shown = await say(lan, "/baocao")
    assert "Báo cáo đã gửi tháng 03/2022" in shown and "7. Trẻ dưới 6 tuổi: 40 trẻ" in shown
    await press(lan, "Sửa một mục", 1)
    await press(lan, "7. Trẻ dưới 6 tuổi", 1)
    # Fewer children under 6 than under 5 (30) is refused even as a correction.
    assert "(29) không thể nhỏ hơn số trẻ em dưới 5 tuổi ở câu 6 (30)" in await say(lan, "29")
    corrected = await say(lan, "41")
    assert "Đã sửa “Số trẻ em dưới 6 tuổi”: 40 trẻ → 41 trẻ" in corrected
    async with services.sessions() as s:
        audit = (await s.scalars(select(AuditEntry))).all()
    assert [(a.indicator, a.old_value, a.new_value) for a in audit] == [
        ("children_under_6", "40", "41")]
    assert audit[0].member_id is not None and audit[0].at == clock()


async def test_a_locked_period_is_explained(
        stack: BotStack, fake: FakeBotApi, services: Services, clock: Clock) -> None:
    lan = fake.user(1001, "Lan")
    await join(services, lan)
    await say(lan, "/baocao")
    await say(lan, "120")
    clock.set_local(2022, 4, 10, 8)
    locked = await say(lan, "118")
    assert "Kỳ báo cáo tháng 03/2022 đã khóa (hạn cuối sửa báo cáo: hết ngày 09/04/2022)" in locked
    assert (await values(services)) == {"households": "120"}
    closed = await say(lan, "/baocao")
    assert "tháng 04/2022 sẽ mở ngày 25/04/2022" in closed


async def test_minh_is_not_registered(stack: BotStack, fake: FakeBotApi) -> None:
    minh = fake.user(3003, "Minh")
    for text in ("/baocao", "/trangthai", "xin chào"):
        assert "chưa đăng ký" in await say(minh, text)
    await minh.press_data(encode(Button(Flow.REPORT, ReportAction.VALUE, (1, 0), "yes")))
    assert "chưa đăng ký" in (await minh.next()).text  # type: ignore[operator]


async def test_hung_cannot_touch_lans_report_even_with_a_forged_button(
        stack: BotStack, fake: FakeBotApi, services: Services) -> None:
    lan, hung = fake.user(1001, "Lan"), fake.user(2002, "Hùng")
    await join(services, lan, "to-1")
    await join(services, hung, "to-2")
    await say(lan, "/baocao")
    await say(lan, "120")
    lan_data = decode(lan.last_keyboard()[0][0][1])  # Lan's report, item 1: back
    assert isinstance(lan_data, Button)
    lan_report = lan_data.ids[0]
    await say(hung, "/baocao")
    await hung.press_data(encode(Button(Flow.REPORT, ReportAction.SKIP, (lan_report, 1))))
    await hung.press_data(encode(Button(Flow.REPORT, ReportAction.SUBMIT, (lan_report,))))
    replies = await hung.expect(2)
    assert all("không có quyền" in (e.text or "") for e in replies)
    assert (await values(services)) == {"households": "120"}
    assert [e.text for e in hung.callback_answers][-2:] == [
        "Báo cáo này thuộc tổ, bản khác, không có quyền sửa. Mỗi tổ trưởng, trưởng bản "
        "chỉ báo cáo cho tổ, bản của mình."] * 2


async def test_the_token_never_reaches_the_logs(
        services: Services, fake: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with bot_stack(services, fake):
        lan = fake.user(1001, "Lan")
        await join(services, lan)
    secret = fake.token
    assert caplog.records, "the bot logged nothing at all?"
    assert all(secret not in r.getMessage() for r in caplog.records)


def tiny_jpeg(colour: str) -> bytes:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format="JPEG")
    return buf.getvalue()


async def test_good_deed_with_photos_reviewed_digested_and_exported(
        stack: BotStack, fake: FakeBotApi, services: Services, tmp_path: Path) -> None:
    services.media_dir = tmp_path / "media"
    lan, mai = fake.user(1001, "Lan"), fake.user(4004, "Mai")
    await join(services, lan)
    code = await make_invite(services, None, "council")
    assert "đăng ký thành công" in await say(mai, f"/start {code}")

    assert "1/6" in await say(lan, "/guongtot")
    await press(lan, "Cá nhân", 1)
    await say(lan, "Bà Lò Thị Xuân")
    await say(lan, "Nhặt được ví và trả lại người đánh rơi.")
    await press(lan, "Hôm nay", 1)
    assert "6/6" in await press(lan, "Việc tốt khác", 1)
    red, blue = tiny_jpeg("red"), tiny_jpeg("blue")
    await lan.send_photo(red)
    assert "Đã nhận 1/5 ảnh" in (await lan.next()).text  # type: ignore[operator]
    await lan.send_photo(blue, caption="ảnh 2")
    assert "Đã nhận 2/5 ảnh" in (await lan.next()).text  # type: ignore[operator]
    assert "📷 2 ảnh" in await press(lan, "Xong", 1)
    assert "Cảm ơn đồng chí" in await press(lan, "Gửi")
    async with services.sessions() as s:  # copies kept off Telegram, for every instance
        kept = [await photo_bytes(s, p, None)
                for p in await s.scalars(select(DeedPhoto).order_by(DeedPhoto.position))]
    assert kept == [red, blue]
    assert any(e.method == "getFile" for e in fake.events)

    review = await say(mai, "/guongtot", 2)
    assert "Bà Lò Thị Xuân" in review and "2 ảnh" in review
    assert "⭐ Đưa vào bản tin — Mai" in await press(mai, "Đưa vào bản tin", 1)

    await mai.send("/tonghop")
    chart, digest = await mai.expect(2)
    assert chart.method == "sendPhoto" and "Tiến độ chỉ tiêu tháng 03/2022" in (chart.text or "")
    assert digest.method == "sendMessage"
    assert "⭐ Bà Lò Thị Xuân (Tổ 1): Nhặt được ví" in (digest.text or "")
    png = sent_file(fake, mai, chart, "photo")
    assert png.startswith(b"\x89PNG")

    await mai.send("/xuat")
    [doc] = await mai.expect(1)
    assert doc.method == "sendDocument" and "tháng 03/2022" in (doc.text or "")
    workbook = load_workbook(BytesIO(sent_file(fake, mai, doc, "document")))
    deeds_sheet = workbook["Gương người tốt"]
    assert any("Bà Lò Thị Xuân" in str(c.value) for row in deeds_sheet.iter_rows()
               for c in row)


def sent_file(fake: FakeBotApi, user: FakeUser, event: BotEvent, kind: str) -> bytes:
    """The bytes the bot uploaded with a sendPhoto/sendDocument event."""
    [message] = [m for m in user.messages() if m.message_id == event.message_id]
    ref = message.raw[kind][-1] if kind == "photo" else message.raw[kind]
    stored = fake.files.get(ref["file_id"])
    assert stored is not None
    return stored.data


async def test_admin_broadcasts_to_two_groups_and_sees_the_delivery_report(
        services: Services, fake: FakeBotApi) -> None:
    async with bot_stack(services, fake, background=True):
        thao = fake.user(9009, "Thảo")
        lan, hung = fake.user(1001, "Lan"), fake.user(2002, "Hùng")
        tuan, hoa = fake.user(2003, "Tuấn"), fake.user(3003, "Hoa")
        code = await make_invite(services, None, "admin")
        assert "quản trị viên" in await say(thao, f"/start {code}")
        for user, group in ((lan, "to-1"), (hung, "to-2"), (tuan, "to-2"), (hoa, "to-3")):
            await join(services, user, group)
        fake.fail_chat(tuan.chat_id, 403, "Forbidden: bot was blocked by the user")

        assert "soạn thông báo" in await say(thao, "/phatdong")
        await say(thao, "Ra quân tổng vệ sinh sáng Chủ nhật 10/4 & trồng cây <xanh>.")
        await press(thao, "Chọn một số tổ", 1)
        await press(thao, "▫️ Tổ 1", 1)
        await press(thao, "▫️ Tổ 2", 1)
        preview = await press(thao, "Xong", 2)
        assert "Người nhận: 3" in preview
        expected = "Ra quân tổng vệ sinh sáng Chủ nhật 10/4 & trồng cây <xanh>."
        assert expected in preview
        await thao.press("Gửi cho 3 người")

        got_lan, got_hung = await lan.next(), await hung.next()
        assert expected in (got_lan.text or "") and expected in (got_hung.text or "")

        async def report() -> str | None:
            texts = [m.text or "" for m in thao.messages()]
            return next((t for t in texts if "Đã gửi xong" in t), None)

        final = None
        for _ in range(100):
            final = await report()
            if final:
                break
            await asyncio.sleep(0.1)
        assert final is not None, [m.text for m in thao.messages()][-3:]
        assert "đã gửi tới 2/3 người, 1 không gửi được" in final
        assert "Tuấn: đã chặn bot hoặc xóa tài khoản" in final
        assert await hoa.settle(0.2) == []  # not in the audience
        received = [e.chat_id or 0 for e in fake.events if e.method == "sendMessage" and e.ok
                    and expected in (e.text or "")]
        # Exactly once each; Thảo's copy is the preview.
        assert sorted(c for c in received if c != thao.chat_id) == [lan.chat_id, hung.chat_id]

        thao.drain()  # the queued notice and the progress edits, read above
        status = await say(thao, "/trangthai")
        assert "🚫 Không liên lạc được (đã chặn bot): Tuấn" in status
        history = await say(thao, "/phatdong lichsu")
        assert "✅ 2 · ❌ 1" in history
