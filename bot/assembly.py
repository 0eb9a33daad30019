"""The composition root: settings and database → services; services → a running bot.

`open_services` connects, migrates and mirrors the configured groups; `background` runs
what lives beside the chat handlers (the outbox sender and the scheduler). Values from
the environment (the database URL, the media directory) arrive as parameters: the CLI
reads `bot.settings.Environment` once and `bot.subcommands` passes them on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.channels.base import ChannelLimits, Transport
from bot.redact import protect
from models.app_secrets import INVITE_KEY, stored_secret
from models.db import Sessions, make_engine, make_sessions, upgrade
from models.invites import InviteKey
from models.outbox_ops import serving, wake_on_commit
from models.queries import sync_groups
from reporting.config import Settings
from reporting.services import Services, system_clock

if TYPE_CHECKING:
    # The sender, its progress reports, file links and metrics: imported where the
    # sender is made, so the CLI commands that only open services (`thidua export`,
    # `invite`, …) do not load them (nor aiohttp and prometheus_client behind them).
    from bot.delivery import Sender
    from bot.progress import BroadcastProgress

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_services(settings: Settings, url: str, *, media_dir: Path | None = None,
                        clock: Callable[[], datetime] = system_clock,
                        migrate: bool = True,
                        secret_key: str | None = None, public_url: str | None = None,
                        link_ttl: timedelta = timedelta(days=7)) -> AsyncIterator[Services]:
    """Connect, bring the schema up to date, mirror config's groups, and yield services.

    Warns (once, at start) when this year, in the ward's time, has no plan in config.

    `url`: THIDUA_DATABASE_URL (or its default); `media_dir`: THIDUA_MEDIA_DIR, None for
    config's good_deeds.media_dir; `secret_key`: THIDUA_SECRET_KEY, None for the key
    kept in the database; `public_url`: THIDUA_PUBLIC_URL (file links, `bot.media_links`),
    `link_ttl`: THIDUA_LINK_DAYS.
    """
    engine = make_engine(url)
    try:
        if migrate:
            await upgrade(engine)
        sessions = make_sessions(engine)
        async with sessions() as session, session.begin():
            await sync_groups(session, settings.group_pairs, settings.group_history)
        year = clock().astimezone(settings.ward.tz).year
        if settings.plan(year) is None:
            log.warning("no plan for %d in config.yaml: the digest cannot judge targets", year)
        key = await _invite_key(sessions, secret_key, clock())
        services = Services(settings=settings, sessions=sessions, clock=clock,
                            bot_username=settings.bot.username, media_dir=media_dir,
                            invite_key=key, public_url=public_url,
                            link_ttl=link_ttl)
        # Members with accounts on several messengers get their messages on one this
        # instance serves (each running channel registers in `services.limits`).
        serving(sessions, services.limits)
        yield services
    finally:
        await engine.dispose()


async def _invite_key(sessions: Sessions, secret_key: str | None,
                      now: datetime) -> InviteKey:
    """THIDUA_SECRET_KEY, else the database's key (made by the first instance to start)."""
    if secret_key:
        protect(secret_key)
        return InviteKey(secret_key.encode(), on_new_code=protect)
    # Redacted before it is written: the SQL drivers log parameters at DEBUG.
    candidate = secrets.token_hex(32)
    protect(candidate)
    async with sessions() as session, session.begin():
        stored = await stored_secret(session, INVITE_KEY, candidate, now)
    protect(stored)
    return InviteKey(bytes.fromhex(stored), on_new_code=protect)


def outbox_sender(services: Services, transports: Mapping[str, Transport],
                  limits: Mapping[str, ChannelLimits], worker: str | None = None) -> Sender:
    """The sender over the running channels, with broadcast progress as its batch hook."""
    return _sender_and_progress(services, transports, limits, worker)[0]


def _sender_and_progress(services: Services, transports: Mapping[str, Transport],
                         limits: Mapping[str, ChannelLimits],
                         worker: str | None = None) -> tuple[Sender, BroadcastProgress]:
    from bot.delivery import Sender
    from bot.media_links import outbox_links
    from bot.progress import BroadcastProgress
    from bot.telemetry import of

    sender = Sender(services.sessions, services.settings.delivery, transports, worker=worker,
                    media_dir=services.media,
                    without_files=[name for name, lim in limits.items() if not lim.files],
                    as_links=partial(outbox_links, services), telemetry=of(services))
    progress = BroadcastProgress(services, limits, wake=sender.nudge)
    sender.on_batch = progress
    return sender, progress


async def _sweep(progress: BroadcastProgress, stop: asyncio.Event, every: float) -> None:
    """Finish broadcast reports whose progress message went out after the last batch."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        await progress.sweep()


@asynccontextmanager
async def background(services: Services, transports: Mapping[str, Transport],
                     limits: Mapping[str, ChannelLimits], *, scheduler: bool = True,
                     idle_sleep: float = 1.0) -> AsyncIterator[Sender]:
    """Run the sender (and the scheduler, catching up missed jobs first) for the block."""
    stop = asyncio.Event()
    sender, progress = _sender_and_progress(services, transports, limits)
    # Every commit that enqueued rows (a confirmed broadcast, a scheduled job) wakes the
    # sender at once; `idle_sleep` is then only how soon it sees retries falling due and
    # rows that another instance enqueued.
    stop_waking = wake_on_commit(services.sessions, sender.nudge)
    from bot.telemetry import of

    telemetry = of(services)
    # Imported here, not at the top: the scheduler (APScheduler and every job's module)
    # starts after the channels, so loading it stays off the path to the first poll.
    from scheduler.runner import Scheduler

    jobs = Scheduler(services, on_tick=partial(telemetry.beat, "scheduler"),
                     on_run=telemetry.job_ran) if scheduler else None
    tasks: list[asyncio.Task[None]] = []
    try:
        if jobs is not None:
            await jobs.start()
        every = max(services.settings.delivery.progress_every_seconds, 1.0)
        tasks = [asyncio.create_task(sender.run(stop, idle_sleep=idle_sleep)),
                 asyncio.create_task(_sweep(progress, stop, every))]
        yield sender
    finally:
        stop_waking()
        stop.set()
        if jobs is not None:
            await jobs.shutdown()
            telemetry.forget("scheduler")  # stopped on purpose: not stale
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
