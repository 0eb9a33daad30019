"""Stories across both messengers, end to end: the real Telegram and Zalo channels over
HTTP against the two fake Bot APIs (fakes/telegram, fakes/zalo), with the real outbox
sender pacing each channel from config (Telegram 30/s overall, 1/s per chat; Zalo
`delivery.zalo`: 10/s, 1/s per chat).

Thảo (ward office) is an admin on Telegram, Mai sits on the Council on Telegram, Hùng
leads Tổ 2 on Telegram, Lan leads Tổ 1 on Zalo. The clock is 3 April 2022, 09:00 in the
ward (March is being reported, due on 5 April).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.assembly import background
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from fakes.telegram import FakeBotApi, FakeUser
from fakes.zalo import FakeZaloApi, FakeZaloUser
from models import Broadcast, DeedPhoto, Group, Identity, Member, OutboxMessage, Role
from models.outbox_claim import delivery_status
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import Clock
from tests.helpers import make_invite
from tests.inbox_wait import handled

DONE = "Đã gửi xong"  # the broadcast's progress message once it became the report
PER_MESSENGER = re.compile(r"• (\w+): \D*(\d+)")
LINK_CODE = re.compile(r"<code>([A-Z0-9]{8})</code>")


@asynccontextmanager
async def both_served(services: Services, tg: FakeBotApi,
                      zalo: FakeZaloApi) -> AsyncIterator[None]:
    """The bot as `thidua run` serves two messengers: both channels polling their fake,
    and the outbox sender (no scheduler: the tests run due jobs themselves)."""
    async with AsyncExitStack() as stack:
        transports: dict[str, Any] = {}
        for channel in (TelegramChannel(tg.token, tg.base_url, poll_timeout=1),
                        ZaloChannel(zalo.token, zalo.base_url, poll_timeout=1)):
            transports[channel.name] = await stack.enter_async_context(
                channel.serve(services))
        limits = {name: services.limits[name] for name in transports}
        await stack.enter_async_context(
            background(services, transports, limits, scheduler=False, idle_sleep=0.1))
        yield


async def tg_say(user: FakeUser, text: str, replies: int = 1) -> str:
    await user.send(text)
    return "\n".join(e.html or "" for e in await user.expect(replies))


async def tg_press(user: FakeUser, label: str, replies: int = 2) -> str:
    await user.press(label)
    return "\n".join(e.text or "" for e in await user.expect(replies))


async def zalo_answer(services: Services, user: FakeZaloUser, update: dict[str, Any]) -> str:
    """The bot's answer to `update` (which `user` just sent), once handled and replied."""
    key = f"{update['event_name']}:{update['message']['message_id']}"
    # At least one message (a channel may join a reply's messages into one text).
    parts = await user.expect(min(1, await handled(services, key)))
    parts += await user.settle(quiet=0.1)  # a long message goes in several parts
    return "\n".join(e.text or "" for e in parts)


async def zalo_say(services: Services, user: FakeZaloUser, text: str) -> str:
    return await zalo_answer(services, user, await user.send(text))


