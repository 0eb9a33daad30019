"""Engine, sessions and schema migrations for SQLite (embedded) and PostgreSQL.

A PostgreSQL connection can die under the bot: a failover, an idle-connection killer,
PgBouncer restarting, `pg_terminate_backend`. The pool pings a connection before
lending it (`_ping`), so a connection that died while idle is replaced
unnoticed; one that dies mid-transaction raises, and `is_disconnect` tells the caller
that it was the connection, not the handler, that failed (`handlers.router` then runs
the event once more on a fresh connection).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from models.base import on_postgresql

if TYPE_CHECKING:  # alembic is imported only when a schema has to change (see upgrade)
    from alembic.config import Config as AlembicConfig

Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def writes_one_at_a_time(sessions: Sessions) -> bool:
    """True for SQLite, whose file takes one write transaction at a time."""
    bind = sessions.kw.get("bind")
    return bind is not None and bind.dialect.name == "sqlite"


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
        # The pool would roll back every connection handed back, even one whose
        # transaction just committed: through aiosqlite a thread hop per transaction for
        # nothing. `_sqlite_reset` rolls back only a transaction still open.
        kwargs.setdefault("pool_reset_on_return", None)
    else:
        # A dead pooled connection is found by a ping at checkout, not by a user's
        # message: SQLAlchemy's pre-ping (it skips a connection just opened, and retries
        # with a new one), each ping in one round trip (`_ping`).
        kwargs.setdefault("pool_pre_ping", True)
        # asyncpg waits 60 s for a server that does not answer; a member waits far less
        # before giving up, so say "try again later" sooner.
        kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT})
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if kwargs["pool_reset_on_return"] is None:
            event.listen(engine.sync_engine, "reset", _sqlite_reset)
    elif engine.dialect.name == "postgresql":
        on_postgresql()  # the partial indexes' clause (`models.base.partial_index`)
        if kwargs["pool_pre_ping"]:
            # The dialect's own ping, replaced on this engine's dialect object only.
            engine.dialect.do_ping = _ping  # type: ignore[method-assign,assignment]
    return engine


def _ping(dbapi_conn: Any) -> bool:
    """The pre-ping in one round trip: SQLAlchemy's asyncpg ping opens a transaction
    around it (BEGIN, `;`, ROLLBACK: three), twice per answer. A statement without
    parameters goes on the simple-query protocol and prepares nothing, so PgBouncer's
    transaction mode is fine with it too (asyncpg cannot read an empty one's answer).
    Any failure is a dead connection (False): the pool drops its connections and opens
    a fresh one, which it does not ping; if the server is away, opening it fails with an
    error `is_outage` recognises."""
    try:
        dbapi_conn.run_async(lambda conn: conn.execute("SELECT 1"))
    except Exception:
        return False
    return True


CONNECT_TIMEOUT = 10.0  # seconds to open a PostgreSQL connection

# asyncpg's errors when the server goes away or is not taking connections yet; they reach
# us unwrapped when opening a connection fails (by name: models/ need not import asyncpg).
_SERVER_GONE = frozenset({
    "ConnectionDoesNotExistError",  # the connection was closed mid-operation
    "AdminShutdownError",  # "terminating connection due to administrator command"
    "CrashShutdownError",
    "CannotConnectNowError",  # "the database system is starting up / shutting down"
    "ConnectionFailureError",
    "TooManyConnectionsError",
})


def is_disconnect(exc: BaseException) -> bool:
    """Did `exc` come from losing (or failing to reach) the database server?

    True for a connection SQLAlchemy invalidated (its dialect recognised a disconnect),
    for the pool giving up waiting, and for the errors of opening a connection: refused,
    reset, timed out, or a server that is shutting down or starting up. False for
    everything a handler does wrong (a constraint, a bug): those must not be retried.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection came free
            return True
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        if type(current).__name__ in _SERVER_GONE:
            return True
        if isinstance(current, sa_exc.DBAPIError):
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_reset(dbapi_conn: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's reset on return, without the rollback when nothing is open (read
    from sqlite3 in memory, no hop). `transaction_was_reset`: SQLAlchemy has just
    rolled it back; `asyncio_safe` false: a connection being thrown away off the loop."""
    if state.transaction_was_reset or state.terminate_only or not state.asyncio_safe:
        return
    if dbapi_conn.driver_connection.in_transaction:
        dbapi_conn.rollback()


def make_sessions(engine: AsyncEngine) -> Sessions:
    # expire_on_commit=False: objects stay readable after commit without lazy loads.
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def one_statement(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session for ONE write, committed as it runs (durable once it returns).

    On PostgreSQL its connection is in autocommit: the statement costs one round trip
    instead of three (BEGIN, it, COMMIT). SQLite keeps a transaction: switching
    aiosqlite's mode there and back costs two thread hops, more than the COMMIT's one.
    With two statements or more, each commits alone: use a transaction for those.
    """
    engine: AsyncEngine = sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        async with sessions() as session, session.begin():
            yield session
        return
    async with engine.connect() as conn:
        # A setting on the client side (asyncpg opens no transaction), reset when the
        # connection goes back to the pool.
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with sessions(bind=conn) as session:
            yield session


def _migrations_folder() -> Path:
    # The migrations package is found, not imported: its env.py is the alembic command's
    # entry point and sits above everything (it reads the environment like the bot does).
    spec = importlib.util.find_spec("migrations")
    assert spec is not None and spec.origin is not None, "the migrations package is missing"
    return Path(spec.origin).parent


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_migrations_folder()))
    return cfg


_REVISION = re.compile(r"^revision(?:: str)? = ['\"]([^'\"]+)['\"]$", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:: [^=]+)? = (None|['\"]([^'\"]+)['\"])$", re.MULTILINE)


def head_revision() -> str | None:
    """The newest migration's id, read from the files without importing alembic.

    Only the plain shape `revision = "0017"` / `down_revision = "0016"` (what
    `script.py.mako` writes) is understood; anything else (a merge's tuple, two heads,
    no file) gives None, and the caller then asks alembic itself."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_migrations_folder() / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if path.name == "__init__.py":
            continue
        rev, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(rev) != 1 or len(down) != 1:
            return None
        revisions.add(rev[0])
        if down[0][0] != "None":
            parents.add(down[0][1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision alembic recorded in the database; None for a new (or foreign) one."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version")))
            found = rows.scalars().all()
    except DBAPIError as exc:
        if is_disconnect(exc):
            raise  # an unreachable database is not a new one
        return None  # no alembic_version table (or unreadable): alembic decides
    return str(found[0]) if len(found) == 1 else None


def _upgrade(conn: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


MIGRATION_LOCK = 0x7468_6964_7561  # "thidua": one advisory lock id for all instances


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to date (Alembic, run on the async engine's connection).

    Every start calls this, and almost every start finds the schema already at the
    head: then one SELECT of `alembic_version`, compared with the head read from the
    migration files, is all it costs, and alembic (with its 17 migration modules and
    table reflection) is never imported. Anything else (a new database, an older
    schema, a head that could not be read) goes through alembic as always.

    On PostgreSQL several instances may start at once: a transaction-level advisory
    lock makes them migrate one after another instead of racing on CREATE TABLE.
    """
    if revision == "head":
        head = head_revision()
        if head is not None and await stored_revision(engine) == head:
            return
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.run_sync(_upgrade, revision)
