"""Members with Telegram identities and a queued broadcast, written straight to the models."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from fakes.telegram import FakeBotApi
from models import Broadcast, Identity, Member, OutboxMessage, Role
from models.db import Sessions
from models.outbox_ops import enqueue
from reporting.messages import payload

FIRST_CHAT = 700_000


@dataclass
class Seeded:
    broadcast_id: int
    chats: list[int]  # recipients' private chat ids, in enqueue order
    members: dict[int, int]  # chat id -> member id


async def seed_broadcast(sessions: Sessions, n: int, *, first_chat: int = FIRST_CHAT,
                         text: str = "<b>Thông báo</b>: họp tổ lúc 19h") -> Seeded:
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        admin = Member(display_name="Admin", role=Role.ADMIN, created_at=now)
        s.add(admin)
        await s.flush()
        bc = Broadcast(created_by=admin.id, text=text, audience={}, status="queued",
                       created_at=now, queued_at=now)
        s.add(bc)
        people = [Member(display_name=f"Người {i}", role=Role.LEADER, created_at=now)
                  for i in range(n)]
        s.add_all(people)
        await s.flush()
        chats = [first_chat + i for i in range(n)]
        s.add_all(Identity(member_id=m.id, channel="telegram", external_id=str(chat),
                           chat_id=str(chat), created_at=now)
                  for m, chat in zip(people, chats, strict=True))
        body = payload(text, [[("Đã đọc", f"bc:{bc.id}:ok")]])
        for m, chat in zip(people, chats, strict=True):
            await enqueue(s, kind="broadcast", dedupe_key=f"bc:{bc.id}:{m.id}:telegram",
                          channel="telegram", chat_id=str(chat), body=body, now=now,
                          member_id=m.id, broadcast_id=bc.id)
        return Seeded(bc.id, chats, {chat: m.id for m, chat in zip(people, chats, strict=True)})


def add_users(fake: FakeBotApi, chats: list[int]) -> None:
    for chat in chats:
        fake.user(chat, f"U{chat}")


def delivered(fake: FakeBotApi, method: str = "sendMessage") -> Counter[int]:
    """Successful sends per chat, as the fake Telegram saw them."""
    return Counter(e.chat_id for e in fake.events
                   if e.method == method and e.ok and e.chat_id is not None)


def rejected(fake: FakeBotApi, prefix: str) -> int:
    return sum(1 for e in fake.events if not e.ok and (e.error or "").startswith(prefix))


async def status_counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as s:
        rows = await s.execute(select(OutboxMessage.status, func.count())
                               .group_by(OutboxMessage.status))
        return {str(k): int(v) for k, v in rows}
