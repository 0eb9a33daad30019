"""Alembic migrations build exactly the schema the models describe, on both databases.

These start from an empty database (`empty_db_url`): migrating it is the point.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from models import Base
from models.db import alembic_config, make_engine, upgrade


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn)
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrations_match_the_models(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
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


async def test_instances_starting_together_migrate_one_after_another(empty_db_url: str) -> None:
    if not empty_db_url.startswith("postgresql"):
        pytest.skip("one SQLite file serves one instance; PostgreSQL is the shared case")

    engines = [make_engine(empty_db_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(e) for e in engines))
        async with engines[0].connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        for e in engines:
            await e.dispose()


async def test_each_test_gets_a_fully_migrated_database_with_no_rows(db_url: str) -> None:
    """`db_url` is copied from a template migrated once: it must equal a fresh migration."""
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            assert version == [(ScriptDirectory.from_config(alembic_config()).get_current_head(),)]
            for table in Base.metadata.sorted_tables:
                count = await conn.scalar(select(func.count()).select_from(table))
                assert count == 0, table.name
    finally:
        await engine.dispose()
