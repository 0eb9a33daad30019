"""`/healthz` and `/metrics` of a running `thidua run`, in polling and webhook mode.

The real bot runs in this process against the fake Bot API, with THIDUA_HTTP_LISTEN
set, and the test asks its HTTP server as a load balancer and Prometheus would:
- polling, nothing wrong: 200, every loop running; Lan registers and a notice goes out,
  and the counters move;
- webhook, Telegram refusing every send: the notice waits, the oldest waiting row's age
  grows, and past `health.outbox_max_age_seconds` the answer is 503 — until Telegram
  takes messages again;
- PostgreSQL stopped under the bot: 503 naming the database, and 200 once it is back.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bot.assembly import open_services
from bot.subcommands import run
from fakes.telegram import FakeBotApi
from models.outbox_ops import enqueue
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.messages import payload
from tests.conftest import ROOT, _emptied
from tests.helpers import make_invite
from tests.pg_proxy import proxy_for
from tests.test_webhook import free_port


def tuned(**health: float) -> Settings:
    """The shipped config, with quick retries and the given health thresholds."""
    settings = load_settings(ROOT / "config.yaml")
    return settings.model_copy(update={
        "health": settings.health.model_copy(update=health),
        "delivery": settings.delivery.model_copy(
            update={"backoff_seconds": 0.2, "max_backoff_seconds": 0.5})})


async def get(url: str) -> tuple[int, Any]:
    """GET `url`: the status and the JSON body (or the text, for /metrics)."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def until(probe: Callable[[], Awaitable[bool]], within: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await probe():
        assert loop.time() < deadline, "gave up waiting"
        await asyncio.sleep(0.1)


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


@asynccontextmanager
async def running(settings: Settings, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                  webhook: bool = False) -> AsyncIterator[str]:
    """`thidua run` in this process until the block ends (by SIGTERM, as systemd stops
    it); yields the base URL of its HTTP server once /healthz answers."""
    port = free_port()
    for key in ("THIDUA_PUBLIC_URL", "THIDUA_WEBHOOK_LISTEN", "SENTRY_DSN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {**env, "THIDUA_HTTP_LISTEN": f"127.0.0.1:{port}"}.items():
        monkeypatch.setenv(key, value.replace("{port}", str(port)))
    task = asyncio.create_task(run(settings, webhook=webhook))
    base = f"http://127.0.0.1:{port}"

    async def serving() -> bool:
        assert not task.done(), task.result()
        try:
            status, _ = await get(f"{base}/healthz")
        except aiohttp.ClientError:
            return False
        return status in (200, 503)

    try:
        await until(serving)
        yield base
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # run() turns it into a clean stop
        assert await asyncio.wait_for(task, 20) == 0


def bot_env(fake: FakeBotApi, url: str, tmp_path: Path) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
            "THIDUA_DATABASE_URL": url, "THIDUA_MEDIA_DIR": str(tmp_path / "media")}


