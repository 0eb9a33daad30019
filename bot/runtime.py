"""What runs beside the chat handlers: the outbox sender and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot

from bot.delivery import Sender
from bot.progress import BroadcastProgress
from bot.telegram import CHANNEL
from bot.telegram_transport import TelegramTransport
from handlers.context import Services
from scheduler.runner import Scheduler


def telegram_sender(services: Services, bot: Bot, worker: str | None = None,
                    progress: BroadcastProgress | None = None) -> Sender:
    return Sender(services.sessions, services.settings.delivery,
                  {CHANNEL: TelegramTransport(bot, services.media)}, worker=worker,
                  on_batch=progress or BroadcastProgress(services, bot))


async def _sweep(progress: BroadcastProgress, stop: asyncio.Event, every: float) -> None:
    """Finish broadcast reports whose last edit failed (no batch will come to retry)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        await progress.sweep()


@asynccontextmanager
async def background(services: Services, bot: Bot, *, scheduler: bool = True,
                     idle_sleep: float = 1.0) -> AsyncIterator[Sender]:
    """Run the sender (and the scheduler, catching up missed jobs first) for the block."""
    stop = asyncio.Event()
    progress = BroadcastProgress(services, bot)
    sender = telegram_sender(services, bot, progress=progress)
    jobs = Scheduler(services) if scheduler else None
    if jobs is not None:
        await jobs.start()
    every = max(services.settings.delivery.progress_every_seconds, 1.0)
    tasks = [asyncio.create_task(sender.run(stop, idle_sleep=idle_sleep)),
             asyncio.create_task(_sweep(progress, stop, every))]
    try:
        yield sender
    finally:
        stop.set()
        if jobs is not None:
            await jobs.shutdown()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
