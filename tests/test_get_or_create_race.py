"""A new month opens and every leader of a 50-group ward reports at the same moment.

On PostgreSQL with events of different chats handled concurrently (or several webhook
instances), the first `/baocao` of the month races on the month's period row, and a
user's first message races on their conversation row. Every "get or create" is an
insert-on-conflict followed by a read, so each leader gets the first question and the
database holds one period, one report per group and one conversation per user.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select

from bot.assembly import open_services
from models import Conversation, Identity, Member, Period, Report
from models import Group as GroupRow
from models.group_history import GroupLineage
from models.queries import sync_groups
from reporting.config import Group, Settings
from reporting.services import Services
from tests.conftest import Clock, _emptied
from tests.group_changes_helpers import merged_in_july
from tests.helpers import Person, make_invite, register

pytestmark = pytest.mark.postgres

GROUPS = 50


@pytest.fixture
async def ward(settings: Settings, pg_database: str,
               clock: Clock) -> AsyncIterator[Services]:
    """A ward of 50 groups (the configured ones and more) on an emptied PostgreSQL."""
    await _emptied(pg_database)
    extra = [Group(code=f"to-them-{n}", name=f"Tổ dân phố thêm {n}")
             for n in range(GROUPS - len(settings.groups))]
    big = settings.model_copy(update={"groups": [*settings.groups, *extra]})
    async with open_services(big, pg_database, clock=clock, migrate=False) as svc:
        yield svc


async def _count(services: Services, model: type[object], *where: object) -> int:
    async with services.sessions() as s:
        found = await s.scalar(select(func.count()).select_from(model)
                               .where(*where))  # type: ignore[arg-type]
        return int(found or 0)


async def test_fifty_leaders_open_a_new_month_at_once(ward: Services, clock: Clock,
                                                      settings: Settings) -> None:
    groups = [g.code for g in settings.groups] + [f"to-them-{n}" for n in
                                                  range(GROUPS - len(settings.groups))]
    leaders = [await register(ward, str(1000 + i), f"Tổ trưởng {i}", code)
               for i, code in enumerate(groups)]
    clock.set_local(2022, 5, 3)  # April's window has just opened: no period row yet
    assert await _count(ward, Period, Period.key == "2022-04") == 0

    await asyncio.gather(*(leader.send("/baocao") for leader in leaders))

    not_asked = [p.last_text for p in leaders if "Câu 1/" not in p.last_text]
    assert not_asked == []  # no error reply: every leader got the first question
    assert await _count(ward, Period, Period.key == "2022-04") == 1
    assert await _count(ward, Report) == GROUPS
    assert await _count(ward, Conversation) == GROUPS


async def test_two_first_messages_of_one_leader_share_one_conversation(
        ward: Services, clock: Clock) -> None:
    """The same update delivered twice at once (a retry beside the original, or two
    instances): both events find no conversation row and both create it."""
    lan = await register(ward, "100", "Nguyễn Thị Lan")
    for attempt in range(10):
        twin = Person(ward, "100", "Nguyễn Thị Lan")
        await asyncio.gather(lan.send("/baocao"), twin.send("/baocao"))
        assert "Câu 1/" in lan.last_text and "Câu 1/" in twin.last_text, attempt
        assert await _count(ward, Conversation) == 1
        assert await _count(ward, Report) == 1
        lan.replies.clear()
        await lan.send("/huy")  # no conversation row again: the next try races anew
        assert await _count(ward, Conversation) == 0


async def test_two_instances_starting_at_once_mirror_the_groups_once(ward: Services) -> None:
    """Two webhook instances start together on a new database: both find the groups
    (and a merge's lineage) missing and both add them; neither fails to start."""
    merged = merged_in_july()

    async def start() -> None:
        async with ward.sessions() as s, s.begin():
            await sync_groups(s, merged.group_pairs, merged.group_history)

    for attempt in range(5):
        async with ward.sessions() as s, s.begin():
            await s.execute(delete(GroupLineage))
            await s.execute(delete(GroupRow))
        await asyncio.gather(start(), start())
        codes = {g.code for g in merged.groups} | {"to-11", "to-12"}
        assert await _count(ward, GroupRow) == len(codes), attempt
        assert await _count(ward, GroupLineage) == 2, attempt  # to-11 and to-12 → to-13


async def test_a_code_sent_twice_at_once_registers_one_member(ward: Services) -> None:
    """Lan double-taps the invite link: two `/start CODE` of hers are handled at once.
    One registers her, the other is told the code is used (the invite row is locked
    while it is redeemed); no error, one member, one identity."""
    for attempt in range(5):
        code = await make_invite(ward, "to-1")
        user = str(200 + attempt)
        lan, twin = Person(ward, user, "Lan"), Person(ward, user, "Lan")
        await asyncio.gather(lan.send(f"/start {code}"), twin.send(f"/start {code}"))
        texts = [lan.last_text, twin.last_text]
        assert sum("đăng ký thành công" in t for t in texts) == 1, texts
        assert not any("sự cố" in t for t in texts), texts
        assert await _count(ward, Identity, Identity.external_id == user) == 1
    assert await _count(ward, Member) == 5


async def test_one_code_shared_by_two_people_registers_only_one(ward: Services) -> None:
    """Two people redeem one invite at the same moment: it is consumed exactly once."""
    for attempt in range(5):
        code = await make_invite(ward, "to-2")
        lan, hung = Person(ward, f"3{attempt}0", "Lan"), Person(ward, f"3{attempt}1", "Hùng")
        await asyncio.gather(lan.send(f"/start {code}"), hung.send(f"/start {code}"))
        texts = [lan.last_text, hung.last_text]
        assert sum("đăng ký thành công" in t for t in texts) == 1, texts
    assert await _count(ward, Member) == 5
