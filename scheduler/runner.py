"""The scheduler is a tick: find what is due, claim it, run it, all through the outbox.

`run_due` is the whole logic and takes the time as an argument, so tests step a
frozen clock through a month. Each due occurrence runs in its own transaction that
first inserts its `JobRun` (unique per job and key): a second instance, a restart or
an overlapping tick finds the row and skips it, and a job that fails rolls its claim
back with its messages, so a later tick within the grace period tries again.

`Scheduler` only makes the ticks: once at start (the catch-up, within the grace) and
then every `schedule.tick_seconds`. It knows no job times: `scheduler/calendar.py` is
the one place that does, so a change of a time in config cannot disagree with a cron
field written elsewhere, and rules cron cannot say (a reminder two days before a due
date that may fall in the previous month) need no special trigger.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import dialect_insert
from models.outbox import JobRun
from reporting.services import Services
from scheduler import digests, jobs, retention, signup
from scheduler.calendar import Occurrence, due, next_occurrence

log = logging.getLogger(__name__)

Job = Callable[[Services, AsyncSession, Occurrence, datetime], Awaitable[int]]
RUNS: dict[str, Job] = {
    "period_open": jobs.period_open,
    "reminder": jobs.reminder,
    "lock": jobs.lock,
    "monthly_summary": digests.monthly_summary,
    "weekly_digest": digests.weekly_digest,
    "signup_open": signup.signup_open,
    "signup_reminder": signup.signup_reminder,
    "photo_retention": retention.photo_retention,
}
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"[:64]  # who claimed a run, for operators
TICK = "tick"  # the one APScheduler job


async def claim(session: AsyncSession, occ: Occurrence, now: datetime) -> bool:
    """Insert the occurrence's JobRun unless it exists. True if this session got it."""
    insert = dialect_insert(session.get_bind().dialect.name)
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


# Told of each due occurrence's outcome, by job: "ok", "skipped" (another instance or
# an earlier tick had claimed it) or "error" (the runtime counts them for /metrics).
OnRun = Callable[[str, str], None]


def _ignore(job: str, result: str) -> None:
    pass


async def run_due(services: Services, now: datetime,
                  on_run: OnRun = _ignore) -> list[Occurrence]:
    """Run every occurrence due at `now` (within the grace) not yet claimed; return those."""
    ran = []
    for occ in due(services.settings, now):
        try:
            if await _run_one(services, occ, now):
                ran.append(occ)
                on_run(occ.job, "ok")
            else:
                on_run(occ.job, "skipped")
        except Exception:
            # One failing job must not stop the others; its claim was rolled back.
            log.exception("scheduled %s %s failed", occ.job, occ.key)
            on_run(occ.job, "error")
    return ran


class Scheduler:
    """APScheduler's AsyncIOScheduler ticking `run_due`; the calendar decides the rest.

    A tick that finds nothing due costs a few date computations and no query, so ticking
    every 30 s is cheap; a job runs at most one tick after its time. A tick that failed
    (the database was briefly away) is simply retried by the next one, within the grace.
    """

    def __init__(self, services: Services, every: float | None = None, *,
                 on_tick: Callable[[], None] | None = None,
                 on_run: OnRun = _ignore) -> None:
        self.services = services
        # The runtime's heartbeat (/healthz): called after every tick, due jobs or not.
        self._on_tick = on_tick
        self._on_run = on_run
        settings = services.settings
        self.every = every if every is not None else settings.schedule.tick_seconds
        self.aps: Any = AsyncIOScheduler(timezone=settings.ward.tz)
        # Ticks of one process run one at a time; other instances are kept out by claims.
        self._lock = asyncio.Lock()
        # A tick late because the loop was busy still runs (misfire_grace_time=None): it
        # reads the clock itself, and the calendar's grace is the only lateness rule.
        # Ticks that piled up meanwhile run once (coalesce), never side by side.
        self.aps.add_job(self.tick, IntervalTrigger(seconds=self.every), id=TICK,
                         name="thidua tick", misfire_grace_time=None, coalesce=True,
                         max_instances=1)

    async def tick(self) -> list[Occurrence]:
        async with self._lock:
            try:
                return await run_due(self.services, self.services.clock(), self._on_run)
            finally:
                if self._on_tick is not None:
                    self._on_tick()

    async def start(self) -> list[Occurrence]:
        """Catch up on what was missed while down (within the grace), then keep ticking."""
        caught_up = await self.tick()
        self.aps.start()
        upcoming = next_occurrence(self.services.settings, self.services.clock())
        if upcoming is not None:
            log.info("scheduler ticking every %gs; next: %s %s at %s", self.every,
                     upcoming.job, upcoming.key, upcoming.at.isoformat())
        return caught_up

    async def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn
