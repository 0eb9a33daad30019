"""`thidua db backup` / `restore` on PostgreSQL: pg_dump and pg_restore when installed, the
line to run elsewhere when not, and never the password on the terminal.

The round trip runs against a fresh database of THIDUA_TEST_POSTGRES_URL's server, with a
password in the URL (the test server trusts local connections and ignores it): the point
is that it reaches pg_dump without being printed.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.backup_pg import dump_call, passfile, restore_call
from bot.cli import main
from tests.conftest import ROOT, PgServer

PASSWORD = "Mat-khau-2026"  # a fake one, checked to stay off the terminal
URL = f"postgresql+asyncpg://thidua:{PASSWORD}@db.phuong.example:5432/thidua"

needs_pg_tools = pytest.mark.skipif(shutil.which("pg_dump") is None
                                    or shutil.which("pg_restore") is None,
                                    reason="the PostgreSQL client is not installed")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("THIDUA_CONFIG", str(ROOT / "config.yaml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_password_goes_in_a_private_file_for_the_run_never_on_the_command_line() -> None:
    call = dump_call(URL + "?ssl=require", Path("x.dump"))
    with passfile(call) as secret:
        assert secret is not None
        assert secret.stat().st_mode & 0o777 == 0o600
        assert secret.read_text("utf-8") == f"*:*:*:*:{PASSWORD}\n"
        argv = call.argv(secret)
        assert argv[:2] == ["pg_dump", "-Fc"]
        assert argv[3:9] == ["--host", "db.phuong.example", "--port", "5432",
                             "--username", "thidua"]
        assert argv[argv.index("--dbname") + 1] == (
            f"dbname=thidua passfile={secret} sslmode=require")
        assert PASSWORD not in " ".join(argv)
    assert not secret.exists()  # gone after the run
    assert PASSWORD not in call.documented
    restore = restore_call(URL, Path("x.dump")).argv()
    assert {"--clean", "--if-exists", "--single-transaction"} <= set(restore)
    assert restore[-3:] == ["--dbname", "thidua", "x.dump"]


def test_without_pg_dump_the_line_to_run_is_printed_and_the_command_fails(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("THIDUA_DATABASE_URL", URL)
    monkeypatch.setenv("PATH", str(env))  # no PostgreSQL client on this PATH
    assert main(["db", "backup", "--out", "nightly.dump"]) == 2
    err = capsys.readouterr().err
    assert "pg_dump is not installed" in err
    assert "pg_dump -Fc" in err and "--file nightly.dump" in err
    assert "PGPASSWORD='<password>'" in err and PASSWORD not in err
    assert not Path("nightly.dump").exists()


def test_without_pg_restore_the_line_to_run_is_printed(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("THIDUA_DATABASE_URL", URL)
    monkeypatch.setenv("PATH", str(env))
    Path("nightly.dump").write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    assert main(["db", "restore", "nightly.dump", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "pg_restore --clean --if-exists" in err and PASSWORD not in err


def test_restore_refuses_a_file_that_is_no_pg_dump_archive(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("THIDUA_DATABASE_URL", URL)
    Path("nightly.dump").write_text("SELECT 1;\n", encoding="utf-8")  # a plain SQL dump
    assert main(["db", "restore", "nightly.dump", "--yes"]) == 2
    assert "not a pg_dump archive" in capsys.readouterr().err


# -- against the test server --------------------------------------------------------------------


@pytest.fixture
def fresh_pg(pg_server: PgServer, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own on the test server, migrated, named in THIDUA_DATABASE_URL
    with a password."""
    for url in pg_server.database(migrated=True):
        with_password = make_url(url).set(password=PASSWORD)
        rendered = with_password.render_as_string(hide_password=False)
        monkeypatch.setenv("THIDUA_DATABASE_URL", rendered)
        yield rendered


async def _sql(url: str, statement: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        return list(await conn.fetch(statement))
    finally:
        await conn.close()


def _groups(url: str) -> list[tuple[str, str]]:
    rows = asyncio.run(_sql(url, "SELECT code, name FROM groups ORDER BY code"))
    return [(r["code"], r["name"]) for r in rows]


def _invites(url: str) -> int:
    return int(asyncio.run(_sql(url, "SELECT count(*) AS n FROM invites"))[0]["n"])


@pytest.mark.postgres
@needs_pg_tools
def test_pg_dump_then_pg_restore_brings_back_the_backup(
        fresh_pg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "--group", "to-3"]) == 0  # the ward's groups, one invite
    groups = _groups(fresh_pg)
    assert len(groups) == 15 and _invites(fresh_pg) == 1

    assert main(["db", "backup", "--out", "nightly.dump"]) == 0
    out = capsys.readouterr().out
    assert "Running: pg_dump -Fc" in out and "--file nightly.dump" in out
    assert PASSWORD not in out
    assert Path("nightly.dump").read_bytes()[:5] == b"PGDMP"

    # After the backup: another invite, and a group renamed by mistake.
    assert main(["invite", "--group", "to-5"]) == 0
    asyncio.run(_sql(fresh_pg, "UPDATE groups SET name = 'Tổ nhầm' WHERE code = 'to-1'"))
    assert _invites(fresh_pg) == 2

    assert main(["db", "restore", "nightly.dump", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Running: pg_restore --clean --if-exists" in out and PASSWORD not in out
    assert "up to date" in out
    assert _groups(fresh_pg) == groups
    assert _invites(fresh_pg) == 1


@pytest.mark.postgres
@needs_pg_tools
def test_pg_restore_is_refused_while_the_bot_is_connected(
        fresh_pg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "backup", "--out", "nightly.dump"]) == 0
    assert main(["invite", "--group", "to-5"]) == 0

    async def while_connected() -> int:
        bot = await asyncpg.connect(make_url(fresh_pg).set(drivername="postgresql")
                                    .render_as_string(hide_password=False))
        try:
            return await asyncio.to_thread(main, ["db", "restore", "nightly.dump", "--yes"])
        finally:
            await bot.close()

    assert asyncio.run(while_connected()) == 2
    assert "stop every instance first" in capsys.readouterr().err
    assert _invites(fresh_pg) == 1  # nothing was restored
