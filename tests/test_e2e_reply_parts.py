"""End to end: replies of several messages under Telegram's per-chat limit, the real
PTB Application against the strict fake Bot API (1 message a second per chat, 30 a
second overall, 429 with `retry_after` beyond).

Thảo, an admin, previews a broadcast: its text, then the message with the "Gửi" button.
Lan, who leads Tổ 1, types a note so long that her report's summary is three messages.
Before, the later parts drew a 429 and were lost — the preview came without its button.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.demo import BotStack, bot_stack
from fakes.telegram import BotEvent, FakeBotApi, FakeUser, UserAction
from models import ReportStatus
from reporting import html_text
from reporting.html_text import html_length
from reporting.services import Services
from tests.helpers import make_invite
from tests.test_e2e_long_text import NOTE, reach_the_notes, stored_note, until_buttons, until_text

TEXT = "Ra quân tổng vệ sinh sáng Chủ nhật 10/4."


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def long_notes(services: Services) -> Services:
    # Notes as long as Telegram delivers (config.yaml says 1,000; the schema allows 4,096).
    cfg = services.settings
    inds = [i.model_copy(update={"max_length": 4096}) if i.code == "notes" else i
            for i in cfg.report.indicators]
    datasets = {**cfg.datasets, "group_monthly": cfg.report.model_copy(update={"indicators": inds})}
    services.settings = cfg.model_copy(update={"datasets": datasets})
    return services


@pytest.fixture
async def stack(long_notes: Services, fake: FakeBotApi) -> AsyncIterator[BotStack]:
    async with bot_stack(long_notes, fake, background=True) as running:
        yield running


def strict(fake: FakeBotApi) -> None:
    fake.rate_limit(per_chat_per_second=1.0, overall_per_second=30.0)


def refused(fake: FakeBotApi, user: FakeUser) -> list[BotEvent]:
    return [e for e in fake.events if not e.ok and e.chat_id == user.chat_id]


async def preview(services: Services, fake: FakeBotApi) -> tuple[FakeUser, FakeUser]:
    """Thảo composes a broadcast to Lan's Tổ 1 and stops before "Xong"."""
    thao, lan = fake.user(9009, "Thảo"), fake.user(1001, "Lan")
    for user, code in ((thao, await make_invite(services, None, "admin")),
                       (lan, await make_invite(services, "to-1"))):
        await user.send(f"/start {code}")
        await user.next()
    for step in ("/phatdong", TEXT):
        await thao.send(step)
        await thao.next()
    for label in ("Chọn một số tổ", "▫️ Tổ 1"):
        await thao.press(label)
        await thao.next()
    return thao, lan


async def test_the_broadcast_preview_arrives_whole_and_its_button_sends(
        stack: BotStack, fake: FakeBotApi, services: Services) -> None:
    thao, lan = await preview(services, fake)
    strict(fake)
    await asyncio.sleep(1.0)  # Thảo reads the list before pressing "Xong"
    await thao.press("Xong")
    copy, confirm = await thao.expect(2)
    assert TEXT in (copy.text or "") and not copy.buttons
    assert any("Gửi cho 1 người" in label for row in confirm.buttons for label, _ in row)
    assert refused(fake, thao) == []  # paced, not refused and retried

    await thao.press("Gửi cho 1 người")
    got = await lan.next()
    assert TEXT in (got.text or "")
    assert sum(TEXT in (e.text or "") for e in fake.events if e.ok) == 2  # preview + Lan


async def test_a_summary_in_three_parts_arrives_whole(
        stack: BotStack, fake: FakeBotApi, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_text, "SHOWN_CHARS", 10_000)  # the whole note in the summary
    lan = fake.user(1001, "Lan")
    await reach_the_notes(services, lan)
    strict(fake)
    await asyncio.sleep(1.0)  # a 4,096-character note takes a while to type
    await lan.send(NOTE)
    parts = [e for e in await until_buttons(lan) if e.method == "sendMessage"]
    assert len(parts) >= 3 and all(html_length(e.params["text"]) <= 4096 for e in parts)
    assert NOTE in "".join(e.text or "" for e in parts)
    assert refused(fake, lan) == []

    await lan.press("Gửi báo cáo")  # at once: its first message meets a 429, waited out
    await until_text(lan, "Đã gửi báo cáo tháng 03/2022")
    assert await stored_note(services) == (NOTE, ReportStatus.SUBMITTED)


async def test_a_429_on_the_second_part_is_waited_out_and_the_part_sent_again(
        stack: BotStack, fake: FakeBotApi, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_text, "SHOWN_CHARS", 10_000)
    lan = fake.user(1001, "Lan")
    await reach_the_notes(services, lan)
    loop = asyncio.get_running_loop()
    landed: list[float] = []

    def flood_after_the_first_part(event: BotEvent | UserAction) -> None:
        if isinstance(event, BotEvent) and event.chat_id == lan.chat_id:
            landed.append(loop.time())
            if len(landed) == 1:  # Telegram refuses the next message: wait 1 s
                fake.fail_next("sendMessage", 429, retry_after=1)

    fake.on_event = flood_after_the_first_part
    await lan.send(NOTE)
    parts = [e for e in await until_buttons(lan) if e.method == "sendMessage"]
    assert len(parts) >= 3 and NOTE in "".join(e.text or "" for e in parts)
    assert [e.error for e in refused(fake, lan)] != [] and len(refused(fake, lan)) == 1
    assert landed[1] - landed[0] >= 1.0
    assert parts[-1].buttons  # the last part, with the buttons, came too
