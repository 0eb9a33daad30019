"""Every start calls `models.db.upgrade`; a schema already at the head costs one SELECT.

The head is read from the migration files (`head_revision`), the stored revision from
`alembic_version`; only when they differ (a new database, an older schema) does alembic
run, the proper way.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, text

from models import db as models_db
from models.db import alembic_config, head_revision, make_engine, stored_revision, upgrade

SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPTS.get_current_head()


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert HEAD is not None
    assert head_revision() == HEAD


def _statements(engine: Any) -> list[str]:
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


async def _tables(engine: Any) -> set[str]:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        else:
            rows = await conn.execute(text("SELECT tablename FROM pg_tables "
                                           "WHERE schemaname = 'public'"))
        return {str(r[0]) for r in rows}


async def test_a_new_database_is_migrated_and_a_restart_only_reads_the_revision(
        empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert await stored_revision(engine) is None  # nothing there yet
        await upgrade(engine)
        assert await stored_revision(engine) == HEAD
        assert {"groups", "reports", "inbox", "send_allowance"} <= await _tables(engine)

        seen = _statements(engine)
        await upgrade(engine)
        assert seen == ["SELECT version_num FROM alembic_version"]
    finally:
        await engine.dispose()


async def test_an_older_schema_still_goes_through_alembic(empty_db_url: str) -> None:
    assert HEAD is not None
    head = SCRIPTS.get_revision(HEAD)
    assert head is not None
    previous = head.down_revision
    assert isinstance(previous, str)
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine, previous)
        assert await stored_revision(engine) == previous
        await upgrade(engine)
        assert await stored_revision(engine) == HEAD  # the head's migration ran
    finally:
        await engine.dispose()


async def test_a_head_that_cannot_be_read_leaves_it_to_alembic(
        empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine)
        monkeypatch.setattr(models_db, "head_revision", lambda: None)
        seen = _statements(engine)
        await upgrade(engine)  # alembic finds nothing to do, and says so its own way
        assert len(seen) > 1
        assert await stored_revision(engine) == HEAD
    finally:
        await engine.dispose()
