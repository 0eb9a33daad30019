"""`thidua db backup` / `thidua db restore` on SQLite, as the ward's engineer runs them.

The bot keeps writing while the backup is taken (Telegram pushes updates into the
inbox); the backup must hold whole transactions only, and a restore must bring back
exactly what the backup holds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main
from models.db import alembic_config, make_engine, upgrade

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _path(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


def _keys(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn, conn:
        return [k for (k,) in conn.execute("SELECT update_key FROM inbox ORDER BY id")]


def _revision(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn, conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


class Writer(threading.Thread):
    """The running bot: stores Telegram updates two per transaction, as fast as it can."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.pairs = 0

    def run(self) -> None:
        conn = sqlite3.connect(self.db, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")  # as bot/models.db sets it
        try:
            while not self.stop.is_set():
                with conn:  # one transaction: both rows or neither
                    for half in ("a", "b"):
                        conn.execute(
                            "INSERT INTO inbox (channel, update_key, chat_id, payload, "
                            "received_at, state, attempts) VALUES ('telegram', ?, '42', '{}', "
                            "'2026-03-01 09:00:00', 'new', 0)", (f"{self.pairs}{half}",))
                self.pairs += 1
                if self.pairs >= 20:
                    self.started_writing.set()
        finally:
            conn.close()


@pytest.fixture
def live_db(cli_db: str) -> Iterator[Path]:
    """The ward's database, migrated, in the working folder (`cli_db`)."""
    assert main(["db", "upgrade"]) == 0
    yield _path(cli_db)


def test_backup_while_the_bot_writes_then_restore_brings_back_exactly_the_backup(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bot = Writer(live_db)
    bot.start()
    assert bot.started_writing.wait(10)
    try:
        assert main(["db", "backup", "--out", "nightly.db"]) == 0
        written_at_backup = bot.pairs
        while bot.pairs < written_at_backup + 20:  # the bot goes on after the backup
            time.sleep(0.01)
    finally:
        bot.stop.set()
        bot.join(10)
    assert "nightly.db" in capsys.readouterr().out

    saved = _keys(Path("nightly.db"))
    assert len(saved) % 2 == 0 and len(saved) >= 40  # whole transactions only
    assert saved == _keys(live_db)[:len(saved)]  # a snapshot: the first rows, in order
    assert len(_keys(live_db)) > len(saved)  # written after the backup, not in it
    before_restore = _keys(live_db)

    assert main(["db", "restore", "nightly.db", "--yes"]) == 0
    assert _keys(live_db) == saved
    assert _revision(live_db) == HEAD
    kept = list(Path().glob("cli.db.before-restore-*"))
    assert len(kept) == 1 and _keys(kept[0]) == before_restore  # the replaced one is kept
    assert _keys(Path("nightly.db")) == saved  # the backup file itself is untouched


def test_restore_refuses_a_file_that_is_not_a_database(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("notes.txt").write_text("Biên bản họp tổ dân phố số 3\n", encoding="utf-8")
    tables_before = live_db.read_bytes()
    assert main(["db", "restore", "notes.txt", "--yes"]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    assert live_db.read_bytes() == tables_before
    assert not list(Path().glob("cli.db.before-restore-*"))


def test_restore_refuses_an_sqlite_file_of_another_program(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with closing(sqlite3.connect("contacts.db")) as other, other:
        other.execute("CREATE TABLE contacts (name TEXT)")
    assert main(["db", "restore", "contacts.db", "--yes"]) == 2
    assert "alembic_version" in capsys.readouterr().err
    assert _keys(live_db) == []  # still our (empty) database, not theirs


def test_restore_refuses_a_backup_from_a_newer_version(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup", "--out", "future.db"]) == 0
    with closing(sqlite3.connect("future.db")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    assert main(["db", "restore", "future.db", "--yes"]) == 2
    assert "0099" in capsys.readouterr().err
    assert _revision(live_db) != "0099"


def test_restore_refuses_while_the_bot_has_the_database_open(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup", "--out", "nightly.db"]) == 0
    running_bot = sqlite3.connect(live_db)
    running_bot.execute("PRAGMA journal_mode=WAL")
    running_bot.execute("INSERT INTO inbox (channel, update_key, chat_id, payload, received_at,"
                        " state, attempts) VALUES ('telegram', '7', '42', '{}', "
                        "'2026-03-01 09:00:00', 'new', 0)")
    running_bot.commit()
    try:
        assert main(["db", "restore", "nightly.db", "--yes"]) == 2
        assert "stop the bot first" in capsys.readouterr().err
    finally:
        running_bot.close()
    assert _keys(live_db) == ["7"]  # nothing was replaced
    assert main(["db", "restore", "nightly.db", "--yes"]) == 0  # stopped: now it goes
    assert _keys(live_db) == []


def test_restore_without_yes_and_nobody_to_ask_changes_nothing(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup", "--out", "nightly.db"]) == 0
    with closing(sqlite3.connect(live_db)) as conn, conn:
        conn.execute("INSERT INTO inbox (channel, update_key, chat_id, payload, received_at, "
                     "state, attempts) VALUES ('telegram', '8', '42', '{}', "
                     "'2026-03-01 09:00:00', 'new', 0)")
    assert main(["db", "restore", "nightly.db"]) == 2  # pytest's stdin is no terminal
    assert "--yes" in capsys.readouterr().err
    assert _keys(live_db) == ["8"]


def test_a_backup_of_an_older_version_is_upgraded_on_restore(
        cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def migrate_to(revision: str) -> None:
        engine = make_engine(cli_db)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(migrate_to("0012"))
    assert main(["db", "backup", "--out", "last-year.db"]) == 0
    assert _revision(Path("last-year.db")) == "0012"
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "restore", "last-year.db", "--yes"]) == 0
    assert "at schema 0012" in capsys.readouterr().out
    assert _revision(_path(cli_db)) == HEAD  # brought up to date, like `db upgrade`


def test_backup_never_overwrites_and_needs_a_database(
        cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup"]) == 2  # nothing migrated yet: no file to copy
    assert "no database" in capsys.readouterr().err
    assert not Path("cli.db").exists()  # and none was created by looking
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "backup", "--out", "nightly.db"]) == 0
    first = Path("nightly.db").read_bytes()
    assert main(["db", "backup", "--out", "nightly.db"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert Path("nightly.db").read_bytes() == first


def test_default_backup_name_is_dated_in_the_working_folder(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup"]) == 0
    [made] = Path().glob("thidua-backup-*.db")
    assert made.name in capsys.readouterr().out
    assert _revision(made) == _revision(live_db)


def test_restore_needs_a_file_and_the_others_take_none(
        live_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "restore"]) == 2
    assert main(["db", "upgrade", "nightly.db"]) == 2
    assert "restore takes the backup FILE" in capsys.readouterr().err