async def final_report(admin: FakeUser, within: float = 60.0) -> str:
    """The delivery report the admin's progress message became."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done = [m.text or "" for m in admin.messages() if DONE in (m.text or "")]
        if done:
            return done[0]
        await asyncio.sleep(0.1)
    raise AssertionError([m.text for m in admin.messages()][-3:])


def photo() -> bytes:
    buf = BytesIO()
    Image.new("RGB", (320, 240), (46, 125, 50)).save(buf, format="JPEG")
    return buf.getvalue()


def rejected_429(tg: FakeBotApi, zalo: FakeZaloApi) -> tuple[list[str], list[str]]:
    return ([str(e.chat_id) for e in tg.events if not e.ok and "Too Many" in (e.error or "")],
            [str(e.chat_id) for e in zalo.events if not e.ok and e.error_code == 429])


def deliveries(tg: FakeBotApi, zalo: FakeZaloApi, text: str) -> Counter[str]:
    """Messages containing `text` each chat got, on either messenger."""
    return Counter([f"telegram:{e.chat_id}" for e in tg.events
                    if e.ok and e.method == "sendMessage" and text in (e.text or "")]
                   + [f"zalo:{e.chat_id}" for e in zalo.events
                      if e.ok and e.method == "sendMessage" and text in (e.text or "")])


# -- 1. a broadcast to 300 leaders on two messengers ---------------------------------------


async def seed_300(app: Services, clock: Clock, tg: FakeBotApi,
                   zalo: FakeZaloApi) -> dict[str, str]:
    """300 leaders across the 15 groups: 150 only on Telegram, 90 only on Zalo, 30 on
    both who chose Telegram (though they last wrote on Zalo), 30 on both on auto who
    last wrote on Zalo. Returns where each should get the broadcast: chat -> name."""
    now = clock()
    expected: dict[str, str] = {}
    async with app.sessions() as s, s.begin():
        groups = list(await s.scalars(select(Group.id).order_by(Group.id)))
        people = [Member(display_name=f"Tổ trưởng {i}", role=Role.LEADER,
                         group_id=groups[i % len(groups)], created_at=now,
                         channel_choice="telegram" if 240 <= i < 270 else None)
                  for i in range(300)]
        s.add_all(people)
        await s.flush()
        for i, m in enumerate(people):
            tg_id, zalo_id = 500_000 + i, f"zl-{i:03d}"
            if i < 150 or i >= 240:
                tg.user(tg_id, m.display_name)
                s.add(Identity(member_id=m.id, channel="telegram", external_id=str(tg_id),
                               chat_id=str(tg_id), created_at=now,
                               last_used_at=now - timedelta(days=2)))
            if i >= 150:
                zalo.user(zalo_id, m.display_name)
                s.add(Identity(member_id=m.id, channel="zalo", external_id=zalo_id,
                               chat_id=zalo_id, created_at=now,
                               last_used_at=now - timedelta(days=1)))
            on_tg = i < 150 or 240 <= i < 270
            expected[f"telegram:{tg_id}" if on_tg else f"zalo:{zalo_id}"] = m.display_name
    return expected


@pytest.mark.slow
async def test_a_broadcast_to_300_leaders_on_both_fakes(services: Services,
                                                        clock: Clock) -> None:
    text = "Ra quân tổng vệ sinh sáng Chủ nhật 10/4."
    finished: dict[str, float] = {}  # messenger -> when it delivered its last copy

    def timed(channel: str) -> Callable[[Any], None]:
        def seen(item: Any) -> None:
            if text in (getattr(item, "text", None) or ""):
                finished[channel] = time.monotonic()
        return seen

    async with FakeBotApi(on_event=timed("telegram")) as tg, \
            FakeZaloApi(on_event=timed("zalo")) as zalo, both_served(services, tg, zalo):
        thao = tg.user(9009, "Thảo")
        code = await make_invite(services, None, "admin")
        assert "quản trị viên" in await tg_say(thao, f"/start {code}")
        expected = await seed_300(services, clock, tg, zalo)
        await tg_say(thao, "/phatdong")
        await tg_say(thao, text)
        assert "Người nhận: 300" in await tg_press(thao, "Tất cả tổ trưởng")
        # Telegram's flood limits from here on (Zalo's, 10/s and 1/s per chat, are on).
        tg.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)
        started = time.monotonic()
        await thao.press("Gửi cho 300 người")
        finished.clear()  # (Thảo's preview)
        report = await final_report(thao)
        elapsed = time.monotonic() - started
        await thao.settle(quiet=1.0)  # nothing more comes after the report
        got = deliveries(tg, zalo, text)
        tg_429, zalo_429 = rejected_429(tg, zalo)
        reports = [e for e in tg.events if e.ok and DONE in (e.text or "")]

    per_channel = Counter(chat.split(":")[0] for chat in got)
    tg_took, zalo_took = finished["telegram"] - started, finished["zalo"] - started
    print(f"\n300 leaders on both fakes: report after {elapsed:.1f}s; Telegram sent "
          f"{per_channel['telegram']} in {tg_took:.1f}s, Zalo {per_channel['zalo']} in "
          f"{zalo_took:.1f}s; 429s: Telegram {tg_429}, Zalo {zalo_429}")
    # Each leader got it exactly once, on the messenger due (Thảo's copy is the preview).
    got.pop(f"telegram:{thao.chat_id}", None)
    assert set(got) == set(expected) and set(got.values()) == {1}
    assert per_channel == {"telegram": 180 + 1, "zalo": 120}
    # Each messenger paced within its own limits: nobody was ever refused, Thảo included
    # (her "Gửi" tap is answered with a notice, and the paced sender turns the preview
    # into the progress message: nothing of ours lands in her chat in the same second).
    assert zalo_429 == [] and tg_429 == []
    assert zalo_took > 120 / 10 - 1  # Zalo's pace, not Telegram's, set Zalo's speed
    # ...and Zalo's slower pace did not hold Telegram back (they drain side by side):
    # held to Zalo's 10/s, Telegram's 181 would take half as long again as Zalo's 120.
    # (Not a tighter ratio: on PostgreSQL each send also takes its slot from the shared
    # allowance, a few statements, and a loaded machine stretches both sides unevenly.)
    assert tg_took < zalo_took
    # ONE delivery report, with the counts per messenger.
    assert len(reports) == 1
    assert PER_MESSENGER.findall(report) == [("Telegram", "180"), ("Zalo", "120")]
    assert "300/300" in report
    async with services.sessions() as s:
        b = await s.scalar(select(Broadcast))
        assert b is not None and b.status == "done"
        st = await delivery_status(s, broadcast_id=b.id, kind="broadcast")
    assert st.by_channel == {"telegram": {"sent": 180}, "zalo": {"sent": 120}}


# -- 2. a good deed with a photo on Zalo; a broadcast reaching both messengers ------------


async def test_lans_good_deed_from_zalo_reaches_the_council_and_thaos_broadcast_both(
        services: Services) -> None:
    async with FakeBotApi() as tg, FakeZaloApi() as zalo, both_served(services, tg, zalo):
        lan = zalo.user("zl-lan-7f3a", "Lan")
        reply = await zalo_say(services, lan, f"/start {await make_invite(services, 'to-1')}")
        assert "đăng ký thành công" in reply
        assert "1/6" in await zalo_say(services, lan, "/guongtot")
        await zalo_say(services, lan, "cá nhân")
        await zalo_say(services, lan, "Bà Lò Thị Xuân")
        await zalo_say(services, lan, "Nhặt được ví có 5 triệu đồng, trả lại người đánh rơi.")
        await zalo_say(services, lan, "hôm qua")
        assert "6/6" in await zalo_say(services, lan, "việc tốt khác")
        jpeg = photo()
        # Zalo sends a link to the photo (the fake serves it); the bot fetches the bytes.
        assert "1/5" in await zalo_answer(services, lan, await lan.send_photo(jpeg))
        assert "📷 1 ảnh" in await zalo_say(services, lan, "xong")
        assert "Cảm ơn đồng chí" in await zalo_say(services, lan, "gửi")
        async with services.sessions() as s:
            [kept] = list(await s.scalars(select(DeedPhoto)))
        assert kept.channel == "zalo" and kept.file_id.startswith("http")

        mai = tg.user(2002, "Trần Thị", "Mai")
        code = await make_invite(services, None, "council")
        assert "Hội đồng Thi đua" in await tg_say(mai, f"/start {code}")
        review = await tg_say(mai, "/guongtot", 2)
        assert "Bà Lò Thị Xuân" in review and "1 ảnh" in review

        hung, thao = tg.user(1002, "Hùng"), tg.user(9009, "Thảo")
        assert "đăng ký thành công" in await tg_say(
            hung, f"/start {await make_invite(services, 'to-2')}")
        assert "quản trị viên" in await tg_say(
            thao, f"/start {await make_invite(services, None, 'admin')}")
        await tg_say(thao, "/phatdong")
        text = "Họp tổ trưởng lúc 8 giờ thứ Hai tại nhà văn hóa."
        await tg_say(thao, text)
        assert "Người nhận: 2" in await tg_press(thao, "Tất cả tổ trưởng")
        await thao.press("Gửi cho 2 người")
        report = await final_report(thao, within=20)
        await thao.settle(quiet=0.5)
        got = deliveries(tg, zalo, text)
        reports = [e for e in tg.events if e.ok and DONE in (e.text or "")]
    got.pop(f"telegram:{thao.chat_id}", None)  # her preview
    assert got == {f"telegram:{hung.chat_id}": 1, f"zalo:{lan.id}": 1}
    assert len(reports) == 1
    assert PER_MESSENGER.findall(report) == [("Telegram", "1"), ("Zalo", "1")]


# -- 3. Lan links Zalo to her Telegram account; the reminder follows her there -----------


async def test_lan_links_zalo_and_gets_her_reminder_there(services: Services,
                                                          clock: Clock) -> None:
    async with FakeBotApi() as tg, FakeZaloApi() as zalo, both_served(services, tg, zalo):
        lan_tg = tg.user(1001, "Nguyễn Thị", "Lan")
        assert "đăng ký thành công" in await tg_say(
            lan_tg, f"/start {await make_invite(services, 'to-1')}")
        found = LINK_CODE.search(await tg_say(lan_tg, "/lienket"))
        assert found
        clock.advance(minutes=3)  # she opens Zalo and types the code
        lan_zalo = zalo.user("zl-lan-7f3a", "Lan Nguyễn")
        assert "Đã liên kết" in await zalo_say(services, lan_zalo, f"/start {found.group(1)}")
        clock.advance(minutes=5)
        assert "chưa đăng ký" not in await zalo_say(services, lan_zalo, "/trangthai")
        async with services.sessions() as s:
            linked = {(i.channel, i.chat_id): i.member_id for i in
                      await s.scalars(select(Identity))}
        assert set(linked) == {("telegram", "1001"), ("zalo", "zl-lan-7f3a")}
        assert len(set(linked.values())) == 1  # one member, two accounts

        clock.set_local(2022, 4, 5, 8, 30)  # the due date's reminder; March not sent
        await run_due(services, clock())
        [event] = await lan_zalo.expect(1, timeout=10)
        assert await lan_tg.settle(quiet=0.5) == []  # not on Telegram too
        async with services.sessions() as s:
            [row] = list(await s.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == "reminder")))
    assert (row.channel, row.chat_id, row.status) == ("zalo", "zl-lan-7f3a", "sent")
    assert event.method == "sendMessage" and "03/2022" in (event.text or "")
