"""Shared fixtures: the ward's config, a frozen clock, and databases.

`db_url` is parametrised over SQLite (always) and PostgreSQL (when
THIDUA_TEST_POSTGRES_URL is set); each test gets a fully migrated database with no rows:
on SQLite a copy of a file migrated once per session; on PostgreSQL this process's copy
of a template database (shared by every pytest process on the server), emptied before
the test. `empty_db_url` gives tests of migrating an empty one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.assembly import open_services
from bot.limits import SENDS
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


# -- databases ---------------------------------------------------------------------------------
#
# Migrating costs far more than copying a migrated database, so the schema is built once: on
# PostgreSQL into a template database named after the migrations (`CREATE DATABASE … TEMPLATE`
# copies it per test), on SQLite into one file per session that each test copies. Tests about
# migrating itself take `empty_db_url` instead.

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# A session-level advisory lock in the admin database: one pytest process builds a template
# while any other started at the same moment waits for it, then finds it built.
TEMPLATE_LOCK = 0x7468_6964_7561_7401  # "thidua" + "t"emplate


def _migrations_key() -> str:
    """The alembic head and a hash of the migrations folder: a new migration, or an edit to one,
    names a new template, so a stale one is never used."""
    from alembic.script import ScriptDirectory

    from models.db import alembic_config

    folder = ROOT / "migrations"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".mako", ".ini"}:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(b"\0" + path.read_bytes() + b"\0")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or "base"
    return f"{head[:20]}_{digest.hexdigest()[:16]}".lower()


class PgServer:
    """The PostgreSQL server of THIDUA_TEST_POSTGRES_URL: throwaway databases on it."""

    def __init__(self, base: str) -> None:
        self.url = make_url(base)
        self.admin = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.template = f"thidua_tmpl_{_migrations_key()}"

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    async def _execute(self, *sql: str) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            for statement in sql:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def ensure_template(self) -> None:
        """Build the migrated template unless a finished one exists (safe across processes).

        It is built under another name and renamed when complete, so a process killed
        half-way leaves no half-migrated template behind; the next builder drops the leftover.
        """
        from models.db import make_engine, upgrade

        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", TEMPLATE_LOCK)
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.template):
                return
            building = f"{self.template}_new"
            await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{building}"')
            engine = make_engine(self.url_of(building))
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()
            await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{self.template}"')
            # No one may connect to it: a connection would make every copy fail.
            await conn.execute(
                f'ALTER DATABASE "{self.template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        finally:
            await conn.close()  # also releases the advisory lock

    def database(self, *, migrated: bool) -> Iterator[str]:
        """A throwaway database (a copy of the template, or empty), dropped afterwards."""
        name = f"thidua_test_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        asyncio.run(self._execute(f'CREATE DATABASE "{name}"{template}'))
        try:
            yield self.url_of(name)
        finally:
            asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    base = _pg_url()
    if base is None:
        pytest.skip(f"{PG_ENV} not set")
    server = PgServer(base)
    asyncio.run(server.ensure_template())
    return server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "thidua.db"

    async def build() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection checkpoints the WAL into the file

    asyncio.run(build())
    return path


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the schema fully migrated and nothing in it."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "thidua.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"
        return
    reused: str = request.getfixturevalue("pg_database")
    asyncio.run(_emptied(reused))
    yield reused


@pytest.fixture(scope="session")
def pg_database(pg_server: PgServer) -> Iterator[str]:
    """This process's copy of the template, emptied before each test that takes it.

    Emptying (TRUNCATE … RESTART IDENTITY) takes a few milliseconds where creating a
    database from the template takes a few hundred; the template has no rows, so an
    emptied copy is the same as a new one. Tests never change the schema (those about
    migrating take `empty_db_url`), and the guard test in test_schema.py checks it.
    """
    yield from pg_server.database(migrated=True)


async def _emptied(url: str) -> None:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        # A connection a previous test left open would hold locks TRUNCATE waits for.
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename <> 'alembic_version'")
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=DATABASES)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no schema at all: for tests of migrating itself."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    yield from server.database(migrated=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"


@pytest.fixture
async def services(settings: Settings, db_url: str, clock: Clock) -> AsyncIterator[Services]:
    # db_url is migrated already (test_schema checks it); the upgrade itself has its tests.
    async with open_services(settings, db_url, clock=clock, migrate=False) as svc:
        yield svc


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty SQLite file for `bot.cli.main`, named in THIDUA_DATABASE_URL, with the
    shipped config and the working folder in `tmp_path` (where files are written)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("THIDUA_DATABASE_URL", url)
    monkeypatch.setenv("THIDUA_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.chdir(tmp_path)
    return url


@pytest.fixture
def seeded_cli_db(cli_db: str) -> str:
    """`cli_db` holding the seeded year 2022 (`bot.demo_year`)."""
    from bot.demo_year import seed_year

    settings = load_settings(ROOT / "config.yaml")

    async def fill() -> None:
        async with open_services(settings, cli_db) as app, app.sessions() as s, s.begin():
            await seed_year(s, settings, 2022)

    asyncio.run(fill())
    return cli_db


@pytest.fixture(autouse=True)
def _forget_sends() -> Iterator[None]:
    """`bot.limits.SENDS` is per process: one test's send to chat 1001 must not hold the
    next test's sender back from its own chat 1001 for a second."""
    SENDS.clear()
    yield
