"""Issue 9, point 7: behaviour fixes found while trying the bot as its users would."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from models import Broadcast, DeedPhoto, DeedStatus, GoodDeed, OutboxMessage, ReminderMute
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, plain, register, submit_month
from tests.test_deeds import media, tell

__all__ = ["media"]  # the fixture that keeps photos (tests/test_deeds.py)


async def test_cancel_speaks_of_the_flow_the_user_was_in(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/guongtot")
    await lan.press("Cá nhân")
    await lan.send("/huy")  # telling a deed: the story is kept, /guongtot carries on
    assert "kể gương" in lan.last_text and "/guongtot" in lan.last_text
    assert "/baocao" not in lan.last_text
    await lan.send("/baocao")
    await lan.send("120")
    await lan.send("/huy")  # the monthly report: answers are kept, /baocao carries on
    assert "báo cáo tháng 03/2022 của Tổ 1" in lan.last_text and "/baocao" in lan.last_text
    await lan.send("/huy")  # nothing left to stop
    assert "Không có việc nào đang làm dở" in lan.last_text

    thao = await register(services, "9", "Thảo", None, "admin")
    await thao.send("/phatdong")
    await thao.send("Họp tổ trưởng sáng thứ Hai.")
    await thao.send("/huy")  # a broadcast being written: dropped, nothing sent
    assert "thông báo" in thao.last_text and "chưa gửi" in thao.last_text
    assert "/baocao" not in thao.last_text and "câu trả lời" not in thao.last_text
    await thao.send("/baocao")  # the ward's own figures
    await thao.send("/huy")
    assert "số liệu của phường tháng 03/2022" in thao.last_text

    mai = await register(services, "5", "Mai", None, "council")
    await mai.send("/guongtot")  # reviewing is buttons, not a conversation
    await mai.send("/huy")
    assert "Không có việc nào đang làm dở" in mai.last_text
    assert "/baocao" not in mai.last_text and "/guongtot" in mai.last_text


async def notices(app: Services, kind: str) -> list[tuple[str, str]]:
    """(chat, text) of the proactive messages of `kind` waiting in the outbox."""
    async with app.sessions() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                               .order_by(OutboxMessage.id))
        return [(r.chat_id, plain(r.payload["text"])) for r in rows]


async def test_leaders_hear_when_their_month_is_reopened(services: Services,
                                                         clock: Clock) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan", "to-1")
    hung = await register(services, "2", "Hùng", "to-2")
    clock.set_local(2022, 4, 15)
    await thao.send("/mokhoa 2022-03 2")
    told = dict(await notices(services, "reopened"))
    assert set(told) == {lan.user_id, hung.user_id}  # leaders only, not the admin
    assert "Kỳ báo cáo tháng 03/2022 được mở lại" in told[lan.user_id]
    assert "16/04/2022" in told[lan.user_id] and "/baocao 2022-03" in told[lan.user_id]
    assert "Tổ 1" in told[lan.user_id] and "Tổ 2" in told[hung.user_id]
    await thao.send("/mokhoa 2022-03 2")  # the same reopening again: no second notice
    assert len(await notices(services, "reopened")) == 2


async def test_a_leader_hears_when_the_council_features_or_proposes_a_deed(
        services: Services) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "5", "Mai", None, "council")
    for name in ("Bà Lò Thị Xuân", "Anh Quàng Văn Pó", "Chị Cầm Thị Hoa"):
        await tell(lan, name)
        await lan.press("Xong")
        await lan.press("Gửi")
    await mai.send("/guongtot")
    cards = [m for m in mai.replies[-1].messages if m.options]
    for card, decision in zip(cards, ("Đưa vào bản tin", "Đề nghị khen thưởng", "Để sau"),
                              strict=True):
        label = next(o for row in card.options for o in row if decision in o.label)
        await mai.press_data(label.data)
    told = await notices(services, "deed_decided")
    assert [chat for chat, _ in told] == [lan.user_id, lan.user_id]  # not for "Để sau"
    assert "Bà Lò Thị Xuân" in told[0][1] and "đưa vào bản tin" in told[0][1]
    assert "Anh Quàng Văn Pó" in told[1][1] and "đề nghị khen thưởng" in told[1][1]


async def test_leader_status_reads_reopened_months_and_untouched_drafts(
        services: Services, clock: Clock) -> None:
    clock.set_local(2022, 3, 1)  # Lan registers in March: February is still being reported
    lan = await register(services, "1", "Lan", "to-1")
    thao = await register(services, "9", "Thảo", None, "admin")
    clock.set_local(2022, 4, 3)
    await lan.send("/baocao")  # opens March, then stops before answering anything
    await lan.send("/huy")
    await lan.send("/trangthai")
    assert "Tháng 03/2022: ⭕ chưa báo cáo — hạn 05/04/2022" in lan.last_text
    assert "0/12" not in lan.last_text and "đang soạn" not in lan.last_text
    # February locked on 10 March, after Lan had registered: it was hers to report.
    assert ("Tháng 02/2022: ⭕ chưa báo cáo — 🔒 đã khóa "
            "(hạn cuối nộp, sửa báo cáo: hết ngày 09/03/2022)" in lan.last_text)

    hoa = await register(services, "3", "Hoa", "to-3")  # Tổ 3 joins on 3 April
    await hoa.send("/trangthai")
    assert "Tháng 02/2022: ➖ không phải báo cáo" in hoa.last_text
    assert "Tháng 02/2022: ⭕" not in hoa.last_text

    await thao.send("/mokhoa 2022-02 5")  # February reopened until 7 April
    await lan.send("/trangthai")
    assert "Tháng 02/2022: ⭕ chưa báo cáo — 🔓 mở lại để sửa đến hết ngày 07/04/2022" \
        in lan.last_text
    assert "đã khóa" not in lan.last_text
    await hoa.send("/trangthai")  # reopened: Tổ 3 may report it now
    assert "Tháng 02/2022: ⭕ chưa báo cáo — 🔓 mở lại" in hoa.last_text
    clock.set_local(2022, 4, 8)  # the reopening is over: locked again
    await lan.send("/trangthai")
    assert ("Tháng 02/2022: ⭕ chưa báo cáo — 🔒 đã khóa "
            "(hạn cuối nộp, sửa báo cáo: hết ngày 09/03/2022)" in lan.last_text)


async def test_a_photo_sent_before_the_text_is_kept(services: Services, media: Path) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/guongtot")
    await lan.press("Cá nhân")
    await lan.send_photos("early-photo")  # the photo first, at the name question
    assert "Đã nhận 1/5 ảnh" in lan.last_text and "giữ lại" in lan.last_text
    assert "2/6" in lan.last_text  # still asked the name
    await lan.send("Bà Lò Thị Xuân")
    await lan.send("Nhặt được ví tiền và trả lại cho người đánh rơi.")
    await lan.press("Hôm qua")
    await lan.press("Việc tốt khác")
    await lan.send_photos("late-photo")
    assert "Đã nhận 2/5 ảnh" in lan.last_text
    await lan.press("Xong")
    assert "📷 2 ảnh" in lan.last_text
    await lan.send("gửi")  # typed, as the Gửi button
    assert "Cảm ơn" in lan.last_text
    async with services.sessions() as s:
        deed = await s.scalar(select(GoodDeed))
        photos = list(await s.scalars(select(DeedPhoto.file_id).order_by(DeedPhoto.position)))
    assert deed is not None and deed.status == DeedStatus.NEW
    assert photos == ["early-photo", "late-photo"]


async def test_typing_gui_at_the_broadcast_preview_sends_it(services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    lan = await register(services, "1", "Lan")
    await thao.send("/phatdong")
    await thao.send("Ra quân tổng vệ sinh sáng Chủ nhật.")
    await thao.press("Tất cả tổ trưởng")
    await thao.send("Gửi")
    async with services.sessions() as s:
        b = await s.scalar(select(Broadcast))
        sent = list(await s.scalars(select(OutboxMessage.chat_id)
                                    .where(OutboxMessage.kind == "broadcast")))
    assert b is not None and b.status == "queued"
    assert b.text == "Ra quân tổng vệ sinh sáng Chủ nhật."  # "Gửi" is not the new text
    assert sent == [lan.user_id]


async def test_an_old_audience_button_at_the_preview_changes_the_audience(
        services: Services) -> None:
    thao = await register(services, "9", "Thảo", None, "admin")
    await register(services, "1", "Lan")
    await register(services, "5", "Mai", None, "council")
    await thao.send("/phatdong")
    await thao.send("Họp giao ban thứ Hai.")
    audience = thao.options()
    await thao.press("Tất cả tổ trưởng")
    assert "Người nhận: 1" in thao.all_text
    council = next(o for o in audience if "Hội đồng" in o.label)
    await thao.press_data(council.data)  # the audience message is still on screen
    assert "không còn" not in thao.all_text
    assert "Người nhận: 1" in thao.all_text and "Mai" in thao.all_text
    await thao.press("Gửi cho 1 người")
    async with services.sessions() as s:
        b = await s.scalar(select(Broadcast))
    assert b is not None and b.status == "queued" and b.audience["kind"] == "council"


async def test_nothing_to_mute_after_the_group_has_submitted(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await submit_month(lan, LAN_MARCH)
    await lan.send("/nghi đi viện cả tháng")
    assert "Tổ 1 đã gửi báo cáo tháng 03/2022" in lan.last_text
    assert "không cần tạm nghỉ" in lan.last_text
    async with services.sessions() as s:
        assert (await s.scalars(select(ReminderMute))).all() == []
