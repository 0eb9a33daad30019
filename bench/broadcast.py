"""A broadcast to 1,000 leaders under Telegram's limits: the real outbox sender against
PTB's `AIORateLimiter` sending the same messages straight.

    python -m bench.broadcast [--size tiny|full] [--runs N]     (tiny: 60 recipients)

Both send to a fake Bot API that enforces 30 messages/s overall and 1/s per chat and
answers 429 with `retry_after` beyond them. Product: `thidua run`'s pieces in-process
(`bot.demo.BotStack` with the outbox sender, SQLite); the admin types /phatdong and the
text, picks "all leaders", then presses "Gửi" with the limits on. Baseline: one PTB Bot
with `AIORateLimiter(max_retries=5)` sending the same text to every chat at once
(asyncio.gather), the way its documentation suggests. Figures per run: achieved rate as
a fraction of 30/s (messages delivered / (last − first delivery) / 30), 429 answers,
recipients who got nothing (lost) or more than one (duplicated), and the time from the
press of "Gửi" (the baseline's start) to the first recipient's message.
Issue 14's goals: ≥ 0.95 of the allowance, 0 × 429, 0 lost, 0 duplicated, first ≤ 0.5 s.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from bench.common import ROOT, alternate, arguments, emit, table
from bot.assembly import open_services
from bot.demo import bot_stack
from fakes.telegram import BotEvent, FakeBotApi, UserAction
from models import Group, Identity, Member, Role
from reporting.config_file import load_settings

ALLOWANCE = 30.0
ADMIN = 900_000
TEXT = "Hưởng ứng phong trào “Toàn dân đoàn kết xây dựng đời sống văn hóa”: ra quân tổng vệ " \
       "sinh đường, ngõ vào sáng Chủ nhật."


class Deliveries:
    """When each recipient's messages arrived, and the 429s, as the fake reports them."""

    def __init__(self, fake: FakeBotApi, chats: set[int]) -> None:
        self.fake, self.chats = fake, chats
        self.times: list[float] = []
        self.per_chat: Counter[int] = Counter()
        fake.on_event = self._seen

    def _seen(self, item: BotEvent | UserAction) -> None:
        if isinstance(item, BotEvent) and item.method == "sendMessage" \
                and item.chat_id in self.chats:
            self.times.append(time.perf_counter())
            self.per_chat[item.chat_id] += 1

    async def until_all(self, within: float) -> None:
        await self.fake.wait_until(lambda: len(self.per_chat) >= len(self.chats) or None, within)
        await asyncio.sleep(1.0)  # a duplicate would come late: give it a moment

    def figures(self, started: float) -> dict[str, float]:
        rejected = sum(1 for e in self.fake.events
                       if not e.ok and (e.error or "").startswith("Too Many Requests"))
        span = (self.times[-1] - self.times[0]) if len(self.times) > 1 else 0.0
        # n deliveries span n − 1 intervals: the rate is (n − 1) / span, not n / span.
        rate = (len(self.times) - 1) / span / ALLOWANCE if span > 0 else 0.0
        return {"allowance_fraction": rate, "http_429": rejected,
                "lost": len(self.chats) - len(self.per_chat),
                "duplicated": sum(n - 1 for n in self.per_chat.values()),
                "first_message_s": (self.times[0] - started) if self.times else -1.0}


def patience(n: int) -> float:
    return n / ALLOWANCE * 3 + 30


async def product(n: int, folder: Path) -> dict[str, float]:
    settings = load_settings(ROOT / "config.yaml")
    url = f"sqlite+aiosqlite:///{folder / f'b{time.monotonic_ns()}.db'}"
    chats = set(range(100_001, 100_001 + n))
    async with FakeBotApi() as fake, open_services(settings, url,
                                                    media_dir=folder / "media") as services:
        now = datetime.now(UTC)
        async with services.sessions() as s, s.begin():
            groups = list(await s.scalars(select(Group.id).order_by(Group.id)))
            members = [Member(display_name=f"Tổ trưởng {c}", role=Role.LEADER,
                              group_id=groups[i % len(groups)], created_at=now)
                       for i, c in enumerate(sorted(chats))]
            admin = Member(display_name="Văn phòng", role=Role.ADMIN, created_at=now)
            s.add_all([*members, admin])
            await s.flush()
            s.add_all(Identity(member_id=m.id, channel="telegram", external_id=str(c),
                               chat_id=str(c), created_at=now)
                      for m, c in zip([*members, admin], [*sorted(chats), ADMIN], strict=True))
        for c in chats:
            fake.user(c, f"TT{c}")
        thao = fake.user(ADMIN, "Thảo")
        async with bot_stack(services, fake, background=True):
            await thao.send("/phatdong")
            await thao.expect(1, timeout=30)
            await thao.send(TEXT)
            await thao.expect(1, timeout=30)
            await thao.press("Tất cả tổ trưởng")
            await thao.expect(2, timeout=30)  # the preview and the question with "Gửi"
            fake.rate_limit(per_chat_per_second=1.0, overall_per_second=ALLOWANCE)
            seen = Deliveries(fake, chats)
            started = time.perf_counter()
            await thao.press("Gửi cho")
            await seen.until_all(patience(n))
            return seen.figures(started)


async def baseline(n: int) -> dict[str, float]:
    chats = set(range(100_001, 100_001 + n))
    async with FakeBotApi() as fake:
        for c in chats:
            fake.user(c, f"TT{c}")
        fake.rate_limit(per_chat_per_second=1.0, overall_per_second=ALLOWANCE)
        seen = Deliveries(fake, chats)
        bot: ExtBot[int] = ExtBot(fake.token, base_url=fake.base_url,
                                   rate_limiter=AIORateLimiter(max_retries=5))
        async with bot:
            started = time.perf_counter()
            results = await asyncio.gather(*(bot.send_message(c, TEXT) for c in sorted(chats)),
                                           return_exceptions=True)
            await seen.until_all(5.0)
        failed = [r for r in results if isinstance(r, TelegramError)]
        figures = seen.figures(started)
        figures["gave_up"] = len(failed)
        return figures


async def main() -> None:
    args = arguments(__doc__ or "")
    n = 60 if args.size == "tiny" else 1_000
    with tempfile.TemporaryDirectory() as tmp:
        ours, ptb = await alternate(args.runs, lambda: product(n, Path(tmp)),
                                    lambda: baseline(n))
    goals = {"allowance_fraction": "≥ 0.95", "http_429": "0", "lost": "0", "duplicated": "0",
             "first_message_s": "≤ 0.5 s"}
    table(f"broadcast to {n:,} under 30/s + 1/s per chat, {args.runs} runs each "
          "(outbox sender vs PTB AIORateLimiter)",
          [(k, ours[k].text("{:.2f}"), ptb[k].text("{:.2f}"), goals[k]) for k in goals])
    emit("broadcast", {k: v.as_json() for k, v in ptb.items()},
         {k: v.as_json() for k, v in ours.items()},
         {"allowance_fraction": round(ours["allowance_fraction"].mid
                                      / max(ptb["allowance_fraction"].mid, 1e-9), 2)},
         size=args.size, runs=args.runs, recipients=n)


if __name__ == "__main__":
    asyncio.run(main())
