"""End to end against the fake Zalo Bot API (fakes/zalo): the real channel over HTTP,
polling and webhook, with the fake's send limits (10/s, 1/s per chat) on.

Lan leads Tổ 1 and has only Zalo; the clock is 3 April 2022 (March is being reported).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.channels.zalo import ZaloChannel
from bot.channels.zalo.webhook import ZaloWebhookSettings
from bot.settings import Environment
from fakes.zalo import SECRET_HEADER, FakeZaloApi, FakeZaloUser
from models import InboxUpdate, Member, Report, ReportStatus, ReportValue
from reporting.services import Services
from tests.helpers import make_invite
from tests.inbox_wait import handled

SECRET = "zalo-hook-secret-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running(services: Services, fake: FakeZaloApi,
                  mode: str) -> AsyncIterator[ZaloWebhookSettings | None]:
    hook = None
    if mode == "webhook":
        port = free_port()
        hook = ZaloWebhookSettings.from_env(Environment(
            zalo_webhook_url=f"http://127.0.0.1:{port}/zalo", http_listen=f"127.0.0.1:{port}",
            zalo_webhook_secret=SecretStr(SECRET)))
    channel = ZaloChannel(fake.token, fake.base_url, hook=hook, poll_timeout=1)
    async with channel.serve(services):
        yield hook


async def say(services: Services, user: FakeZaloUser, text: str, *, whole: bool = False) -> str:
    """`user` types `text`; the bot's answer, once the update is handled and its messages
    have arrived (`whole`: once the reply is noted as delivered, for a fake whose
    per-chat limit makes a part wait out a 429)."""
    update = await user.send(text)
    key = f"{update['event_name']}:{update['message']['message_id']}"
    if whole:
        for _ in range(800):
            async with services.sessions() as s:
                replied = await s.scalar(select(InboxUpdate.replied_at)
                                         .where(InboxUpdate.update_key == key))
            if replied is not None:
                return "\n".join(e.text or "" for e in user.drain())
            await asyncio.sleep(0.025)
        raise AssertionError(f"no answer to {text!r}")
    # At least one message (a channel may join a reply's messages into one text).
    parts = await user.expect(min(1, await handled(services, key)))
    parts += await user.settle(quiet=0.1)  # a long message goes in several parts
    return "\n".join(e.text or "" for e in parts)


async def values(services: Services) -> dict[str, str | None]:
    async with services.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


@pytest.mark.parametrize(("mode", "per_chat"), [
    ("polling", None), ("webhook", None),
    # The fake's 1/s per chat: Lan types faster than that, so about one answer a second
    # waits out a 429 (~20 s in all).
    pytest.param("polling", 1.0, marks=pytest.mark.slow)])
async def test_lan_registers_and_reports_march_on_zalo(services: Services, mode: str,
                                                       per_chat: float | None) -> None:
    async with FakeZaloApi(per_chat_per_second=per_chat) as fake, \
            running(services, fake, mode):
        lan = fake.user("zl-lan-7f3a", "Lan")
        whole = per_chat is not None

        async def talk(text: str) -> str:
            return await say(services, lan, text, whole=whole)

        code = await make_invite(services, "to-1")
        assert "đăng ký thành công" in await talk(f"/start {code}")
        assert "1. ⏸ Tạm dừng" in await talk("/baocao")
        assert "Câu 2/12" in await talk("1")  # an answer, not "Tạm dừng"
        assert (await values(services))["households"] == "1"
        assert "Câu 1/12" in await talk("quay lại")  # a label still works
        for figure in ("120", "118", "450", "430", "440", "30"):
            await talk(figure)
        assert "Câu 7/12" in await talk("25")  # under 6 < under 5: refused
        for typed in ("40", "1", "đạt", "2", "1", "bỏ qua"):
            await talk(typed)
        assert "sửa mục nào" in await talk("2")  # 2. Sửa một mục
        assert "Câu 3/12" in await talk("3")
        await talk("1.450")
        assert "Đã gửi báo cáo tháng 03/2022" in await talk("gửi báo cáo")
        refused = [e for e in fake.events if not e.ok]
        heard = [e.text or "" for e in fake.events if e.ok and e.chat_id == lan.chat_id]
    # Zalo has no buttons: registration, the questions and the summary never say "bấm"
    # (the menu under them is answered by typing a number or a label).
    assert len(heard) > 15 and not [t for t in heard if "bấm" in t.lower()]
    async with services.sessions() as s:
        report = await s.scalar(select(Report))
    assert report is not None and report.status == ReportStatus.SUBMITTED
    stored = await values(services)
    assert (stored["households"], stored["residents"], stored["children_under_6"]) == \
        ("120", "1450", "40")
    assert stored["safe_area"] == stored["drug_free"] != stored["cultured_group"]
    assert stored["sanitation"] == "good" and stored["notes"] is None
    # Only the fake's per-chat limit may have refused a send (waited out, then sent).
    assert all(e.error_code == 429 for e in refused), [e.summary() for e in refused]


async def test_a_push_with_a_wrong_secret_is_refused_and_a_repeated_push_is_handled_once(
        services: Services) -> None:
    async with FakeZaloApi() as fake, running(services, fake, "webhook") as hook:
        assert hook is not None and fake.webhook.secret == SECRET
        fake.webhook.shape = "alternate"
        lan = fake.user("zl-lan-7f3a", "Lan")
        code = await make_invite(services, "to-1")
        fake.webhook.repeat_next()
        await say(services, lan, f"/start {code}")
        await say(services, lan, "/trangthai")
        body: dict[str, Any] = {"event_name": "message.text.received", "message": {
            "from": lan.to_json(), "chat": {"id": lan.id, "chat_type": "PRIVATE"},
            "message_id": "forged-1", "text": "/trangthai", "date": 0}}
        async with aiohttp.ClientSession() as http:
            for headers in ({SECRET_HEADER: "not-the-secret"}, {}):
                async with http.post(hook.url, json=body, headers=headers) as response:
                    assert response.status == 403
        await lan.settle(quiet=0.3)
        deliveries = list(fake.webhook.deliveries)
    assert sum(1 for d in deliveries if d.repeat) == 1  # the repeat did arrive
    assert {d.shape for d in deliveries} == {"wrapped", "bare"}
    async with services.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Member)) == 1
        keys = list(await s.scalars(select(InboxUpdate.update_key)))
    assert len(keys) == 2 and not any("forged" in k for k in keys)
    welcomes = [e for e in fake.sent(lan.id) if "đăng ký thành công" in (e.text or "")]
    assert len(welcomes) == 1
