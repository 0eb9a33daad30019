"""Errors reach people, and logs reach a collector, without leaking a secret.

Mai is the ward's admin; Lan leads Tổ 1. The bot's sender and scheduler log errors;
Mai hears of each kind once per `health.error_every_minutes` (the ones held back are
counted in the next report), Lan never does. With `health.error_chats` the reports go
to the IT staff's group instead. Sentry gets them too when SENTRY_DSN is set — or one
warning line says why not. THIDUA_LOG_FORMAT=json makes every log line a JSON object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.error_reports import KIND, ErrorReporter, reporting_errors, start_sentry
from bot.logs import JsonFormatter
from bot.redact import install, protect
from bot.telemetry import of
from fakes.telegram import FakeBotApi
from models import OutboxMessage
from models.db import make_engine, make_sessions
from reporting.config import Settings
from reporting.messages import Outgoing
from reporting.services import Services
from tests.helpers import register
from tests.test_health_checks import Monotonic
from tests.test_secret_logs import _env, _finish, _start

TOKEN = "123456789:AAHealth-token-0123456789abcdefXYZ"


@pytest.fixture
def sender_log() -> Iterator[logging.Logger]:
    """A logger of the bot's sender, with the reporter attached by each test."""
    logger = logging.getLogger("tests.error_reports.delivery")
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


async def flushed(reporter: ErrorReporter) -> None:
    """Let the reports scheduled by logging calls be written."""
    await asyncio.sleep(0)  # emit() hands them to the loop
    while reporter.tasks:
        await asyncio.gather(*reporter.tasks)


async def reports(services: Services) -> list[tuple[str, str, str]]:
    async with services.sessions() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == KIND)
                               .order_by(OutboxMessage.id))
        return [(r.channel, r.chat_id, Outgoing.from_payload(r.payload).text) for r in rows]


def fail_a_batch(logger: logging.Logger) -> None:
    try:
        raise ConnectionResetError("connection reset by peer")
    except ConnectionResetError:
        logger.exception("outbox sender: batch failed")


async def test_mai_hears_of_each_kind_of_error_once_per_ten_minutes(
        services: Services, sender_log: logging.Logger) -> None:
    mai = await register(services, "900", "Mai", group=None, role="admin")
    await register(services, "101", "Lan")
    tick = Monotonic()
    reporter = ErrorReporter(services, asyncio.get_running_loop(), monotonic=tick)
    sender_log.addHandler(reporter)
    for _ in range(3):
        fail_a_batch(sender_log)
    sender_log.error("scheduled %s %s failed", "reminder", "2022-03")
    sender_log.warning("a warning is no error")
    await flushed(reporter)
    sent = await reports(services)
    assert len(sent) == 2  # one per kind: the batch failures, the job
    assert {chat for _, chat, _ in sent} == {mai.user_id}  # Mai's chat only, not Lan's
    assert sorted("ConnectionResetError" in text for _, _, text in sent) == [False, True]
    assert sorted("reminder 2022-03" in text for _, _, text in sent) == [False, True]

    tick.now += 9 * 60
    fail_a_batch(sender_log)  # still within ten minutes of the first report: held back
    await flushed(reporter)
    assert len(await reports(services)) == 2
    tick.now += 61
    fail_a_batch(sender_log)
    await flushed(reporter)
    sent = await reports(services)
    assert len(sent) == 3
    assert "3 lỗi cùng loại" in sent[2][2]  # the three held back since the first
    outcomes = of(services).metrics.registry
    assert outcomes.get_sample_value("thidua_errors_reported_total",
                                     {"outcome": "held_back"}) == 3
    assert outcomes.get_sample_value("thidua_errors_reported_total",
                                     {"outcome": "queued"}) == 3


