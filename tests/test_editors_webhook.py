"""Two instances of the bot in webhook mode, one PostgreSQL, updates sent round-robin.

Thảo and Mai (admins) start the ward's /baocao together, twenty times: one report each
time. Lan and Hùng (leaders of Tổ 1) interleave their answers on one draft: what is
submitted is the summary Lan confirmed, a "gửi" after Hùng's change shows the summary
again instead, and every change of an answer has its audit row.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import delete, func, select

from bot.assembly import open_services
from bot.channels.telegram.webhook import WebhookSettings, webhook
from fakes.telegram import FakeBotApi
from fakes.telegram.users import FakeUser
from models import AuditEntry, Conversation, Period, Report, ReportStatus, ReportValue
from reporting.config import Settings
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import LAN_MARCH, MONTH, make_invite, plain
from tests.test_webhook import free_port

SECRET = "editors-secret"
ITEM = re.compile(r"^(\d+)\. [^:]+: (.+?)(?: ✏️)?$")
QUESTION = re.compile(r"Câu (\d+)/12")


@asynccontextmanager
async def round_robin(targets: list[str]) -> AsyncIterator[str]:
    """A load balancer: each push goes to the next instance in turn; returns its URL."""
    turn = itertools.cycle(targets)
    port = free_port()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        async with aiohttp.ClientSession() as http, \
                http.post(next(turn), data=body, headers=headers) as response:
            return web.Response(status=response.status, text=await response.text())

    app = web.Application()
    app.router.add_post("/hook", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def two_instances(settings: Settings, db_url: str, clock: Clock,
                        fake: FakeBotApi) -> AsyncIterator[Services]:
    """Two bots on two ports behind `round_robin`; yields the first one's services."""
    ports = [free_port(), free_port()]
    async with AsyncExitStack() as stack:
        public = await stack.enter_async_context(
            round_robin([f"http://127.0.0.1:{p}/hook" for p in ports]))
        first = None
        for port in ports:
            services = await stack.enter_async_context(
                open_services(settings, db_url, clock=clock, migrate=False))
            first = first or services
            config = WebhookSettings(url=public, secret=SECRET, host="127.0.0.1", port=port)
            await stack.enter_async_context(webhook(services, fake.token, config, fake.base_url))
        assert first is not None
        yield first


async def say(user: FakeUser, text: str) -> str:
    await user.send(text)
    return plain((await user.next()).text or "")


async def join(services: Services, user: FakeUser, group: str | None, role: str) -> None:
    code = await make_invite(services, group, role)
    assert "đăng ký" in await say(user, f"/start {code}")


def items(summary: str) -> dict[int, str]:
    found = (ITEM.match(line) for line in summary.splitlines())
    return {int(m[1]): m[2] for m in found if m}


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("several instances share PostgreSQL; one SQLite file serves one")
    return db_url


async def test_two_admins_on_two_instances_start_one_ward_report(
        settings: Settings, pg_url: str, clock: Clock) -> None:
    async with FakeBotApi() as fake, two_instances(settings, pg_url, clock, fake) as services:
        thao, mai = fake.user(9001, "Thảo"), fake.user(9002, "Mai")
        await join(services, thao, None, "admin")
        await join(services, mai, None, "admin")
        counts = []
        for attempt in range(20):
            # Queued back to back: the balancer hands one to each instance, and each
            # answers at once and handles it on its own, so the two run side by side.
            await thao.send("/baocao")
            await mai.send("/baocao")
            replies = [plain((await u.next()).text or "") for u in (thao, mai)]
            assert all("Câu 1/" in r for r in replies), replies
            async with services.sessions() as s, s.begin():
                counts.append(await s.scalar(select(func.count()).select_from(Report)))
                await s.execute(delete(Conversation))
                await s.execute(delete(Report))
                if attempt % 2:
                    await s.execute(delete(Period))  # a new month's row raced for too
        assert counts == [1] * 20


async def test_two_leaders_interleave_and_lan_submits_what_she_confirmed(
        settings: Settings, pg_url: str, clock: Clock) -> None:
    async with FakeBotApi() as fake, two_instances(settings, pg_url, clock, fake) as services:
        lan, hung = fake.user(8001, "Lan"), fake.user(8002, "Hùng")
        await join(services, lan, "to-1", "leader")
        await join(services, hung, "to-1", "leader")
        shown = {lan.id: await say(lan, "/baocao")}
        assert "Câu 1/12" in shown[lan.id]
        shown[lan.id] = await say(lan, LAN_MARCH["households"])
        shown[hung.id] = await say(hung, "/baocao")  # at question 2
        assert "Câu 2/12" in shown[hung.id] and "Lan đã sửa mục 1" in shown[hung.id]
        shown[hung.id] = await say(hung, "117")  # 2 by Hùng
        shown[lan.id] = await say(lan, LAN_MARCH["cultured_families"])  # 2 again, by Lan
        for turn in itertools.cycle([hung, lan]):  # the rest, in turns, each where they are
            at = QUESTION.search(shown[turn.id])
            if at is None and not any(QUESTION.search(t) for t in shown.values()):
                break
            if at is not None:
                code = MONTH[int(at[1]) - 1]
                shown[turn.id] = await say(turn, LAN_MARCH.get(code, "bỏ qua"))
        summary = await say(lan, "/baocao")  # both at the summary now
        assert items(summary)[2] == "118 hộ"
        clock.advance(minutes=3)
        await say(hung, "sửa")
        await say(hung, "1")
        assert "125" in await say(hung, "125")
        again = await say(lan, "gửi")  # Lan's summary showed 120 households
        assert "125" in items(again)[1] and items(again)[1] != items(summary)[1]
        async with services.sessions() as s:
            assert await s.scalar(select(Report.status)) == ReportStatus.DRAFT
        assert "Đã gửi báo cáo" in await say(lan, "gửi")  # the summary she saw last
        async with services.sessions() as s:
            report = (await s.scalars(select(Report))).one()
            values = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
            audit = [(a.indicator, a.old_value, a.new_value, a.member_id is not None)
                     for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert report.status == ReportStatus.SUBMITTED and values["households"] == "125"
        # The figures now stored read exactly as the summary Lan confirmed.
        assert items(await say(lan, "/baocao")) == items(again)
        assert audit == [("cultured_families", "117", "118", True),
                         ("households", "120", "125", True)]
