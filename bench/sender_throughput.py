"""How much the outbox costs: messages/s through the Sender vs. plain PTB sends.

Both talk to the fake Bot API on loopback with its limits off and the sender's own
limits raised, so the figure is the outbox's overhead (claim, mark, limiter), not
Telegram's pacing. Prints the baseline, the outbox rate and their ratio, measured in
the same run. PostgreSQL too when THIDUA_TEST_POSTGRES_URL is set.

    python bench/sender_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.assembly import open_services
from bot.channels.telegram.transport import TelegramTransport, telegram_bot
from bot.delivery import Sender
from fakes.telegram import FakeBotApi
from models import Identity, Member, Role
from models.outbox_ops import enqueue
from reporting.config_file import load_settings
from reporting.messages import payload
from reporting.runtime_config import Delivery

ROOT = Path(__file__).resolve().parent.parent


async def baseline(fake: FakeBotApi, chats: list[int]) -> float:
    async with telegram_bot(fake.token, fake.base_url) as bot:
        start = time.perf_counter()
        for chat in chats:
            await bot.send_message(chat, "Thông báo thử")
        return len(chats) / (time.perf_counter() - start)


async def through_outbox(fake: FakeBotApi, chats: list[int], url: str) -> float:
    settings = load_settings(ROOT / "config.yaml")
    fast = Delivery(overall_per_second=1000, private_per_second=100, group_per_minute=1000)
    now = datetime.now(UTC)
    async with open_services(settings, url) as services:
        async with services.sessions() as s, s.begin():
            for chat in chats:
                m = Member(display_name=f"U{chat}", role=Role.LEADER, created_at=now)
                s.add(m)
                await s.flush()
                s.add(Identity(member_id=m.id, channel="telegram", external_id=str(chat),
                               chat_id=str(chat), created_at=now))
                await enqueue(s, kind="bench", dedupe_key=f"bench:{chat}", channel="telegram",
                              chat_id=str(chat), body=payload("Thông báo thử"), now=now,
                              member_id=m.id)
        async with telegram_bot(fake.token, fake.base_url) as bot:
            sender = Sender(services.sessions, fast,
                            {"telegram": TelegramTransport(bot, services.media)})
            start = time.perf_counter()
            while await sender.run_once():
                pass
            return len(chats) / (time.perf_counter() - start)


async def main(n: int) -> None:
    async with FakeBotApi() as fake:
        users = [fake.user(10_000 + i, f"U{i}").chat_id for i in range(n)]
        base = await baseline(fake, users)
        print(f"baseline  plain PTB sends        {base:8.1f} msg/s")
        with tempfile.TemporaryDirectory() as tmp:
            rate = await through_outbox(fake, users, f"sqlite+aiosqlite:///{tmp}/b.db")
        print(f"outbox    SQLite                 {rate:8.1f} msg/s   ratio {rate / base:.2f}")
        pg = os.environ.get("THIDUA_TEST_POSTGRES_URL")
        if pg:
            import uuid

            import asyncpg
            from sqlalchemy.engine import make_url

            name = f"thidua_bench_{uuid.uuid4().hex[:8]}"
            admin = make_url(pg).set(drivername="postgresql").render_as_string(False)
            conn = await asyncpg.connect(admin)
            await conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = make_url(pg).set(database=name).render_as_string(False)
                rate = await through_outbox(fake, users, url)
                print(f"outbox    PostgreSQL             {rate:8.1f} msg/s   "
                      f"ratio {rate / base:.2f}")
            finally:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
    print("Telegram itself allows ~30 msg/s per bot: both are far above it.")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
