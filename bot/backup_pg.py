"""PostgreSQL backups with the PostgreSQL client's own tools: `pg_dump -Fc`, `pg_restore`.

Why the tools and not SQL from Python: pg_dump takes one consistent snapshot of a live
database without stopping anyone, into a compressed archive that pg_restore puts back
object by object; nothing written here would match them. They come with the PostgreSQL
client (Debian: `postgresql-client`), of the server's major version or newer. Where they
are not installed, the command prints the exact line to run where they are, and fails.

The connection is handed to the tool as options taken from THIDUA_DATABASE_URL; its
password, if it holds one, goes in a password file of our own for the run (libpq's
`passfile`), so it is in no printed line, no process list and no shell history.
`--no-password` makes a tool fail rather than wait at a prompt nobody sees. pg_restore
runs in one transaction: if it fails, the database is as it was.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from models.db import make_engine

PG_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format (-Fc) archive
Which = Callable[[str], str | None]


class Refused(Exception):
    """The command cannot go ahead; the message says why, and nothing was changed."""


@dataclass(frozen=True)
class PgCall:
    """One run of a PostgreSQL client tool, and how it gets the password and sslmode."""

    tool: str  # "pg_dump" or "pg_restore", as a user would type it
    before: tuple[str, ...]  # the tool's options, host, port and user
    dbname: str | None
    after: tuple[str, ...]  # what follows the database: the output or the archive
    password: str | None = field(default=None, repr=False)
    sslmode: str | None = None

    def argv(self, passfile: Path | None = None) -> list[str]:
        """The command line; the password stays in `passfile`, named in the conninfo."""
        extra = {"passfile": str(passfile) if passfile else None, "sslmode": self.sslmode}
        pairs = {"dbname": self.dbname, **extra}
        if any(extra.values()):  # a libpq conninfo string in place of the name
            database: str | None = " ".join(f"{k}={_quoted(v)}" for k, v in pairs.items()
                                            if v is not None)
        else:
            database = self.dbname
        where = ["--dbname", database] if database else []
        return [self.tool, *self.before, *where, *self.after]

    @property
    def documented(self) -> str:
        """The line for a user to run elsewhere, with a place for the password."""
        prefix = "PGPASSWORD='<password>' " if self.password else ""
        return prefix + shlex.join(self.argv())


def _quoted(value: str) -> str:
    """A conninfo value: quoted when it holds a space, a quote or a backslash."""
    if value and not any(c in value for c in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _connection(url: str) -> tuple[list[str], str | None, str | None, str | None]:
    """THIDUA_DATABASE_URL as client options, its database, password and sslmode."""
    u = make_url(url)
    options: list[str] = []
    for flag, value in (("--host", u.host), ("--port", u.port), ("--username", u.username)):
        if value is not None:
            options += [flag, str(value)]
    # asyncpg spells it `ssl=require`, libpq `sslmode=require`.
    ssl = u.query.get("sslmode") or u.query.get("ssl")
    sslmode = ssl if isinstance(ssl, str) else None
    return options, u.database, u.password, sslmode


def dump_call(url: str, out: Path) -> PgCall:
    options, dbname, password, sslmode = _connection(url)
    return PgCall("pg_dump", ("-Fc", "--no-password", *options), dbname,
                  ("--file", str(out)), password, sslmode)


def restore_call(url: str, archive: Path) -> PgCall:
    options, dbname, password, sslmode = _connection(url)
    # --no-owner: the archive may come from a server where another role owned the tables.
    return PgCall("pg_restore", ("--clean", "--if-exists", "--no-owner",
                                 "--single-transaction", "--no-password", *options),
                  dbname, (str(archive),), password, sslmode)


@contextlib.contextmanager
def passfile(call: PgCall) -> Iterator[Path | None]:
    """A password file readable by us only, for the tool's run (then removed); None
    without a password. A file rather than PGPASSWORD: the child then inherits our
    environment untouched, and the password is in no command line."""
    if not call.password:
        yield None
        return
    escaped = call.password.replace("\\", "\\\\").replace(":", "\\:")
    with tempfile.TemporaryDirectory(prefix="thidua-") as folder:  # mode 700
        path = Path(folder) / "pgpass"
        path.touch(mode=0o600)
        path.write_text(f"*:*:*:*:{escaped}\n", encoding="utf-8")
        yield path


def _run(call: PgCall, executable: str) -> int:
    with passfile(call) as secret:
        argv = call.argv(secret)
        print(f"Running: {shlex.join(argv)}", flush=True)
        # The executable is the one found on PATH, the arguments ours: no shell involved.
        done = subprocess.run([executable, *argv[1:]], check=False)  # noqa: S603
    return done.returncode


def _missing(tool: str, call: PgCall) -> Refused:
    return Refused(f"{tool} is not installed on this machine (it comes with the PostgreSQL "
                   "client, e.g. the Debian package postgresql-client, of the server's "
                   f"version or newer). Run it where it is:\n  {call.documented}")


def dump(url: str, out: Path, which: Which = shutil.which) -> int:
    """`pg_dump -Fc` of the database at `url` into `out`; `Refused` without pg_dump."""
    call = dump_call(url, out)
    executable = which("pg_dump")
    if executable is None:
        raise _missing("pg_dump", call)
    code = _run(call, executable)
    if code != 0:
        out.unlink(missing_ok=True)  # a half-written archive must not pass for a backup
        print(f"pg_dump failed (exit {code}): no backup was written", file=sys.stderr)
        return 1
    print(f"Backup written: {out} ({out.stat().st_size:,} bytes)")
    return 0


def check_archive(path: Path) -> None:
    """`Refused` unless `path` is a pg_dump custom-format archive."""
    if not path.is_file():
        raise Refused(f"{path}: no such file")
    with path.open("rb") as fh:
        if fh.read(len(PG_MAGIC)) != PG_MAGIC:
            raise Refused(f"{path} is not a pg_dump archive (made by thidua db backup or "
                          "pg_dump -Fc): nothing was restored")


def restore_tool(url: str, archive: Path,
                 which: Which = shutil.which) -> tuple[PgCall, str]:
    """The checked archive's pg_restore call and the tool's path, or `Refused`."""
    check_archive(archive)
    call = restore_call(url, archive)
    executable = which("pg_restore")
    if executable is None:
        raise _missing("pg_restore", call)
    return call, executable


async def ensure_unused(url: str) -> None:
    """`Refused` while anyone else is connected to the database (a running bot)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            others = await conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    finally:
        await engine.dispose()
    if others:
        raise Refused(f"{others} other connection(s) to the database are open (the bot?): "
                      "stop every instance first, then restore; nothing was changed")


def restore(tool: tuple[PgCall, str]) -> int:
    """Run pg_restore; on failure the database is as it was (one transaction)."""
    call, executable = tool
    code = _run(call, executable)
    if code != 0:
        print(f"pg_restore failed (exit {code}): the database was left as it was",
              file=sys.stderr)
        return 1
    return 0
