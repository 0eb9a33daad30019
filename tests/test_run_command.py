"""`thidua run`: the bot, the outbox sender and the scheduler together, until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.assembly import open_services
from bot.subcommands import run
from fakes.telegram import FakeBotApi
from models.outbox_ops import enqueue
from reporting.config_file import load_settings
from reporting.messages import payload
from tests.conftest import ROOT
from tests.helpers import make_invite


async def test_run_serves_chats_and_delivers_the_outbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    settings = load_settings(ROOT / "config.yaml")
    async with FakeBotApi() as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("THIDUA_DATABASE_URL", url)
        monkeypatch.setenv("THIDUA_MEDIA_DIR", str(tmp_path / "media"))
        task = asyncio.create_task(run(settings))
        lan = fake.user(1001, "Lan")
        for _ in range(200):  # wait until run() has migrated the schema and asked getMe
            if any(e.method == "getMe" for e in fake.events):
                break
            await asyncio.sleep(0.05)
        async with open_services(settings, url) as services:
            code = await make_invite(services, "to-1")
            await lan.send(f"/start {code}")
            assert "đăng ký thành công" in ((await lan.next()).text or "")
            async with services.sessions() as s, s.begin():
                await enqueue(s, kind="notice", dedupe_key="test:notice", channel="telegram",
                              chat_id=str(lan.chat_id), body=payload("Họp tổ tối nay."),
                              now=datetime.now(UTC))
            assert "Họp tổ tối nay." in ((await lan.next(timeout=15)).text or "")
        os.kill(os.getpid(), signal.SIGTERM)  # run() turns it into a clean stop
        assert await asyncio.wait_for(task, 20) == 0


async def test_run_serves_telegram_and_zalo_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fakes.zalo import FakeZaloApi

    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    settings = load_settings(ROOT / "config.yaml")
    async with FakeBotApi() as telegram, FakeZaloApi() as zalo:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
        monkeypatch.setenv("ZALO_BOT_TOKEN", zalo.token)
        monkeypatch.setenv("ZALO_API_BASE_URL", zalo.base_url)
        monkeypatch.setenv("THIDUA_DATABASE_URL", url)
        monkeypatch.setenv("THIDUA_MEDIA_DIR", str(tmp_path / "media"))
        task = asyncio.create_task(run(settings))
        lan, hung = telegram.user(1001, "Lan"), zalo.user("zl-hung", "Hùng")
        for _ in range(200):  # both channels started
            if any(e.method == "getMe" for e in zalo.events) and \
                    any(e.method == "getMe" for e in telegram.events):
                break
            await asyncio.sleep(0.05)
        async with open_services(settings, url) as services:
            await lan.send(f"/start {await make_invite(services, 'to-1')}")
            await hung.send(f"/start {await make_invite(services, 'to-2')}")
            assert "đăng ký thành công" in ((await lan.next()).text or "")
            assert "đăng ký thành công" in ((await hung.next()).text or "")
            async with services.sessions() as s, s.begin():
                for channel, chat in (("telegram", str(lan.chat_id)), ("zalo", hung.id)):
                    await enqueue(s, kind="notice", dedupe_key=f"test:{channel}",
                                  channel=channel, chat_id=chat,
                                  body=payload("<b>Họp tổ</b> tối nay."),
                                  now=datetime.now(UTC))
            assert "Họp tổ tối nay." in ((await lan.next(timeout=15)).text or "")
            assert (await hung.next(timeout=15)).text == "Họp tổ tối nay."  # plain on Zalo
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(task, 20) == 0
