"""No secret reaches the terminal: every `thidua` command, at -v, with a rejected token,
an unreachable Bot API, and a live bot that registers people with codes.

The real `thidua` process runs against the fake Bot API; its stdout and stderr (where
logging writes) are searched for the token, the webhook secret, the invite key and
every invite code in play.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from bot.assembly import open_services
from bot.channels.telegram.channel import REJECTED
from bot.cli import EXIT_CONFIG, EXIT_UNREACHABLE
from fakes.telegram import FakeBotApi
from models import Invite
from reporting.config_file import load_settings
from tests.conftest import ROOT
from tests.helpers import make_invite
from tests.test_webhook import free_port

REJECTED_TOKEN = "987654:AAHrejected-token-0123456789abcdef"
WEBHOOK_SECRET = "hook-secret_0123456789"
SECRET_KEY = "ward-invite-key-0123456789abcdef"


@dataclass
class Ran:
    code: int | None
    out: str
    err: str

    def said(self, line: str) -> bool:
        """`line` is a whole line of stderr (log lines of closing threads may follow)."""
        return line in self.err.splitlines()

    def said_like(self, *parts: str) -> bool:
        return any(all(p in line for p in parts) and " DEBUG " not in line
                   and " WARNING " not in line for line in self.err.splitlines())


def _env(tmp: Path, name: str, base_url: str, token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "TELEGRAM_"))}
    env.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=base_url,
               THIDUA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / name}.db",
               THIDUA_MEDIA_DIR=str(tmp / "media"), THIDUA_SECRET_KEY=SECRET_KEY,
               PYTHONPATH=str(ROOT), **extra)
    return env


# Output goes to files, not pipes: at -v the bot writes faster than a test reads while it
# waits for replies, and a full pipe would stall the bot's logging (and the bot with it).
_OUTPUT: dict[int, tuple[IO[bytes], IO[bytes]]] = {}


async def _start(args: Sequence[str], env: dict[str, str]) -> asyncio.subprocess.Process:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 - closed by _finish
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "-v", *args, env=env, cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err)
    _OUTPUT[proc.pid] = (out, err)
    return proc


async def _finish(proc: asyncio.subprocess.Process, within: float = 60) -> Ran:
    try:
        await asyncio.wait_for(proc.wait(), within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    out, err = _OUTPUT.pop(proc.pid)
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode(errors="replace"))
        f.close()
    return Ran(proc.returncode, texts[0], texts[1])


def _leaks(ran: Ran, *secrets: str) -> list[str]:
    text = (ran.out + ran.err).lower()
    return [s for s in secrets if s.lower() in text]


def _config(tmp: Path, **bot: str) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for key, value in bot.items():
        text = re.sub(rf"(\n  {key}:) [^\n#]*", rf"\1 {value} ", text, count=1)
    path = tmp / f"config-{len(list(tmp.glob('config-*')))}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def _invites(db: Path) -> int:
    settings = load_settings(ROOT / "config.yaml")
    async with open_services(settings, f"sqlite+aiosqlite:///{db}") as svc, \
            svc.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Invite)) or 0)


@pytest.mark.slow  # seven `thidua` processes
async def test_every_command_with_a_rejected_token_says_one_line_and_leaks_nothing(
        tmp_path: Path) -> None:
    def hook() -> dict[str, str]:
        # A port per process: `run` starts the HTTP server too (THIDUA_HTTP_LISTEN).
        port = free_port()
        return {"THIDUA_WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
                "THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "THIDUA_HTTP_LISTEN": f"127.0.0.1:{port}"}

    commands: dict[str, tuple[list[str], int]] = {
        "run": (["run"], EXIT_CONFIG),
        "webhook": (["run", "--webhook"], EXIT_CONFIG),
        "sender": (["sender"], EXIT_CONFIG),
        "invite": (["invite", "--group", "to-1"], EXIT_CONFIG),
        "db": (["db", "upgrade"], 0),
        "export": (["export", "--period", "2022-03", "--out", str(tmp_path / "x.xlsx")], 0),
        "chat": (["chat"], 0),
    }
    async with FakeBotApi() as fake:
        procs = {name: await _start(args, _env(tmp_path, name, fake.base_url, REJECTED_TOKEN,
                                               **hook()))
                 for name, (args, _) in commands.items()}
        ran = {name: await _finish(p) for name, p in procs.items()}
    for name, (_, code) in commands.items():
        result = ran[name]
        assert result.code == code, (name, result.err[-2000:])
        assert _leaks(result, REJECTED_TOKEN, REJECTED_TOKEN.split(":")[1], WEBHOOK_SECRET,
                      SECRET_KEY) == [], name
        assert "Traceback" not in result.err, name
        if code == EXIT_CONFIG:
            assert result.said(REJECTED), (name, result.err[-1000:])
    assert "DEBUG" in ran["run"].err  # -v was in force: PTB's debug lines were searched
    # `invite` asked Telegram for the link's username first, and made no code.
    assert "Invite code" not in ran["invite"].out
    assert await _invites(tmp_path / "invite.db") == 0


async def test_invite_with_a_configured_username_makes_no_bot_api_call(tmp_path: Path) -> None:
    config = _config(tmp_path, username="ThiDuaQTBot")
    async with FakeBotApi() as fake:
        ran = await _finish(await _start(
            ["--config", str(config), "invite", "--group", "to-2"],
            _env(tmp_path, "inv", fake.base_url, REJECTED_TOKEN)))
        calls = [e.method for e in fake.events]
    assert ran.code == 0, ran.err[-2000:]
    code = re.search(r"Invite code: ([A-Z0-9]{8})", ran.out)
    assert code and f"https://t.me/ThiDuaQTBot?start={code.group(1)}" in ran.out
    assert calls == []
    assert _leaks(Ran(0, "", ran.err), code.group(1), REJECTED_TOKEN.split(":")[1]) == []


@pytest.mark.slow
async def test_an_unreachable_bot_api_is_retried_then_one_line_and_exit_3(
        tmp_path: Path) -> None:
    config = _config(tmp_path, start_retry_seconds="2.5")
    closed = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    commands = {"run": ["run"], "sender": ["sender"], "invite": ["invite", "--group", "to-1"]}
    procs = {name: await _start(["--config", str(config), *args],
                                _env(tmp_path, name, closed, REJECTED_TOKEN))
             for name, args in commands.items()}
    ran = {name: await _finish(p) for name, p in procs.items()}
    for name, result in ran.items():
        assert result.code == EXIT_UNREACHABLE, (name, result.err[-2000:])
        assert "Traceback" not in result.err, name
        retries = [line for line in result.err.splitlines() if "trying again in" in line]
        assert len(retries) >= 2, (name, result.err[-2000:])  # after 1 s, then 1.5 s
        assert result.said_like("cannot be reached", "3 tries"), (name, result.err[-1000:])
        assert _leaks(result, REJECTED_TOKEN.split(":")[1]) == [], name
    assert "Invite code" not in ran["invite"].out


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_live_bot_at_debug_logs_no_invite_code_and_no_webhook_secret(
        tmp_path: Path, mode: str) -> None:
    port = free_port()
    extra = {"THIDUA_WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
             "THIDUA_WEBHOOK_SECRET": WEBHOOK_SECRET,
             "THIDUA_HTTP_LISTEN": f"127.0.0.1:{port}"} if mode == "webhook" else {}
    settings = load_settings(ROOT / "config.yaml")
    async with FakeBotApi() as fake:
        env = _env(tmp_path, "live", fake.base_url, fake.token, **extra)
        key = SECRET_KEY if mode == "webhook" else None
        if key is None:  # polling: the invite key the first instance keeps in the database
            del env["THIDUA_SECRET_KEY"]
        proc = await _start(["run", "--webhook"] if mode == "webhook" else ["run"], env)
        ready = "setWebhook" if mode == "webhook" else "getMe"
        assert await fake.wait_until(
            lambda: any(e.method == ready and e.ok for e in fake.events) or None, 60)
        async with open_services(settings, env["THIDUA_DATABASE_URL"],
                                 secret_key=key) as services:
            codes = [await make_invite(services, "to-1"), await make_invite(services, "to-2"),
                     await make_invite(services, None, "admin")]
            key_hex = services.invites.secret.hex()
        lan, hoa, thao = fake.user(1001, "Lan"), fake.user(1002, "Hoà"), fake.user(1003, "Thảo")
        await lan.send(f"/start {codes[0]}")  # a deep link's /start CODE
        await hoa.send("/start")
        await hoa.next()
        await hoa.send(f"{codes[1][:4].lower()}-{codes[1][4:].lower()}")  # typed by hand
        await thao.send(f"/start {codes[2]}")
        await thao.next()
        await thao.send("/moi to-3")  # the admin makes one in the chat
        replies = [(await who.next(timeout=20)).html or "" for who in (lan, hoa, thao)]
        made = re.search(r"<code>([A-Z0-9]{8})</code>", replies[2])
        assert made, replies[2]
        codes.append(made.group(1))
        assert f"start={made.group(1)}" in replies[2]  # the link was in the message too
        proc.send_signal(signal.SIGTERM)
        ran = await _finish(proc, 30)
    assert ran.code == 0, ran.err[-3000:]
    assert "getUpdates" in ran.err or mode == "webhook"  # PTB's debug dump was on
    hoa_typed = f"{codes[1][:4]}-{codes[1][4:]}"
    assert _leaks(ran, *codes, hoa_typed, fake.token.split(":")[1], WEBHOOK_SECRET,
                  SECRET_KEY, key_hex) == []
    assert "/start <redacted>" in ran.err

