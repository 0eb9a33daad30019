"""`thidua sender` killed with SIGKILL mid-broadcast, then started again.

No recipient may miss the message. The only duplicates allowed are rows that were in
flight when the process died — claimed (`sending`) but not yet marked — and the test
holds the run to exactly that bound.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.assembly import open_services
from bot.cli import main
from fakes.telegram import FakeBotApi
from models import OutboxMessage, OutboxStatus
from reporting.config import Settings
from tests.conftest import ROOT
from tests.outbox_seed import add_users, delivered, rejected, seed_broadcast, status_counts

RECIPIENTS = 120


def write_config(path: Path, **delivery: Any) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["delivery"] = {**raw.get("delivery", {}), **delivery}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


async def spawn_sender(config: Path, db_url: str, fake: FakeBotApi,
                       log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "THIDUA_DATABASE_URL": db_url, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_BASE_URL": fake.base_url}
    env.pop("THIDUA_CONFIG", None)
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config), "sender",
            "--timeout", "1", cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=err, stderr=err)


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


async def wait_for(check: Callable[[], Any], within: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; sender log:\n{tail(log)}")
        await asyncio.sleep(0.01)


@pytest.mark.slow  # a real subprocess sending at real rates, killed and restarted
async def test_sigkill_mid_broadcast_loses_nothing_and_bounds_duplicates(
        settings: Settings, tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    log = tmp_path / "sender.log"
    async with open_services(settings, db_url) as svc:
        seeded = await seed_broadcast(svc.sessions, RECIPIENTS)
        sessions = svc.sessions

        async with FakeBotApi() as fake:
            add_users(fake, seeded.chats)
            fake.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)
            fake.latency(0.02)  # every send takes a moment, so the kill lands mid-flight
            first = write_config(tmp_path / "first.yaml", overall_per_second=20,
                                 sending_timeout_seconds=60)
            proc = await spawn_sender(first, db_url, fake, log)

            async def some_sent() -> bool:
                assert proc.returncode is None, tail(log)
                return len(delivered(fake)) >= RECIPIENTS // 4

            await wait_for(some_sent, 60, "the first sender to start sending", log)
            os.kill(proc.pid, signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL
            before = len(delivered(fake))
            async with sessions() as s:
                in_flight = set(await s.scalars(
                    select(OutboxMessage.chat_id)
                    .where(OutboxMessage.status == OutboxStatus.SENDING)))
            assert 0 < before < RECIPIENTS

            # The restarted sender takes over rows left `sending` after 3 s.
            second = write_config(tmp_path / "second.yaml", overall_per_second=20,
                                  sending_timeout_seconds=3)
            proc = await spawn_sender(second, db_url, fake, log)

            async def all_sent() -> bool:
                assert proc.returncode is None, tail(log)
                return (await status_counts(sessions)).get("sent", 0) == RECIPIENTS

            await wait_for(all_sent, 60, "every row to be sent", log)
            proc.send_signal(signal.SIGTERM)  # a graceful stop: finish the batch, exit 0
            assert await asyncio.wait_for(proc.wait(), 15) == 0

    counts = delivered(fake)
    assert [c for c in seeded.chats if counts[c] == 0] == []  # nobody missed it
    doubles = {c for c in seeded.chats if counts[c] > 1}
    assert max(counts.values()) <= 2
    assert len(doubles) <= len(in_flight)
    assert {str(c) for c in doubles} <= in_flight  # only rows that were in flight
    assert len(in_flight) <= 20  # a claim is about one second of sends
    assert rejected(fake, "Too Many Requests") == 0
    print(f"\nkilled after {before} sends; {len(in_flight)} in flight; "
          f"{len(doubles)} sent twice")


def test_sender_needs_a_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("THIDUA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["--config", str(ROOT / "config.yaml"), "sender"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
