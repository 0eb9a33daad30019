"""Alembic environment: runs on a connection handed over by models.db.upgrade().

Run by the plain `alembic` command instead, it is an entry point of its own and takes
the database from the environment the way the bot does (`bot.settings`).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from models import Base
from models.db import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds tables when needed.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _database_url() -> str:
    from bot.settings import Environment  # only on this path: the bot hands a connection

    return Environment.load().database_url


async def _run_async() -> None:
    engine = make_engine(_database_url())
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


conn = context.config.attributes.get("connection")
if conn is not None:
    _run(conn)
elif context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    # The plain `alembic` command line (e.g. `alembic revision --autogenerate`).
    asyncio.run(_run_async())
