"""What a typed answer costs the database from end to end, inbox included (issue 14).

Lan leads Tổ 1 and reports March over the real PTB Application and the fake Bot API:
`/baocao`, then the twelve answers of the end-to-end tests. Every statement the engine
sends while she types them is counted (`before_cursor_execute`): the update stored
before it is confirmed, who she is with her conversation and draft, the answer, the
report's version, her position, the row closed with its reply, the replies noted as
delivered. At most six per answer, on SQLite and on PostgreSQL.

The dispatcher's idle tick (looks for rows another instance left) and its lone noting of
a reply no closed row took along within 0.1 s are set to half a minute here: the tick
costs a statement a second whether anyone types or not, and on a loaded machine Lan's
next answer can come later than 0.1 s, so counted they would make the figure depend on
how fast the machine is. `bench.conversation` counts with both as shipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

import bot.channels.telegram.intake as intake
from bot.channels.telegram.application import inbox_channel
from bot.demo import bot_stack
from bot.inbox import Dispatcher
from fakes.telegram import FakeBotApi, FakeUser
from models import Group, Identity, Member, ReportValue, Role
from models.inbox import InboxState, InboxUpdate
from reporting.services import Services

TYPED = ["120", "118", "450", "430", "440", "30", "40", "đạt", "đạt", "chưa đạt", "1",
         "bỏ qua"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


async def lan_leads_to_1(services: Services) -> None:
    now = datetime.now(UTC)
    async with services.sessions() as s, s.begin():
        group = await s.scalar(select(Group).where(Group.code == "to-1"))
        assert group is not None
        lan = Member(display_name="Nguyễn Thị Lan", role=Role.LEADER, group_id=group.id,
                     created_at=now)
        s.add(lan)
        await s.flush()
        s.add(Identity(member_id=lan.id, channel="telegram", external_id="100",
                       chat_id="100", created_at=now))


async def answered(user: FakeUser, text: str) -> str:
    """Send `text` and return the text of the bot's answer (all its messages)."""
    await user.send(text)
    texts = [(await user.next(timeout=30)).text or ""]
    while (more := user.drain()):
        texts += [e.text or "" for e in more]
    return "\n".join(texts)


async def test_a_typed_answer_costs_at_most_six_statements_inbox_included(
        services: Services, fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    def quiet_dispatcher(svc: Services, app: Any, lease: float) -> Dispatcher:
        return Dispatcher(svc, inbox_channel(app), lease=lease, idle=30.0, note_within=30.0)

    monkeypatch.setattr(intake, "inbox_dispatcher", quiet_dispatcher)
    await lan_leads_to_1(services)
    engine = services.sessions.kw["bind"]
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        sent.append(" ".join(sql.split())[:100])

    async with bot_stack(services, fake):
        lan = fake.user(100, "Lan")
        assert "1/12" in await answered(lan, "/baocao")
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            replies = [await answered(lan, text) for text in TYPED]
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    print(f"\n{len(sent)} statements for {len(TYPED)} answers:\n" + "\n".join(sent))
    assert "2/12" in replies[0] and "12/12" in replies[-2]
    assert len(sent) / len(TYPED) <= 6, sent
    async with services.sessions() as s:
        stored = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
        open_rows = await s.scalar(select(func.count()).select_from(InboxUpdate)
                                   .where(InboxUpdate.state != InboxState.DONE))
    assert len(stored) == 12 and stored["households"] == "120"
    assert list(stored.values()).count(None) == 1  # "bỏ qua": the last one skipped
    assert open_rows == 0
