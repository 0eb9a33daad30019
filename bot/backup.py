"""`thidua db backup` and `thidua db restore`: a copy of the database, and putting one back.

SQLite. While the bot runs, its file is in WAL mode with connections open, so a plain
file copy can catch a half-written page or miss what still sits in the `-wal` file. The
sqlite3 backup API copies pages inside a read transaction instead: a consistent
snapshot as of one commit, taken while the bot goes on writing (WAL readers never block
the writer). The copy is made in one step, because a stepwise copy starts over each
time another connection writes. The copy is then switched out of WAL mode, so that the
backup is one self-contained file.

Restoring goes back through the same API into the live file, so SQLite's own locking
keeps any reader from seeing half a database. First the live file is switched out of
WAL mode, which SQLite allows only when no other connection has it open: that is how
a running bot is detected and refused (the documented rule stays "stop the bot
first": a bot between two connections would not be seen). The database as it was is
kept beside it (`thidua.db.before-restore-…`) before it is overwritten.

PostgreSQL: `pg_dump -Fc` and `pg_restore --clean --if-exists` of the PostgreSQL client
(`bot.backup_pg`), or the line to run where the client is installed.

A file is checked before anything is overwritten (an SQLite database holding our
schema's `alembic_version` at a revision this version knows, or a pg_dump archive), and
after a restore the schema is brought up to date, as `thidua db upgrade` does: a backup
made by an older version restores into this one.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot import backup_pg as pg
from bot.backup_pg import Refused, Which
from models.db import alembic_config, is_sqlite, make_engine, upgrade

EXIT_REFUSED = 2  # bad input or a state we will not touch: nothing was changed
SQLITE_MAGIC = b"SQLite format 3\x00"
# How long to wait for the live file to come free before taking it as in use: the bot
# keeps its connections open, so waiting longer would not change the answer.
IN_USE_WAIT = 1.0


def default_name(now: datetime, url: str) -> Path:
    """`thidua-backup-20260105-1430.db` (SQLite) or `….dump` (PostgreSQL), here."""
    suffix = ".db" if is_sqlite(url) else ".dump"
    return Path(f"thidua-backup-{now:%Y%m%d-%H%M%S}{suffix}")


def sqlite_path(url: str) -> Path:
    """The file of an SQLite URL; an in-memory database has none to back up."""
    name = make_url(url).database
    if not name or name == ":memory:":
        raise Refused("THIDUA_DATABASE_URL names an in-memory SQLite database: there is "
                      "no file to back up or restore")
    return Path(name)


@contextlib.contextmanager
def _connected(path: Path, *, timeout: float = 30.0,
               frozen: bool = False) -> Iterator[sqlite3.Connection]:
    """An sqlite3 connection to an existing file (`mode=rw`: never creates one); `frozen`
    reads a file nobody writes without locking or touching it (`immutable=1`)."""
    mode = "mode=ro&immutable=1" if frozen else "mode=rw"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=timeout)
    try:
        yield conn
    finally:
        conn.close()


def backup_sqlite(db: Path, out: Path) -> None:
    """Copy the live database `db` to `out`, consistently, while others may write."""
    if not db.is_file():
        raise Refused(f"there is no database at {db} (THIDUA_DATABASE_URL)")
    with _connected(db) as live, contextlib.closing(sqlite3.connect(out)) as copy:
        live.backup(copy, pages=-1)  # one step: a snapshot as of one commit
        # The copy inherits WAL mode; as a backup it must be one file on its own.
        copy.execute("PRAGMA journal_mode=DELETE")


def known_revisions() -> set[str]:
    """Every schema revision this version's migrations know."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return {script.revision for script in scripts.walk_revisions()}


def check_sqlite_backup(path: Path) -> str:
    """The schema revision of the SQLite backup at `path`, or `Refused` saying why not."""
    if not path.is_file():
        raise Refused(f"{path}: no such file")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise Refused(f"{path} is not an SQLite database: nothing was restored")
    try:
        with _connected(path, frozen=True) as conn:
            if conn.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise Refused(f"{path} is damaged (PRAGMA quick_check): nothing was restored")
            has_version = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                       "AND name = 'alembic_version'").fetchone()
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone() \
                if has_version else None
    except sqlite3.DatabaseError as exc:
        raise Refused(f"{path} cannot be read as an SQLite database ({exc}): nothing "
                      "was restored") from None
    if row is None:
        raise Refused(f"{path} is an SQLite database but not a Thi Đua Bot one (no "
                      "alembic_version): nothing was restored")
    revision = str(row[0])
    if revision not in known_revisions():
        raise Refused(f"{path} was made by a newer Thi Đua Bot (schema {revision}); "
                      "install that version to restore it")
    return revision


