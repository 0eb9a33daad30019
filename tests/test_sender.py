"""The outbox sender: claims, retries, permanent failures, limits, and a 300-recipient run."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.assembly import open_services
from bot.channels.base import DeliveryError, Pace
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.delivery import Sender
from bot.limits import RateLimiter
from fakes.telegram import FakeBotApi
from models import Member, OutboxMessage, OutboxStatus
from models.db import Sessions
from models.outbox_claim import claim, delivery_status, mark_sent, recipients
from models.outbox_ops import enqueue
from reporting.config import Settings
from reporting.messages import Attachment, Option, Outgoing, payload
from reporting.runtime_config import Delivery
from reporting.services import Services
from tests.conftest import Clock
from tests.outbox_seed import add_users, delivered, rejected, seed_broadcast, status_counts
from tests.test_limits import FakeTime

FAST = Delivery(overall_per_second=1000, private_per_second=100, group_per_minute=1000,
                max_attempts=3, backoff_seconds=10, max_backoff_seconds=60,
                sending_timeout_seconds=120)


def fast_limiter() -> dict[str, RateLimiter]:
    # On a fake monotonic clock: a 429's pause must not make the test wait for real.
    t = FakeTime()
    return {"telegram": RateLimiter(1000, 100, 1000, clock=t, sleep=t.sleep)}


class Scripted:
    """A transport whose answers per chat are scripted: a message id or an exception."""

    def __init__(self, script: dict[str, list[str | Exception]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        self.calls.append(chat_id)
        answers = self.script.get(chat_id)
        answer = answers.pop(0) if answers else f"m{len(self.calls)}"
        if isinstance(answer, Exception):
            raise answer
        return answer


def msg(text: str, options: list[list[tuple[str, str]]] | None = None,
        photo: str | None = None) -> Outgoing:
    """An outbox row's message, as the sender reads it back."""
    return Outgoing.from_payload(payload(text, options, photo))


async def add_row(sessions: Sessions, chat: str, now: datetime, *,
                  member_id: int | None = None) -> int:
    async with sessions() as s, s.begin():
        await enqueue(s, kind="notice", dedupe_key=f"t:{chat}:{now.isoformat()}",
                      channel="telegram", chat_id=chat, body=payload("hi"), now=now,
                      member_id=member_id)
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == chat)
                             .order_by(OutboxMessage.id.desc()))
        assert row is not None
        return row.id


async def get_row(sessions: Sessions, row_id: int) -> OutboxMessage:
    async with sessions() as s:
        row = await s.get(OutboxMessage, row_id)
        assert row is not None
        return row


# -- claiming -----------------------------------------------------------------------------


async def test_crashed_claim_is_retried_and_a_fresh_one_is_not_stolen(
        services: Services, clock: Clock) -> None:
    now = clock()
    crashed = await add_row(services.sessions, "1", now)
    busy = await add_row(services.sessions, "2", now)
    later = await add_row(services.sessions, "3", now + timedelta(minutes=5))
    async with services.sessions() as s, s.begin():
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == crashed).values(
            status=OutboxStatus.SENDING, claimed_by="dead", attempts=1,
            claimed_at=now - timedelta(minutes=10)))
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == busy).values(
            status=OutboxStatus.SENDING, claimed_by="alive", attempts=1,
            claimed_at=now - timedelta(seconds=5)))
    rows = await claim(services.sessions, "me", now, 10, timedelta(minutes=2))
    assert [r.id for r in rows] == [crashed]
    assert rows[0].claimed_by == "me" and rows[0].attempts == 2
    assert (await get_row(services.sessions, busy)).claimed_by == "alive"
    assert later not in [r.id for r in rows]  # not due yet

    # The dead sender was only slow: its late "sent" must not overwrite our claim.
    stale = await get_row(services.sessions, crashed)
    stale.attempts, stale.claimed_by = 1, "dead"
    async with services.sessions() as s, s.begin():
        assert not await mark_sent(s, stale, "dead", now, "99")
        assert await mark_sent(s, rows[0], "me", now, "100")
    row = await get_row(services.sessions, crashed)
    assert (row.status, row.message_id, row.claimed_by) == (OutboxStatus.SENT, "100", "me")


async def test_concurrent_claims_never_share_a_row(settings: Settings, db_url: str) -> None:
    async with open_services(settings, db_url) as a, open_services(settings, db_url) as b:
        now = datetime.now(UTC)
        for n in range(60):
            await add_row(a.sessions, str(n), now)
        results = await asyncio.gather(*(
            claim(svc.sessions, f"w{i}", now, 7, timedelta(minutes=2))
            for i in range(8) for svc in (a, b)))
        ids = [r.id for rows in results for r in rows]
        assert len(ids) == len(set(ids))
        assert all(len(rows) <= 7 for rows in results)
        assert sorted(ids) == sorted(set(ids)) and len(ids) == 60  # 16 × 7 > 60: all taken


