"""Leaders doing their monthly report over Telegram: the real bot against a bare PTB echo
bot, on the same fake Bot API, on SQLite and on PostgreSQL.

    python -m bench.conversation [--size tiny|full] [--runs N]   (full: 50 leaders; tiny: 5)

Product: `bot.demo.BotStack` (the PTB Application, inbox and handlers as `thidua run`
serves them; no sender or scheduler) on a fresh database, its clock at 3 April 2022, so
March is open whatever day it runs. Every leader leads a group of their own and does a
whole report: /baocao, twelve typed answers, the "Gửi báo cáo" button (14 updates).
Baseline: `bench.echo_bot` answering the same users' same messages (the button is a text
for it). Figures:
- closed loop: every leader waits for the reply before the next step: updates/s;
- CPU per update: this process's CPU time over the closed loop / updates. The fake API and
  the fake users run in this process too, on both sides, so both figures carry their cost;
- open loop: 50 updates/s offered with exponential gaps (Poisson arrivals), each from a
  leader whose previous step was answered: p50/p95/p99 of send → first reply;
- SQL statements per typed answer (engine event; one leader alone, so nothing else counts).
Issue 14's goals: ≥ 0.5× echo, ≤ 5 ms CPU per update, p95 < 100 ms and p99 < 200 ms on
both databases, ≤ 6 statements per typed answer.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import (
    ROOT,
    Spread,
    alternate,
    arguments,
    counting,
    emit,
    fresh_pg_database,
    pg_url,
    table,
)
from bench.digest import ward_of
from bench.echo_bot import echo_application
from bot.assembly import open_services
from bot.demo import bot_stack, demo_clock
from fakes.telegram import FakeBotApi, FakeUser
from models import Group, Identity, Member, Role
from reporting.config_file import load_settings

RATE = 50.0  # updates/s offered in the open loop
WAIT = 60.0
SUBMIT = "Gửi báo cáo"
# What Lan types for Tổ 1 in the end-to-end tests: consistent, no soft check asks again.
TYPED = ["120", "118", "450", "430", "440", "30", "40", "đạt", "đạt", "chưa đạt", "1",
         "bỏ qua"]
STEPS = ["/baocao", *TYPED, SUBMIT]
Steps = Callable[[FakeUser, int], Awaitable[None]]


async def reply(user: FakeUser, want: str | None = None) -> None:
    """Wait for the bot's answer (the one holding `want`, as text or button, if given)."""
    while True:
        event = await user.next(timeout=WAIT)
        labels = [label for row in event.buttons for label, _ in row]
        if want is None or want in (event.text or "") or want in labels:
            break
    user.drain()


async def report_step(user: FakeUser, step: int) -> None:
    """One update of a leader's report, and its reply."""
    if STEPS[step] == SUBMIT:
        await user.press(SUBMIT)
        await reply(user, "Đã gửi báo cáo")
    else:
        await user.send(STEPS[step])
        await reply(user, SUBMIT if step == len(STEPS) - 2 else None)


async def echo_step(user: FakeUser, step: int) -> None:
    await user.send(STEPS[step])
    await reply(user)


async def closed_loop(users: list[FakeUser], step: Steps) -> dict[str, float]:
    async def leader(user: FakeUser) -> None:
        for i in range(len(STEPS)):
            await step(user, i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(leader(u) for u in users))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    updates = len(users) * len(STEPS)
    return {"closed_updates_per_s": updates / wall, "cpu_ms_per_update": cpu / updates * 1000}


