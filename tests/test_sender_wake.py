"""New outbox rows wake the sender at once, instead of after its idle sleep.

Thảo (admin) confirms a broadcast while the sender sleeps 30 s between empty looks: the
first leader has it within a second of her press. Underneath: `Sender.nudge()` ends the
idle wait, and a commit that enqueued rows calls the registered wake-ups (a commit that
enqueued nothing new, or a rollback, does not).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection

import pytest
from sqlalchemy import func, select

from bot.channels.base import Pace
from bot.delivery import Sender
from bot.demo import bot_stack
from fakes.telegram import BotEvent, FakeBotApi
from models import OutboxMessage
from models.outbox_ops import enqueue, wake_on_commit
from reporting.config import Delivery
from reporting.messages import Outgoing, payload
from reporting.services import Services
from scheduler.runner import run_due
from tests.conftest import Clock
from tests.helpers import make_invite, register

LONG_IDLE = 30.0  # far longer than any wait below: only a wake-up can explain a delivery


class Recorder:
    """A transport that notes when each chat was sent to (monotonic seconds)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.arrived = asyncio.Event()

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        self.sent[chat_id] = time.monotonic()
        self.arrived.set()
        return "1"


async def add_notice(services: Services, chat: str) -> bool:
    async with services.sessions() as s, s.begin():
        return await enqueue(s, kind="notice", dedupe_key=f"notice:{chat}", channel="telegram",
                             chat_id=chat, body=payload("Họp tổ lúc 19h"), now=services.clock())


async def rows(services: Services) -> int:
    async with services.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@pytest.fixture
async def idle_sender(services: Services, monkeypatch: pytest.MonkeyPatch
                      ) -> AsyncIterator[tuple[Sender, Recorder]]:
    """A sender that has looked once, found nothing, and is in its 30 s idle wait."""
    recorder = Recorder()
    sender = Sender(services.sessions, Delivery(), {"telegram": recorder})
    empty_looks = asyncio.Event()
    real = sender.run_once

    async def looked(channels: Collection[str] | None = None) -> int:
        handled = await real(channels)
        if handled == 0:
            empty_looks.set()  # nothing awaits between here and the idle wait
        return handled

    monkeypatch.setattr(sender, "run_once", looked)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop, idle_sleep=LONG_IDLE))
    await asyncio.wait_for(empty_looks.wait(), 10)
    try:
        yield sender, recorder
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)  # `stop` also ends the idle wait


async def test_nudge_ends_the_idle_wait(services: Services,
                                        idle_sender: tuple[Sender, Recorder]) -> None:
    sender, recorder = idle_sender
    assert await add_notice(services, "1001")  # nobody registered a wake-up: no news
    await asyncio.sleep(0.3)
    assert recorder.sent == {}  # still asleep: the row waits
    nudged = time.monotonic()
    sender.nudge()
    await asyncio.wait_for(recorder.arrived.wait(), 5)
    assert recorder.sent["1001"] - nudged < 1.0


async def test_a_commit_that_enqueued_wakes_the_sender(
        services: Services, idle_sender: tuple[Sender, Recorder]) -> None:
    sender, recorder = idle_sender
    stop = wake_on_commit(services.sessions, sender.nudge)
    try:
        committed = time.monotonic()
        assert await add_notice(services, "1001")
        await asyncio.wait_for(recorder.arrived.wait(), 5)
    finally:
        stop()
    assert recorder.sent["1001"] - committed < 1.0


async def test_only_commits_with_new_rows_wake(services: Services, clock: Clock) -> None:
    woken: list[str] = []
    stop = wake_on_commit(services.sessions, lambda: woken.append("wake"))
    await register(services, "1", "Lan", "to-1")  # her registration queues nothing
    assert woken == []
    assert await add_notice(services, "1001")
    assert woken == ["wake"]  # once per commit, after it
    assert not await add_notice(services, "1001")  # the same message again: deduplicated
    assert woken == ["wake"]

    with pytest.raises(RuntimeError):  # enqueued, then the handler failed: rolled back
        async with services.sessions() as s, s.begin():
            await enqueue(s, kind="notice", dedupe_key="notice:lost", channel="telegram",
                          chat_id="1002", body=payload("x"), now=clock())
            raise RuntimeError("handler bug")
    async with services.sessions() as s:  # rolled back by hand, then an empty commit
        await enqueue(s, kind="notice", dedupe_key="notice:lost", channel="telegram",
                      chat_id="1002", body=payload("x"), now=clock())
        await s.rollback()
        await s.commit()
    assert woken == ["wake"] and await rows(services) == 1

    clock.set_local(2022, 4, 3, 8, 30)  # Lan's first reminder is due: a job commits rows
    assert [o.job for o in await run_due(services, clock())] == ["reminder"]
    assert woken == ["wake"] * 2

    stop()
    assert await add_notice(services, "1003")
    assert woken == ["wake"] * 2


async def test_a_failing_wake_up_does_not_undo_the_commit(services: Services) -> None:
    def broken() -> None:
        raise RuntimeError("sender gone")

    stop = wake_on_commit(services.sessions, broken)
    try:
        assert await add_notice(services, "1001")
    finally:
        stop()
    assert await rows(services) == 1


async def test_the_first_broadcast_message_leaves_within_a_second_of_confirming(
        services: Services) -> None:
    """The real bot over HTTP against the fake Bot API, its sender idling 30 s at a time."""
    expected = "Ra quân tổng vệ sinh sáng Chủ nhật"
    async with FakeBotApi() as fake, \
            bot_stack(services, fake, background=True, idle_sleep=LONG_IDLE):
        thao = fake.user(9009, "Thảo")
        lan, hung = fake.user(1001, "Lan"), fake.user(2002, "Hùng")
        for user, group, role in ((thao, None, "admin"), (lan, "to-1", "leader"),
                                  (hung, "to-2", "leader")):
            await user.send(f"/start {await make_invite(services, group, role)}")
            assert "đăng ký thành công" in ((await user.next()).text or "")
        await thao.send("/phatdong")
        await thao.next()
        await thao.send(expected + ".")
        await thao.next()
        await thao.press("Tất cả tổ trưởng")
        assert "Người nhận: 2" in " ".join(e.text or "" for e in await thao.expect(2))

        def first_delivery() -> BotEvent | None:
            return next((e for e in fake.events if e.method == "sendMessage" and e.ok
                         and e.chat_id in (lan.id, hung.id) and expected in (e.text or "")),
                        None)

        assert first_delivery() is None
        pressed = time.monotonic()
        await thao.press("Gửi cho 2 người")
        first = await fake.wait_until(first_delivery, 10)
        latency = time.monotonic() - pressed
        assert first is not None
        print(f"first broadcast message {latency * 1000:.0f} ms after the press")
        assert latency < 1.0, f"{latency:.2f}s: the sender was not woken by the commit"
        # And the other leader gets it too, in the same wake-up.
        others = [u for u in (lan, hung) if u.id != first.chat_id]
        assert expected in ((await others[0].next(timeout=5)).text or "")
