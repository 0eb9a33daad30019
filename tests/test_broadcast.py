"""Thảo (admin) broadcasts a campaign message; leaders get exactly one row each."""

from __future__ import annotations

from sqlalchemy import select

from models import Broadcast, OutboxMessage
from reporting.buttons import BroadcastAction, Button, Flow, encode
from reporting.messages import ChannelLimits, Outgoing
from reporting.services import Services
from tests.helpers import register


async def outbox(app: Services) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_broadcast_to_two_groups_with_preview(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan", "to-1")
    hung = await register(services, "2", "Hùng", "to-2")
    await register(services, "3", "Hoa", "to-3")
    await thao.send("/phatdong")
    assert "soạn thông báo" in thao.last_text
    await thao.send("")
    assert "Chưa có nội dung" in thao.last_text
    await thao.send("Ra quân tổng vệ sinh <sáng> Chủ nhật & trồng cây.")
    assert "Gửi tới ai?" in thao.last_text
    await thao.press("Chọn một số tổ")
    await thao.press("▫️ Tổ 1")
    await thao.press("▫️ Tổ 2")
    assert "đã chọn 2" in thao.last_text
    await thao.press("Xong")
    preview, summary = thao.replies[-1].messages
    assert preview.text.endswith("Ra quân tổng vệ sinh &lt;sáng&gt; Chủ nhật &amp; trồng cây.")
    assert "Người nhận: 2" in summary.text and "Lan, Hùng" in summary.text
    assert await outbox(services) == []  # nothing queued before confirming
    await thao.press("Gửi cho 2 người")
    assert "Đang gửi 2 tin nhắn…" in thao.last_text
    rows = await outbox(services)
    assert [r.kind for r in rows] == ["broadcast_progress", "broadcast", "broadcast"]
    assert {r.chat_id for r in rows[1:]} == {lan.user_id, hung.user_id}
    assert rows[1].payload["text"] == preview.text  # exactly what the preview showed
    async with services.sessions() as s:
        b = await s.scalar(select(Broadcast))
    assert b is not None and b.status == "queued" and b.audience["groups"] == ["to-1", "to-2"]
    # Pressing Send again (a double tap) queues nothing more.
    await thao.press_data(encode(Button(Flow.BROADCAST, BroadcastAction.SEND, (b.id,))))
    assert len(await outbox(services)) == 3
    await thao.send("/phatdong lichsu")
    assert "Các lần phát động gần đây" in thao.last_text and "⏳ 2" in thao.last_text


async def test_only_admins_broadcast(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "2", "Mai", None, "council")
    for person in (lan, mai):
        await person.send("/broadcast")
        assert "chỉ dành cho quản trị viên" in person.last_text
    await lan.press_data(encode(Button(Flow.BROADCAST, BroadcastAction.SEND, (1,))))
    assert "chỉ dành cho quản trị viên" in lan.last_text
    assert await outbox(services) == []


async def test_featured_deed_can_be_broadcast(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await lan.send("/guongtot")
    await lan.press("Cá nhân")
    await lan.send("Bà <Xuân>")
    await lan.send("Trả lại ví & giấy tờ.")
    await lan.press("Hôm nay")
    await lan.press("Việc tốt khác")
    await lan.press("Xong")
    await lan.press("Gửi")
    await thao.send("/guongtot")
    await thao.press("Đưa vào bản tin")
    await thao.press("Thông báo nêu gương")
    assert "Gửi tới ai?" in thao.last_text
    await thao.press("Tất cả tổ trưởng")
    preview = thao.replies[-1].messages[0].text
    assert "Bà &lt;Xuân&gt; (Tổ 1) — Trả lại ví &amp; giấy tờ." in preview
    await thao.press("Gửi cho 1 người")
    rows = await outbox(services)
    assert [r.chat_id for r in rows if r.kind == "broadcast"] == [lan.user_id]


async def test_everyone_and_council_audiences(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    await register(services, "1", "Lan")
    mai = await register(services, "2", "Mai", None, "council")
    await thao.send("/phatdong")
    await thao.send("Họp Hội đồng thứ Sáu.")
    await thao.press("Hội đồng Thi đua")
    await thao.press("Gửi cho 1 người")
    assert [r.chat_id for r in await outbox(services) if r.kind == "broadcast"] == [mai.user_id]
    await thao.send("/phatdong")
    await thao.send("Chúc mừng năm mới!")
    await thao.press("Tất cả mọi người")
    assert "Người nhận: 3" in thao.replies[-1].messages[-1].text
    await thao.press("Hủy")
    assert "Đã hủy" in thao.last_text



async def test_leader_mutes_reminders_and_the_council_sees_why(services: Services) -> None:
    lan = await register(services, "1", "Lan", "to-1")
    mai = await register(services, "2", "Mai", None, "council")
    await lan.send("/nghi")
    assert "/nghi lý do" in lan.last_text
    await lan.send("/nghi đi viện <cả> tháng")
    assert "Đã tắt nhắc báo cáo tháng 03/2022 cho Tổ 1" in lan.last_text
    await mai.send("/trangthai")
    assert "🔕 Tạm nghỉ báo cáo: Tổ 1 (đi viện <cả> tháng)" in mai.last_text
    await lan.send("/mute off")
    assert "Đã bật lại" in lan.last_text
    await mai.send("/trangthai")
    assert "Tạm nghỉ" not in mai.last_text


async def test_a_photo_broadcast_previews_as_the_photo_with_its_caption(
        services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await thao.send("/phatdong")
    await thao._go(thao._inc(photos=("photo-file-id",), text="Mít tinh <ngày> 19/5"))
    await thao.press("Tất cả tổ trưởng")
    preview = thao.replies[-1].messages[0]
    [photo] = preview.attachments
    assert photo.file_id == "photo-file-id" and photo.caption is not None
    assert photo.caption.endswith("Mít tinh &lt;ngày&gt; 19/5")
    await thao.press("Gửi cho 1 người")
    [row] = [r for r in await outbox(services) if r.kind == "broadcast"]
    assert row.chat_id == lan.user_id
    sent = Outgoing.from_payload(row.payload)  # what the sender will render
    assert sent.text == photo.caption and not sent.options
    assert [(a.kind, a.file_id) for a in sent.attachments] == [("photo", "photo-file-id")]


async def test_a_broadcast_must_fit_every_running_channel(services: Services) -> None:
    """Thảo writes more than the strictest running messenger takes: she is told the limit."""
    services.limits["narrow"] = ChannelLimits(max_text=300, max_caption=200, buttons=False,
                                              edits=False)
    thao = await register(services, "9", "Thảo", None, "admin")
    await register(services, "1", "Lan")
    await thao.send("/phatdong")
    await thao.send("Họp tổ " * 60)  # about 400 characters: fits Telegram, not "narrow"
    assert "300" in thao.last_text and "Gửi tới ai?" not in thao.last_text
    await thao.send("Họp tổ lúc 19 giờ thứ Sáu.")
    assert "Gửi tới ai?" in thao.last_text
