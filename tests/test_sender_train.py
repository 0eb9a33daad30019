"""The sender's train of overlapping batches: every row once, a chat's rows in order,
never more than a batch claimed at a time, and results written a few per commit."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bot.channels.base import Pace
from bot.delivery import Sender
from bot.limits import RateLimiter
from models import OutboxMessage, OutboxStatus
from models.outbox_ops import enqueue
from reporting.messages import Outgoing, payload
from reporting.runtime_config import Delivery
from reporting.services import Services
from tests.outbox_seed import seed_broadcast, status_counts

BATCH = 10


class Watching:
    """Sends instantly; notes the order per chat and the most rows `sending` at once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.order: dict[str, list[str]] = defaultdict(list)
        self.most_sending = 0

    async def send(self, chat_id: str, out: Outgoing, pace: Pace) -> str:
        await pace()
        self.order[chat_id].append(str(out.text))
        async with self.services.sessions() as s:
            sending = await s.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == OutboxStatus.SENDING))
        self.most_sending = max(self.most_sending, int(sending or 0))
        return "1"


async def test_a_train_of_batches_sends_each_row_once_in_order(services: Services) -> None:
    seeded = await seed_broadcast(services.sessions, 95)
    async with services.sessions() as s, s.begin():  # three more for one chat, in order
        for n in range(3):
            await enqueue(s, kind="notice", dedupe_key=f"notice:{n}", channel="telegram",
                          chat_id=str(seeded.chats[0]), body=payload(f"tin {n}"),
                          now=services.clock())
    commits = 0

    def counted(session: Session) -> None:
        nonlocal commits
        commits += 1

    event.listen(Session, "after_commit", counted)
    transport = Watching(services)
    sender = Sender(services.sessions, Delivery(), {"telegram": transport},
                    limiters={"telegram": RateLimiter(300, 100, 6000)}, batch_size=BATCH)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop, idle_sleep=0.05))
    try:
        for _ in range(600):
            if (await status_counts(services.sessions)).get("sent", 0) == 98:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        event.remove(Session, "after_commit", counted)
    assert (await status_counts(services.sessions)) == {"sent": 98}
    assert all(len(texts) == 1 for chat, texts in transport.order.items()
               if chat != str(seeded.chats[0]))
    first = transport.order[str(seeded.chats[0])]
    assert first[1:] == ["tin 0", "tin 1", "tin 2"]  # the broadcast, then its notices
    assert transport.most_sending <= BATCH  # a crash can cost no more than a batch
    # Results go a few per transaction (claims commit too): far fewer than one per row.
    print(f"\n98 rows: {commits} commits")
    assert commits < 98, commits
