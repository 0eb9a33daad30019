"""Every CLI start mirrors config's groups: when nothing changed it is two narrow reads
(groups, lineage) and no write, yet any change still goes through the full mirror."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Group, GroupLineage, Member
from models.queries import sync_groups
from reporting.config import Settings
from reporting.services import Services
from tests.group_changes_helpers import changed, merged_in_july
from tests.helpers import register


def _engine(services: Services) -> AsyncEngine:
    bind = services.sessions.kw["bind"]  # async_sessionmaker(engine, …)
    assert isinstance(bind, AsyncEngine)
    return bind


async def _sync(services: Services, settings: Settings) -> list[str]:
    """Mirror `settings`' groups; the SQL statements it took."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0].upper())

    sync_engine = _engine(services).sync_engine
    event.listen(sync_engine, "before_cursor_execute", note)
    try:
        async with services.sessions() as s, s.begin():
            await sync_groups(s, settings.group_pairs, settings.group_history)
    finally:
        event.remove(sync_engine, "before_cursor_execute", note)
    return [w for w in seen if w not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")]


async def _groups(services: Services) -> dict[str, tuple[str, bool, str | None, str | None]]:
    async with services.sessions() as s:
        return {g.code: (g.name, g.active, g.valid_from, g.valid_until)
                for g in await s.scalars(select(Group))}


async def test_an_unchanged_config_reads_twice_and_writes_nothing(
        services: Services, settings: Settings) -> None:
    before = await _groups(services)
    assert await _sync(services, settings) == ["SELECT", "SELECT"]
    assert await _groups(services) == before


async def test_a_rename_a_drop_and_a_merge_still_apply(services: Services,
                                                        settings: Settings) -> None:
    renamed = changed([], [], [], rename={"to-1": "Tổ Một"})
    assert "UPDATE" in await _sync(services, renamed)
    assert (await _groups(services))["to-1"][0] == "Tổ Một"
    assert await _sync(services, renamed) == ["SELECT", "SELECT"]

    dropped = changed(["to-2"], [], [], rename={"to-1": "Tổ Một"})
    await _sync(services, dropped)
    assert (await _groups(services))["to-2"][1] is False

    merged = merged_in_july()
    await _sync(services, merged)
    async with services.sessions() as s:
        edges = (await s.scalars(select(GroupLineage))).all()
    assert len(edges) == 2
    groups = await _groups(services)
    assert groups["to-13"][1] is True and groups["to-11"][2:] == (None, "2022-07")
    assert groups["to-2"][1] is True  # back in config: active again


async def test_a_leader_of_a_merged_group_moves_even_when_nothing_else_changed(
        services: Services, settings: Settings) -> None:
    merged = merged_in_july()
    await _sync(services, merged)
    leader = await register(services, "711", "Lê Văn Mười Một", "to-1")
    async with services.sessions() as s, s.begin():
        # Still in Tổ 11 after the merge was mirrored (say, an old backup restored).
        to11 = await s.scalar(select(Group.id).where(Group.code == "to-11"))
        member = await s.scalar(select(Member).where(Member.display_name == leader.name))
        assert member is not None
        member.group_id = to11
    statements = await _sync(services, merged)
    assert statements.count("UPDATE") == 4  # members and invites of to-11 and to-12
    async with services.sessions() as s:
        to13 = await s.scalar(select(Group.id).where(Group.code == "to-13"))
        moved = await s.scalar(select(Member.group_id).where(Member.display_name == leader.name))
    assert moved == to13
