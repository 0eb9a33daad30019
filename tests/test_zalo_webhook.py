"""Zalo pushes to the bot's webhook: the secret checked, both body shapes, repeats once."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.channels.zalo import ZaloChannel
from bot.channels.zalo.webhook import SECRET_HEADER, ZaloWebhookConfigError, ZaloWebhookSettings
from bot.http import HttpServer
from bot.settings import Environment
from models import InboxUpdate, Member
from reporting.services import Services
from tests.helpers import make_invite
from tests.zalo_stub import BASE, TOKEN, ZaloStub

SECRET = "zalo-hook-secret-42"
LAN = "zl-lan-7f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hook_settings(port: int, secret: str = SECRET) -> ZaloWebhookSettings:
    env = Environment(zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/hook",
                      zalo_webhook_secret=SecretStr(secret), http_listen=f"127.0.0.1:{port}")
    return ZaloWebhookSettings.from_env(env)


async def replied(services: Services, count: int) -> None:
    for _ in range(400):
        async with services.sessions() as s:
            done = await s.scalar(select(func.count()).select_from(InboxUpdate)
                                  .where(InboxUpdate.replied_at.is_not(None)))
        if done == count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{count} updates were not all answered")


async def test_lan_registers_through_pushes_a_wrong_secret_is_refused_and_a_repeat_is_once(
        services: Services) -> None:
    stub = ZaloStub()
    port = free_port()
    hook = hook_settings(port)
    channel = ZaloChannel(TOKEN, BASE, hook=hook, http_transport=stub.transport)
    code = await make_invite(services, "to-1")
    start = stub.message(LAN, f"/start {code}", name="Lan")
    url = f"http://127.0.0.1:{port}/zalo/hook"
    async with channel.serve(services), aiohttp.ClientSession() as http:
        assert stub.webhook == {"url": hook.url, "secret_token": SECRET}
        for headers in ({SECRET_HEADER: "wrong-secret-000"}, {}):
            async with http.post(url, json=start, headers=headers) as response:
                assert response.status == 403
        ok = {SECRET_HEADER: SECRET}
        for body in ({"ok": True, "result": start}, start):  # wrapped, then repeated bare
            async with http.post(url, json=body, headers=ok) as response:
                assert response.status == 200
        async with http.post(url, data=b"{not json", headers=ok) as response:
            assert response.status == 200  # logged and confirmed, never pushed forever
        await replied(services, 1)
        status = stub.message(LAN, "/trangthai")
        async with http.post(url, json=status, headers=ok) as response:
            assert response.status == 200
        await replied(services, 2)
    async with services.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Member)) == 1
        assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 2
    texts = stub.texts(LAN)
    assert len(texts) == 2 and "đăng ký thành công" in texts[0]  # one welcome, one status


@pytest.mark.parametrize(("url", "secret"), [
    ("http://example.com/hook", SECRET),  # not https
    ("https://bot.phuong.vn/zalo", "short"),  # Zalo wants 8–256 characters
    ("https://bot.phuong.vn/zalo", "x" * 257),
])
def test_webhook_settings_are_checked_before_anything_starts(url: str, secret: str) -> None:
    env = Environment(zalo_webhook_url=url, zalo_webhook_secret=SecretStr(secret))
    with pytest.raises(ZaloWebhookConfigError) as refused:
        ZaloWebhookSettings.from_env(env)
    assert secret not in str(refused.value)


async def test_a_push_the_database_cannot_take_gets_500_so_zalo_may_send_it_again(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.channels.zalo import webhook
    from bot.channels.zalo.intake import parse

    told: list[str] = []

    class Waiting:
        def nudge(self) -> None:
            raise AssertionError("nothing was stored")

        async def tell_waiting(self, raw: dict[str, object], inc: object) -> None:
            told.append(str(parse(raw).chat_id))  # type: ignore[union-attr]

    async def down(services: object, body: object) -> int:
        raise ConnectionError("database down")

    monkeypatch.setattr(webhook, "store_update", down)
    server = HttpServer("127.0.0.1", 0)
    server.mount("POST", "/zalo",
                 webhook.receiver(services, Waiting(), SECRET))  # type: ignore[arg-type]
    async with TestClient(TestServer(server.application())) as client:
        update = ZaloStub().message(LAN, "120")
        response = await client.post("/zalo", json=update, headers={SECRET_HEADER: SECRET})
        assert response.status == 500
    assert told == [LAN]  # Lan hears once that her answer waits
