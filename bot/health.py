"""`/healthz` and `/metrics` on the bot's HTTP server, in polling and webhook mode alike.

`/healthz` answers what a load balancer, Docker's healthcheck or the ward's monitoring
needs to decide "restart it" or "call someone": 200 when the bot can do its job, 503
with the reasons otherwise. Unhealthy means, in this process:
* the database does not answer `SELECT 1` within `health.database_timeout_seconds`;
* a loop of the outbox sender has not gone round for `health.sender_stale_seconds`
  (or half of `delivery.sending_timeout_seconds` plus some, when larger: a batch may
  take that long);
* the scheduler has not ticked for `health.scheduler_stale_seconds` (at least three
  ticks);
* the oldest message still waiting in the outbox is older than
  `health.outbox_max_age_seconds`: whatever the cause (the Bot API refusing, no sender
  anywhere), members are not getting their messages.
A loop that does not run in this process (the scheduler of `thidua sender`, say) is
not judged. Each channel's last successful Bot API call is shown, not judged: a quiet
bot behind a webhook may make none for hours.

`/metrics` is Prometheus' text format from this bot's own registry
(`bot.telemetry`); the outbox depth and the oldest waiting row are read from the
database at each scrape, so no background sampler is needed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from bot.http import HttpServer
from bot.telemetry import Telemetry, of
from models.outbox_stats import depth_by_status, oldest_waiting
from reporting.services import Services

log = logging.getLogger(__name__)


@dataclass
class Outbox:
    by_status: dict[str, int]
    oldest: datetime | None


@dataclass
class Report:
    """What `/healthz` answers: `problems` empty is healthy."""

    body: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


async def read_outbox(services: Services) -> Outbox:
    """SELECT 1, then the outbox's depth and oldest row, in one short session."""
    async with services.sessions() as session:
        await session.execute(text("SELECT 1"))
        return Outbox(await depth_by_status(session), await oldest_waiting(session))


async def _outbox_or_error(services: Services) -> Outbox | str:
    """The outbox as read, or why the database could not be read (no message text: a
    driver's error may name the host, or worse)."""
    timeout = services.settings.health.database_timeout_seconds
    try:
        return await asyncio.wait_for(read_outbox(services), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:
        return type(exc).__name__


def _loop(ages: dict[str, float], stale_after: float) -> dict[str, Any]:
    """A running loop's part of the report (the slowest of its beats counts)."""
    if not ages:
        return {"running": False, "ok": True}
    worst = max(ages.values())
    return {"running": True, "ok": worst <= stale_after,
            "heartbeat_age_seconds": round(worst, 1), "stale_after_seconds": stale_after}


async def check(services: Services) -> Report:
    """Judge this process's health (see the module docstring)."""
    settings = services.settings
    cfg = settings.health
    telemetry = of(services)
    report = Report()
    read = await _outbox_or_error(services)
    database_ok = isinstance(read, Outbox)
    report.body["database"] = {"ok": database_ok,
                               "error": None if database_ok else read}
    if not database_ok:
        report.problems.append("database")
    sender_stale = max(cfg.sender_stale_seconds,
                       settings.delivery.sending_timeout_seconds / 2 + 30)
    sender = _loop(telemetry.ages("sender:"), sender_stale)
    if isinstance(read, Outbox):
        sender["outbox"] = _outbox(read, services.clock(), cfg.outbox_max_age_seconds)
        if not sender["outbox"]["ok"]:
            report.problems.append("outbox")
    report.body["sender"] = sender
    if not sender["ok"]:
        report.problems.append("sender")
    scheduler = _loop(telemetry.ages("scheduler"),
                      max(cfg.scheduler_stale_seconds, 3 * settings.schedule.tick_seconds))
    report.body["scheduler"] = scheduler
    if not scheduler["ok"]:
        report.problems.append("scheduler")
    report.body["channels"] = {
        name: {"last_success_at": at.isoformat(timespec="seconds"),
               "seconds_ago": round(ago, 1)}
        for name, (at, ago) in sorted(telemetry.calls().items())}
    report.body = {"status": "ok" if report.healthy else "unhealthy",
                   "problems": report.problems, **report.body}
    return report


def _outbox(read: Outbox, now: datetime, max_age: float) -> dict[str, Any]:
    age = None if read.oldest is None else max(0.0, (now - read.oldest).total_seconds())
    return {"ok": age is None or age <= max_age,
            "oldest_waiting_seconds": None if age is None else round(age, 1),
            "max_age_seconds": max_age, "by_status": read.by_status}


async def refresh(services: Services, telemetry: Telemetry) -> None:
    """Sample the database-side gauges before a scrape."""
    read = await _outbox_or_error(services)
    if not isinstance(read, Outbox):
        telemetry.metrics.database_up.set(0)
        return
    telemetry.metrics.database_up.set(1)
    for status, n in read.by_status.items():
        telemetry.metrics.outbox_depth.labels(status).set(n)
    age = 0.0 if read.oldest is None else (services.clock() - read.oldest).total_seconds()
    telemetry.metrics.outbox_oldest.set(max(0.0, age))


def mount_health(server: HttpServer, services: Services) -> None:
    """Serve this bot's `/healthz` and `/metrics` on `server`."""

    async def healthz(_: web.Request) -> web.Response:
        report = await check(services)
        if not report.healthy:
            log.warning("health check: unhealthy (%s)", ", ".join(report.problems))
        return web.Response(status=200 if report.healthy else 503,
                            text=json.dumps(report.body, ensure_ascii=False),
                            content_type="application/json")

    async def metrics(_: web.Request) -> web.Response:
        telemetry = of(services)
        await refresh(services, telemetry)
        response = web.Response(body=telemetry.exposition())
        # aiohttp refuses a content_type argument that carries parameters (version=…).
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    server.mount("GET", "/healthz", healthz)
    server.mount("GET", "/metrics", metrics)
