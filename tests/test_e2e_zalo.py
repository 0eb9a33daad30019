"""End to end on Zalo: the real channel (client, polling, inbox, dispatcher, renderer)
against a strict stand-in of the Zalo Bot API (`tests.zalo_stub`).

Lan leads Tổ 1 and has only Zalo. The clock is 3 April 2022, 09:00 in the ward: March is
being reported. Zalo has no buttons: Lan types the number of a menu line or its label,
and where a question asks for a number, a typed number is always her answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.zalo import ZaloChannel
from bot.channels.zalo.transport import ZaloTransport
from models import ChannelMenu, DeedPhoto, Report, ReportStatus, ReportValue
from reporting.media import photo_bytes
from reporting.messages import Option, Outgoing
from reporting.services import Services
from tests.helpers import make_invite
from tests.inbox_wait import handled
from tests.zalo_stub import BASE, PHOTO_HOST, TOKEN, ZaloStub

LAN = "zl-lan-7f3a"


@pytest.fixture
def stub() -> ZaloStub:
    return ZaloStub()


@pytest.fixture
async def zalo(services: Services, stub: ZaloStub) -> AsyncIterator[ZaloTransport]:
    async with serving(services, stub) as transport:
        yield transport


def serving(services: Services, stub: ZaloStub) -> Any:
    channel = ZaloChannel(TOKEN, BASE, poll_timeout=1, http_transport=stub.transport)
    return channel.serve(services)


async def say(services: Services, stub: ZaloStub, text: str, user: str = LAN,
              photo: str | None = None) -> str:
    """Lan types `text` (or sends a photo); the bot's answer, once her update is replied to."""
    before = len(stub.texts(user))
    update = stub.message(user, text, name="Lan", photo=photo)
    await stub.updates.put(update)
    key = f"{update['event_name']}:{update['message']['message_id']}"
    expected = min(1, await handled(services, key))  # a reply's messages may be joined
    for _ in range(400):
        if len(stub.texts(user)) - before >= expected:
            await asyncio.sleep(0.1)  # a long message goes in several parts
            return "\n".join(stub.texts(user)[before:])
        await asyncio.sleep(0.025)
    raise AssertionError(f"no answer to {text!r}")


async def values(services: Services) -> dict[str, str | None]:
    async with services.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


async def test_lan_registers_and_reports_march_by_typing_numbers_and_labels(
        zalo: ZaloTransport, stub: ZaloStub, services: Services) -> None:
    code = await make_invite(services, "to-1")
    assert "đăng ký thành công" in await say(services, stub, f"/start {code}")

    first = await say(services, stub, "/baocao")
    assert "Câu 1/12" in first and "1. ⏸ Tạm dừng" in first  # the menu, as text
    # "1" at a number question is the answer (1 household), not "1. Tạm dừng".
    assert "Câu 2/12" in await say(services, stub, "1")
    assert (await values(services))["households"] == "1"
    # A label is still understood there: back to question 1, and the right figure.
    assert "Câu 1/12" in await say(services, stub, "quay lại")
    for figure in ("120", "118", "450", "430", "440", "30"):
        await say(services, stub, figure)
    rejected = await say(services, stub, "25")  # fewer under 6 than under 5: refused
    assert "Câu 7/12" in rejected and (await values(services)).get("children_under_6") is None
    assert "Câu 8/12" in await say(services, stub, "40")

    assert "Câu 9/12" in await say(services, stub, "1")  # 1. Đạt
    assert "Câu 10/12" in await say(services, stub, "đạt")  # by its label
    assert "Câu 11/12" in await say(services, stub, "2")  # 2. Chưa đạt
    assert "Câu 12/12" in await say(services, stub, "1")  # 1. Tốt
    summary = await say(services, stub, "2")  # 2. Bỏ qua (no note)
    assert "7. Trẻ dưới 6 tuổi: 40" in summary

    # A correction from the summary: "Sửa một mục" is line 2, then item 3.
    assert "sửa mục nào" in await say(services, stub, "2")
    assert "Câu 3/12" in await say(services, stub, "3")
    assert "1.450" in await say(services, stub, "1.450")
    done = await say(services, stub, "1")  # 1. Gửi báo cáo
    assert "Đã gửi báo cáo tháng 03/2022 của Tổ 1" in done

    async with services.sessions() as s:
        report = await s.scalar(select(Report))
    assert report is not None and report.status == ReportStatus.SUBMITTED and not report.late
    stored = await values(services)
    assert stored["households"] == "120" and stored["residents"] == "1450"
    assert stored["children_under_6"] == "40" and stored["sanitation"] == "good"
    assert stored["safe_area"] == stored["drug_free"] != stored["cultured_group"]
    assert stored["notes"] is None
    assert all(len(t) <= 2000 for t in stub.texts(LAN))
    assert not any("<b>" in t or "&amp;" in t for t in stub.texts(LAN))  # plain text only