async def test_reports_go_to_the_configured_chat_and_hold_no_secret(
        services: Services, sender_log: logging.Logger) -> None:
    await register(services, "900", "Mai", group=None, role="admin")
    protect(TOKEN)
    services.settings = services.settings.model_copy(update={
        "health": services.settings.health.model_copy(update={"error_chats": [-1001234]})})
    reporter = ErrorReporter(services, asyncio.get_running_loop())
    sender_log.addHandler(reporter)
    sender_log.error("Telegram refused https://api.telegram.org/bot%s/sendMessage", TOKEN)
    await flushed(reporter)
    [(channel, chat, text)] = await reports(services)
    assert (channel, chat) == ("telegram", "-1001234")  # the IT staff's group, not Mai
    assert TOKEN not in text and TOKEN.split(":")[1] not in text


async def test_a_report_that_cannot_be_written_is_dropped_quietly(
        settings: Settings, tmp_path: Path, sender_log: logging.Logger,
        caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'thidua.db'}")
    services = Services(settings=settings, sessions=make_sessions(engine))
    try:
        reporter = ErrorReporter(services, asyncio.get_running_loop())
        sender_log.addHandler(reporter)
        fail_a_batch(sender_log)
        await flushed(reporter)
    finally:
        await engine.dispose()
    assert of(services).metrics.registry.get_sample_value(
        "thidua_errors_reported_total", {"outcome": "failed"}) == 1
    assert any("could not queue the report" in r.message for r in caplog.records)


async def test_reports_can_be_turned_off(services: Services) -> None:
    services.settings = services.settings.model_copy(update={
        "health": services.settings.health.model_copy(update={"error_every_minutes": 0})})
    before = list(logging.getLogger().handlers)
    async with reporting_errors(services) as reporter:
        assert reporter is None
        assert logging.getLogger().handlers == before


def test_without_sentry_sdk_one_warning_line(monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # not installed
    caplog.set_level(logging.WARNING)
    assert start_sentry("https://key@sentry.example.vn/1") is False
    lines = [r for r in caplog.records if "sentry" in r.getMessage().lower()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING


def test_sentry_gets_events_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    given: dict[str, Any] = {}
    fake = types.ModuleType("sentry_sdk")
    fake.init = lambda **kw: given.update(kw)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    protect(TOKEN)
    assert start_sentry("https://key@sentry.example.vn/1") is True
    assert given["dsn"] == "https://key@sentry.example.vn/1"
    assert given["send_default_pii"] is False
    event = {"message": f"bot{TOKEN} refused", "extra": {"url": [f"/bot{TOKEN}/getMe"]}}
    assert TOKEN not in json.dumps(given["before_send"](event, {}))


def test_a_json_log_line_parses_and_holds_no_token() -> None:
    install()
    protect(TOKEN)
    logger = logging.getLogger("tests.json")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected")
    except RuntimeError:
        record = logger.makeRecord("tests.json", logging.ERROR, __file__, 1,
                                   "calling %s", (f"/bot{TOKEN}/getMe",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line and TOKEN not in line
    parsed = json.loads(line)
    assert set(parsed) == {"time", "level", "logger", "message", "exception"}
    assert parsed["level"] == "ERROR" and parsed["logger"] == "tests.json"
    assert parsed["message"].startswith("calling /bot")
    assert "RuntimeError" in parsed["exception"]


async def test_thidua_logs_json_lines_at_verbose_level(tmp_path: Path) -> None:
    """`thidua -v invite` with THIDUA_LOG_FORMAT=json: PTB's debug lines name the Bot
    API URL (with the token); each line is a JSON object and none holds the token."""
    async with FakeBotApi() as fake:
        env = _env(tmp_path, "json", fake.base_url, fake.token, THIDUA_LOG_FORMAT="json")
        ran = await _finish(await _start(["invite", "--group", "to-1"], env))
    assert ran.code == 0, ran.err
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) > 3  # -v: the debug lines of the HTTP client and PTB
    parsed = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(parsed[0])
    assert any(p["level"] == "DEBUG" for p in parsed)
    assert fake.token not in ran.err and fake.token.split(":")[1] not in ran.err
