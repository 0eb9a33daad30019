"""What `/healthz` judges, one thing at a time, without a running bot.

Each story sets up the one fact that matters (a loop that stopped going round, a
database that cannot be opened, a job that ran) and reads the verdict or the counter.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.channels.zalo.client import ZaloApi, ZaloError
from bot.health import check
from bot.telemetry import Telemetry, of
from models.db import make_engine, make_sessions
from reporting.config import Settings
from reporting.services import Services
from scheduler.calendar import occurrences
from scheduler.runner import Scheduler
from tests.conftest import Clock


class Monotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counted(telemetry: Telemetry, name: str, **labels: str) -> float:
    return telemetry.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_sender_loop_that_stopped_going_round_is_unhealthy(services: Services) -> None:
    tick = Monotonic()
    services.telemetry = Telemetry(monotonic=tick)
    telemetry = of(services)
    telemetry.beat("sender:telegram")
    telemetry.beat("sender:zalo")
    report = await check(services)
    assert report.healthy and report.body["sender"]["running"]
    assert report.body["scheduler"] == {"running": False, "ok": True}  # not here: not judged
    tick.now += 100
    telemetry.beat("sender:telegram")  # Telegram's loop goes on; Zalo's is stuck
    assert (await check(services)).healthy  # 100 s: within the default 180 s
    tick.now += 100
    telemetry.beat("sender:telegram")
    report = await check(services)
    assert report.problems == ["sender"]
    assert report.body["sender"]["heartbeat_age_seconds"] == 200  # the stuck loop counts
    telemetry.forget("sender:zalo")  # stopped on purpose (shutting down)
    assert (await check(services)).healthy


async def test_the_scheduler_is_allowed_three_ticks(services: Services) -> None:
    tick = Monotonic()
    settings = services.settings
    slow = settings.model_copy(update={
        "schedule": settings.schedule.model_copy(update={"tick_seconds": 120})})
    services.settings = slow
    services.telemetry = Telemetry(monotonic=tick)
    of(services).beat("scheduler")
    tick.now += 300  # past health.scheduler_stale_seconds (180), within 3 ticks (360)
    assert (await check(services)).healthy
    tick.now += 61
    report = await check(services)
    assert report.problems == ["scheduler"]
    assert report.body["scheduler"]["stale_after_seconds"] == 360


async def test_a_database_that_cannot_be_opened_is_unhealthy(settings: Settings,
                                                              tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "thidua.db"
    engine = make_engine(f"sqlite+aiosqlite:///{missing}")
    try:
        services = Services(settings=settings, sessions=make_sessions(engine))
        report = await check(services)
    finally:
        await engine.dispose()
    assert report.problems == ["database"]
    assert report.body["database"] == {"ok": False, "error": "OperationalError"}
    assert "outbox" not in report.body["sender"]  # unknown, not "empty"
    assert str(tmp_path) not in str(report.body)


async def test_job_runs_are_counted_by_job_and_result(services: Services, clock: Clock) -> None:
    # A reminder: a plain job (the digest's chart would only slow the story down).
    upcoming = occurrences(services.settings, "reminder", clock(),
                           clock() + timedelta(days=40))[0]
    clock.now = upcoming.at
    telemetry = of(services)
    jobs = Scheduler(services, on_tick=lambda: telemetry.beat("scheduler"),
                     on_run=telemetry.job_ran)
    ran = await jobs.tick()
    assert upcoming.job in {occ.job for occ in ran}
    assert counted(telemetry, "thidua_job_runs_total", job=upcoming.job, result="ok") == 1
    await jobs.tick()  # claimed already (as by another instance): skipped, not run again
    assert counted(telemetry, "thidua_job_runs_total", job=upcoming.job, result="ok") == 1
    assert counted(telemetry, "thidua_job_runs_total", job=upcoming.job,
                   result="skipped") == 1
    assert "scheduler" in telemetry.ages()


async def test_zalo_notes_each_answered_call_but_not_a_refusal() -> None:
    """'Nothing arrived during the wait' (408) is Zalo answering; a 401 is not."""
    answers = iter([{"ok": True, "result": {"id": "bot"}},
                    {"ok": False, "error_code": 408, "description": "no update"},
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}])

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    noted: list[str] = []
    async with ZaloApi("123:secret-token-xyz", "http://zalo.test/bot",
                       transport=httpx.MockTransport(answer),
                       on_success=lambda: noted.append("call")) as api:
        await api.get_me()
        assert await api.get_update(1) is None
        with pytest.raises(ZaloError):
            await api.get_me()
    assert noted == ["call", "call"]
