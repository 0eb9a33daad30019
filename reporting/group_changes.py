"""Config's `group_changes:`: groups renamed, merged or split from a given month.

`groups:` lists the groups of today; the groups that existed before a change are
derived from the changes, walking back from today: a merge from July means its `from`
groups existed until June and its `into` group exists from July. The walk checks every
code against the groups alive at that point, so a typo, a group changed twice in one
month or a group merged away and still listed fails at start with its key.
The result is plain data for `models.group_history.apply_groups`.
"""

from __future__ import annotations

import re
from collections import defaultdict

from pydantic import Field, field_validator, model_validator

from models.group_history import ChangeKind, Edge, GroupHistory, GroupVersion
from reporting.config_base import Loc, Strict

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# The same pattern as `reporting.config.GROUP_CODE` (which imports this module), so
# a bad code gets the same hint.
GROUP_CODE = r"^[a-z0-9][a-z0-9-]*$"


class Merge(Strict):
    into: str = Field(pattern=GROUP_CODE, max_length=32)
    # `from` is a Python keyword: the attribute is `parents`, the key stays `from`.
    parents: list[str] = Field(alias="from", min_length=1)
    # The merged group's name at the merge (a later rename or `groups:` may change it).
    name: str | None = Field(default=None, min_length=1, max_length=100)


class Part(Strict):
    code: str = Field(pattern=GROUP_CODE, max_length=32)
    name: str = Field(min_length=1, max_length=100)


class Split(Strict):
    parent: str = Field(alias="from", pattern=GROUP_CODE, max_length=32)
    into: list[Part] = Field(min_length=2)


class GroupChange(Strict):
    """One change, from the first day of `month` ("2022-07"): exactly one of
    `rename` (code → new name), `merge` or `split`."""

    month: str
    rename: dict[str, str] | None = Field(default=None, min_length=1)
    merge: Merge | None = None
    split: Split | None = None

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: object) -> object:
        if not isinstance(value, str) or not re.fullmatch(MONTH, value):
            raise ValueError(f"should be a month written YYYY-MM (e.g. 2025-07), got {value!r}")
        return value

    @model_validator(mode="after")
    def _one(self) -> GroupChange:
        given = [k for k in ("rename", "merge", "split") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of rename, merge, split "
                             f"(got {', '.join(given) or 'none'})")
        return self


class _Walk:
    """The walk back from today: which groups are alive, and what each change made."""

    def __init__(self, current: list[tuple[str, str]]) -> None:
        self.names: dict[str, str | None] = dict(current)
        self.alive = set(self.names)
        self.since: dict[str, str | None] = {}
        self.until: dict[str, str | None] = {}
        self.edges: list[Edge] = []
        self.problems: list[tuple[Loc, str]] = []
        self.touched: dict[str, dict[str, int]] = defaultdict(dict)

    def touch(self, n: int, month: str, code: str, loc: Loc) -> bool:
        """False (and a problem) when another change of the month has this group."""
        other = self.touched[month].setdefault(code, n)
        if other != n:
            self.problems.append((("group_changes", n, *loc),
                                  f"group '{code}' is changed twice in {month} "
                                  f"(also in group_changes[{other}])"))
        return other == n

    def later(self, n: int, month: str, code: str, loc: Loc) -> bool:
        """`code` exists from `month` on (in `groups:` or until a later change)."""
        if code in self.alive:
            return True
        self.problems.append((("group_changes", n, *loc),
                              f"unknown group '{code}' in {month}: not in groups: and not "
                              "made or kept by a later change"))
        return False

    def begin(self, code: str, month: str, name: str | None) -> None:
        """Walking back past `month`, `code` did not exist yet."""
        self.alive.discard(code)
        self.since[code] = month
        if self.names.get(code) is None:
            self.names[code] = name

    def end(self, n: int, month: str, code: str, loc: Loc) -> bool:
        """Walking back past `month`, `code` existed (and ended with the change)."""
        if code in self.alive:
            self.problems.append((("group_changes", n, *loc),
                                  f"group '{code}' still exists from {month}: a group "
                                  "merged or split then must not be in groups: or "
                                  "made again later"))
            return False
        self.alive.add(code)
        self.until[code] = month
        self.names.setdefault(code, None)
        return True


def _merge(w: _Walk, n: int, month: str, m: Merge) -> None:
    fresh = [w.touch(n, month, m.into, ("merge", "into"))]
    fresh += [w.touch(n, month, code, ("merge", "from", k))
              for k, code in enumerate(m.parents) if code != m.into]
    if not all(fresh):
        return
    if len(set(m.parents) | {m.into}) < 2:
        w.problems.append((("group_changes", n, "merge", "from"),
                           "a merge needs at least two groups"))
        return
    if not w.later(n, month, m.into, ("merge", "into")):
        return
    # `into` may be one of the merged groups: it goes on and takes in the others.
    if m.into not in m.parents:
        w.begin(m.into, month, m.name)
    for k, code in enumerate(m.parents):
        if code != m.into and w.end(n, month, code, ("merge", "from", k)):
            w.edges.append(Edge(code, m.into, ChangeKind.MERGE, month))


def _split(w: _Walk, n: int, month: str, s: Split) -> None:
    fresh = [w.touch(n, month, s.parent, ("split", "from"))]
    codes = [p.code for p in s.into]
    if len(set(codes)) != len(codes):
        w.problems.append((("group_changes", n, "split", "into"),
                           "the same code twice in into"))
        return
    fresh += [w.touch(n, month, part.code, ("split", "into", k, "code"))
              for k, part in enumerate(s.into) if part.code != s.parent]
    if not all(fresh) or not all([w.later(n, month, p.code, ("split", "into", k, "code"))
                for k, p in enumerate(s.into)]):
        return
    for part in s.into:
        if part.code != s.parent:
            w.begin(part.code, month, part.name)
    # A parent that keeps its code (Tổ 5 gives part of itself to a new Tổ 5b) goes on.
    if s.parent in codes or w.end(n, month, s.parent, ("split", "from")):
        w.edges += [Edge(s.parent, p.code, ChangeKind.SPLIT, month)
                    for p in s.into if p.code != s.parent]


def derive(current: list[tuple[str, str]], changes: list[GroupChange],
           ) -> tuple[GroupHistory, list[tuple[Loc, str]]]:
    """Every group over time and the lineage, from today's groups and the changes
    (any order in the file); with the problems found, each at its key."""
    w = _Walk(current)
    order = sorted(range(len(changes)), key=lambda n: changes[n].month, reverse=True)
    for n in order:
        ch = changes[n]
        if ch.rename is not None:
            for code in ch.rename:
                loc: Loc = ("rename", code)
                if w.touch(n, ch.month, code, loc) and w.later(n, ch.month, code, loc):
                    # A group renamed, then merged away: its name is the rename's.
                    if w.names.get(code) is None:
                        w.names[code] = ch.rename[code]
                    w.edges.append(Edge(code, code, ChangeKind.RENAME, ch.month))
        elif ch.merge is not None:
            _merge(w, n, ch.month, ch.merge)
        elif ch.split is not None:
            _split(w, n, ch.month, ch.split)
    today = dict(current)
    # Ended groups first, so that on a fresh database they get the lower ids and
    # lists ordered by id show Tổ 11 and Tổ 12 before the Tổ 13 they formed.
    ended = [c for c in w.names if c not in today]
    versions = [GroupVersion(code, w.names[code], w.since.get(code),
                             w.until.get(code), current=code in today)
                for code in [*ended, *today]]
    return GroupHistory(versions, list(reversed(w.edges))), w.problems
