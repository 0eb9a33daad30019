"""An edited message is never read as an answer; in a private chat it gets a hint.

Lan leads Tổ 1 and is answering March. She types 120 households, then edits that message
to 125, as people do in Telegram. The bot cannot tell which question an old message
answered, so it keeps 120 and tells her how to correct an answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.demo import bot_stack
from fakes.telegram import FakeBotApi
from handlers.router import handle
from models import ReportValue
from reporting.messages import Incoming
from reporting.services import Services
from tests.helpers import make_invite, plain, register


async def _answers(app: Services) -> dict[str, str | None]:
    async with app.sessions() as s:
        return {v.indicator: v.value for v in await s.scalars(select(ReportValue))}


async def test_lans_edited_answer_changes_nothing_and_gets_the_hint(services: Services) -> None:
    lan = await register(services, "1", "Lan")
    await lan.send("/baocao")
    await lan.send("120")
    assert "Câu 2/12" in lan.last_text
    edited = Incoming(channel="test", chat_id="1", user_id="1", display_name="Lan",
                      text="125", message_id="3", edited=True)
    reply = await handle(services, edited)
    assert [m.text for m in reply.messages] == [services.t("edited_hint", "vi")]
    assert await _answers(services) == {"households": "120"}
    await lan.send("118")  # her next message still answers question 2
    assert await _answers(services) == {"households": "120", "cultured_families": "118"}
    assert "Câu 3/12" in lan.last_text


async def test_edits_in_a_group_or_by_strangers_get_no_answer(services: Services) -> None:
    await register(services, "5", "Mai", None, "council")
    in_group = Incoming(channel="test", chat_id="-100500", user_id="5", display_name="Mai",
                        text="/tonghop", command="tonghop", private=False, edited=True)
    assert (await handle(services, in_group)).messages == []
    stranger = Incoming(channel="test", chat_id="9", user_id="9", display_name="Minh",
                        text="xin chào", edited=True)
    assert (await handle(services, stranger)).messages == []


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


async def test_an_edit_through_telegram_gets_one_hint(services: Services,
                                                     fake: FakeBotApi) -> None:
    async with bot_stack(services, fake):
        lan = fake.user(1001, "Lan")
        await lan.send(f"/start {await make_invite(services, 'to-1')}")
        await lan.expect(1)
        await lan.send("/baocao")
        await lan.expect(1)
        sent = await lan.send("120")
        await lan.expect(1)
        await lan.edit(sent, "125")
        [hint] = await lan.expect(1)
        assert plain(hint.text or "") == plain(services.t("edited_hint", "vi"))
        assert await lan.settle() == []  # one line, nothing else
    assert await _answers(services) == {"households": "120"}