async def test_the_last_menu_survives_a_restart(services: Services, stub: ZaloStub) -> None:
    async with serving(services, stub):
        code = await make_invite(services, "to-1")
        await say(services, stub, f"/start {code}")
        await say(services, stub, "/baocao")
        for figure in ("120", "118", "450", "430", "440", "30", "40"):
            await say(services, stub, figure)
    async with services.sessions() as s:
        menu = await s.get(ChannelMenu, ("zalo", LAN))
    assert menu is not None and [label for label, _ in menu.options][:2] == ["Đạt", "Chưa đạt"]
    async with serving(services, stub):  # a new process reads the menu from the database
        assert "Câu 9/12" in await say(services, stub, "2")
    assert (await values(services))["safe_area"] == "no"  # 2. Chưa đạt


async def test_an_outbox_message_with_options_becomes_the_chats_menu(
        zalo: ZaloTransport, stub: ZaloStub, services: Services) -> None:
    stub.chats.add(LAN)
    paced: list[int] = []

    async def pace() -> None:
        paced.append(1)

    out = Outgoing("Nhắc báo cáo tháng 03/2022", [[Option("Báo cáo ngay", "r.go")]])
    assert await zalo.send(LAN, out, pace)
    assert paced == [1] and stub.texts(LAN) == ["Nhắc báo cáo tháng 03/2022\n\n1. Báo cáo ngay"]
    async with services.sessions() as s:
        menu = await s.get(ChannelMenu, ("zalo", LAN))
    assert menu is not None and menu.options == [["Báo cáo ngay", "r.go"]]


async def test_lan_sends_a_good_deed_with_a_photo_and_mai_reads_the_digest(
        zalo: ZaloTransport, stub: ZaloStub, services: Services) -> None:
    mai = "zl-mai-council"
    photo = PHOTO_HOST + "vi-tien.jpg?sig=abc"
    stub.photos[photo] = ("image/jpeg", b"\xff\xd8jpeg-bytes")
    await say(services, stub, f"/start {await make_invite(services, 'to-1')}")
    await say(services, stub, f"/start {await make_invite(services, None, 'council')}", mai)

    assert "1/6" in await say(services, stub, "/guongtot")
    await say(services, stub, "cá nhân")
    await say(services, stub, "Bà Lò Thị Xuân")
    await say(services, stub, "Nhặt được ví và trả lại người đánh rơi.")
    await say(services, stub, "hôm nay")
    assert "6/6" in await say(services, stub, "việc tốt khác")
    assert "1/5" in await say(services, stub, "", photo=photo)
    assert "📷 1 ảnh" in await say(services, stub, "xong")
    assert "Cảm ơn đồng chí" in await say(services, stub, "gửi")
    async with services.sessions() as s:  # the copy is kept: Zalo's URL may expire
        [kept] = list(await s.scalars(select(DeedPhoto)))
        assert kept.file_id == photo and kept.channel == "zalo"
        assert await photo_bytes(s, kept, None) == b"\xff\xd8jpeg-bytes"

    review = await say(services, stub, "/guongtot", mai)
    assert "Bà Lò Thị Xuân" in review and "1 ảnh" in review
    assert "⭐" in await say(services, stub, "đưa vào bản tin", mai)
    digest = await say(services, stub, "/tonghop", mai)
    assert "Tiến độ chỉ tiêu tháng 03/2022" in digest  # the chart's caption, as text
    assert "⭐ Bà Lò Thị Xuân (Tổ 1): Nhặt được ví" in digest
    # No public links configured: the chart is announced as available elsewhere.
    assert services.t("zalo_file_unavailable", "vi") in digest
    assert not any(s.method == "sendPhoto" for s in stub.sent)
