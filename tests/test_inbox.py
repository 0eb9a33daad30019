"""The inbox dispatcher: each stored update handled once, in order per chat, chats in
parallel, nothing dropped when the database fails, replies sent after a crash.

The channel here is a strict stand-in ("test"): its updates are small JSON objects, and
it records every reply it is asked to deliver.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from bot.inbox import Dispatcher, InboxChannel, reply_json
from handlers import router
from handlers.router import Within
from models import InboxState, InboxUpdate, Member
from models.db import writes_one_at_a_time
from models.inbox_ops import NewUpdate, mark_done, store, store_claimed
from reporting.messages import Attachment, Incoming, Outgoing, Reply, parse_command
from reporting.services import Services
from tests.helpers import make_invite


@dataclass
class StandInChannel:
    """Updates `{"id": 7, "chat": "1001", "text": "/baocao"}`; every delivery recorded."""

    delivered: list[tuple[int, Reply]] = field(default_factory=list)

    @staticmethod
    def parse(raw: dict[str, Any]) -> Incoming | None:
        if "text" not in raw:
            return None
        if not isinstance(raw["text"], str) or not isinstance(raw["chat"], str):
            raise TypeError("not an update")
        command, args = parse_command(raw["text"])
        return Incoming(channel="test", chat_id=raw["chat"], user_id=raw["chat"],
                        display_name=f"user {raw['chat']}", text=raw["text"],
                        command=command, args=args)

    async def deliver(self, raw: dict[str, Any], inc: Incoming, reply: Reply) -> None:
        assert inc.chat_id == raw["chat"]
        self.delivered.append((int(raw["id"]), reply))

    def as_inbox(self) -> InboxChannel:
        return InboxChannel("test", self.parse, self.deliver)

    def replies_to(self, update_id: int) -> list[Reply]:
        return [r for i, r in self.delivered if i == update_id]


async def put(services: Services, *updates: tuple[int, str, str]) -> int:
    """Store updates (id, chat, text) as a channel would; returns how many were new."""
    rows = [NewUpdate(str(i), chat, json.dumps({"id": i, "chat": chat, "text": text}))
            for i, chat, text in updates]
    async with services.sessions() as s, s.begin():
        return await store(s, "test", rows, datetime.now(UTC))


async def open_rows(services: Services) -> int:
    async with services.sessions() as s:
        return int(await s.scalar(
            select(func.count()).select_from(InboxUpdate)
            .where(InboxUpdate.replied_at.is_(None))) or 0)


def recorder(handled: list[str]) -> Callable[[Services, Incoming, Within | None],
                                             Awaitable[Reply]]:
    """A handler that answers "ok <text>", closing its row in its own transaction, and
    notes each text it handled in `handled`."""

    async def recording(app: Services, inc: Incoming, within: Within | None) -> Reply:
        reply = Reply().add(f"ok {inc.text}")
        assert within is not None
        async with app.sessions() as s, s.begin():
            await within(s, reply)
        handled.append(inc.text or "")
        return reply

    return recording


@pytest.fixture
def channel() -> StandInChannel:
    return StandInChannel()


Run = Callable[..., Awaitable[None]]


@pytest.fixture
async def run_until_idle(services: Services, channel: StandInChannel) -> AsyncIterator[Run]:
    """Run a dispatcher until every stored row is handled and answered."""

    async def go(handler: Any = router.handle, within: float = 15.0, **kw: Any) -> None:
        dispatcher = Dispatcher(services, channel.as_inbox(), handler=handler, idle=0.05, **kw)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            async with asyncio.timeout(within):
                while await open_rows(services):
                    assert not task.done(), task
                    await asyncio.sleep(0.02)
        finally:
            stop.set()
            await task

    yield go


async def test_lans_start_delivered_twice_registers_her_once_and_answers_once(
        services: Services, channel: StandInChannel, run_until_idle: Run) -> None:
    code = await make_invite(services, "to-1")
    assert await put(services, (1, "1001", f"/start {code}")) == 1
    assert await put(services, (1, "1001", f"/start {code}")) == 0  # Telegram sent it again
    await run_until_idle()
    assert await put(services, (1, "1001", f"/start {code}")) == 0  # and again, after
    await run_until_idle()
    async with services.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 1
        assert await s.scalar(select(func.count()).select_from(Member)) == 1
    assert len(channel.replies_to(1)) == 1
    assert len(channel.delivered) == 1


async def test_each_chat_in_order_and_chats_side_by_side(
        services: Services, channel: StandInChannel, run_until_idle: Run) -> None:
    """Four leaders type five answers each, interleaved: each leader's are handled one
    after another in typing order, while the four are handled at the same time (on
    PostgreSQL)."""
    chats = ["1001", "1002", "1003", "1004"]
    await put(services, *[(10 * n + k, chat, f"answer {k}")
                          for k in range(5) for n, chat in enumerate(chats, start=1)])
    running: set[str] = set()
    seen: dict[str, list[str]] = {c: [] for c in chats}
    most_at_once = 0

    async def slow_handler(app: Services, inc: Incoming, within: Within | None) -> Reply:
        nonlocal most_at_once
        assert inc.chat_id not in running, "two answers of one chat handled at once"
        running.add(inc.chat_id)
        most_at_once = max(most_at_once, len(running))
        await asyncio.sleep(0.05)
        reply = Reply().add(f"ok {inc.text}")
        assert within is not None
        async with app.sessions() as s, s.begin():
            await within(s, reply)
        seen[inc.chat_id].append(inc.text or "")
        running.discard(inc.chat_id)
        return reply

    await run_until_idle(slow_handler)
    assert all(texts == [f"answer {k}" for k in range(5)] for texts in seen.values()), seen
    # PostgreSQL handles the four at once; SQLite, one writer at a time, in turns.
    assert most_at_once == (1 if writes_one_at_a_time(services.sessions) else len(chats))
    assert sorted(i for i, _ in channel.delivered) == sorted(
        10 * n + k for k in range(5) for n in range(1, 5))


async def test_a_database_outage_keeps_the_answer_and_the_chats_order(
        services: Services, channel: StandInChannel, run_until_idle: Run) -> None:
    """The connection drops while Hùng's first answer is handled: it is tried again
    later (not apologised for, not dropped), and his second waits behind it."""
    await put(services, (1, "2002", "first"), (2, "2002", "second"))
    handled: list[str] = []
    failures = 0

    async def flaky(app: Services, inc: Incoming, within: Within | None) -> Reply:
        nonlocal failures
        if inc.text == "first" and failures == 0:
            failures += 1
            raise OperationalError("SELECT 1", {}, ConnectionResetError("connection lost"))
        assert within is not None
        reply = Reply().add(inc.text or "")
        async with app.sessions() as s, s.begin():
            await within(s, reply)
        handled.append(inc.text or "")
        return reply

    await run_until_idle(flaky)
    assert failures == 1 and handled == ["first", "second"]
    # Hùng hears once that his message waits (not to send it again), then both answers.
    assert [i for i, _ in channel.delivered] == [1, 1, 2]
    notice = channel.delivered[0][1]
    assert notice.retry_later and notice.messages[0].text == services.t("db_waiting", "vi")
    async with services.sessions() as s:
        row = await s.scalar(select(InboxUpdate).where(InboxUpdate.update_key == "1"))
        assert row is not None and row.attempts == 1 and row.state == InboxState.DONE


async def test_a_reply_committed_before_a_crash_is_sent_at_start_without_handling_again(
        services: Services, channel: StandInChannel, run_until_idle: Run) -> None:
    await put(services, (5, "1001", "/baocao"))
    stored = Reply(toast="Đã lưu")
    stored.messages.append(Outgoing("Câu 2/12", attachments=[
        Attachment("document", b"xlsx bytes", "thidua.xlsx")]))
    async with services.sessions() as s, s.begin():
        row = await s.scalar(select(InboxUpdate))
        assert row is not None
        await mark_done(s, row.id, reply_json(stored), datetime.now(UTC))

    async def must_not_run(app: Services, inc: Incoming, within: Within | None) -> Reply:
        raise AssertionError("handled twice")

    await run_until_idle(must_not_run)
    [(update_id, sent)] = channel.delivered
    assert update_id == 5 and sent.toast == "Đã lưu"
    assert sent.messages[0].text == "Câu 2/12"
    assert sent.messages[0].attachments[0].data == b"xlsx bytes"


async def test_a_failing_handler_apologises_once_and_the_update_is_closed(
        services: Services, channel: StandInChannel, run_until_idle: Run,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def broken(ctx: object) -> Reply:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug")

    monkeypatch.setattr(router, "_dispatch", broken)
    await put(services, (9, "3003", "/trangthai"))
    await run_until_idle()
    [(update_id, sent)] = channel.delivered
    apology = services.t("error_generic", services.settings.ward.language)
    assert update_id == 9 and [m.text for m in sent.messages] == [apology] and calls == 1


async def test_updates_nobody_answers_are_closed_and_old_rows_pruned(
        services: Services, channel: StandInChannel, run_until_idle: Run) -> None:
    async with services.sessions() as s, s.begin():
        await store(s, "test", [NewUpdate("1", "1001", json.dumps({"id": 1, "chat": "1001"})),
                                NewUpdate("2", "1001", json.dumps({"id": 2, "chat": 5,
                                                                   "text": "x"}))],
                    datetime.now(UTC))
    await run_until_idle()
    assert channel.delivered == []  # an edit, and an unreadable row: nothing to say
    async with services.sessions() as s, s.begin():
        await s.execute(update(InboxUpdate).where(InboxUpdate.update_key == "1")
                        .values(replied_at=datetime.now(UTC) - timedelta(days=8)))
    await run_until_idle()  # a start prunes
    async with services.sessions() as s:
        keys = set(await s.scalars(select(InboxUpdate.update_key)))
    assert keys == {"2"}


async def test_rows_handed_over_out_of_order_are_still_handled_in_order(
        services: Services, channel: StandInChannel) -> None:
    """A channel hands over only Hùng's second message (the first was stored by another
    instance, without a hand-over): closing it is refused while the first is open, and
    the dispatcher takes both from the table, first one first, each answered once."""
    handled: list[str] = []
    recording = recorder(handled)

    # No search of the table but at start: only the refusal can lead the dispatcher there.
    dispatcher = Dispatcher(services, channel.as_inbox(), handler=recording, idle=0.05,
                            lease=0.0, scan=60.0)
    rows = [NewUpdate(str(i), "2002", json.dumps({"id": i, "chat": "2002", "text": t}))
            for i, t in ((1, "first"), (2, "second"))]
    async with dispatcher.running():
        await asyncio.sleep(0.2)  # its first search of the table is over
        async with services.sessions() as s, s.begin():
            await store(s, "test", rows[:1], datetime.now(UTC))
            second = await store_claimed(s, "test", rows[1:], datetime.now(UTC),
                                         dispatcher.worker)
        dispatcher.nudge(second)
        async with asyncio.timeout(10):
            while await open_rows(services):  # noqa: ASYNC110 - the table says when
                await asyncio.sleep(0.02)
    assert handled == ["first", "second"]
    assert [i for i, _ in channel.delivered] == [1, 2]


async def test_a_row_handed_over_with_its_reading_is_not_parsed_again(
        services: Services, channel: StandInChannel) -> None:
    """The channel read Hùng's update to store it and hands that reading over with the
    row: the dispatcher answers it without parsing the payload a second time. A row it
    takes from the table (stored without a hand-over) it parses itself."""
    parsed: list[str] = []

    def counting(raw: dict[str, Any]) -> Incoming | None:
        parsed.append(raw["text"])
        return channel.parse(raw)

    dispatcher = Dispatcher(services, InboxChannel("test", counting, channel.deliver),
                            idle=0.05, lease=0.0)
    raw = {"id": 1, "chat": "2002", "text": "/trogiup"}
    row = NewUpdate("1", "2002", json.dumps(raw))
    async with dispatcher.running():
        async with services.sessions() as s, s.begin():
            stored = await store_claimed(s, "test", [row], datetime.now(UTC),
                                         dispatcher.worker)
        dispatcher.nudge([replace(c, read=(raw, channel.parse(raw))) for c in stored])
        await put(services, (2, "2002", "/huy"))
        dispatcher.nudge()  # stored without a hand-over: look in the table
        async with asyncio.timeout(10):
            while await open_rows(services):  # noqa: ASYNC110 - the table says when
                await asyncio.sleep(0.02)
    assert [i for i, _ in channel.delivered] == [1, 2]
    assert parsed == ["/huy"]
