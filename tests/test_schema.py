"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from models import Base
from models.db import make_engine, upgrade


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn)
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # running again is a no-op
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(_tables)
    finally:
        await engine.dispose()
    assert {"reports", "report_values", "audit_log", "conversations", "invites",
            "members", "identities", "periods", "groups"} <= tables


async def test_instances_starting_together_migrate_one_after_another(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("one SQLite file serves one instance; PostgreSQL is the shared case")

    engines = [make_engine(db_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(e) for e in engines))
        async with engines[0].connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        for e in engines:
            await e.dispose()