def _take_exclusively(live: sqlite3.Connection, db: Path) -> None:
    """Leave WAL mode, which SQLite allows only to the one connection open on the file.

    The bot always opens the file in WAL mode (`models.db`), so while it runs this
    fails; a file some other program keeps in rollback mode would not be caught.
    """
    try:
        mode = live.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.OperationalError:  # "database is locked": another connection is open
        mode = None
    if mode != ("delete",):
        raise Refused(f"{db} is in use (the bot or another program has it open): stop "
                      "the bot first, then restore; nothing was changed")


def ensure_unused_sqlite(db: Path) -> None:
    """`Refused` while another connection has the live database open (a running bot)."""
    if db.exists():
        with _connected(db, timeout=IN_USE_WAIT) as live:
            _take_exclusively(live, db)


def restore_sqlite(backup: Path, db: Path, now: datetime) -> Path | None:
    """Put the checked backup in place of `db`; returns where the old database was kept.

    One connection to the live file does it all: it proves no one else has the file
    open, copies the database as it was aside, then receives the backup, so nobody can
    open the file in between. The backup is read from a scratch copy beside the
    database: opening a file may write to it, and the file a user hands us must stay
    as it was.
    """
    scratch = db.with_name(f"{db.name}.restoring")
    shutil.copyfile(backup, scratch)
    try:
        existed = db.exists()
        with contextlib.closing(sqlite3.connect(db, timeout=IN_USE_WAIT)) as live, \
                contextlib.closing(sqlite3.connect(scratch)) as source:
            kept: Path | None = None
            if existed:
                _take_exclusively(live, db)
                kept = db.with_name(f"{db.name}.before-restore-{now:%Y%m%d-%H%M%S}")
                with contextlib.closing(sqlite3.connect(kept)) as old:
                    live.backup(old)
            # One step, in one write transaction on the live file: all of it or none.
            source.backup(live)
        return kept
    finally:
        for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
            leftover.unlink(missing_ok=True)


def _confirmed(question: str, ask: Callable[[str], str] | None) -> bool:
    """Ask on a terminal; without one (a script, a container) only `--yes` will do."""
    if ask is None:
        if not sys.stdin.isatty():
            return False
        ask = input
    return ask(f"{question} Type yes to go on: ").strip().lower() in {"yes", "y", "có", "co"}


async def _upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print("Database schema is up to date.")


async def backup(url: str, out: Path | None = None, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 which: Which = shutil.which) -> int:
    """`thidua db backup [--out FILE]`: write a backup of the database at `url`."""
    target = out or default_name(now(), url)
    try:
        if target.exists():
            raise Refused(f"{target} exists already: choose another --out")
        if not target.parent.is_dir():
            raise Refused(f"there is no folder {target.parent} to write {target.name} in")
        if not is_sqlite(url):
            return pg.dump(url, target, which)
        backup_sqlite(sqlite_path(url), target)
    except Refused as exc:
        print(f"Backup refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except sqlite3.Error as exc:  # a full disk, a damaged page: no half backup is left
        target.unlink(missing_ok=True)
        print(f"Backup failed: {exc}; no backup was written", file=sys.stderr)
        return 1
    print(f"Backup written: {target} ({target.stat().st_size:,} bytes)")
    return 0


async def restore(url: str, file: Path, *, yes: bool = False,
                  ask: Callable[[str], str] | None = None,
                  now: Callable[[], datetime] = lambda: datetime.now(UTC),
                  which: Which = shutil.which) -> int:
    """`thidua db restore FILE [--yes]`: replace the database at `url` by the backup
    `file`, then bring its schema up to date. Refused, with nothing changed, for a file
    that is no backup of ours, a database in use, or no confirmation."""
    try:
        if is_sqlite(url):
            db = sqlite_path(url)
            revision = check_sqlite_backup(file)
            print(f"{file}: a Thi Đua Bot database at schema {revision}")
            ensure_unused_sqlite(db)  # before asking; checked again while restoring
        else:
            tool = pg.restore_tool(url, file, which)  # checks the file and the tool first
            await pg.ensure_unused(url)
        if not yes and not _confirmed(f"This replaces everything in the database with "
                                      f"{file}.", ask):
            raise Refused("not confirmed (add --yes when no one can answer): nothing "
                          "was changed")
        if is_sqlite(url):
            kept = restore_sqlite(file, db, now())
            if kept is not None:
                print(f"The database as it was is kept in {kept}")
        else:
            code = pg.restore(tool)
            if code != 0:
                return code
    except Refused as exc:
        print(f"Restore refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except sqlite3.Error as exc:  # the copy is one transaction: it rolled back
        print(f"Restore failed: {exc}; the database was left as it was", file=sys.stderr)
        return 1
    print(f"Restored {file}.")
    await _upgrade(url)
    return 0
