"""/thanhvien for a commune or a province: counts and who needs the admin, not pages.

A ward the plan's size (15 tổ dân phố and bản, some forty members) reads its whole
roster in one or two messages, a line a member. A commune of 1,500 groups would get some
forty messages, a province of 15,000 about four hundred, sent at one a second per chat.
Past `MAX_ROSTER` members the admin gets the counts, the members whose messages cannot
be delivered and the groups with no active leader (each list at most `MAX_LISTED`
names, then "và … khác"), and reads one group in full with `/thanhvien MÃ-TỔ`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.members import Role
from models.roster import MemberRow
from reporting.digest_lists import MAX_LISTED, Listed

# Member lines shown in full: the plan's ward and twice over, in at most about two messages.
MAX_ROSTER = 60


@dataclass(frozen=True)
class RosterSummary:
    total: int
    active: int
    groups: int  # the ward's groups
    staff: tuple[tuple[int, str, str], ...]  # the Council and admins, active: (id, name, role)
    unreachable: Listed  # active members no channel can reach: "#12 Lan (Tổ 3)"
    leaderless: Listed  # groups with no active leader: "Tổ 4"


def _listed(names: Sequence[str]) -> Listed:
    return Listed(len(names), tuple(names[:MAX_LISTED]))


def summarise(rows: Sequence[MemberRow], groups: Sequence[tuple[str, str]]) -> RosterSummary:
    """`rows` as `list_members` gives them; `groups`: the ward's (code, name), in order."""
    led = {r.group_code for r in rows if r.active and r.role == Role.LEADER}
    return RosterSummary(
        total=len(rows), active=sum(r.active for r in rows), groups=len(groups),
        # A ward has a handful: all named, whatever the number of groups.
        staff=tuple((r.id, r.name, str(r.role)) for r in rows
                    if r.active and r.group_code is None),
        unreachable=_listed([f"#{r.id} {r.name}" + (f" ({r.group_name})" if r.group_name else "")
                             for r in rows if r.active and not r.reachable]),
        leaderless=_listed([name for code, name in groups if code not in led]))