# -- results --------------------------------------------------------------------------------


async def test_transient_failures_back_off_then_fail_not_permanently(
        services: Services, clock: Clock) -> None:
    await add_row(services.sessions, "11", clock())
    err = DeliveryError("NetworkError: Bad Gateway")
    transport = Scripted({"11": [err, err, err]})
    sender = Sender(services.sessions, FAST, {"telegram": transport}, clock=clock,
                    limiters=fast_limiter(), jitter=lambda: 1.0)
    waits = []
    for _ in range(3):
        assert await sender.run_once() == 1
        assert await sender.run_once() == 0  # backing off: nothing due
        async with services.sessions() as s:
            row = await s.scalar(select(OutboxMessage))
        assert row is not None
        waits.append((row.next_attempt_at - clock()).total_seconds())
        clock.advance(seconds=100)
    assert waits[:2] == [10, 20]  # backoff × 2^(attempts-1), jitter pinned to 100 %
    assert row is not None
    assert row.status == OutboxStatus.FAILED and not row.permanent
    assert "after 3 attempts" in (row.last_error or "")
    assert await status_counts(services.sessions) == {"failed": 1}


async def test_flood_limit_waits_without_spending_an_attempt(
        services: Services, clock: Clock) -> None:
    await add_row(services.sessions, "12", clock())
    transport = Scripted({"12": [DeliveryError("RetryAfter", retry_after=7)] * 5})
    sender = Sender(services.sessions, FAST, {"telegram": transport}, clock=clock,
                    limiters=fast_limiter())
    for _ in range(5):
        assert await sender.run_once() == 1
        clock.advance(seconds=7)
    async with services.sessions() as s:
        row = await s.scalar(select(OutboxMessage))
    assert row is not None and row.status == OutboxStatus.PENDING and row.attempts == 0
    assert await sender.run_once() == 1
    assert (await get_row(services.sessions, row.id)).status == OutboxStatus.SENT


async def test_blocked_flags_the_member_bad_content_does_not(
        services: Services, clock: Clock) -> None:
    now = clock()
    async with services.sessions() as s, s.begin():
        lan = Member(display_name="Lan", role="leader", created_at=now)
        minh = Member(display_name="Minh", role="leader", created_at=now)
        s.add_all([lan, minh])
    await add_row(services.sessions, "21", now, member_id=lan.id)
    await add_row(services.sessions, "22", now, member_id=minh.id)
    transport = Scripted({
        "21": [DeliveryError("Forbidden: bot was blocked by the user", unreachable=True)],
        "22": [DeliveryError("BadRequest: can't parse entities", permanent=True)],
    })
    sender = Sender(services.sessions, FAST, {"telegram": transport}, clock=clock,
                    limiters=fast_limiter())
    assert await sender.run_once() == 2
    async with services.sessions() as s:
        status = await delivery_status(s, kind="notice")
        flags = {name: flag for name, flag in
                 await s.execute(select(Member.display_name, Member.unreachable))}
    assert status.failed == 2 and status.done
    assert {(f.member_name, f.permanent) for f in status.failures} == {
        ("Lan", True), ("Minh", True)}
    assert flags == {"Lan": True, "Minh": False}


async def test_rows_for_channels_without_a_transport_are_left_alone(
        services: Services, clock: Clock) -> None:
    async with services.sessions() as s, s.begin():
        await enqueue(s, kind="notice", dedupe_key="z", channel="zalo", chat_id="9",
                      body=payload("hi"), now=clock())
    sender = Sender(services.sessions, FAST, {"telegram": Scripted()}, clock=clock)
    assert await sender.run_once() == 0
    assert await status_counts(services.sessions) == {"pending": 1}


# -- TelegramTransport over the fake ----------------------------------------------------------


