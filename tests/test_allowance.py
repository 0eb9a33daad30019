"""Two instances, one Telegram allowance: the senders share their pace in PostgreSQL.

The story: the ward runs two webhook instances on one PostgreSQL; the culture officer
broadcasts to every leader. Each instance's sender takes rows, and together they must
stay inside what Telegram allows one bot (30/s overall, 1/s per chat) — the fake Bot
API answers 429 the moment they do not. Each sender has its own database engine and its
own PTB `Bot`, as two processes would.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.allowance import SharedLimiter
from bot.assembly import open_services
from bot.channels.base import DeliveryError, Pace, Transport
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.delivery import Sender
from bot.limits import RateLimiter
from fakes.telegram import FakeBotApi
from fakes.telegram.events import BotEvent, UserAction
from models import OutboxMessage
from models.allowance import free_chat, hold_chat, pause, paused_for, prune_chats, take_slot
from models.outbox_ops import enqueue
from reporting.config import Settings
from reporting.messages import Outgoing, payload
from reporting.runtime_config import Delivery
from tests.outbox_seed import add_users, delivered, rejected, seed_broadcast, status_counts
from tests.test_config import _shipped_raw, load_error, write

T = TypeVar("T")

ON_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@dataclass
class Seen:
    """What happened, with monotonic times: the fake's accepted sends, per sender."""

    accepted: list[float] = field(default_factory=list)  # as the fake Bot API took them
    by_sender: list[tuple[str, float]] = field(default_factory=list)
    floods: list[tuple[str, float]] = field(default_factory=list)  # 429s a sender got

    def on_event(self, item: BotEvent | UserAction) -> None:
        if isinstance(item, BotEvent) and item.method == "sendMessage":
            self.accepted.append(time.monotonic())

    def rate(self) -> float:
        """Messages a second from the first accepted send to the last."""
        span = self.accepted[-1] - self.accepted[0]
        return (len(self.accepted) - 1) / span

    def busiest(self, seconds: float) -> int:
        """The most sends the fake accepted within any `seconds` long window."""
        times = sorted(self.accepted)
        most, first = 0, 0
        for last, t in enumerate(times):
            while t - times[first] >= seconds:
                first += 1
            most = max(most, last - first + 1)
        return most


class Recorded:
    """A sender's transport that notes who sent when (the fake cannot tell senders apart)."""

    def __init__(self, inner: Transport, worker: str, seen: Seen) -> None:
        self._inner, self._worker, self._seen = inner, worker, seen

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        try:
            message_id = await self._inner.send(chat_id, out, pace)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self._seen.floods.append((self._worker, time.monotonic()))
            raise
        self._seen.by_sender.append((self._worker, time.monotonic()))
        return message_id


@asynccontextmanager
async def two_senders(settings: Settings, db_url: str, fake: FakeBotApi, delivery: Delivery,
                      seen: Seen, batch_size: int | None = None,
                      ) -> AsyncIterator[list[Sender]]:
    """Two instances' senders (own engine, own Bot), running for the block."""
    async with (open_services(settings, db_url, migrate=False) as a,
                open_services(settings, db_url, migrate=False) as b,
                telegram_bot(fake.token, fake.base_url, timeout=5) as bot_a,
                telegram_bot(fake.token, fake.base_url, timeout=5) as bot_b):
        senders = [Sender(svc.sessions, delivery,
                          {"telegram": Recorded(TelegramTransport(bot, svc.media), name, seen)},
                          worker=name, batch_size=batch_size)
                   for name, svc, bot in (("A", a, bot_a), ("B", b, bot_b))]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.run(stop, idle_sleep=0.05)) for s in senders]
        try:
            yield senders
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def until_sent(settings: Settings, db_url: str, n: int, within: float) -> None:
    async with open_services(settings, db_url, migrate=False) as svc:
        deadline = time.monotonic() + within
        while (await status_counts(svc.sessions)).get("sent", 0) < n:
            assert time.monotonic() < deadline, await status_counts(svc.sessions)
            await asyncio.sleep(0.1)


def limits(per_second: float) -> Delivery:
    return Delivery(overall_per_second=per_second, private_per_second=1, group_per_minute=20,
                    sending_timeout_seconds=60)


