"""End to end: the Council files the year through the real PTB Application and the
strict fake Bot API — the six-month report, the year's review and the loudspeaker
bulletin arrive as documents a ward office can open; a leader signs up in January.

The year 2022 is seeded (`bot.demo_year`); the clock is 16 January 2023, 09:00 in the
ward: December's reports have locked and the 2023 sign-up window is open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.demo import BotStack, bot_stack
from bot.demo_year import seed_year
from fakes.telegram import BotEvent, FakeBotApi, FakeUser
from models import Group, Pledge
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import make_invite
from tests.test_e2e_telegram import say, sent_file

JANUARY = datetime(2023, 1, 16, 2, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def stack(services: Services, fake: FakeBotApi, clock: Clock) -> AsyncIterator[BotStack]:
    clock.now = JANUARY
    async with services.sessions() as s, s.begin():
        await seed_year(s, services.settings, 2022)
    async with bot_stack(services, fake) as running:
        yield running


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(BytesIO(data)).paragraphs]


async def test_the_council_files_the_year(stack: BotStack, fake: FakeBotApi,
                                          services: Services) -> None:
    mai = fake.user(2002, "Trần Thị", "Mai")
    code = await make_invite(services, None, "council")
    assert "Hội đồng Thi đua" in await say(mai, f"/start {code}")

    await mai.send("/vanban 6 tháng đầu năm 2022")
    [report] = await mai.expect(1)
    assert report.method == "sendDocument"
    text = _paragraphs(sent_file(fake, mai, report, "document"))
    assert "BÁO CÁO" in text and any("6 tháng đầu năm 2022" in t for t in text)

    await mai.send("/binhxet 2022")
    events = await mai.expect(3)
    assert [e.method for e in events].count("sendDocument") == 2
    files = {_file_name(mai, e): sent_file(fake, mai, e, "document")
             for e in events if e.method == "sendDocument"}
    assert set(files) == {"binh-xet-thi-dua-2022.xlsx", "to-trinh-khen-thuong-2022.docx"}
    proposal = _paragraphs(files["to-trinh-khen-thuong-2022.docx"])
    assert "TỜ TRÌNH" in proposal and any("Kính gửi" in t for t in proposal)
    assert len(load_workbook(BytesIO(files["binh-xet-thi-dua-2022.xlsx"])).sheetnames) == 4

    await mai.send("/tonghop bantin tháng 6/2022")
    events = await mai.expect(2)
    [bulletin] = [e for e in events if e.method == "sendDocument"]
    assert any("BẢN TIN" in t for t in _paragraphs(sent_file(fake, mai, bulletin, "document")))


def _file_name(user: FakeUser, event: BotEvent) -> str:
    [message] = [m for m in user.messages() if m.message_id == event.message_id]
    return str(message.raw["document"]["file_name"])


async def test_a_leader_signs_up_in_january(stack: BotStack, fake: FakeBotApi,
                                            services: Services) -> None:
    hung = fake.user(1002, "Trần Văn", "Hùng")
    code = await make_invite(services, "to-6")  # Tổ 6 did not sign up in 2022
    assert "đăng ký thành công" in await say(hung, f"/start {code}")
    assert "1/3" in await say(hung, "/dangky")
    for _ in range(3):
        await hung.press("✅ Đăng ký")
        await hung.expect(1)
    assert "Kiểm tra lại" in await say(hung, "50")  # below the group's households
    await hung.press("📨 Gửi đăng ký")
    await hung.expect(1)
    async with services.sessions() as s:
        group = await s.scalar(select(Group).where(Group.code == "to-6"))
        assert group is not None
        pledge = await s.scalar(select(Pledge).where(Pledge.group_id == group.id,
                                                     Pledge.year == 2023))
    assert pledge is not None and pledge.households == 50
    assert sorted(pledge.titles) == sorted(services.settings.signup.titles)
