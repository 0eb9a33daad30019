"""The Council's digest: completeness and progress against the plan's targets.

Pure computation over plain data (no database, no channel), so the numbers can be
checked by hand in tests. `reporting.digest_load` fills these structures from the
database; templates and the chart render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from reporting.periods import PeriodDates
from reporting.plan_config import Plan, Target
from reporting.targets import TargetResult as TargetResult
from reporting.targets import Values as Values

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class GroupReport:
    """One group's report for one period, as the digest needs it."""

    code: str
    name: str
    state: str  # "submitted", "draft" or "missing"
    late: bool = False
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    values: Values = field(default_factory=dict)
    corrections: int = 0
    # Values a soft check asked about: indicator code → "asked" or "confirmed".
    flagged: dict[str, str] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        return self.state == "submitted"


@dataclass(frozen=True)
class DeedLine:
    id: int
    subject: str
    group: str
    category: str
    description: str
    happened_on: date | None
    status: str
    photos: tuple[str, ...] = ()  # local file names, when downloaded


@dataclass(frozen=True)
class Digest:
    ward: str
    period: PeriodDates
    today: date
    groups: list[GroupReport]
    targets: list[TargetResult]
    plan: Plan | None = None  # the plan of the period's year; None: the config has none
    new_deeds: list[DeedLine] = field(default_factory=list)
    featured_deeds: list[DeedLine] = field(default_factory=list)

    @property
    def days_left(self) -> int:
        return (self.period.due_on - self.today).days

    @property
    def on_time(self) -> list[GroupReport]:
        return [g for g in self.groups if g.submitted and not g.late]

    @property
    def late(self) -> list[GroupReport]:
        return [g for g in self.groups if g.submitted and g.late]

    @property
    def missing(self) -> list[GroupReport]:
        return [g for g in self.groups if not g.submitted]

    @property
    def rate(self) -> Decimal:
        if not self.groups:
            return Decimal(0)
        return HUNDRED * (len(self.on_time) + len(self.late)) / len(self.groups)


def places_for(t: Target) -> int:
    """Decimal places to show a target's value: enough to compare with the target."""
    if t.value is None:  # keep-and-raise: compared with a rate, one decimal is enough
        return 1 if t.unit and t.unit.vi == "%" else 0
    exponent = t.value.normalize().as_tuple().exponent
    shown = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if t.unit and t.unit.vi == "%":
        return max(1, shown)
    return shown
