"""Lan tells of a good deed with photos; Mai (Council) reviews it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from models import DeedPhoto, DeedStatus, GoodDeed
from reporting.buttons import Button, DeedAction, Flow, ReviewAction, encode
from reporting.media import photo_bytes
from reporting.services import Services
from tests.helpers import Person, register

JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


def review(deed_id: int, action: ReviewAction) -> str:
    """The data of a Council card's button, as a forger would make it."""
    return encode(Button(Flow.REVIEW, action, (deed_id,)))


@pytest.fixture
def media(services: Services, tmp_path: Path) -> Path:
    services.media_dir = tmp_path / "media"

    async def fetch(file_id: str, max_bytes: int) -> bytes:
        return JPEG + file_id.encode()

    services.fetchers["test"] = fetch
    return services.media_dir


def on_disk(folder: Path) -> bool:
    return folder.exists()


async def tell(lan: Person, name: str = "Bà Lò Thị Xuân") -> None:
    await lan.send("/guongtot")
    assert "1/6" in lan.last_text
    await lan.press("Cá nhân")
    await lan.send(name)
    await lan.send("Nhặt được ví tiền và trả lại cho người đánh rơi.")
    await lan.press("Hôm qua")
    assert "5/6" in lan.last_text
    await lan.press("Việc tốt khác")
    assert "6/6" in lan.last_text


async def deeds(app: Services) -> list[GoodDeed]:
    async with app.sessions() as s:
        return list(await s.scalars(select(GoodDeed)))


async def test_lan_tells_a_good_deed_with_two_photos(services: Services, media: Path) -> None:
    lan = await register(services, "1", "Lan")
    await tell(lan)
    await lan.send_photos("photo-a")
    assert "Đã nhận 1/5 ảnh" in lan.last_text
    await lan.send_photos("photo-b")
    await lan.press("Xong")
    assert "Bà Lò Thị Xuân (cá nhân)" in lan.last_text and "📷 2 ảnh" in lan.last_text
    assert "02/04/2022" in lan.last_text  # yesterday, from 3 April
    await lan.press("Gửi")
    assert "Cảm ơn đồng chí Lan" in lan.all_text
    [deed] = await deeds(services)
    assert deed.status == DeedStatus.NEW and deed.category == "other"
    async with services.sessions() as s:
        photos = list(await s.scalars(select(DeedPhoto).order_by(DeedPhoto.position)))
    assert [p.file_id for p in photos] == ["photo-a", "photo-b"]
    assert [p.local_path for p in photos] == [f"good-deeds/{photos[0].deed_id}/{n}.jpg"
                                              for n in (1, 2)]
    async with services.sessions() as s:  # the copies are in the database, for every host
        assert [await photo_bytes(s, p, None) for p in photos] == [
            JPEG + b"photo-a", JPEG + b"photo-b"]
    assert not on_disk(media)  # and nothing on this instance's disk


async def test_bad_answers_are_re_asked_and_nothing_is_lost(services: Services,
                                                           media: Path) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/guongtot")
    await lan.send("ba")  # neither person nor group
    assert "⚠️" in lan.last_text and "1/6" in lan.last_text
    await lan.send("2")
    await lan.send("x")
    assert "từ 2 đến 200 ký tự" in lan.last_text
    await lan.send("Chi hội Cựu chiến binh")
    await lan.send("x" * 1200)
    assert "1.200 ký tự" in lan.last_text or "1200 ký tự" in lan.last_text
    await lan.send("Sửa đường ngõ 5 cho bà con đi lại.")
    await lan.send("31/02")
    assert "Chưa hiểu ngày này" in lan.last_text
    await lan.send("01/05/2022")
    assert "chưa đến" in lan.last_text
    await lan.send_photos("too-early")
    assert "giữ lại" in lan.last_text and "4/6" in lan.last_text  # kept, same question
    await lan.send("15/03")
    await lan.send("/huy")  # stop mid-way; the draft stays
    await lan.send("/guongtot")
    assert "Tiếp tục" in lan.last_text and "5/6" in lan.last_text
    await lan.send("3")  # category by number: environment
    [deed] = await deeds(services)
    assert (deed.subject_kind, deed.subject_name, deed.category) == (
        "collective", "Chi hội Cựu chiến binh", "environment")
    assert deed.happened_on is not None and deed.happened_on.isoformat() == "2022-03-15"


async def test_council_reviews_and_leader_cannot(services: Services, media: Path) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "2", "Mai", group=None, role="council")
    await mai.send("/guongtot")
    assert "Không có gương" in mai.last_text
    await tell(lan)
    await lan.press("Xong")
    await lan.press("Gửi")
    await mai.send("/guongtot")
    assert "Bà Lò Thị Xuân" in mai.all_text and "do Lan gửi" in mai.all_text
    await mai.press("Đưa vào bản tin")
    assert "⭐ Đưa vào bản tin — Mai" in mai.last_text
    [deed] = await deeds(services)
    assert deed.status == DeedStatus.FEATURED and deed.reviewed_by is not None
    # Lan forges the Council's button: refused, nothing changes.
    reply = await lan.press_data(review(deed.id, ReviewAction.PROPOSE))
    assert reply.toast is not None and "Hội đồng" in lan.last_text
    assert (await deeds(services))[0].status == DeedStatus.FEATURED
    for command in ("/tonghop", "/digest", "/xuat", "/export"):
        await lan.send(command)
        assert "dành cho Hội đồng" in lan.last_text


async def test_an_old_card_does_not_overturn_another_members_decision(
        services: Services, media: Path) -> None:
    lan = await register(services, "1", "Lan")
    mai = await register(services, "2", "Mai", None, "council")
    tu = await register(services, "3", "Tú", None, "council")
    await tell(lan)
    await lan.press("Xong")
    await lan.press("Gửi")
    await mai.send("/guongtot")
    await tu.send("/guongtot")  # both see the same new card
    await mai.press("Đưa vào bản tin")
    [deed] = await deeds(services)
    assert deed.status == DeedStatus.FEATURED
    # Tú presses "Để sau" on his card, still on his screen: Mai's decision stands.
    reply = await tu.press_data(review(deed.id, ReviewAction.NOT_NOW))
    [after] = await deeds(services)
    assert (after.status, after.reviewed_by, after.reviewed_at) == (
        DeedStatus.FEATURED, deed.reviewed_by, deed.reviewed_at)
    assert "đã được Mai xử lý" in tu.last_text and "đưa vào bản tin" in tu.last_text
    assert reply.toast is not None and "đã được Mai xử lý" in reply.toast


async def test_another_leader_cannot_touch_lans_draft(services: Services, media: Path) -> None:
    lan = await register(services, "1", "Lan")
    hung = await register(services, "2", "Hùng", group="to-2")
    await lan.send("/guongtot")
    [deed] = await deeds(services)
    await hung.press_data(encode(Button(Flow.DEED, DeedAction.VALUE, (deed.id, 0), "person")))
    assert "do người khác viết" in hung.last_text
    assert (await deeds(services))[0].subject_kind is None