async def test_telegram_transport_photo_long_text_and_buttons(tmp_path: Path) -> None:
    (tmp_path / "deeds").mkdir()
    (tmp_path / "deeds" / "p.jpg").write_bytes(b"\xff\xd8 not really a jpeg \xff\xd9")
    async with FakeBotApi() as fake:
        fake.user(5, "Lan")
        async with telegram_bot(fake.token, fake.base_url, timeout=2) as bot:
            t = TelegramTransport(bot, tmp_path)
            paced: list[int] = []

            async def pace() -> None:
                paced.append(1)

            long = "\n".join(f"dòng {i} <b>đậm</b>" for i in range(400))
            body = payload(long, [[("OK", "ok")]], photo="media:deeds/p.jpg")
            await t.send("5", Outgoing.from_payload(body), pace)
            kinds = [(e.method, bool(e.buttons)) for e in fake.events
                     if e.ok and e.method.startswith("send")]
            assert kinds[0] == ("sendPhoto", False)  # caption too long: photo alone
            assert [k for k in kinds[1:]] == [("sendMessage", False), ("sendMessage", True)]
            assert len(paced) == 3  # every API call was paced
            await t.send("5", msg("ngắn", [[("OK", "ok")]], photo="media:deeds/p.jpg"),
                         pace)
            last = fake.events[-1]
            assert last.method == "sendPhoto" and last.text == "ngắn" and last.buttons
            with pytest.raises(DeliveryError) as outside:
                await t.send("5", msg("x", photo="media:../etc/passwd"), pace)
            assert outside.value.permanent and not outside.value.unreachable
            with pytest.raises(DeliveryError) as unknown:
                await t.send("6", msg("x"), pace)
            assert unknown.value.unreachable  # chat not found
            fake.fail_next("sendMessage", 503)
            with pytest.raises(DeliveryError) as flaky:
                await t.send("5", msg("x"), pace)
            assert not flaky.value.permanent and flaky.value.retry_after is None
            fake.delay_next("sendMessage", 3.0)
            start = time.monotonic()
            with pytest.raises(DeliveryError) as slow:
                await t.send("5", msg("x"), pace)
            assert "TimedOut" in str(slow.value) and time.monotonic() - start < 2.9
            await asyncio.sleep(0.2)
            assert fake.events[-1].error == "client gave up before the call was served"
            assert fake.messages(5)[-1].text == "ngắn"  # the timed-out call sent nothing


async def test_a_caption_too_long_once_escaped_follows_its_photo_as_text(tmp_path: Path) -> None:
    """1,000 `<` are 4,000 characters of HTML: too long for a caption, so not dropped but
    sent after the photo, in full."""
    (tmp_path / "c.png").write_bytes(b"\x89PNG not really")
    caption = "<b>Biểu đồ</b> " + "&lt;" * 1000
    out = Outgoing("Tổng hợp tuần", [[Option("OK", "ok")]],
                   attachments=[Attachment("photo", b"", "c.png", caption, media="c.png")])
    async with FakeBotApi() as fake:
        fake.user(5, "Lan")
        async with telegram_bot(fake.token, fake.base_url, timeout=2) as bot:
            await TelegramTransport(bot, tmp_path).send("5", out, _no_pace)
    sent = [e for e in fake.events if e.method.startswith("send")]
    assert all(e.ok for e in sent)
    assert [(e.method, e.text) for e in sent] == [
        ("sendPhoto", None), ("sendMessage", "Biểu đồ " + "<" * 1000 + "\n\nTổng hợp tuần")]
    assert sent[-1].buttons


async def _no_pace() -> None:
    return None


async def test_telegram_transport_edits_in_place_and_falls_back(tmp_path: Path) -> None:
    """A progress edit from the outbox edits the message; a vanished one is re-sent."""
    async with FakeBotApi() as fake:
        fake.user(5, "Thảo")
        async with telegram_bot(fake.token, fake.base_url, timeout=2) as bot:
            t = TelegramTransport(bot, tmp_path)

            async def pace() -> None:
                return None

            first = await t.send("5", msg("Đang gửi: 0/3"), pace)
            again = await t.send("5", Outgoing("Đã gửi xong: 3/3", edit=first), pace)
            assert again == first and fake.events[-1].method == "editMessageText"
            assert fake.messages(5)[-1].text == "Đã gửi xong: 3/3"
            same = await t.send("5", Outgoing("Đã gửi xong: 3/3", edit=first), pace)
            assert same == first  # "message is not modified" counts as done
            fresh = await t.send("5", Outgoing("Báo cáo", edit="999999"), pace)
            assert fresh != "999999" and fake.events[-1].method == "sendMessage"
            before = len(fake.messages(5))
            # A progress update whose message is gone is let go, not sent anew.
            gone = await t.send("5", Outgoing("Đang gửi: 1/3", edit="999999", resend=False),
                                pace)
            assert gone == "999999" and len(fake.messages(5)) == before


# -- 300 recipients through the real PTB stack ------------------------------------------------