async def broadcast_through_two(settings: Settings, db_url: str, n: int,
                                per_second: float) -> Seen:
    """One broadcast of `n`, two senders, the fake as strict as Telegram at `per_second`."""
    seen = Seen()
    async with FakeBotApi(on_event=seen.on_event) as fake:
        async with open_services(settings, db_url, migrate=False) as svc:
            seeded = await seed_broadcast(svc.sessions, n)
        add_users(fake, seeded.chats)
        fake.rate_limit(per_chat_per_second=1.0, overall_per_second=per_second)
        async with two_senders(settings, db_url, fake, limits(per_second), seen):
            await until_sent(settings, db_url, n, within=3 * n / per_second + 20)
    counts = delivered(fake)
    assert [counts[c] for c in seeded.chats] == [1] * n  # none lost, none twice
    assert rejected(fake, "Too Many Requests") == 0
    workers = Counter(worker for worker, _ in seen.by_sender)
    assert workers["A"] > n / 4 and workers["B"] > n / 4, workers  # both really sent
    # Together, below the limit. A second may see more than its share: the senders and
    # the fake share one event loop here, and a stall bunches the sends it delayed. As
    # on Telegram, the fake's bucket takes a burst of one second's worth (no 429 above),
    # so no second ever holds more than the rate plus that burst.
    assert seen.rate() <= per_second
    assert seen.busiest(1.0) <= 2 * per_second
    print(f"\n{n} recipients, two senders, limit {per_second:g}/s: {seen.rate():.1f} msg/s "
          f"({seen.rate() / per_second:.2f} of the limit), busiest second "
          f"{seen.busiest(1.0)}, sends by sender {dict(workers)}, 0 × 429")
    return seen


@ON_POSTGRES
async def test_two_instances_broadcast_within_one_allowance(settings: Settings,
                                                            db_url: str) -> None:
    """120 leaders at 20/s: alone, each sender would go at 19/s and the pair at 38/s."""
    seen = await broadcast_through_two(settings, db_url, 120, per_second=20)
    # 0.95 of the limit is booked and 0.95 measured on a quiet machine; 0.71 with the
    # load at 13 on two cores. Two senders each held to half (30/N by hand) stay at 0.5.
    assert seen.rate() > 0.6 * 20


@pytest.mark.slow  # 1,000 messages at 30/s take ~35 s
@ON_POSTGRES
async def test_two_instances_broadcast_1000_at_telegrams_30_per_second(
        settings: Settings, db_url: str) -> None:
    seen = await broadcast_through_two(settings, db_url, 1000, per_second=30)
    # 0.95 is booked; 0.89 measured with the machine's load at 9 on two cores.
    assert seen.rate() > 0.8 * 30


@ON_POSTGRES
async def test_a_429_to_one_instance_pauses_both(settings: Settings, db_url: str) -> None:
    """Telegram says "retry after 2" to one sender: neither sends for those 2 seconds."""
    n, flood_after, retry_after = 60, 15, 2
    seen = Seen()

    def inject(item: BotEvent | UserAction) -> None:
        seen.on_event(item)
        if len(seen.accepted) == flood_after and isinstance(item, BotEvent):
            fake.fail_next("sendMessage", 429, retry_after=retry_after)

    async with FakeBotApi(on_event=inject) as fake:
        async with open_services(settings, db_url, migrate=False) as svc:
            seeded = await seed_broadcast(svc.sessions, n)
        add_users(fake, seeded.chats)
        async with two_senders(settings, db_url, fake, limits(20), seen):
            await until_sent(settings, db_url, n, within=30)
    [(_, flooded_at)] = seen.floods
    before = [t for _, t in seen.by_sender if t < flooded_at]
    after = [(w, t) for w, t in seen.by_sender if t > flooded_at]
    # Sends already on the wire when the 429 came back still land; then silence.
    quiet = [t for _, t in after if flooded_at + 0.3 < t < flooded_at + retry_after - 0.1]
    assert quiet == [], [round(t - flooded_at, 2) for t in quiet]
    resumed = [(w, t) for w, t in after if t >= flooded_at + retry_after - 0.1]
    assert {w for w, _ in resumed} == {"A", "B"} and len(before) >= flood_after - 1
    # …and only for that long: sending goes on as soon as the pause is over.
    assert min(t for _, t in resumed) < flooded_at + retry_after + 0.5
    counts = delivered(fake)
    assert [counts[c] for c in seeded.chats] == [1] * n  # the flooded one came later
    assert rejected(fake, "Too Many Requests") == 1


