"""The database goes away under the bot (PostgreSQL only): nothing is lost.

Lan, leader of Tổ 1, answers March's report on her phone while, behind the bot, the
ward's PostgreSQL has a bad morning: its connections are killed between her answers
(`pg_terminate_backend`, as a failover or an idle-connection killer does), one dies in
the middle of handling an answer, and then the server is unreachable for a while. The
bot talks to PostgreSQL through `PgProxy`, which the test cuts, stops and resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from bot.assembly import open_services
from handlers import router
from models import ReportValue
from models.db import make_engine, make_sessions
from reporting.config import Settings
from reporting.messages import Reply
from reporting.services import Services
from tests.conftest import Clock, _emptied
from tests.helpers import LAN_MARCH, MONTH, register
from tests.pg_proxy import PgProxy, proxy_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_url(pg_database: str) -> str:
    await _emptied(pg_database)
    return pg_database


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[PgProxy]:
    async with proxy_for(pg_url) as running:
        yield running


@pytest.fixture
async def app(settings: Settings, pg_url: str, proxy: PgProxy,
              clock: Clock) -> AsyncIterator[Services]:
    """The bot's services, connected through the proxy; connecting gives up after 1 s
    (production: 10 s) so a black hole is tested quickly."""
    via_proxy = make_url(pg_url).set(host="127.0.0.1", port=proxy.port)
    async with open_services(settings, via_proxy.render_as_string(hide_password=False),
                             clock=clock, migrate=False) as services:
        engine = make_engine(via_proxy.render_as_string(hide_password=False),
                             connect_args={"timeout": 1})
        try:
            yield Services(settings=settings, sessions=make_sessions(engine), clock=clock,
                           invite_key=services.invite_key)
        finally:
            await engine.dispose()


async def _terminate_bots_connections(pg_url: str) -> int:
    """What a failover or an idle-connection killer does: every other backend of the
    database is ended by the server ("terminating connection due to administrator
    command")."""
    conn = await asyncpg.connect(make_url(pg_url).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        return int(await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        await conn.close()


async def _answers(app: Services) -> dict[str, str | None]:
    async with app.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


def _unavailable(app: Services, reply: Reply) -> bool:
    return reply.retry_later and [m.text for m in reply.messages] == [
        app.t("db_unavailable", "vi")]


async def test_connections_killed_between_answers_lose_nothing(
        app: Services, pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The pool pings a connection before lending it, so a connection killed while
    idle is replaced before Lan's answer is handled: not even a retry is needed."""
    lan = await register(app, "1", "Lan")
    await lan.send("/baocao")
    killed = 0
    for n, code in enumerate(MONTH[:8], start=1):
        killed += await _terminate_bots_connections(pg_url)
        await asyncio.sleep(0.05)  # the kill reaches the bot's pooled connection
        reply = await lan.send(LAN_MARCH[code])
        assert not reply.retry_later and f"Câu {n + 1}/12" in lan.last_text, lan.last_text
    assert killed >= 8  # at least the bot's pooled connection, every time
    assert not [r for r in caplog.records if r.name == "handlers.router"]  # no retry
    assert await _answers(app) == {code: _stored(code) for code in MONTH[:8]}


def _stored(code: str) -> str:
    return {"safe_area": "yes"}.get(code, LAN_MARCH[code])


def _cut_once(app: Services, proxy: PgProxy, when: str, match: str = "") -> list[int]:
    """Drop every connection at the first `when` engine event whose statement contains
    `match`: the connection dies inside the handler's transaction."""
    bind = app.sessions.kw["bind"]
    fired: list[int] = []

    def hook(*args: Any, **_kw: Any) -> None:
        statement = next((a for a in args if isinstance(a, str)), "")
        if not fired and match in statement:
            fired.append(proxy.cuts)
            proxy.cut()

    event.listen(bind.sync_engine, when, hook)
    return fired


async def test_a_connection_dying_mid_answer_is_retried_once_unnoticed(
        app: Services, proxy: PgProxy) -> None:
    lan = await register(app, "1", "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    fired = _cut_once(app, proxy, "before_cursor_execute", "INSERT INTO report_values")
    reply = await lan.send("118")
    assert fired and proxy.cuts > fired[0]  # the answer's INSERT met a dead connection
    assert not reply.retry_later and "Câu 3/12" in lan.last_text
    assert await _answers(app) == {"households": "120", "cultured_families": "118"}


async def test_a_connection_dying_at_commit_is_not_run_twice(app: Services,
                                                             proxy: PgProxy) -> None:
    """Whether a COMMIT that lost its connection went through is unknown, so the bot
    does not run the answer again (it could land on the next question): Lan is asked to
    try again, and her second try is stored once."""
    lan = await register(app, "1", "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    fired = _cut_once(app, proxy, "commit")
    reply = await lan.send("118")
    assert fired and _unavailable(app, reply)
    assert await _answers(app) == {"households": "120"}  # the server rolled it back
    await lan.send("118")
    assert "Câu 3/12" in lan.last_text
    assert await _answers(app) == {"households": "120", "cultured_families": "118"}


async def test_an_outage_says_try_later_and_the_next_answer_works(
        app: Services, proxy: PgProxy) -> None:
    """The server is down (connections refused), then a black hole (connections hang),
    then back: every message meanwhile gets "thử lại sau", none is half-applied."""
    lan = await register(app, "1", "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    await proxy.stop()
    assert _unavailable(app, await lan.send("118"))
    assert _unavailable(app, await lan.press_data("anything"))
    proxy.hang()
    await proxy.resume()
    proxy.hang()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert _unavailable(app, await lan.send("118"))
    assert loop.time() - started < 5  # two connect attempts of 1 s, not asyncpg's 60 s
    await proxy.resume()
    await lan.send("118")
    assert "Câu 3/12" in lan.last_text
    assert await _answers(app) == {"households": "120", "cultured_families": "118"}


async def test_a_handler_error_is_not_mistaken_for_an_outage(
        app: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is still a bug: run once, the generic apology, no retry_later (an inbox
    would otherwise keep a poisoned update forever)."""
    lan = await register(app, "1", "Lan")
    calls: list[str] = []

    async def broken(ctx: object) -> Reply:
        calls.append("status")
        raise ValueError("a bug in /trangthai")

    monkeypatch.setitem(router.COMMANDS, "trangthai", broken)
    reply = await lan.send("/trangthai")
    assert calls == ["status"] and not reply.retry_later
    assert [m.text for m in reply.messages] == [app.t("error_generic", "vi")]
