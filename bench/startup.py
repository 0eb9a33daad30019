"""Time from starting `thidua run` to its first `getUpdates`, and its RSS, against the
bare PTB echo bot (`bench.echo_bot`) on the same fake Telegram Bot API.

    python -m bench.startup [--size tiny|full] [--runs N]

All are child processes started the same way (this interpreter, the same environment
but for what `thidua run` needs: an SQLite file in a temporary folder, the fake's
address in TELEGRAM_API_BASE_URL, THIDUA_HTTP_LISTEN on a free port). One update waits
in the fake before the child starts, so the first `getUpdates` is seen from outside as
the fake handing it over; RSS is read from /proc/<pid>/status then (at start) and once
the child has answered it (serving). Each round runs three starts, in turn:

- `new database`: the first start of a bot, its schema made by the 17 migrations;
- `restart`: the database already migrated (by `thidua invite`, untimed, which also
  makes a council member's code), as on every later start; after the first answer a
  council member registers and sends `/tonghop` then `/xuat`, and the RSS once the
  workbook has arrived is `rss_after_tonghop_xuat_mb`; the seconds from sending each
  to its photo or document are `tonghop_photo_s` and `xuat_document_s` (the first of
  the process: the chart's or the workbook's libraries load then);
- the echo bot.

Bytecode: the project's modules are compiled first (`compileall`), as `pip install`
does for an installed bot, and the children may write bytecode: a shell with
PYTHONDONTWRITEBYTECODE would otherwise compile every project module on every start,
which no deployment does (it added about half a second here).
Issue 14's goals: first poll < 0.6 s, RSS at start < 80 MB, after `/tonghop` + `/xuat`
< 150 MB.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.common import ROOT, arguments, emit, spreads, table
from fakes.telegram import FakeBotApi
from fakes.telegram.users import FakeUser

TIMEOUT = 60.0
PACKAGES = ("bot", "handlers", "scheduler", "reporting", "models", "migrations", "fakes",
            "bench", "templates")
Command = tuple[list[str], dict[str, str]]
AfterStart = Callable[[FakeUser, int, FakeBotApi], Awaitable[dict[str, float]]]


def rss_mb(pid: int) -> float:
    """The resident set of a process in MB (VmRSS in /proc/<pid>/status, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def compile_bytecode() -> None:
    """The project's modules as an installed package has them: compiled once."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=ROOT,
                   env=child_environment({}), check=True, stdout=subprocess.DEVNULL)


def product_env(folder: Path) -> dict[str, str]:
    return {"THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'thidua.db'}",
            "THIDUA_MEDIA_DIR": str(folder / "media"),
            "THIDUA_CONFIG": str(ROOT / "config.yaml"),
            "THIDUA_HTTP_LISTEN": "127.0.0.1:0"}  # any free port: runs must not collide


def product_command(folder: Path) -> Command:
    return [sys.executable, "-m", "bot.cli", "run"], product_env(folder)


def echo_command(_: Path) -> Command:
    return [sys.executable, "-m", "bench.echo_bot"], {}


def council_code(folder: Path, fake: FakeBotApi) -> str:
    """Migrate the database (untimed) and make a council member's invitation code."""
    env = child_environment({**product_env(folder), "TELEGRAM_BOT_TOKEN": fake.token,
                             "TELEGRAM_API_BASE_URL": fake.base_url})
    done = subprocess.run([sys.executable, "-m", "bot.cli", "invite", "--group", "to-1",
                           "--role", "council"], env=env, cwd=folder, capture_output=True,
                          text=True, timeout=TIMEOUT, check=True)
    found = re.search(r"Invite code: (\S+)", done.stdout)
    if found is None:
        raise RuntimeError(f"no invite code in {done.stdout!r} {done.stderr!r}")
    return found.group(1)


async def _answered(user: FakeUser, text: str, until: Callable[[list[str]], bool],
                    ) -> tuple[list[str], float]:
    """Send `text`; the methods of every reply, once `until` holds and the chat is quiet,
    and the seconds from the send to the reply that made `until` hold."""
    await user.send(text)
    methods: list[str] = []
    loop = asyncio.get_running_loop()
    sent = loop.time()
    deadline = sent + TIMEOUT
    while not until(methods) and loop.time() < deadline:
        methods.append((await user.next(timeout=max(0.1, deadline - loop.time()))).method)
    answered = loop.time() - sent
    methods += [e.method for e in await user.settle(quiet=1.0, timeout=TIMEOUT)]
    if not until(methods):
        raise RuntimeError(f"{text}: the bot answered {methods}")
    return methods, answered


def digest_and_export(code: str) -> AfterStart:
    async def run(_: FakeUser, pid: int, fake: FakeBotApi) -> dict[str, float]:
        member = fake.user(5005, "Hội đồng")
        await _answered(member, f"/start {code}", bool)
        # The first of the process: the chart's and the workbook's libraries load then.
        digest, digest_s = await _answered(member, "/tonghop", lambda m: "sendPhoto" in m)
        export, export_s = await _answered(member, "/xuat", lambda m: "sendDocument" in m)
        print(f"  /tonghop: {', '.join(digest)}; /xuat: {', '.join(export)}")
        return {"rss_after_tonghop_xuat_mb": rss_mb(pid), "tonghop_photo_s": digest_s,
                "xuat_document_s": export_s}
    return run


async def one_start(command: Command, fake: FakeBotApi,
                    after: AfterStart | None = None,
                    ) -> dict[str, float]:
    argv, extra = command
    user = fake.user(4242, "Khách")
    await user.send("xin chào")  # waits in the fake for the first getUpdates
    env = child_environment({"TELEGRAM_BOT_TOKEN": fake.token,
                             "TELEGRAM_API_BASE_URL": fake.base_url, **extra})
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=extra.get("THIDUA_MEDIA_DIR", str(ROOT)),  # noqa: ASYNC220
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        polled = await fake.wait_until(lambda: fake.delivery_counts or None, TIMEOUT)
        first_poll = time.perf_counter() - started
        if polled is None:
            raise RuntimeError(f"{argv} never polled: {child.poll()}")
        at_start = rss_mb(child.pid)
        await user.next(timeout=TIMEOUT)
        figures = {"first_poll_s": first_poll, "rss_start_mb": at_start,
                   "rss_serving_mb": rss_mb(child.pid)}
        if after is not None:
            figures |= await after(user, child.pid, fake)
    finally:
        child.terminate()
        try:
            await asyncio.to_thread(child.wait, 20)
        except subprocess.TimeoutExpired:
            child.kill()
    return figures


async def main() -> None:
    args = arguments(__doc__ or "", default_runs=5)
    compile_bytecode()
    sides: dict[str, list[dict[str, float]]] = {"new": [], "restart": [], "echo": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            folder = Path(tmp) / f"new{run}"
            (folder / "media").mkdir(parents=True)
            async with FakeBotApi() as fake:
                sides["new"].append(await one_start(product_command(folder), fake))
            folder = Path(tmp) / f"restart{run}"
            (folder / "media").mkdir(parents=True)
            async with FakeBotApi() as fake:
                code = await asyncio.to_thread(council_code, folder, fake)
                sides["restart"].append(await one_start(
                    product_command(folder), fake, digest_and_export(code)))
            async with FakeBotApi() as fake:
                sides["echo"].append(await one_start(echo_command(Path(tmp)), fake))
    new, restart, echo = (spreads(sides[name]) for name in ("new", "restart", "echo"))
    fmt = {"first_poll_s": "{:.2f}", "tonghop_photo_s": "{:.2f}", "xuat_document_s": "{:.2f}"}
    rows = [("first poll, restart (s)", "first_poll_s", restart, "< 0.6 s"),
            ("first poll, new database (s)", "first_poll_s", new, "—"),
            ("RSS at start, restart (MB)", "rss_start_mb", restart, "< 80 MB"),
            ("RSS at start, new database (MB)", "rss_start_mb", new, "—"),
            ("RSS serving, restart (MB)", "rss_serving_mb", restart, "—"),
            ("RSS after /tonghop + /xuat (MB)", "rss_after_tonghop_xuat_mb", restart,
             "< 150 MB"),
            ("first /tonghop: its chart photo (s)", "tonghop_photo_s", restart, "—"),
            ("first /xuat: its workbook (s)", "xuat_document_s", restart, "—")]
    table(f"thidua run vs PTB echo bot, {args.runs} runs each (in turn); bytecode compiled",
          [(label, side[name].text(fmt.get(name, "{:.0f}")),
            echo[name].text(fmt.get(name, "{:.0f}")) if name in echo else "—", goal)
           for label, name, side, goal in rows])
    figures = {f"{name}_restart": v.as_json() for name, v in restart.items()}
    figures |= {f"{name}_new_database": v.as_json() for name, v in new.items()}
    emit("startup", {k: v.as_json() for k, v in echo.items()}, figures,
         {f"{k}_{side}": round(spread[k].mid / echo[k].mid, 2)
          for side, spread in (("restart", restart), ("new_database", new))
          for k in echo},
         size=args.size, runs=args.runs)


if __name__ == "__main__":
    asyncio.run(main())
