"""The scheduler is a tick: find what is due, claim it, run it, all through the outbox.

`run_due` is the whole logic and takes the time as an argument, so tests step a
frozen clock through a month. Each due occurrence runs in its own transaction that
first inserts its `JobRun` (unique per job and key): a second instance, a restart or
an overlapping tick finds the row and skips it, and a job that fails rolls its claim
back with its messages, so a later tick within the grace period tries again.

`Scheduler` only decides *when* to tick: APScheduler cron triggers at the configured
local times, in the ward's time zone, plus a catch-up tick at start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox import JobRun
from reporting.config import Settings
from reporting.services import Services
from scheduler import digests, jobs
from scheduler.calendar import Occurrence, due

log = logging.getLogger(__name__)

Job = Callable[[Services, AsyncSession, Occurrence, datetime], Awaitable[int]]
RUNS: dict[str, Job] = {
    "period_open": jobs.period_open,
    "reminder": jobs.reminder,
    "lock": jobs.lock,
    "monthly_summary": digests.monthly_summary,
    "weekly_digest": digests.weekly_digest,
}
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"[:64]  # who claimed a run, for operators
SWEEP_MINUTES = 10


async def claim(session: AsyncSession, occ: Occurrence, now: datetime) -> bool:
    """Insert the occurrence's JobRun unless it exists. True if this session got it."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(JobRun).values(job=occ.job, key=occ.key, claimed_at=now,
                                 claimed_by=INSTANCE).on_conflict_do_nothing(
        index_elements=["job", "key"])
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def _run_one(services: Services, occ: Occurrence, now: datetime) -> bool:
    async with services.sessions() as session, session.begin():
        if not await claim(session, occ, now):
            return False
        queued = await RUNS[occ.job](services, session, occ, now)
        await session.execute(update(JobRun).where(JobRun.job == occ.job, JobRun.key == occ.key)
                               .values(finished_at=now))
    log.info("scheduled %s %s: %d message(s) queued", occ.job, occ.key, queued)
    return True


async def run_due(services: Services, now: datetime,
                  only: Iterable[str] | None = None) -> list[Occurrence]:
    """Run every occurrence due at `now` (within the grace) not yet claimed; return those."""
    ran = []
    for occ in due(services.settings, now, only):
        try:
            if await _run_one(services, occ, now):
                ran.append(occ)
        except Exception:
            # One failing job must not stop the others; its claim was rolled back.
            log.exception("scheduled %s %s failed", occ.job, occ.key)
    return ran


def _cron(settings: Settings, hhmm: str, **fields: Any) -> CronTrigger:
    hour, minute = hhmm.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=settings.ward.tz, **fields)


def triggers(settings: Settings) -> dict[str, Any]:
    """One trigger per job. Reminders, lock and summary fire daily and the calendar picks
    the days: due day + offset can fall in the previous month, which cron cannot say."""
    sch = settings.schedule
    return {
        "period_open": _cron(settings, sch.period_open_time, day=settings.calendar.open_day),
        "reminder": _cron(settings, sch.reminder_time),
        "lock": _cron(settings, sch.lock_time),
        "monthly_summary": _cron(settings, sch.monthly_summary_time),
        "weekly_digest": _cron(settings, sch.digest_time, day_of_week=sch.digest_day),
        # Retries a run that failed (e.g. the database was briefly away) within the grace.
        "sweep": IntervalTrigger(minutes=SWEEP_MINUTES, timezone=settings.ward.tz),
    }


class Scheduler:
    """APScheduler's AsyncIOScheduler firing `run_due` at the configured local times."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.aps: Any = AsyncIOScheduler(timezone=settings.ward.tz)
        # Ticks of one process run one at a time; other instances are kept out by claims.
        self._lock = asyncio.Lock()
        for job_id, trigger in triggers(settings).items():
            self.aps.add_job(
                self.tick, trigger, args=[None if job_id == "sweep" else (job_id,)],
                id=job_id, name=f"thidua {job_id}",
                misfire_grace_time=settings.schedule.misfire_grace_minutes * 60,
                coalesce=True, max_instances=1)

    async def tick(self, only: tuple[str, ...] | None = None) -> list[Occurrence]:
        async with self._lock:
            return await run_due(self.services, self.services.clock(), only)

    async def start(self) -> list[Occurrence]:
        """Catch up on what was missed while down, then follow the triggers."""
        caught_up = await self.tick()
        self.aps.start()
        return caught_up

    async def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn
