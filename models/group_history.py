"""Groups over time: renamed, merged or split from a given month, with history kept.

A ward's tổ dân phố change (the 2025 reorganisation merged many): config declares
each change and its month (`reporting.group_changes`), and start-up writes it here as
plain data: each group's months of validity on its row (`Group.valid_from` /
`valid_until`, period keys) and one `GroupLineage` row per edge, parent → child.

Reports are never moved: a report belongs to the group that existed in its month, so
June's digest still shows Tổ 11 and Tổ 12 and July's shows Tổ 13. Whatever reads a
period asks `shown_in(key)` for the groups of that month; whatever reads a year (the
yearly summary) follows the lineage to add a merged group's predecessors' months.
Applying is idempotent: every write is a comparison with what is there, so starting
twice leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, String, UniqueConstraint, and_, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, dialect_insert
from models.members import Group, Invite, Member

# Rows per multi-row INSERT: both drivers allow 32,767 parameters a statement, and a
# national deployment mirrors tens of thousands of groups.
CHUNK = 1000


def _insert(session: AsyncSession, model: type[Base]) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both databases (as in
    `models.queries`, which imports this module)."""
    return dialect_insert(session.get_bind().dialect.name)(model)


class ChangeKind(StrEnum):
    RENAME = "rename"
    MERGE = "merge"
    SPLIT = "split"


