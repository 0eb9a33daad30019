"""Composition root: settings + database → the services every channel shares."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from handlers.context import Services, system_clock
from models.db import database_url, make_engine, make_sessions, upgrade
from models.queries import sync_groups
from reporting.config import Settings


@asynccontextmanager
async def open_services(settings: Settings, url: str | None = None, *,
                        clock: Callable[[], datetime] = system_clock,
                        migrate: bool = True) -> AsyncIterator[Services]:
    """Connect, bring the schema up to date, mirror config's groups, and yield services."""
    engine = make_engine(database_url(url))
    try:
        if migrate:
            await upgrade(engine)
        sessions = make_sessions(engine)
        async with sessions() as session, session.begin():
            await sync_groups(session, settings)
        media = os.environ.get("THIDUA_MEDIA_DIR")
        yield Services(settings=settings, sessions=sessions, clock=clock,
                       bot_username=settings.bot.username,
                       media_dir=Path(media) if media else None)
    finally:
        await engine.dispose()
