"""Zalo updates as the bot reads them: both webhook body shapes, keys, what is ignored."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels.zalo.client import ZaloApi, ZaloError
from bot.channels.zalo.intake import parse, readable, store_update, unwrap
from bot.channels.zalo.transport import to_delivery_error
from models import InboxUpdate
from reporting.services import Services
from tests.zalo_stub import BASE, TOKEN, ZaloStub


def test_a_text_becomes_an_incoming_with_its_command() -> None:
    stub = ZaloStub()
    inc = parse(stub.message("u-lan", "/start ABCD-1234", name="Lan"))
    assert inc is not None
    assert (inc.channel, inc.chat_id, inc.user_id, inc.display_name) == \
        ("zalo", "u-lan", "u-lan", "Lan")
    assert inc.command == "start" and inc.args == ("ABCD-1234",) and inc.private


def test_a_photo_is_its_url_and_its_caption_the_text() -> None:
    stub = ZaloStub()
    inc = parse(stub.message("u-lan", "Dọn vệ sinh", photo="https://photos.zalo.test/1.jpg"))
    assert inc is not None and inc.photos == ("https://photos.zalo.test/1.jpg",)
    assert inc.text == "Dọn vệ sinh"


def test_a_group_chat_is_not_private_and_stickers_are_not_answered() -> None:
    stub = ZaloStub()
    group = parse(stub.message("g-council", "/tonghop", group=True))
    assert group is not None and not group.private
    for event in ("message.sticker.received", "message.unsupported.received"):
        assert parse(stub.message("u-lan", "x", event=event)) is None


def test_wrapped_and_bare_bodies_give_the_same_update_and_key() -> None:
    bare = ZaloStub().message("u-lan", "120")
    wrapped = {"ok": True, "result": bare}
    assert unwrap(wrapped) == unwrap(bare) == bare
    row = readable(wrapped)
    assert row is not None and row.key == f"message.text.received:{bare['message']['message_id']}"
    assert row.chat_id == "u-lan" and json.loads(row.payload) == bare
    assert readable({"ok": True}) is None and readable([1, 2]) is None


async def test_a_repeated_push_is_stored_once(services: Services) -> None:
    update = ZaloStub().message("u-lan", "120")
    assert await store_update(services, update) == 1
    assert await store_update(services, {"ok": True, "result": update}) == 0
    async with services.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxUpdate)) == 1


async def test_get_updates_returns_one_update_or_none_after_a_408() -> None:
    stub = ZaloStub()
    async with ZaloApi(TOKEN, BASE, transport=stub.transport) as api:
        assert await api.get_update(1) is None
        await stub.updates.put(stub.message("u-lan", "xin chào"))
        update = await api.get_update(1)
        assert update is not None and update["message"]["text"] == "xin chào"
        with pytest.raises(ZaloError) as refused:
            await api.send_message("u-nobody", "hi")
        assert refused.value.code == 400 and "chat not found" in refused.value.description


@pytest.mark.parametrize(("code", "description", "kind"), [
    (403, "Forbidden: the user has blocked the bot", "unreachable"),
    (400, "Bad Request: chat not found", "unreachable"),
    (400, "Bad Request: text must be 1-2000 characters", "permanent"),
    (429, "Too Many Requests", "retry_after"),
    (502, "Bad Gateway", "retry"),
])
def test_send_failures_are_classified_once_at_the_edge(code: int, description: str,
                                                       kind: str) -> None:
    error = to_delivery_error(ZaloError(code, description, code))
    assert error.unreachable == (kind == "unreachable")
    assert error.permanent == (kind in ("unreachable", "permanent"))
    assert (error.retry_after is not None) == (kind == "retry_after")


def test_a_network_failure_is_retried() -> None:
    error = to_delivery_error(httpx.ConnectError("refused"))
    assert not error.permanent and error.retry_after is None
