"""Which groups make up each row of a year, after renames, merges and splits.

The yearly summary (and the workbook and review built on it) has one row per group of
the year. A group merged away during the year is not a row of its own: its months
before the merge are added to the group it merged into, so Tổ 13, formed in July from
Tổ 11 and Tổ 12, shows January to June from both and July to December its own. A
split cannot be divided back (nobody knows which households of Tổ 5 reported what),
so the parent keeps its months and the new groups start at the split, each row
saying where it came from. A rename changes nothing here: the history is on the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ChangeKind, Group
from models.group_history import lineage


@dataclass(frozen=True)
class Origin:
    """How a row's group came about during the year: merged from, split from (the
    other group's name) or renamed, from the month `key`."""

    kind: ChangeKind
    group: str
    key: str


@dataclass
class YearGroup:
    """One row of the year: the group, and the groups whose months it shows."""

    group: Group
    parts: list[Group]
    origins: list[Origin] = field(default_factory=list)


def shown(g: Group, key: str) -> bool:
    """`models.group_history.shown_in`, for a row already loaded."""
    return ((g.valid_from is None or g.valid_from <= key)
            and (g.valid_until is None or key < g.valid_until)
            and (g.active or g.valid_until is not None))


async def year_groups(session: AsyncSession, year: int) -> list[YearGroup]:
    """The rows of `year`, in the order lists of groups use (by id)."""
    keys = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    groups = [g for g in (await session.scalars(select(Group).order_by(Group.id))).all()
              if any(shown(g, k) for k in keys)]
    ids = {g.id: g for g in groups}
    edges = [e for e in await lineage(session) if e.child_id in ids]
    # A merge during the year: both sides have months in it (before and after).
    into = {e.parent_id: e for e in edges
            if e.kind == ChangeKind.MERGE and e.parent_id in ids and e.parent_id != e.child_id}

    def owner(g: Group) -> Group:
        seen: set[int] = set()
        while g.id in into and g.id not in seen:  # config's walk forbids cycles; be safe
            seen.add(g.id)
            g = ids[into[g.id].child_id]
        return g

    rows = {g.id: YearGroup(g, []) for g in groups if g.id not in into}
    for g in groups:
        row = rows[owner(g).id]
        row.parts.append(g)
        if g is not row.group:
            row.origins.append(Origin(ChangeKind.MERGE, g.name, into[g.id].from_key))
    for e in edges:
        if e.kind != ChangeKind.MERGE and e.from_key[:4] == f"{year:04d}" \
                and e.child_id in rows:
            parent = await session.get(Group, e.parent_id)
            rows[e.child_id].origins.append(
                Origin(ChangeKind(e.kind), parent.name if parent else "", e.from_key))
    return list(rows.values())


def origin_note(origins: list[Origin]) -> str:
    """"hợp nhất từ Tổ 11, Tổ 12 từ 07/2022": the row's origins, for a name cell."""
    notes: list[str] = []
    merged: dict[str, list[str]] = {}
    for o in origins:
        month = f"{o.key[5:7]}/{o.key[:4]}"
        if o.kind == ChangeKind.MERGE:
            merged.setdefault(month, []).append(o.group)
        elif o.kind == ChangeKind.SPLIT:
            notes.append(f"tách từ {o.group} từ {month}")
        else:
            notes.append(f"đổi tên từ {month}")
    notes[:0] = [f"hợp nhất từ {', '.join(names)} từ {month}"
                 for month, names in merged.items()]
    return "; ".join(notes)
