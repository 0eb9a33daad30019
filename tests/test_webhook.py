"""`thidua run --webhook`: Telegram pushes updates; a wrong secret is refused."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select, text

from bot.assembly import open_services
from bot.channels.telegram.webhook import WebhookConfigError, WebhookSettings, webhook
from bot.settings import Environment
from bot.subcommands import run
from fakes.telegram import FakeBotApi
from models import InboxUpdate, Member
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.services import Services
from tests.conftest import ROOT
from tests.helpers import make_invite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_lan_registers_through_the_webhook(services: Services) -> None:
    port = free_port()
    config = WebhookSettings(url=f"http://127.0.0.1:{port}/tg/hook", secret="s3cret_-x",
                             host="127.0.0.1", port=port)
    async with FakeBotApi() as fake, webhook(services, fake.token, config, fake.base_url):
        assert fake.webhook.url == config.url and fake.webhook.secret == "s3cret_-x"
        lan = fake.user(1001, "Lan")
        code = await make_invite(services, "to-1")
        await lan.send(f"/start {code}")
        assert "đăng ký thành công" in ((await lan.next()).text or "")
        await lan.send("/baocao")
        assert "Câu 1/12" in ((await lan.next()).text or "")
        assert fake.webhook.responses[-2:] == [200, 200]
        async with aiohttp.ClientSession() as http:
            forged = {"update_id": 999, "message": {"message_id": 1, "date": 0,
                                                    "chat": {"id": 5, "type": "private"},
                                                    "text": "/start"}}
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(config.url, json=forged, headers=headers) as response:
                    assert response.status == 403
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
        assert all(e.chat_id != 5 for e in fake.events)  # the forged update did nothing


# Bodies Telegram would never send, but a proxy or a probe might: with the right secret
# they are answered 200 (an error makes Telegram retry forever) and logged once each.
MALFORMED = ['{"message": 5, "update_id": 7}', "[]", "not json", '{"message": {}}',
             '{"update_id": "x"}', "5", '{"update_id": 8, "callback_query": []}']


async def test_bodies_that_are_no_update_get_200_and_one_log_line(
        services: Services, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    config = WebhookSettings(url=f"http://127.0.0.1:{port}/tg/hook", secret="s3cret",
                             host="127.0.0.1", port=port)
    async with FakeBotApi() as fake, webhook(services, fake.token, config, fake.base_url):
        caplog.clear()
        ok = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with aiohttp.ClientSession() as http:
            for body in MALFORMED:
                async with http.post(config.url, data=body, headers=ok) as response:
                    assert response.status == 200, body
            # The secret is still checked first.
            async with http.post(config.url, data="[]", headers={}) as response:
                assert response.status == 403
        ignored = [r for r in caplog.records if r.message.startswith(("webhook:", "telegram:"))]
        assert len(ignored) == len(MALFORMED)
        assert all(r.exc_info is None for r in ignored)  # one line each, no traceback
        async with services.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 0


async def test_a_database_that_cannot_store_the_update_answers_500(
        settings: Settings, tmp_path: Path) -> None:
    """Lan's answer arrives while the database is gone: Telegram gets 500 and sends it
    again; once the database is back, the redelivery is stored, handled and answered."""
    port = free_port()
    config = WebhookSettings(url=f"http://127.0.0.1:{port}/tg/hook", secret="s3cret",
                             host="127.0.0.1", port=port)
    url = f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"
    async with open_services(settings, url) as services, FakeBotApi() as fake, \
            webhook(services, fake.token, config, fake.base_url):
        code = await make_invite(services, "to-1")
        async with services.sessions() as s, s.begin():
            await s.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))  # "down"
        lan = fake.user(1001, "Lan")
        await lan.send(f"/start {code}")
        for _ in range(100):
            if 500 in fake.webhook.responses:
                break
            await asyncio.sleep(0.05)
        assert fake.webhook.responses[0] == 500 and len(fake.pending_updates) == 1
        # She hears once that her message waits (so she does not send it again).
        assert (await lan.next(timeout=10)).text == services.t("db_waiting", "vi")
        async with services.sessions() as s, s.begin():
            await s.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
        assert "đăng ký thành công" in ((await lan.next(timeout=10)).text or "")
        assert fake.webhook.responses[-1] == 200
        async with services.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Member)) == 1


@pytest.mark.parametrize(("env", "problem"), [
    ({"THIDUA_WEBHOOK_URL": "ftp://x", "THIDUA_WEBHOOK_SECRET": "abc"}, "https://"),
    ({"THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg", "THIDUA_WEBHOOK_SECRET": "a b"},
     "THIDUA_WEBHOOK_SECRET"),
    ({"THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg", "THIDUA_WEBHOOK_SECRET": "abc",
      "THIDUA_WEBHOOK_LISTEN": "8080"}, "host:port"),
])
def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                      problem: str) -> None:
    for key in ("THIDUA_WEBHOOK_URL", "THIDUA_WEBHOOK_SECRET", "THIDUA_WEBHOOK_LISTEN",
                "THIDUA_HTTP_LISTEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(WebhookConfigError, match=problem):
        WebhookSettings.from_env(Environment.load())


async def test_run_webhook_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"
    settings = load_settings(ROOT / "config.yaml")
    async with FakeBotApi() as fake:
        for key, value in {"TELEGRAM_BOT_TOKEN": fake.token,
                           "TELEGRAM_API_BASE_URL": fake.base_url,
                           "THIDUA_DATABASE_URL": url,
                           "THIDUA_MEDIA_DIR": str(tmp_path / "media"),
                           "THIDUA_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
                           "THIDUA_WEBHOOK_SECRET": "abc123",
                           "THIDUA_WEBHOOK_LISTEN": f"127.0.0.1:{port}"}.items():
            monkeypatch.setenv(key, value)
        task = asyncio.create_task(run(settings, webhook=True))
        for _ in range(200):
            if fake.webhook.active:
                break
            await asyncio.sleep(0.05)
        assert fake.webhook.url == f"http://127.0.0.1:{port}/hook"
        async with open_services(settings, url) as services:
            code = await make_invite(services, "to-2")
        hung = fake.user(2002, "Hùng")
        await hung.send(f"/start {code}")
        assert "Tổ 2" in ((await hung.next()).text or "")
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(task, 20) == 0


def test_the_webhook_secret_stays_out_of_reprs_and_logs(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    secret = "hook-secret-0123456789"
    monkeypatch.setenv("THIDUA_WEBHOOK_URL", "https://bot.example.vn/tg")
    monkeypatch.setenv("THIDUA_WEBHOOK_SECRET", secret)
    hook = WebhookSettings.from_env(Environment.load())
    assert hook.secret == secret and secret not in repr(hook)
    logging.getLogger("tests.webhook").warning("setWebhook secret_token=%s", hook.secret)
    assert secret not in caplog.text and "<redacted>" in caplog.text


async def test_an_update_pushed_twice_is_answered_once(services: Services) -> None:
    """Telegram repeats a push it thinks failed (a timeout on its side): Minh, not
    registered, types /baocao once and is told how to register once."""
    port = free_port()
    config = WebhookSettings(url=f"http://127.0.0.1:{port}/tg/hook", secret="s3cret",
                             host="127.0.0.1", port=port)
    update = {"update_id": 4242, "message": {
        "message_id": 9, "date": 0, "chat": {"id": 7007, "type": "private"},
        "from": {"id": 7007, "is_bot": False, "first_name": "Minh"}, "text": "/baocao",
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}
    async with FakeBotApi() as fake, webhook(services, fake.token, config, fake.base_url):
        fake.user(7007, "Minh")
        ok = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with aiohttp.ClientSession() as http:
            for _ in range(2):
                async with http.post(config.url, json=update, headers=ok) as response:
                    assert response.status == 200
        for _ in range(200):
            if any(e.chat_id == 7007 for e in fake.events):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # time for a second answer, if there were one
        assert [e.method for e in fake.events if e.chat_id == 7007] == ["sendMessage"]
        async with services.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 1
