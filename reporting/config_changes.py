"""How an indicator changes from month to month, and which answers a month carries.

`flow` figures are asked every month (new events, sanitation, notes); `stock` figures
(households, residents) are offered pre-filled from the group's last submitted report;
`title` figures (cultured families, standards and titles) are asked once a year, in the
dataset's `title_month`, and carried from the last report in the other months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

from reporting.config_base import Loc

__all__ = ["CARRY_MONTHS", "Changes", "carried", "change_problems"]
Changes = Literal["flow", "stock", "title"]
# A report older than this (a reopened year, a group back after a long gap) is not
# carried: the month asks everything, as a group's first report does.
CARRY_MONTHS = 12


class _Changing(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def changes(self) -> Changes: ...


def change_problems(indicators: Sequence[_Changing],
                    title_month: int | None) -> list[tuple[Loc, str]]:
    """Configuration mistakes in `changes` and `title_month`, each at its own key."""
    problems: list[tuple[Loc, str]] = []
    for n, ind in enumerate(indicators):
        if ind.changes == "title" and title_month is None:
            problems.append((("indicators", n, "changes"),
                             "a 'title' indicator is asked once a year: set the dataset's "
                             "title_month (1-12), the month titles are reviewed"))
    return problems


def carried(indicators: Sequence[_Changing], last: Mapping[str, str | None],
            month: int, title_month: int | None) -> dict[str, str | None]:
    """The answers this month takes from the last report (`last`): its stocks, and its
    titles outside the title month. A figure the last report lacks is asked."""
    keep = {"stock"} if month == title_month else {"stock", "title"}
    return {i.code: last[i.code] for i in indicators if i.changes in keep and i.code in last}
