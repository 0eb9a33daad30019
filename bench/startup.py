"""Time from starting `thidua run` to its first `getUpdates`, and its RSS, against the
bare PTB echo bot (`bench.echo_bot`) on the same fake Telegram Bot API.

    python -m bench.startup [--size tiny|full] [--runs N]

Both are child processes started the same way (this interpreter, the same environment
but for what `thidua run` needs: a fresh SQLite file in a temporary folder, the fake's
address in TELEGRAM_API_BASE_URL). One update waits in the fake before the child starts,
so the first `getUpdates` is seen from outside as the fake handing it over; RSS is read
from /proc/<pid>/status then (at start) and once the child has answered it (serving).
Issue 14's goals: first poll < 0.6 s, RSS at start < 80 MB.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, alternate, arguments, emit, table
from fakes.telegram import FakeBotApi

TIMEOUT = 60.0


def rss_mb(pid: int) -> float:
    """The resident set of a process in MB (VmRSS in /proc/<pid>/status, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def product_command(folder: Path) -> tuple[list[str], dict[str, str]]:
    env = {"THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'thidua.db'}",
           "THIDUA_MEDIA_DIR": str(folder / "media"),
           "THIDUA_CONFIG": str(ROOT / "config.yaml"),
           "THIDUA_HTTP_LISTEN": "127.0.0.1:0"}  # any free port: runs must not collide
    return [sys.executable, "-m", "bot.cli", "run"], env


def echo_command(_: Path) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "bench.echo_bot"], {}


async def one_start(command: tuple[list[str], dict[str, str]]) -> dict[str, float]:
    argv, extra = command
    async with FakeBotApi() as fake:
        user = fake.user(4242, "Khách")
        await user.send("xin chào")  # waits in the fake for the first getUpdates
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_BASE_URL": fake.base_url, **extra}
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, cwd=extra.get("THIDUA_MEDIA_DIR", str(ROOT)),  # noqa: ASYNC220
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            polled = await fake.wait_until(lambda: fake.delivery_counts or None, TIMEOUT)
            first_poll = time.perf_counter() - started
            if polled is None:
                raise RuntimeError(f"{argv} never polled: {child.poll()}")
            at_start = rss_mb(child.pid)
            await user.next(timeout=TIMEOUT)
            serving = rss_mb(child.pid)
        finally:
            child.terminate()
            try:
                await asyncio.to_thread(child.wait, 20)
            except subprocess.TimeoutExpired:
                child.kill()
            if child.stderr is not None:
                child.stderr.close()
    return {"first_poll_s": first_poll, "rss_start_mb": at_start, "rss_serving_mb": serving}


async def main() -> None:
    args = arguments(__doc__ or "", default_runs=5)
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(1_000))

        async def product() -> dict[str, float]:
            folder = Path(tmp) / f"run{next(runs)}"
            (folder / "media").mkdir(parents=True)
            return await one_start(product_command(folder))

        async def baseline() -> dict[str, float]:
            return await one_start(echo_command(Path(tmp)))

        ours, echo = await alternate(args.runs, product, baseline)
    goals = {"first_poll_s": "< 0.6 s", "rss_start_mb": "< 80 MB", "rss_serving_mb": "—"}
    fmt = {"first_poll_s": "{:.2f}", "rss_start_mb": "{:.0f}", "rss_serving_mb": "{:.0f}"}
    table(f"thidua run vs PTB echo bot, {args.runs} runs each (alternating)",
          [(name, ours[name].text(fmt[name]), echo[name].text(fmt[name]), goals[name])
           for name in goals])
    emit("startup", {k: v.as_json() for k, v in echo.items()},
         {k: v.as_json() for k, v in ours.items()},
         {k: round(ours[k].mid / echo[k].mid, 2) for k in ours},
         size=args.size, runs=args.runs)


if __name__ == "__main__":
    asyncio.run(main())
