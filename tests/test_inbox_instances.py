"""Two instances behind a load balancer on one database.

One leader's answers land on each in turn: the instance that answered the previous
message notes its reply late (to save a statement), and the other must not wait for a
table search or an idle tick to go on. A reply that takes longer to send than a claim
lasts must not look abandoned to the other instance, which would send it again.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.inbox import Dispatcher
from handlers.router import Within
from models import InboxUpdate
from models.inbox_ops import NewUpdate, store_claimed
from reporting.messages import Incoming, Reply
from reporting.services import Services
from tests.test_inbox import StandInChannel, open_rows, recorder


@pytest.fixture
def channel() -> StandInChannel:
    return StandInChannel()


async def test_answers_alternating_between_two_instances_go_on_without_a_search(
        services: Services, channel: StandInChannel) -> None:
    handled: list[str] = []
    recording = recorder(handled)

    # Nothing but the hand-over, a refusal's quick retries and the late note can move the
    # rows here: the idle tick, the table search and the claims all last 30 s or more.
    a, b = (Dispatcher(services, channel.as_inbox(), handler=recording, idle=30.0,
                       lease=30.0, scan=60.0) for _ in range(2))
    answers = [f"answer {n}" for n in range(1, 7)]
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(a.running())
        await stack.enter_async_context(b.running())
        for n, text in enumerate(answers, start=1):
            instance = a if n % 2 else b
            row = NewUpdate(str(n), "3003", json.dumps({"id": n, "chat": "3003", "text": text}))
            async with services.sessions() as s, s.begin():
                claimed = await store_claimed(s, "test", [row], datetime.now(UTC),
                                              instance.worker)
            instance.nudge(claimed)
            async with asyncio.timeout(5):  # the leader reads the reply, then types on
                while len(channel.delivered) < n:  # noqa: ASYNC110 - the fake says when
                    await asyncio.sleep(0.01)
        async with asyncio.timeout(5):  # every reply noted as delivered, without a tick
            while await open_rows(services):  # noqa: ASYNC110 - the table says when
                await asyncio.sleep(0.02)
    assert handled == answers
    assert [i for i, _ in channel.delivered] == list(range(1, 7))
    async with services.sessions() as s:
        noted = list(await s.scalars(select(InboxUpdate.replied_at)))
    assert len(noted) == 6 and None not in noted


class SlowChannel(StandInChannel):
    """Each reply takes `seconds` to go out (several messages paced at one a second per
    chat, or a wait on a 429); every start of a delivery is recorded."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started: list[int] = []

    async def deliver(self, raw: dict[str, Any], inc: Incoming, reply: Reply) -> None:
        self.started.append(int(raw["id"]))
        await asyncio.sleep(self.seconds)
        await super().deliver(raw, inc, reply)


@pytest.mark.parametrize(("handling", "sending", "lease"), [
    (0.0, 4.0, 1.5),  # a reply of several paced parts, or one waiting out a 429
    (1.6, 2.0, 2.0),  # an answer that takes most of the lease to make (an export)
])
async def test_a_reply_slower_than_the_lease_is_not_sent_again_by_the_other_instance(
        services: Services, handling: float, sending: float, lease: float) -> None:
    slow = SlowChannel(seconds=sending)

    async def answer(app: Services, inc: Incoming, within: Within | None) -> Reply:
        await asyncio.sleep(handling)
        reply = Reply().add("Câu 2/12")
        assert within is not None
        async with app.sessions() as s, s.begin():
            await within(s, reply)
        return reply

    # A holds the row for `lease` s at a time; B searches the table every 0.1 s for rows
    # whose holder has gone quiet that long, and would send the stored reply again.
    a = Dispatcher(services, slow.as_inbox(), handler=answer, lease=lease, idle=30.0,
                   scan=60.0)
    b = Dispatcher(services, slow.as_inbox(), handler=answer, lease=lease, idle=0.05,
                   scan=0.1)
    row = NewUpdate("1", "4004", json.dumps({"id": 1, "chat": "4004", "text": "12"}))
    async with a.running(), b.running():
        async with services.sessions() as s, s.begin():
            a.nudge(await store_claimed(s, "test", [row], datetime.now(UTC), a.worker))
        async with asyncio.timeout(15):
            while await open_rows(services):  # noqa: ASYNC110 - the table says when
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # B's searches go on a moment longer
    assert slow.started == [1]
    assert [i for i, _ in slow.delivered] == [1]