async def test_polling_bot_is_healthy_and_its_counters_move(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No webhook, no public URL: THIDUA_HTTP_LISTEN alone starts the server."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    settings = tuned()
    async with FakeBotApi() as fake, \
            running(settings, bot_env(fake, url, tmp_path), monkeypatch) as base:

        async def everything_running() -> bool:
            _, body = await get(f"{base}/healthz")
            return bool(body["sender"]["running"] and body["scheduler"]["running"]
                        and "telegram" in body["channels"])

        await until(everything_running)
        status, health = await get(f"{base}/healthz")
        assert status == 200 and health["status"] == "ok" and health["problems"] == []
        assert health["database"]["ok"] is True
        assert health["sender"]["outbox"]["oldest_waiting_seconds"] is None
        assert health["channels"]["telegram"]["seconds_ago"] < 30  # getMe, then polls
        _, before = await get(f"{base}/metrics")

        lan = fake.user(1001, "Lan")
        async with open_services(settings, url) as services:
            await lan.send(f"/start {await make_invite(services, 'to-1')}")
            assert "đăng ký thành công" in ((await lan.next()).text or "")
            async with services.sessions() as s, s.begin():
                await enqueue(s, kind="notice", dedupe_key="test:notice", channel="telegram",
                              chat_id=str(lan.chat_id), body=payload("Họp tổ tối nay."),
                              now=datetime.now(UTC))
            assert "Họp tổ tối nay." in ((await lan.next(timeout=15)).text or "")

        async def counted() -> bool:
            _, text = await get(f"{base}/metrics")
            return metric(text, "thidua_outbox_sends_total", result="sent") >= 1

        await until(counted)
        status, after = await get(f"{base}/metrics")
        assert status == 200
        handled = {"channel": "telegram", "kind": "command", "result": "ok"}
        assert metric(before, "thidua_updates_handled_total", **handled) == 0
        assert metric(after, "thidua_updates_handled_total", **handled) == 1
        assert metric(after, "thidua_reply_latency_seconds_count", channel="telegram") == 1
        # At least the notice (a scheduled job of today's real date may add its own).
        assert metric(before, "thidua_outbox_sends_total") == 0
        assert metric(after, "thidua_outbox_sends_total", channel="telegram",
                      result="sent") >= 1
        assert metric(after, "thidua_outbox_messages", status="sent") >= 1
        assert metric(after, "thidua_outbox_messages", status="failed") == 0
        assert metric(after, "thidua_database_up") == 1
        assert metric(after, "thidua_heartbeat_age_seconds", loop="scheduler") < 60


async def test_webhook_bot_turns_unhealthy_while_telegram_refuses_every_send(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"
    settings = tuned(outbox_max_age_seconds=2)
    async with FakeBotApi() as fake:
        env = {**bot_env(fake, url, tmp_path),
               "THIDUA_WEBHOOK_URL": "http://127.0.0.1:{port}/hook",
               "THIDUA_WEBHOOK_SECRET": "abc123"}
        async with running(settings, env, monkeypatch, webhook=True) as base:
            await until(lambda: _true(fake.webhook.active))
            lan = fake.user(1001, "Lan")
            fake.fail_next("sendMessage", 502, count=100_000)  # Telegram is having a bad day
            async with open_services(settings, url) as services, \
                    services.sessions() as s, s.begin():
                await enqueue(s, kind="notice", dedupe_key="test:notice", channel="telegram",
                              chat_id=str(lan.chat_id), body=payload("Họp tổ tối nay."),
                              now=datetime.now(UTC))
            ages = []
            for _ in range(2):
                await asyncio.sleep(1.2)
                _, body = await get(f"{base}/healthz")
                ages.append(body["sender"]["outbox"]["oldest_waiting_seconds"])
            assert ages[0] is not None and ages[1] > ages[0]  # waiting, and longer

            async def unhealthy() -> bool:
                return (await get(f"{base}/healthz"))[0] == 503

            await until(unhealthy)
            _, body = await get(f"{base}/healthz")
            assert body["status"] == "unhealthy" and body["problems"] == ["outbox"]
            assert body["sender"]["running"] and body["sender"]["ok"]  # alive, refused
            _, text = await get(f"{base}/metrics")
            assert metric(text, "thidua_outbox_sends_total", result="retry") >= 1
            assert metric(text, "thidua_outbox_oldest_waiting_seconds") > 2

            fake.clear_faults()  # Telegram takes messages again
            assert "Họp tổ tối nay." in ((await lan.next(timeout=15)).text or "")

            async def healthy() -> bool:
                return (await get(f"{base}/healthz"))[0] == 200

            await until(healthy)


async def _true(value: bool) -> bool:
    return value


@pytest.mark.postgres
async def test_postgresql_down_is_503_and_back_is_200(
        pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await _emptied(pg_database)
    settings = tuned(database_timeout_seconds=1)
    async with proxy_for(pg_database) as proxy, FakeBotApi() as fake:
        url = make_url(pg_database).set(host="127.0.0.1", port=proxy.port)
        env = bot_env(fake, url.render_as_string(hide_password=False), tmp_path)
        async with running(settings, env, monkeypatch) as base:
            assert (await get(f"{base}/healthz"))[0] == 200
            await proxy.stop()  # the server is gone
            status, body = await get(f"{base}/healthz")
            assert status == 503 and "database" in body["problems"]
            assert body["database"] == {"ok": False, "error": body["database"]["error"]}
            assert body["database"]["error"]  # why, in a word (never the URL)
            assert "sqlite" not in str(body) and str(proxy.port) not in str(body)
            _, text = await get(f"{base}/metrics")
            assert metric(text, "thidua_database_up") == 0
            await proxy.resume()

            async def healthy() -> bool:
                return (await get(f"{base}/healthz"))[0] == 200

            await until(healthy)
