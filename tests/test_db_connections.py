"""What a pooled connection costs and keeps between uses (`models.db`).

A connection going back to the pool after a commit needs no rollback (on SQLite that
would be a thread hop for nothing), but one with a transaction still open must be rolled
back; `one_statement` commits its write as it runs on PostgreSQL and leaves nothing of
its autocommit on the connection it gives back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from models import InboxUpdate
from models.db import make_engine, make_sessions, one_statement, upgrade
from models.inbox_ops import NewUpdate, store


def _rows(*ids: int) -> list[NewUpdate]:
    return [NewUpdate(str(i), "1001", json.dumps({"id": i})) for i in ids]


async def test_sqlite_rolls_back_only_a_connection_left_in_a_transaction(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rollbacks: list[int] = []
    real = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(1)
        await real(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        await upgrade(engine)
        sessions = make_sessions(engine)
        rollbacks.clear()  # the migrations' own
        async with sessions() as s, s.begin():
            await store(s, "test", _rows(1), datetime.now(UTC))
        assert rollbacks == []  # committed: nothing to undo on the way back

        # A write on the driver's connection behind SQLAlchemy's back, never committed:
        # the pool is the last one able to undo it.
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute("UPDATE inbox SET attempts = 99")
            assert driver.in_transaction
        assert rollbacks == [1]
        async with sessions() as s:
            assert await s.scalar(select(func.max(InboxUpdate.attempts))) == 0
    finally:
        await engine.dispose()


async def test_one_statement_commits_as_it_runs_and_gives_back_a_transactional_connection(
        db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite keeps a transaction (see one_statement)")
    engine = make_engine(db_url, pool_size=1, max_overflow=0)  # the same connection again
    other = await asyncpg.connect(make_url(db_url).set(drivername="postgresql")
                                  .render_as_string(hide_password=False))
    try:
        sessions = make_sessions(engine)

        async def seen() -> Any:
            return await other.fetchval("SELECT count(*) FROM inbox")

        async with one_statement(sessions) as s:
            await store(s, "test", _rows(1), datetime.now(UTC))
            assert await seen() == 1  # committed already, inside the block
        async with sessions() as s:
            await store(s, "test", _rows(2), datetime.now(UTC))
            assert await seen() == 1  # an ordinary transaction again: not yet
            await s.rollback()
        assert await seen() == 1
    finally:
        await other.close()
        await engine.dispose()


async def test_postgresql_pings_a_reused_connection_in_one_round_trip_and_not_a_new_one(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before lending a pooled connection the pool pings it, with one `SELECT 1` (not
    SQLAlchemy's BEGIN, `;`, ROLLBACK); a connection just opened is not pinged."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the ping is PostgreSQL's (SQLite has no server to lose)")
    sent: list[str] = []
    for name in ("execute", "fetchrow", "fetch", "prepare", "_prepare"):
        real = getattr(asyncpg.Connection, name)

        async def recorded(self: asyncpg.Connection, query: str, *args: Any,
                           _real: Any = real, **kw: Any) -> Any:
            sent.append(" ".join(query.split()))
            return await _real(self, query, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, recorded)
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:  # opened now: no ping
            await conn.exec_driver_sql("SELECT 2")
        first = list(sent)
        sent.clear()
        async with engine.connect() as conn:  # from the pool: pinged first
            await conn.exec_driver_sql("SELECT 2")
        assert "SELECT 1" not in first
        pings = sent[:sent.index("BEGIN;")]  # before the block's own transaction
        assert pings == ["SELECT 1"], sent
    finally:
        await engine.dispose()