@pytest.mark.slow  # paced by the fake's real-time limits: ~10 s per database
async def test_broadcast_to_300_recipients_exactly_once(services: Services) -> None:
    blocked = 5
    async with FakeBotApi() as fake:
        seeded = await seed_broadcast(services.sessions, 300)
        add_users(fake, seeded.chats[:-1])  # the last one never started the bot
        for chat in seeded.chats[10:10 + blocked]:
            fake.fail_chat(chat, 403, "Forbidden: bot was blocked by the user")
        unreachable = {*seeded.chats[10:10 + blocked], seeded.chats[-1]}
        fake.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)
        fake.fail_next("sendMessage", 502, count=6)
        fake.fail_next("sendMessage", 500, count=2)
        # Longer than the client's timeout, which is itself well above a loaded CI
        # machine's latency: a send that merely ran slow would be a genuine duplicate
        # (at-least-once), not the "gave up before it was served" this test means.
        fake.delay_next("sendMessage", 4.0, count=3)  # > the client's 1.5 s timeout
        delivery = Delivery(overall_per_second=30, private_per_second=1, group_per_minute=20,
                            max_attempts=5, backoff_seconds=0.2, max_backoff_seconds=2,
                            sending_timeout_seconds=60)
        batches: list[set[int]] = []

        async def on_batch(ids: set[int]) -> None:
            batches.append(ids)

        async with telegram_bot(fake.token, fake.base_url, timeout=1.5) as bot:
            sender = Sender(services.sessions, delivery,
                            {"telegram": TelegramTransport(bot, services.media)},
                            on_batch=on_batch)
            stop = asyncio.Event()
            started = time.monotonic()
            task = asyncio.create_task(sender.run(stop, idle_sleep=0.05))
            while True:
                async with services.sessions() as s:
                    status = await delivery_status(s, broadcast_id=seeded.broadcast_id)
                if status.done or time.monotonic() - started > 60:
                    break
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started
            stop.set()
            await task

    counts = delivered(fake)
    ok_chats = [c for c in seeded.chats if c not in unreachable]
    assert all(counts[c] == 1 for c in ok_chats), Counter(counts[c] for c in ok_chats)
    assert not any(counts[c] for c in unreachable)
    # The sender paces itself inside the fake's limits, so the fake never says 429.
    assert rejected(fake, "Too Many Requests") == 0
    assert rejected(fake, "Bad Gateway") == 6 and rejected(fake, "client gave up") == 3
    assert status.sent == 300 - len(unreachable) and status.failed == len(unreachable)
    failures = {int(f.chat_id): f for f in status.failures}
    assert set(failures) == unreachable
    assert all(f.permanent and f.member_name for f in failures.values())
    assert "blocked" in (failures[seeded.chats[10]].error or "")
    assert "chat not found" in (failures[seeded.chats[-1]].error or "").lower()
    async with services.sessions() as s:
        flagged = set(await s.scalars(select(Member.id).where(Member.unreachable)))
        sent = await recipients(s, broadcast_id=seeded.broadcast_id,
                                statuses=[OutboxStatus.SENT], limit=1000)
    assert flagged == {seeded.members[c] for c in unreachable}
    assert all(r.sent_at is not None for r in sent) and len(sent) == status.sent
    assert batches and all(b == {seeded.broadcast_id} for b in batches)
    # 300 sends at 30/s cannot take less than ~10 s; retries must not add much.
    assert 9.0 < elapsed < 25, elapsed
    print(f"\n300 recipients: {elapsed:.1f}s, "
          f"{sum(1 for e in fake.events if not e.ok)} rejected calls, 0 × 429")


# -- two senders, one database ------------------------------------------------------------------


async def test_two_senders_drain_one_outbox_without_doubles(settings: Settings,
                                                            db_url: str) -> None:
    delivery = Delivery(overall_per_second=200, private_per_second=100, group_per_minute=600,
                        sending_timeout_seconds=60)
    async with (open_services(settings, db_url) as a, open_services(settings, db_url) as b,
                FakeBotApi() as fake):
        seeded = await seed_broadcast(a.sessions, 300)
        add_users(fake, seeded.chats)
        fake.latency(0.003)  # so that the two really interleave
        async with telegram_bot(fake.token, fake.base_url, timeout=5) as bot:
            transport = TelegramTransport(bot, a.media)
            senders = [Sender(svc.sessions, delivery, {"telegram": transport},
                              worker=f"sender-{n}", batch_size=10)
                       for n, svc in enumerate((a, b))]
            stop = asyncio.Event()
            tasks = [asyncio.create_task(s.run(stop, idle_sleep=0.05)) for s in senders]
            deadline = time.monotonic() + 60
            while (await status_counts(a.sessions)).get("sent", 0) < 300:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.gather(*tasks)
        async with a.sessions() as s:
            by_worker = Counter(await s.scalars(select(OutboxMessage.claimed_by)))
    counts = delivered(fake)
    assert [counts[c] for c in seeded.chats] == [1] * 300
    assert by_worker["sender-0"] > 0 and by_worker["sender-1"] > 0, by_worker
