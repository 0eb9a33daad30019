"""Shared fixtures: the ward's config, a frozen clock, and databases.

`db_url` is parametrised over SQLite (always) and PostgreSQL (when
THIDUA_TEST_POSTGRES_URL is set); each PostgreSQL test gets a fresh schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.assembly import open_services
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.services import Services

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "THIDUA_TEST_POSTGRES_URL"


class Clock:
    """A clock the test moves by hand (the ward is UTC+7)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

    def set_local(self, y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> None:
        self.now = datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(ROOT / "config.yaml")


@pytest.fixture
def clock() -> Clock:
    c = Clock(datetime(2022, 1, 1, tzinfo=UTC))
    c.set_local(2022, 4, 3)  # reporting March 2022: window open, due 5 April
    return c


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"
        return
    base = _pg_url()
    if base is None:
        pytest.skip(f"{PG_ENV} not set")
    yield from _pg_database(base)


def _pg_database(base: str) -> Iterator[str]:
    """A throwaway database per test, dropped afterwards."""
    import asyncio

    url = make_url(base)
    name = f"thidua_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"


@pytest.fixture
async def services(settings: Settings, db_url: str, clock: Clock) -> AsyncIterator[Services]:
    async with open_services(settings, db_url, clock=clock) as svc:
        yield svc
