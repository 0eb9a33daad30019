"""End to end: a note full of `&`, `<` and `"` goes through the real PTB Application over
HTTP against the fake Bot API, which refuses malformed HTML and over-long messages as
Telegram does.

Lan leads Tổ 1. On 3 April 2022 she reports March and, at the last question, types the
longest note Telegram delivers (4,096 characters) — requests mixed with symbols that
grow fivefold once escaped. Before, the summary outgrew 4,096 characters, was cut
inside `<b>…</b>`, Telegram refused it, and every later /baocao failed the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.demo import BotStack, bot_stack
from fakes.telegram import BotEvent, FakeBotApi, FakeUser
from models import Report, ReportStatus, ReportValue
from reporting import html_text
from reporting.buttons import Button, ReportAction, decode
from reporting.html_text import ELLIPSIS, html_length
from reporting.services import Services
from tests.helpers import make_invite

TYPED = ["120", "118", "450", "430", "440", "30", "40"]
# Vietnamese requests with the characters that grow when escaped: `&` (5), `<` (4), `"` (6).
PIECE = 'Đề nghị <b>hỗ trợ</b> & sửa "đèn đường" ngõ 3 <<&&>> "Tổ 1" & '
NOTE = (PIECE * (4096 // len(PIECE) + 1))[:4095] + "."


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def stack(services: Services, fake: FakeBotApi) -> AsyncIterator[BotStack]:
    # Notes as long as Telegram delivers (config.yaml says 1,000; the schema allows 4,096).
    cfg = services.settings
    inds = [i.model_copy(update={"max_length": 4096}) if i.code == "notes" else i
            for i in cfg.report.indicators]
    datasets = {**cfg.datasets, "group_monthly": cfg.report.model_copy(update={"indicators": inds})}
    services.settings = cfg.model_copy(update={"datasets": datasets})
    async with bot_stack(services, fake) as running:
        yield running


async def until_buttons(user: FakeUser) -> list[BotEvent]:
    """The bot's messages up to the first one with buttons (a reply's last part)."""
    events = [await user.next()]
    while not events[-1].buttons:
        events.append(await user.next())
    return events


async def until_text(user: FakeUser, words: str) -> None:
    """Read the bot's messages until one says `words` (10 at most)."""
    for _ in range(10):
        if words in ((await user.next()).text or ""):
            return
    raise AssertionError(f"no message said {words!r}")


async def reach_the_notes(services: Services, lan: FakeUser) -> None:
    code = await make_invite(services, "to-1")
    await lan.send(f"/start {code}")
    await lan.next()
    await lan.send("/baocao")
    await lan.next()
    for text in TYPED:
        await lan.send(text)
        await until_buttons(lan)
    for label in ("Đạt", "Đạt", "Chưa đạt", "Tốt"):
        await lan.press(label)
        await until_buttons(lan)


def actions(event: BotEvent) -> list[ReportAction]:
    """What the message's buttons do (their labels are copy, not meaning)."""
    buttons = [decode(data) for row in event.buttons for _, data in row]
    return [b.action for b in buttons if isinstance(b, Button)]  # type: ignore[misc]


def refused(fake: FakeBotApi) -> list[str]:
    return [e.summary() for e in fake.events if not e.ok]


async def stored_note(services: Services) -> tuple[str | None, ReportStatus | None]:
    async with services.sessions() as s:
        note = await s.scalar(select(ReportValue.value).where(ReportValue.indicator == "notes"))
        status = await s.scalar(select(Report.status))
    return note, status


async def test_a_full_note_arrives_in_parts_and_the_report_is_submitted(
        stack: BotStack, fake: FakeBotApi, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Show the whole note (a ward may allow it): the summary must then be split.
    monkeypatch.setattr(html_text, "SHOWN_CHARS", 10_000)
    lan = fake.user(1001, "Lan")
    await reach_the_notes(services, lan)
    assert len(NOTE) == 4096 and html_length(NOTE.replace("&", "&amp;")) > 5000

    await lan.send(NOTE)
    events = await until_buttons(lan)
    summary = [e for e in events if e.method == "sendMessage"]
    assert len(summary) >= 3, [e.summary() for e in events]  # ~11,000 characters of HTML
    assert all(html_length(e.params["text"]) <= 4096 for e in summary)
    assert NOTE in "".join(e.text or "" for e in summary)  # every character, in order
    assert actions(summary[-1]) == [ReportAction.SUBMIT, ReportAction.PICK, ReportAction.PAUSE]
    assert all(not e.buttons for e in summary[:-1])  # the buttons come with the last part
    assert refused(fake) == []

    await lan.press("Gửi báo cáo")
    await until_text(lan, "Đã gửi báo cáo tháng 03/2022")
    assert await stored_note(services) == (NOTE, ReportStatus.SUBMITTED)

    # The next /baocao shows the submitted report, long note and all: it works again.
    await lan.send("/baocao")
    again = await until_buttons(lan)
    assert len(again) >= 3 and NOTE in "".join(e.text or "" for e in again)
    assert ReportAction.PICK in actions(again[-1])
    assert refused(fake) == []


async def test_the_summary_abbreviates_the_note_and_keeps_it_whole(
        stack: BotStack, fake: FakeBotApi, services: Services) -> None:
    lan = fake.user(1001, "Lan")
    await reach_the_notes(services, lan)
    await lan.send(NOTE)
    events = await until_buttons(lan)
    summary = events[-1]
    assert summary.method == "sendMessage" and ReportAction.SUBMIT in actions(summary)
    assert summary.text is not None
    line = next(t for t in summary.text.splitlines() if t.startswith("12. "))
    shown = line.split(": ", 1)[1]
    assert shown.endswith(ELLIPSIS) and len(shown) <= html_text.SHOWN_CHARS
    assert NOTE.startswith(shown.removesuffix(ELLIPSIS))

    await lan.press("Gửi báo cáo")
    await until_text(lan, "Đã gửi báo cáo tháng 03/2022")
    assert await stored_note(services) == (NOTE, ReportStatus.SUBMITTED)  # complete
    await lan.send("/baocao")
    assert ReportAction.PICK in actions((await until_buttons(lan))[-1])
    assert refused(fake) == []


async def test_a_client_cannot_send_more_than_telegram_delivers(fake: FakeBotApi) -> None:
    with pytest.raises(ValueError, match="4096"):
        await fake.user(1001, "Lan").send("x" * 4097)
