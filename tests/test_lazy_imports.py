"""What `thidua run` loads at start leaves out what serves rarer paths.

Pillow (the chart), openpyxl and python-docx are a large part of the process's memory
and start time (issue 14: 140 MB at start with them and matplotlib, 41 MB for a bare PTB
bot); they load on the first chart, workbook or document instead. Alembic (with mako
and 17 migration modules) loads only when the schema has to change, not on a restart of
a database at its head; Zalo's modules only when Zalo has a token. The first test runs
the real `thidua run` against the fake Bot API and lists `sys.modules` at its first
`getUpdates`, so that nothing of these creeps back in through some import on the way.
The HTTP server (aiohttp) and the scheduler start once polling is under way; the
modules on the way there are checked not to import them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from fakes.telegram import FakeBotApi
from models.db import make_engine, upgrade
from tests.conftest import ROOT

RUNTIME = ("bot.cli", "bot.subcommands", "bot.file_commands", "bot.assembly", "bot.delivery",
           "bot.inbox", "bot.http", "bot.channels.telegram", "bot.channels.zalo",
           "handlers.router", "scheduler.runner")
HEAVY = ("matplotlib", "numpy", "openpyxl", "docx", "PIL")
# Not loaded by a restarted `thidua run` (polling, Telegram only) before its first poll.
NOT_AT_START = (*HEAVY, "alembic", "mako", "migrations", "bot.channels.zalo", "bot.backup",
                "bot.demo", "reporting.chart", "reporting.export",
                "sqlalchemy.dialects.postgresql")

# Runs `thidua run`; at the first getUpdates writes the loaded modules and stops itself
# (SIGTERM: the same way out as a service manager's stop).
_CHILD = """
import os, signal, sys
from pathlib import Path
import bot.channels.telegram.intake as intake
first = intake._get_updates
async def noted(*args, **kwargs):
    Path(sys.argv[1]).write_text("\\n".join(sorted(sys.modules)))
    os.kill(os.getpid(), signal.SIGTERM)
    return await first(*args, **kwargs)
intake._get_updates = noted
from bot.cli import main
sys.exit(main(["run"]))
"""


async def _modules_at_first_poll(folder: Path, database: str) -> set[str]:
    listing = folder / "modules.txt"
    async with FakeBotApi() as fake:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_BASE_URL": fake.base_url, "THIDUA_DATABASE_URL": database,
               "THIDUA_MEDIA_DIR": str(folder), "THIDUA_CONFIG": str(ROOT / "config.yaml"),
               "THIDUA_HTTP_LISTEN": "127.0.0.1:0"}
        env.pop("ZALO_BOT_TOKEN", None)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(listing), env=env, cwd=folder,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(child.communicate(), 90)
    assert child.returncode == 0, err.decode()[-2000:]
    return set(listing.read_text().split())


async def test_a_restarted_bot_polls_without_rarer_paths_loaded(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"
    engine = make_engine(database)
    await upgrade(engine)  # migrated already: a restart
    await engine.dispose()

    loaded = await _modules_at_first_poll(tmp_path, database)

    assert "bot.channels.telegram.intake" in loaded and "bot.inbox" in loaded
    assert sorted(m for m in loaded
                  if any(m == n or m.startswith(f"{n}.") for n in NOT_AT_START)) == []


async def test_a_new_database_is_still_migrated_by_alembic(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"

    loaded = await _modules_at_first_poll(tmp_path, database)

    assert "alembic" in loaded  # the check sees it when it is there
    assert not set(HEAVY) & loaded


def _loaded_after(imports: tuple[str, ...], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    script = (f"import sys\nfor m in {list(imports)!r}: __import__(m)\n"
              f"print(','.join(h for h in {list(heavy)!r} if h in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, timeout=60, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


def test_the_runtime_starts_without_charts_workbooks_or_documents() -> None:
    assert _loaded_after(RUNTIME) == []


def test_the_check_sees_a_heavy_import() -> None:
    """The subprocess check itself works: a chart module does load Pillow."""
    assert "PIL" in _loaded_after(("reporting.chart",))


def test_a_chart_is_drawn_without_matplotlib_or_numpy() -> None:
    """Pillow alone draws the chart (~5 MB): matplotlib and numpy were ~50 MB of a bot's
    memory from the first /tonghop on (issue 14)."""
    assert _loaded_after(("reporting.chart",)) == ["PIL"]


# `thidua export` (issue 14: under 0.6 s at 15 groups, the interpreter included) needs
# config, the models, the export's modules and openpyxl; nothing that runs the bot.
NOT_IN_EXPORT = ("alembic", "migrations", "aiohttp", "telegram", "apscheduler",
                 "prometheus_client", "numpy", "PIL", "jinja2", "matplotlib", "docx",
                 "bot.subcommands",
                 "bot.delivery", "bot.channels.telegram", "bot.channels.zalo", "bot.http",
                 "bot.health", "scheduler", "handlers")

_EXPORT_CHILD = """
import atexit, sys
from pathlib import Path
atexit.register(lambda: Path(sys.argv[1]).write_text("\\n".join(sorted(sys.modules))))
from bot.cli import main
sys.exit(main(["export", "--period", "2022-12", "--out", sys.argv[2]]))
"""


async def test_the_export_command_loads_nothing_that_runs_the_bot(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'thidua.db'}"
    engine = make_engine(database)
    try:
        await upgrade(engine)  # a database at its head, as an export usually finds it
    finally:
        await engine.dispose()
    listing, book = tmp_path / "modules.txt", tmp_path / "thidua-2022-12.xlsx"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "THIDUA_DATABASE_URL": database,
           "THIDUA_MEDIA_DIR": str(tmp_path), "THIDUA_CONFIG": str(ROOT / "config.yaml")}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _EXPORT_CHILD, str(listing), str(book), env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(child.communicate(), 90)
    assert child.returncode == 0, err.decode()
    assert out.decode().split() == [str(book)] and book.stat().st_size > 0
    loaded = set(listing.read_text().split())
    assert "openpyxl" in loaded and "reporting.export" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in NOT_IN_EXPORT
                  or any(m == n or m.startswith(n + ".") for n in NOT_IN_EXPORT)) == []

# What a polling bot imports on the way to its first getUpdates. The handlers (and the
# Jinja2 of their texts), the HTTP server (aiohttp), /healthz and /metrics
# (prometheus_client) and the scheduler come after the channels, their modules loaded
# in a thread meanwhile (`bot.subcommands.run`), so none of these may pull them in: a
# module-level import here would put them back before the first poll. (At the first
# poll itself that thread may have loaded some: the test above cannot check these.)
TO_FIRST_POLL = ("bot.cli", "bot.subcommands", "bot.assembly", "bot.inbox", "bot.http",
                 "bot.media_links", "bot.delivery", "bot.telemetry", "bot.channels.telegram",
                 "bot.channels.telegram.intake", "models", "models.inbox_ops",
                 "reporting.services")
AFTER_FIRST_POLL = ("aiohttp", "bot.health", "scheduler.runner", "handlers", "jinja2",
                    "prometheus_client")


def test_what_answers_and_what_runs_beside_load_after_the_first_poll() -> None:
    assert _loaded_after(TO_FIRST_POLL, AFTER_FIRST_POLL) == []


def test_the_check_sees_the_http_server_and_the_handlers() -> None:
    assert _loaded_after(("bot.health",), AFTER_FIRST_POLL) == [
        "aiohttp", "bot.health", "prometheus_client"]
    assert "jinja2" in _loaded_after(("handlers.router",), AFTER_FIRST_POLL)
