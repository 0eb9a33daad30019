"""The digest's lists of groups, bounded: a count and at most `MAX_LISTED` names.

A ward of 15 groups reads every name; a commune of 1,500 or a province of 15,000 would
get pages of names nobody reads (39 messages at 15,000), so a list longer than
`MAX_LISTED` shows its count, the names that most need the Council's attention, and
"và 1.490 tổ, bản khác": the full list is in the /xuat workbook (its "Số liệu tổ" sheet
has every group's state and flagged figures).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from reporting.digest import GroupReport

# Names shown per list on the detailed digest; more: the count, these and "và … khác".
# 15: a ward the size of the plan's (15 tổ dân phố and bản) reads every name, as before;
# only a list longer than such a ward's whole roster is cut.
MAX_LISTED = 15

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Listed:
    """What a template shows for one list: `count` groups, `names` of at most the limit."""

    count: int
    names: tuple[str, ...]

    @property
    def more(self) -> int:
        """Groups counted but not named ("và 1.490 tổ, bản khác")."""
        return self.count - len(self.names)


Rank = Callable[[GroupReport], tuple[int | float, ...]]


def bounded(groups: Sequence[GroupReport], rank: Rank, limit: int = MAX_LISTED) -> Listed:
    """The list as the Council reads it. Up to `limit` groups: all, in the ward's order,
    exactly as before (a small ward's digest does not change). More: the `limit` that
    `rank` puts first (lowest key), the worst first; ties keep the ward's order."""
    if len(groups) <= limit:
        return Listed(len(groups), tuple(g.name for g in groups))
    worst = sorted(groups, key=rank)[:limit]  # sorted() is stable: ties in ward order
    return Listed(len(groups), tuple(g.name for g in worst))


# How each list ranks its groups, as a Council member would read it:
def missing_rank(g: GroupReport) -> tuple[int]:
    """Not reported: a group that has not even started its report comes before one
    with a draft, which is on its way."""
    return (0 if g.state == "missing" else 1,)


def late_rank(g: GroupReport) -> tuple[float]:
    """Late: the latest submission first (the most days late)."""
    return (-(g.submitted_at or _EPOCH).timestamp(),)


def flagged_rank(g: GroupReport) -> tuple[int, int]:
    """Figures to check: the most figures still unconfirmed by the leader first, then
    the most figures flagged at all."""
    asked = sum(1 for state in g.flagged.values() if state == "asked")
    return (-asked, -len(g.flagged))


def on_time_rank(g: GroupReport) -> tuple[int]:
    """On time: nothing to rank by urgency; the ward's own order."""
    return (0,)
