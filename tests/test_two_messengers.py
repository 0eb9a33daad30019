"""Lan uses Thi Đua Bot on Telegram and on Zalo: she links the second account with a
short-lived code, and the bot's own messages follow her (the app she last wrote from,
or the one she chose), falling back to the other app when one cannot reach her.

"zalo" here is a channel name with a stand-in transport: the real Zalo channel lives in
its own folder; routing only needs the name.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.channels.base import DeliveryError, Pace
from bot.delivery import Sender
from bot.limits import RateLimiter
from bot.progress import BroadcastProgress
from models import Broadcast, Group, Identity, Invite, Member, OutboxMessage, Role
from models.outbox_claim import delivery_status
from reporting.config import Settings
from reporting.messages import DEFAULT_LIMITS, ChannelLimits, Outgoing
from reporting.runtime_config import Delivery
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import Clock
from tests.helpers import Person, make_invite, plain

ZALO_LIMITS = ChannelLimits(max_text=2000, max_caption=2000, buttons=False, edits=False)
FAST = Delivery(overall_per_second=1000, private_per_second=100, group_per_minute=1000,
                max_attempts=3, backoff_seconds=10, max_backoff_seconds=60,
                sending_timeout_seconds=120)
CODE = re.compile(r"<code>([A-Z0-9]{8})</code>")


class Recorder:
    """A stand-in transport: records each delivery; a chat in `blocked` is unreachable."""

    def __init__(self, blocked: set[str] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []  # (chat id, text)
        self.blocked = blocked or set()

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        if chat_id in self.blocked:
            raise DeliveryError("Forbidden: bot was blocked by the user", unreachable=True)
        self.sent.append((chat_id, out.text))
        return f"m{len(self.sent)}"


def both_running(app: Services) -> None:
    app.limits["telegram"] = DEFAULT_LIMITS
    app.limits["zalo"] = ZALO_LIMITS


async def lan_on_both(app: Services, clock: Clock) -> tuple[Person, Person]:
    """Lan registers on Telegram, asks for a link code there and types it on Zalo."""
    lan_tg = Person(app, "100", "Nguyễn Thị Lan", channel="telegram")
    await lan_tg.send(f"/start {await make_invite(app, 'to-1')}")
    await lan_tg.send("/lienket")
    found = CODE.search(lan_tg.replies[-1].messages[-1].text)
    assert found, lan_tg.last_text
    clock.advance(minutes=3)  # she opens Zalo
    lan_zalo = Person(app, "z-7f3a", "Lan Nguyễn", channel="zalo")
    await lan_zalo.send(f"/start {found.group(1)}")
    return lan_tg, lan_zalo


async def accounts(app: Services) -> list[tuple[str, str, str]]:
    async with app.sessions() as s:
        rows = await s.execute(select(Member.display_name, Identity.channel,
                                      Identity.external_id)
                               .join(Identity, Identity.member_id == Member.id)
                               .order_by(Identity.id))
        return [(name, channel, ext) for name, channel, ext in rows]


async def reminders(app: Services) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "reminder").order_by(OutboxMessage.id)))


async def test_lan_links_zalo_and_reminders_follow_her(services: Services,
                                                       clock: Clock) -> None:
    both_running(services)
    _lan_tg, lan_zalo = await lan_on_both(services, clock)
    # One member, two accounts; the Zalo account is Lan (her registered name is kept).
    assert await accounts(services) == [("Nguyễn Thị Lan", "telegram", "100"),
                                        ("Nguyễn Thị Lan", "zalo", "z-7f3a")]
    await lan_zalo.send("/trangthai")
    assert "chưa đăng ký" not in lan_zalo.last_text
    clock.set_local(2022, 4, 5, 8, 30)  # the due date's reminder
    await run_due(services, clock())
    first = await reminders(services)
    assert [(r.channel, r.chat_id) for r in first] == [("zalo", "z-7f3a")]

    # The stand-in transports show where it really goes.
    tg, zalo = Recorder(), Recorder()
    sender = Sender(services.sessions, FAST, {"telegram": tg, "zalo": zalo}, clock=clock)
    assert await sender.run_once() == 1
    assert [chat for chat, _ in zalo.sent] == ["z-7f3a"] and tg.sent == []

    clock.advance(minutes=5)
    await lan_zalo.send("/kenh telegram")
    async with services.sessions() as s:
        assert await s.scalar(select(Member.channel_choice)) == "telegram"
    clock.set_local(2022, 4, 7, 8, 30)  # the last reminder
    await run_due(services, clock())
    second = (await reminders(services))[1:]
    assert [(r.channel, r.chat_id) for r in second] == [("telegram", "100")]
    assert await sender.run_once() == 1
    assert [chat for chat, _ in tg.sent] == ["100"] and len(zalo.sent) == 1


async def test_auto_follows_the_app_she_last_wrote_from(services: Services,
                                                        clock: Clock) -> None:
    both_running(services)
    lan_tg, lan_zalo = await lan_on_both(services, clock)
    await lan_zalo.send("/kenh zalo")
    await lan_zalo.send("/kenh tudong")  # back to auto
    clock.advance(minutes=10)
    await lan_tg.send("/trogiup")  # she writes on Telegram again
    clock.set_local(2022, 4, 5, 8, 30)
    await run_due(services, clock())
    assert [r.channel for r in await reminders(services)] == ["telegram"]


async def test_a_blocked_or_stopped_channel_falls_back_to_the_other(
        services: Services, clock: Clock) -> None:
    both_running(services)
    _lan_tg, lan_zalo = await lan_on_both(services, clock)
    await lan_zalo.send("/kenh telegram")
    clock.set_local(2022, 4, 5, 8, 30)
    await run_due(services, clock())
    # She blocked the bot on Telegram: the reminder moves to Zalo, within the same row.
    tg, zalo = Recorder(blocked={"100"}), Recorder()
    sender = Sender(services.sessions, FAST, {"telegram": tg, "zalo": zalo}, clock=clock)
    await sender.run_once()
    await sender.run_once()
    (row,) = await reminders(services)
    assert (row.channel, row.chat_id, row.status) == ("zalo", "z-7f3a", "sent")
    assert [chat for chat, _ in zalo.sent] == ["z-7f3a"]
    async with services.sessions() as s:
        flags = dict((c, u) for c, u in await s.execute(
            select(Identity.channel, Identity.unreachable)))
        member_flag = await s.scalar(select(Member.unreachable))
    assert flags == {"telegram": True, "zalo": False}
    assert member_flag is False  # she can still be reached, so admins see no warning

    # An instance that serves only Zalo sends there even though she chose Telegram.
    del services.limits["telegram"]
    clock.set_local(2022, 4, 7, 8, 30)
    await run_due(services, clock())
    assert [r.channel for r in await reminders(services)][1:] == ["zalo"]


async def test_link_codes_are_hashed_short_lived_and_single_use(
        services: Services, clock: Clock, settings: Settings) -> None:
    lan_tg = Person(services, "100", "Nguyễn Thị Lan", channel="telegram")
    await lan_tg.send(f"/start {await make_invite(services, 'to-1')}")
    await lan_tg.send("/lienket")
    old = CODE.search(lan_tg.replies[-1].messages[-1].text)
    await lan_tg.send("/lienket")  # asking again voids the first code
    new = CODE.search(lan_tg.replies[-1].messages[-1].text)
    assert old and new and old.group(1) != new.group(1)
    async with services.sessions() as s:
        (invite,) = [i for i in await s.scalars(select(Invite))
                     if i.link_member_id is not None]
    assert new.group(1) not in invite.code_hash and invite.expires_at - clock() == \
        timedelta(minutes=15)
    stranger = Person(services, "z-evil", "Kẻ lạ", channel="zalo")
    await stranger.send(f"/start {old.group(1)}")
    assert "không đúng" in stranger.last_text
    clock.advance(minutes=16)
    lan_zalo = Person(services, "z-7f3a", "Lan", channel="zalo")
    await lan_zalo.send(f"/start {new.group(1)}")
    assert "hết hạn" in lan_zalo.last_text
    assert [c for _, c, _ in await accounts(services)] == ["telegram"]
    # Wrong codes count against the same per-user limit as invites.
    for _ in range(settings.bot.max_wrong_codes_per_hour):
        await stranger.send("/start AAAAAAAA")
    await lan_tg.send("/lienket")
    fresh = CODE.search(lan_tg.replies[-1].messages[-1].text)
    assert fresh
    await stranger.send(f"/start {fresh.group(1)}")
    assert "quá nhiều lần" in stranger.last_text
    await lan_zalo.send(f"/start {fresh.group(1)}")
    assert "Đã liên kết" in lan_zalo.last_text
    await Person(services, "z-other", "Ai đó", channel="zalo").send(f"/start {fresh.group(1)}")
    assert [c for _, c, _ in await accounts(services)] == ["telegram", "zalo"]


async def test_a_new_zalo_account_replaces_the_old_one(services: Services,
                                                       clock: Clock) -> None:
    lan_tg, _ = await lan_on_both(services, clock)
    await lan_tg.send("/lienket")
    code = CODE.search(lan_tg.replies[-1].messages[-1].text)
    assert code
    await Person(services, "z-newphone", "Lan", channel="zalo").send(f"/start {code.group(1)}")
    assert [(c, e) for _, c, e in await accounts(services)] == [("telegram", "100"),
                                                                ("zalo", "z-newphone")]


async def test_kenh_needs_a_linked_account(services: Services) -> None:
    lan = Person(services, "100", "Lan", channel="telegram")
    await lan.send(f"/start {await make_invite(services, 'to-1')}")
    await lan.send("/kenh zalo")
    assert "/lienket" in lan.last_text
    await lan.send("/channel")
    assert "/kenh telegram" in lan.last_text or "/channel telegram" in lan.last_text
    async with services.sessions() as s:
        assert await s.scalar(select(Member.channel_choice)) is None
    assert "Telegram" in plain(lan.replies[-1].messages[-1].text)


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_link_texts_render_in_both_languages(services: Services, lang: str) -> None:
    t = services.t
    assert "ABCDEFGH" in t("link_code", lang, code="ABCDEFGH", minutes=15, here="zalo",
                           linked=["telegram", "zalo"], link=None, expires=None, addr="")
    for key in ("linked", "channel_usage", "channel_chosen", "channel_not_linked"):
        assert "Zalo" in t(key, lang, name="Lan", here="zalo", choice="zalo",
                           linked=["telegram", "zalo"], wanted="zalo", addr="")


# -- a broadcast to 300 members on two messengers ------------------------------------------


class Limited(Recorder):
    """A stand-in messenger with its own overall rate limit, like a real one: a send
    beyond it is refused with a 429-like `retry_after` (and counted)."""

    def __init__(self, per_second: float) -> None:
        super().__init__()
        self.per_second = per_second
        self.times: list[float] = []
        self.refused = 0
        # What it lets through in any one second: the rate, with the tolerance a real
        # messenger has for a send that woke a few milliseconds late (10 %).
        self.allowed = int(per_second * 1.1) + 1

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        now = time.monotonic()
        if sum(1 for t in self.times if t > now - 1.0) >= self.allowed:
            self.refused += 1
            raise DeliveryError("Too Many Requests", retry_after=1.0)
        self.times.append(now)
        self.sent.append((chat_id, out.text))
        return f"m{len(self.sent)}"

    def busiest_second(self) -> int:
        return max(sum(1 for u in self.times if t <= u < t + 1.0) for t in self.times)


async def seed_leaders(app: Services, clock: Clock) -> dict[str, str]:
    """300 leaders: 150 on Telegram, 100 on Zalo, 50 on both (25 chose Telegram, 25 on
    auto who last wrote on Zalo). Returns the chat each should get the broadcast on."""
    now = clock()
    expected: dict[str, str] = {}
    async with app.sessions() as s, s.begin():
        group_id = await s.scalar(select(Group.id).where(Group.code == "to-1"))
        people = [Member(display_name=f"Tổ viên {i}", role=Role.LEADER, group_id=group_id,
                         created_at=now, channel_choice="telegram" if 250 <= i < 275 else None)
                  for i in range(300)]
        s.add_all(people)
        await s.flush()
        for i, m in enumerate(people):
            if i < 150 or i >= 250:
                s.add(Identity(member_id=m.id, channel="telegram", external_id=f"t{i}",
                               chat_id=f"t{i}", created_at=now,
                               last_used_at=now - timedelta(days=2)))
            if i >= 150:
                s.add(Identity(member_id=m.id, channel="zalo", external_id=f"z{i}",
                               chat_id=f"z{i}", created_at=now,
                               last_used_at=now - timedelta(days=1)))
            expected[f"t{i}" if i < 150 or 250 <= i < 275 else f"z{i}"] = m.display_name
    return expected


async def test_a_broadcast_to_300_on_two_messengers(services: Services,
                                                    clock: Clock) -> None:
    both_running(services)
    thao = Person(services, "9", "Thảo", channel="telegram")
    await thao.send(f"/start {await make_invite(services, None, 'admin')}")
    expected = await seed_leaders(services, clock)
    await thao.send("/phatdong")
    await thao.send("Ra quân tổng vệ sinh sáng Chủ nhật.")
    await thao.press("Tất cả tổ trưởng")
    await thao.press("Gửi cho 300 người")

    tg, zalo = Limited(per_second=100), Limited(per_second=40)
    delivery = FAST.model_copy(update={"overall_per_second": 100, "private_per_second": 1,
                                       "progress_every_seconds": 1})
    sender = Sender(services.sessions, delivery, {"telegram": tg, "zalo": zalo},
                    limiters={"telegram": RateLimiter(100, 1, 20),
                              "zalo": RateLimiter(40, 1, 20)})
    progress = BroadcastProgress(services, services.limits, wake=sender.nudge)
    sender.on_batch = progress
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop, idle_sleep=0.05))
    started = time.monotonic()
    try:
        while time.monotonic() - started < 60:
            await progress.sweep()
            async with services.sessions() as s:
                b = await s.scalar(select(Broadcast))
                pending = await s.scalar(select(func.count()).select_from(OutboxMessage)
                                         .where(OutboxMessage.status != "sent"))
            if b is not None and b.status == "done" and pending == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
    elapsed = time.monotonic() - started

    text = "Ra quân tổng vệ sinh sáng Chủ nhật."
    got = Counter(chat for chat, body in tg.sent + zalo.sent if text in body)
    assert set(got) == set(expected) and set(got.values()) == {1}  # each once, where due
    assert sum(1 for chat in got if chat.startswith("z")) == 125
    assert tg.refused == zalo.refused == 0  # each within its own limit...
    assert zalo.busiest_second() <= zalo.allowed and tg.busiest_second() <= tg.allowed
    assert elapsed > 125 / 40 - 0.5  # ...and Zalo's, not Telegram's, paced Zalo
    assert b is not None and b.status == "done"
    async with services.sessions() as s:
        st = await delivery_status(s, broadcast_id=b.id, kind="broadcast")
        edits = list(await s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "progress_edit").order_by(OutboxMessage.id)))
    assert st.by_channel == {"telegram": {"sent": 175}, "zalo": {"sent": 125}}
    finals = [e for e in edits if Outgoing.from_payload(e.payload).resend]
    assert len(finals) == 1 and finals[0] is edits[-1]  # ONE delivery report
    report = plain(Outgoing.from_payload(finals[0].payload).text)
    assert re.findall(r"• (\w+): \D*(\d+)", report) == [("Telegram", "175"), ("Zalo", "125")]
    assert "300/300" in report
    print(f"\n300 recipients on two messengers: {elapsed:.1f}s; busiest second: "
          f"Telegram {tg.busiest_second()}/100, Zalo {zalo.busiest_second()}/40")
