"""Engine, sessions and schema migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_outage(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a bad statement):
    the same work is worth trying again later."""
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # The URL is always given: THIDUA_DATABASE_URL and its default are read once, by
    # bot.settings, and passed down (models/ never reads the environment).
    if is_sqlite(url):
        # busy_timeout lets a second writer wait instead of failing at once.
        kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_sessions(engine: AsyncEngine) -> Sessions:
    # expire_on_commit=False: objects stay readable after commit without lazy loads.
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    # The migrations package is found, not imported: its env.py is the alembic command's
    # entry point and sits above everything (it reads the environment like the bot does).
    spec = importlib.util.find_spec("migrations")
    assert spec is not None and spec.origin is not None, "the migrations package is missing"
    cfg.set_main_option("script_location", str(Path(spec.origin).parent))
    return cfg


def _upgrade(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


MIGRATION_LOCK = 0x7468_6964_7561  # "thidua": one advisory lock id for all instances


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to date (Alembic, run on the async engine's connection).

    On PostgreSQL several instances may start at once: a transaction-level advisory
    lock makes them migrate one after another instead of racing on CREATE TABLE.
    """
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.run_sync(_upgrade, revision)
