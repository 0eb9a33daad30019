"""Alembic migrations build exactly the schema the models describe, on both databases.

These start from an empty database (`empty_db_url`): migrating it is the point.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from models import Base, Report, ReportValue
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


def test_the_partial_indexes_keep_their_clause_on_both_databases() -> None:
    """PostgreSQL's is added by make_engine (`models.base.partial_index`): the models
    do not import that dialect, so a bot on SQLite never loads it."""
    for url in ("sqlite+aiosqlite://", "postgresql+asyncpg://u@localhost/db"):
        dialect = make_engine(url).dialect
        ddl = {str(CreateIndex(index).compile(dialect=dialect))
               for table in (Report.__table__, ReportValue.__table__)
               if isinstance(table, Table) for index in table.indexes}
        assert {"CREATE UNIQUE INDEX uq_reports_ward_period ON reports (period_id, dataset) "
                "WHERE group_id IS NULL",
                "CREATE INDEX ix_report_values_flagged ON report_values (report_id) "
                "WHERE soft_check IS NOT NULL"} <= ddl, url


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