async def open_loop(users: list[FakeUser], step: Steps, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    idle: asyncio.Queue[tuple[FakeUser, int]] = asyncio.Queue()
    for u in users:
        idle.put_nowait((u, 0))
    latencies: list[float] = []

    async def one(user: FakeUser, i: int) -> None:
        t0 = time.perf_counter()
        await step(user, i)
        latencies.append(time.perf_counter() - t0)
        if i + 1 < len(STEPS):
            idle.put_nowait((user, i + 1))

    tasks = []
    for _ in range(len(users) * len(STEPS)):
        await asyncio.sleep(rng.expovariate(RATE))
        tasks.append(asyncio.create_task(one(*await idle.get())))
    await asyncio.gather(*tasks)
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


@asynccontextmanager
async def running_bot(url: str, leaders: int,
                      folder: Path) -> AsyncIterator[tuple[FakeBotApi, list[FakeUser],
                                                           AsyncEngine]]:
    """The real bot on `url` (migrated here) with `leaders` leaders, one group each."""
    settings = ward_of(load_settings(ROOT / "config.yaml"), leaders)
    async with FakeBotApi() as fake, open_services(settings, url, clock=demo_clock(),
                                                    media_dir=folder / "media") as services:
        now = datetime.now(UTC)
        async with services.sessions() as s, s.begin():
            groups = list(await s.scalars(select(Group.id).order_by(Group.id)))
            members = [Member(display_name=f"Tổ trưởng {i}", role=Role.LEADER, group_id=g,
                              created_at=now) for i, g in enumerate(groups[:leaders])]
            s.add_all(members)
            await s.flush()
            s.add_all(Identity(member_id=m.id, channel="telegram", external_id=str(5000 + i),
                               chat_id=str(5000 + i), created_at=now)
                      for i, m in enumerate(members))
        users = [fake.user(5000 + i, f"TT{i}") for i in range(leaders)]
        engine = services.sessions.kw["bind"]
        async with bot_stack(services, fake):
            yield fake, users, engine


@asynccontextmanager
async def running_echo(leaders: int) -> AsyncIterator[list[FakeUser]]:
    async with FakeBotApi() as fake:
        app = echo_application(fake.token, fake.base_url)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield [fake.user(5000 + i, f"TT{i}") for i in range(leaders)]
            finally:
                await app.updater.stop()
                await app.stop()


class Product:
    """Runs of the real bot on one database kind; each run on a fresh database."""

    def __init__(self, kind: str, leaders: int, folder: Path) -> None:
        self.kind, self.leaders, self.folder, self.runs = kind, leaders, folder, 0
        self.seed = 0

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        self.runs += 1
        if self.kind == "sqlite":
            yield f"sqlite+aiosqlite:///{self.folder / f'{self.kind}{self.runs}.db'}"
            return
        base = pg_url()
        assert base is not None
        async with fresh_pg_database(base) as url:
            yield url

    async def next_run(self) -> dict[str, float]:
        self.seed += 1
        return await self.run(self.seed)

    async def echo_run_alike(self) -> dict[str, float]:
        """The echo bot, the same number of leaders, the arrivals of the last product run."""
        return await echo_run(self.leaders, self.seed)

    async def run(self, seed: int) -> dict[str, float]:
        figures: dict[str, float] = {}
        for loop in ("closed", "open"):
            async with self.database() as url, \
                    running_bot(url, self.leaders, self.folder) as (_, users, _engine):
                figures |= (await closed_loop(users, report_step) if loop == "closed"
                            else await open_loop(users, report_step, seed))
        return figures

    async def statements_per_answer(self) -> float:
        async with self.database() as url, running_bot(url, 1, self.folder) as (_, users,
                                                                                  engine):
            await report_step(users[0], 0)
            with counting(engine) as counter:
                for i in range(1, len(TYPED) + 1):
                    await report_step(users[0], i)
                await asyncio.sleep(0.2)  # the last update is marked done after its reply
            return counter.count / len(TYPED)


async def echo_run(leaders: int, seed: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with running_echo(leaders) as users:
        figures |= await closed_loop(users, echo_step)
    async with running_echo(leaders) as users:
        figures |= await open_loop(users, echo_step, seed)
    return figures


GOALS = {"closed_updates_per_s": "≥ 0.5× echo", "cpu_ms_per_update": "≤ 5 ms",
         "p50_ms": "—", "p95_ms": "< 100 ms", "p99_ms": "< 200 ms"}


async def main() -> None:
    args = arguments(__doc__ or "")
    leaders = 5 if args.size == "tiny" else 50
    kinds = ["sqlite", "postgresql"] if pg_url() else ["sqlite"]
    results: dict[str, tuple[dict[str, Spread], dict[str, Spread], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            product = Product(kind, leaders, Path(tmp))
            # A pair of runs (product, then echo) shares its arrival times (the seed).
            ours, echo = await alternate(args.runs, product.next_run,
                                         product.echo_run_alike)
            results[kind] = (ours, echo, await product.statements_per_answer())
    for kind, (ours, echo, per_answer) in results.items():
        rows = [(k, ours[k].text("{:.1f}"), echo[k].text("{:.1f}"), GOALS[k]) for k in GOALS]
        rows.append(("SQL statements per typed answer", f"{per_answer:.1f}", "—", "≤ 6"))
        table(f"{kind}: {leaders} leaders × {len(STEPS)} updates, {args.runs} runs each "
              "(thidua vs PTB echo, alternating)", rows)
    figures: dict[str, Any] = {
        kind: {**{k: v.as_json(2) for k, v in ours.items()}, "sql_per_answer": per_answer}
        for kind, (ours, _, per_answer) in results.items()}
    baseline = {kind: {k: v.as_json(2) for k, v in echo.items()}
                for kind, (_, echo, _) in results.items()}
    ratios = {kind: {k: round(ours[k].mid / echo[k].mid, 2) for k in GOALS}
              for kind, (ours, echo, _) in results.items()}
    emit("conversation", baseline, figures, ratios, size=args.size, runs=args.runs,
         leaders=leaders, updates_per_run=leaders * len(STEPS))


if __name__ == "__main__":
    asyncio.run(main())
