"""The Zalo channel at its edges: starting, photos fetched, sends failing, `thidua run`."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from bot.channels.base import ChannelAuthError, ChannelUnreachable, DeliveryError
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo.client import DEFAULT_API, ZaloApi
from bot.channels.zalo.files import NotAPhoto, ZaloFiles
from bot.channels.zalo.transport import ZaloTransport
from bot.settings import DEFAULT_ZALO_API, Environment
from bot.subcommands import _channels
from reporting.messages import Outgoing
from reporting.services import FileTooLarge, Services
from tests.zalo_stub import BASE, PHOTO_HOST, TOKEN, ZaloStub

LAN = "zl-lan-7f3a"


async def no_pace() -> None:
    return None


def test_the_default_api_is_the_same_in_settings_and_client() -> None:
    assert DEFAULT_ZALO_API == DEFAULT_API


def test_run_starts_zalo_alone_and_says_telegram_is_skipped(
        caplog: pytest.LogCaptureFixture) -> None:
    env = Environment(zalo_bot_token=SecretStr(TOKEN))
    with caplog.at_level(logging.INFO):
        channels = _channels(env, None)
    assert [c.name for c in channels] == ["zalo"]
    assert "TELEGRAM_BOT_TOKEN is not set" in caplog.text
    assert TOKEN in env.secret_values  # kept out of every log line (bot.redact)


async def test_a_refused_token_and_an_unreachable_api_fail_the_start_differently(
        services: Services) -> None:
    stub = ZaloStub(token="1234567890:another-secret-xyz")
    with pytest.raises(ChannelAuthError) as refused:
        async with ZaloChannel(TOKEN, BASE, http_transport=stub.transport).serve(services):
            pass
    assert TOKEN not in str(refused.value)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ChannelUnreachable) as unreachable:
        async with ZaloChannel(TOKEN, BASE, http_transport=httpx.MockTransport(down)
                               ).serve(services):
            pass
    assert "zalo.test" in str(unreachable.value) and TOKEN not in str(unreachable.value)


async def test_a_photo_is_downloaded_within_the_limit_and_only_if_it_is_an_image() -> None:
    stub = ZaloStub()
    stub.photos[PHOTO_HOST + "ok.jpg"] = ("image/jpeg", b"\xff\xd8" + b"x" * 5000)
    stub.photos[PHOTO_HOST + "big.jpg"] = ("image/jpeg", b"x" * 20_000)
    stub.photos[PHOTO_HOST + "page.html"] = ("text/html", b"<html>")
    async with httpx.AsyncClient(transport=stub.transport) as http:
        fetch = ZaloFiles(http)
        assert len(await fetch(PHOTO_HOST + "ok.jpg", 10_000)) == 5002
        with pytest.raises(FileTooLarge):
            await fetch(PHOTO_HOST + "big.jpg", 10_000)
        with pytest.raises(NotAPhoto):
            await fetch(PHOTO_HOST + "page.html", 10_000)


async def test_the_outbox_transport_maps_each_failure(services: Services) -> None:
    stub = ZaloStub()
    stub.chats.add(LAN)
    async with ZaloApi(TOKEN, BASE, transport=stub.transport) as api:
        transport = ZaloTransport(api, services)
        stub.blocked.add(LAN)
        with pytest.raises(DeliveryError) as blocked:
            await transport.send(LAN, Outgoing("Thông báo"), no_pace)
        assert blocked.value.unreachable
        stub.blocked.clear()
        with pytest.raises(DeliveryError) as unknown:
            await transport.send("zl-nobody", Outgoing("Thông báo"), no_pace)
        assert unknown.value.unreachable
        stub.fail_next.append((429, "Too Many Requests"))
        with pytest.raises(DeliveryError) as slow_down:
            await transport.send(LAN, Outgoing("Thông báo"), no_pace)
        assert slow_down.value.retry_after == 5.0 and not slow_down.value.permanent
        stub.fail_next.append((503, "Service Unavailable"))
        with pytest.raises(DeliveryError) as down:
            await transport.send(LAN, Outgoing("Thông báo"), no_pace)
        assert not down.value.permanent and down.value.retry_after is None
        assert stub.sent == []


async def test_a_long_broadcast_goes_in_parts_each_paced(services: Services) -> None:
    stub = ZaloStub()
    stub.chats.add(LAN)
    paced: list[int] = []

    async def pace() -> None:
        paced.append(1)

    text = "\n".join(f"Dòng {i}: " + "ư" * 120 for i in range(40))  # ~5,000 characters
    async with ZaloApi(TOKEN, BASE, transport=stub.transport) as api:
        assert await ZaloTransport(api, services).send(LAN, Outgoing(text), pace)
    parts = stub.texts(LAN)
    assert len(parts) == 3 == len(paced) and "\n".join(parts) == text


async def test_a_proxy_error_page_is_retried_and_its_text_holds_no_token(
        services: Services) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    async with ZaloApi(TOKEN, BASE, transport=httpx.MockTransport(gateway)) as api:
        with pytest.raises(DeliveryError) as failed:
            await ZaloTransport(api, services).send(LAN, Outgoing("Thông báo"), no_pace)
    assert not failed.value.permanent and TOKEN not in str(failed.value)


def test_zalo_is_paced_by_its_own_settings(services: Services) -> None:
    from bot.delivery import Sender

    sender = Sender(services.sessions, services.settings.delivery, {})
    assert services.settings.delivery.pace("zalo").overall_per_second == 10
    assert sender.limiter("zalo").interval(LAN) == 1.0  # one message a second per chat
    assert sender.limiter("zalo") is not sender.limiter("telegram")