@ON_POSTGRES
async def test_one_chat_claimed_by_both_instances_gets_a_message_a_second(
        settings: Settings, db_url: str) -> None:
    """Mai's chat gets four notices; each sender claims two, so both hold rows for her
    at once (the first to claim needs a second to send its two: the other claims the
    rest meanwhile). Telegram allows one message a second in a chat."""
    mai, now = 900_001, datetime.now(UTC)
    seen = Seen()
    async with FakeBotApi(on_event=seen.on_event) as fake:
        async with (open_services(settings, db_url, migrate=False) as svc,
                    svc.sessions() as s, s.begin()):
            for i in range(4):
                await enqueue(s, kind="notice", dedupe_key=f"mai:{i}", channel="telegram",
                              chat_id=str(mai), body=payload(f"Thông báo {i + 1}"), now=now)
        fake.user(mai, "Mai")
        fake.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)
        async with two_senders(settings, db_url, fake, limits(30), seen, batch_size=2):
            await until_sent(settings, db_url, 4, within=20)
        async with open_services(settings, db_url, migrate=False) as svc, svc.sessions() as s:
            by_worker = Counter(await s.scalars(select(OutboxMessage.claimed_by)))
    assert rejected(fake, "Too Many Requests") == 0 and len(fake.messages(mai)) == 4
    assert by_worker == {"A": 2, "B": 2}, by_worker  # each sent two, none sent twice
    gaps = [b - a for a, b in zip(seen.accepted, seen.accepted[1:], strict=False)]
    assert min(gaps) >= 0.95, gaps


# -- the statements themselves ---------------------------------------------------------------


@ON_POSTGRES
async def test_slots_are_booked_evenly_and_a_pause_moves_them(settings: Settings,
                                                              db_url: str) -> None:
    async with open_services(settings, db_url, migrate=False) as svc:
        async def run(statement: Callable[[AsyncSession], Awaitable[T]]) -> T:
            async with svc.sessions() as s, s.begin():
                return await statement(s)

        waits = [await run(lambda s: take_slot(s, "telegram", 0.5)) for _ in range(3)]
        assert waits[0] <= 0 and waits[1] == pytest.approx(0.5, abs=0.1)
        assert waits[2] == pytest.approx(1.0, abs=0.1)
        assert await run(lambda s: take_slot(s, "zalo", 0.5)) <= 0  # its own allowance
        assert await run(lambda s: paused_for(s, "telegram")) <= 0
        await run(lambda s: pause(s, "telegram", 5))
        assert await run(lambda s: paused_for(s, "telegram")) == pytest.approx(5, abs=0.2)
        assert await run(lambda s: take_slot(s, "telegram", 0.5)) >= 4.8

        assert await run(lambda s: hold_chat(s, "telegram", "42", 30)) == 0
        assert await run(lambda s: hold_chat(s, "telegram", "42", 30)) > 29  # held
        await run(lambda s: free_chat(s, "telegram", "42", 0.3))
        assert await run(lambda s: hold_chat(s, "telegram", "42", 30)) == pytest.approx(
            0.3, abs=0.1)
        await asyncio.sleep(0.35)
        assert await run(lambda s: hold_chat(s, "telegram", "42", 30)) == 0
        await run(lambda s: free_chat(s, "telegram", "42", -7200))  # free for two hours
        await run(lambda s: prune_chats(s, 3600))
        assert await run(lambda s: hold_chat(s, "telegram", "42", 30)) == 0  # a new row


async def test_one_process_paces_in_memory_several_share_the_database(
        settings: Settings, db_url: str) -> None:
    async with open_services(settings, db_url, migrate=False) as svc:
        sender = Sender(svc.sessions, limits(30), {})
        limiter = sender.limiter("telegram")
        if db_url.startswith("sqlite"):
            assert isinstance(limiter, RateLimiter)
        else:
            assert isinstance(limiter, SharedLimiter)
            assert limiter.slot == pytest.approx(1 / (30 * 0.95))  # allowance_fraction
            zalo = sender.limiter("zalo")
            assert isinstance(zalo, SharedLimiter) and zalo.slot == pytest.approx(1 / 9.5)
        assert limiter.interval("5") == 1.0 and limiter.interval("-100") == 3.0


def test_a_fraction_above_the_limit_is_refused_at_start(tmp_path: Path) -> None:
    raw = copy.deepcopy(_shipped_raw())
    assert raw["delivery"]["allowance_fraction"] == 0.95  # shipped, spelled out
    raw["delivery"]["allowance_fraction"] = 1.5
    error = load_error(write(tmp_path, raw))
    assert "config.yaml" in error and "delivery.allowance_fraction" in error