class GroupLineage(Base):
    """One edge of a change: `parent` became (part of) `child` from `from_key`.

    A merge has an edge from each merged group to the one they form; a split one from
    the parent to each new group; a rename one from the group to itself (its history
    stays on its row, under its new name).
    """

    __tablename__ = "group_lineage"
    __table_args__ = (UniqueConstraint("parent_id", "child_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(String(8))
    from_key: Mapped[str] = mapped_column(String(7))


@dataclass(frozen=True)
class GroupVersion:
    """A group as config describes it: its code, name and months of validity."""

    code: str
    name: str | None  # None: a group ended before config knew it; keep the stored name
    valid_from: str | None = None
    valid_until: str | None = None
    current: bool = True  # listed in config's `groups:`


@dataclass(frozen=True)
class Edge:
    parent: str
    child: str
    kind: ChangeKind
    from_key: str


@dataclass(frozen=True)
class GroupHistory:
    """Every group config knows of, current or ended, and the changes between them."""

    versions: list[GroupVersion]
    edges: list[Edge]


def valid_in(key: str) -> ColumnElement[bool]:
    """The group existed in period `key` (its validity only)."""
    return and_(or_(Group.valid_from.is_(None), Group.valid_from <= key),
                or_(Group.valid_until.is_(None), Group.valid_until > key))


def shown_in(key: str) -> ColumnElement[bool]:
    """The groups of period `key`: valid then, and either in config today or ended by a
    declared change (a group simply dropped from config is retired from every period,
    as before changes were declared)."""
    return and_(valid_in(key), or_(Group.active.is_(True), Group.valid_until.is_not(None)))


async def apply_groups(session: AsyncSession, versions: Sequence[GroupVersion],
                       edges: Sequence[Edge]) -> None:
    """Mirror config's groups and changes into the database (idempotent).

    New groups are added, names and validity set, groups missing from config retired;
    the lineage is made exactly `edges`. Members and unused invites of a group merged
    away move to the group it merged into: the people of Tổ 11 now live in Tổ 13, and
    their leader reports for it. A split parent's members stay (which of the new
    groups is theirs is for an admin to say with a new invite).
    """
    ids = await _ids_if_unchanged(session, versions, edges)
    if ids is not None:
        # Every CLI start mirrors config: when the rows already say what config says
        # (one narrow read of the groups and one of the lineage, not 15,000 ORM
        # objects compared attribute by attribute), only the merges' moves remain.
        await _move_merged(session, ids, edges)
        return
    existing = {g.code: g for g in (await session.scalars(select(Group))).all()}
    missing = [v for v in versions if v.code not in existing]
    if missing:
        # Insert-on-conflict, then read: two instances starting at once on a new
        # database both find the groups missing, and the loser must not fail on the
        # unique code (on PostgreSQL its insert waits for the winner, then does nothing).
        for start in range(0, len(missing), CHUNK):
            await session.execute(_insert(session, Group).values([
                {"code": v.code, "name": v.name or v.code, "active": v.current,
                 "valid_from": v.valid_from, "valid_until": v.valid_until}
                for v in missing[start:start + CHUNK]
            ]).on_conflict_do_nothing())
        existing = {g.code: g for g in (await session.scalars(select(Group))).all()}
    for v in versions:
        row = existing[v.code]
        # Only assign what differs: an unchanged row stays clean (no UPDATE on start).
        for attr, value in (("name", v.name or row.name), ("active", v.current),
                            ("valid_from", v.valid_from), ("valid_until", v.valid_until)):
            if getattr(row, attr) != value:
                setattr(row, attr, value)
    wanted_codes = {v.code for v in versions}
    for code, row in existing.items():
        if code not in wanted_codes and (row.active or row.valid_until or row.valid_from):
            row.active, row.valid_from, row.valid_until = False, None, None
    await session.flush()
    await _sync_lineage(session, existing, edges)
    await _move_merged(session, {code: row.id for code, row in existing.items()}, edges)


async def _move_merged(session: AsyncSession, ids: dict[str, int],
                       edges: Sequence[Edge]) -> None:
    """Members and unused invites of a merged-away group belong to the group it formed.
    Run at every start, not only when the edge is new: an invite made for the old code
    before config declared the merge is moved too."""
    for e in edges:
        if e.kind is ChangeKind.MERGE and e.parent != e.child:
            old, new = ids[e.parent], ids[e.child]
            await session.execute(sql_update(Member).where(Member.group_id == old)
                                  .values(group_id=new))
            await session.execute(sql_update(Invite).where(Invite.group_id == old,
                                                           Invite.used_at.is_(None))
                                  .values(group_id=new))


async def _ids_if_unchanged(session: AsyncSession, versions: Sequence[GroupVersion],
                            edges: Sequence[Edge]) -> dict[str, int] | None:
    """The groups' ids by code when the database already holds exactly what
    `apply_groups` would write (groups and lineage), else None."""
    rows = (await session.execute(select(Group.code, Group.id, Group.name, Group.active,
                                         Group.valid_from, Group.valid_until))).all()
    stored = {r.code: r for r in rows}
    wanted = {v.code: v for v in versions}
    if len(wanted) != len(versions):
        return None  # a code twice: let the full path decide
    for code, r in stored.items():
        v = wanted.get(code)
        if v is None:
            if r.active or r.valid_from or r.valid_until:
                return None
        elif ((v.name and r.name != v.name) or r.active != v.current
              or r.valid_from != v.valid_from or r.valid_until != v.valid_until):
            return None
    if wanted.keys() - stored.keys():
        return None
    ids = {code: r.id for code, r in stored.items()}
    if any(e.parent not in ids or e.child not in ids for e in edges):
        return None
    want = {(ids[e.parent], ids[e.child], str(e.kind), e.from_key) for e in edges}
    have = {(r.parent_id, r.child_id, str(r.kind), r.from_key) for r in (await session.execute(
        select(GroupLineage.parent_id, GroupLineage.child_id, GroupLineage.kind,
               GroupLineage.from_key))).all()}
    return ids if want == have and len(want) == len(edges) else None


async def _sync_lineage(session: AsyncSession, groups: dict[str, Group],
                        edges: Sequence[Edge]) -> None:
    want = {(groups[e.parent].id, groups[e.child].id, e.kind): e.from_key for e in edges}
    have = {(r.parent_id, r.child_id, ChangeKind(r.kind)): r
            for r in (await session.scalars(select(GroupLineage))).all()}
    for key, row in have.items():
        if key not in want:
            await session.delete(row)
        elif row.from_key != want[key]:
            row.from_key = want[key]
    added = [{"parent_id": parent, "child_id": child, "kind": kind, "from_key": from_key}
             for (parent, child, kind), from_key in want.items()
             if (parent, child, kind) not in have]
    # As the groups: a second instance starting at once adds nothing.
    for start in range(0, len(added), CHUNK):
        await session.execute(_insert(session, GroupLineage)
                              .values(added[start:start + CHUNK]).on_conflict_do_nothing())
    await session.flush()


async def lineage(session: AsyncSession) -> list[GroupLineage]:
    """Every edge, oldest change first."""
    return list((await session.scalars(
        select(GroupLineage).order_by(GroupLineage.from_key, GroupLineage.id))).all())
