"""The Council's digest: completeness and progress against the plan's targets.

Pure computation over plain data (no database, no channel), so the numbers can be
checked by hand in tests. `reporting.digest_load` fills these structures from the
database; templates and the chart render them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from reporting.config import Settings, Target
from reporting.periods import PeriodDates

Values = Mapping[str, str | None]
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

    @property
    def submitted(self) -> bool:
        return self.state == "submitted"


@dataclass(frozen=True)
class TargetResult:
    target: Target
    value: Decimal | None
    based_on: int  # how many groups (or ward months) the value rests on
    of_total: int  # out of how many there are
    met: bool | None  # None: no data yet
    previous: Decimal | None = None

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def partial(self) -> bool:
        return self.based_on < self.of_total


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


def _num(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def compute(t: Target, groups: Sequence[Values], ward_months: Sequence[Values],
            total_groups: int) -> tuple[Decimal | None, int, int]:
    """A target's ward value from the submitted group reports and ward figures.

    `groups` are the values of the submitted reports of one period; `ward_months` the
    ward_progress values from January up to and including that period, in order.
    Returns (value, based on, out of).
    """
    c = t.compute
    if c.kind == "ratio":
        assert c.numerator and c.denominator
        pairs = [(_num(g.get(c.numerator)), _num(g.get(c.denominator))) for g in groups]
        usable = [(n, d) for n, d in pairs if n is not None and d is not None]
        denominator = sum((d for _, d in usable), Decimal(0))
        if not usable or denominator == 0:
            return None, len(usable), total_groups
        numerator = sum((n for n, _ in usable), Decimal(0))
        return HUNDRED * numerator / denominator, len(usable), total_groups
    assert c.indicator
    if c.kind == "share_of_groups":
        answers = [g.get(c.indicator) for g in groups]
        known = [a for a in answers if a in ("yes", "no")]
        if not known:
            return None, 0, total_groups
        return HUNDRED * sum(a == "yes" for a in known) / len(known), len(known), total_groups
    if c.kind == "sum":
        numbers = [n for g in groups if (n := _num(g.get(c.indicator))) is not None]
        return (sum(numbers, Decimal(0)) if numbers else None), len(numbers), total_groups
    months = [_num(m.get(c.indicator)) for m in ward_months]
    known_months = [n for n in months if n is not None]
    if c.kind == "ward_latest":
        latest = next((n for n in reversed(months) if n is not None), None)
        return latest, (1 if latest is not None else 0), 1
    # ward_sum_ytd: months without a figure count as not reported, not as zero.
    total = sum(known_months, Decimal(0)) if known_months else None
    return total, len(known_months), len(ward_months)


def is_met(t: Target, value: Decimal | None) -> bool | None:
    if value is None:
        return None
    goal = t.value
    return {
        "<": value < goal,
        "<=": value <= goal,
        ">": value > goal,
        ">=": value >= goal,
        "==": value == goal,
    }[t.comparator]


def progress(t: Target, value: Decimal | None) -> float | None:
    """How far along a target is, in % (100 = met), for the chart.

    For "at least" targets it is value/target; for "at most", "below" and "exactly"
    targets there is no meaningful fraction, so it is 100 when met, otherwise how far
    the value overshoots (target/value) or 0.
    """
    if value is None:
        return None
    met = is_met(t, value)
    if t.comparator in (">=", ">"):
        if t.value == 0:
            return 100.0 if met else 0.0
        return float(HUNDRED * value / t.value)
    if met:
        return 100.0
    if t.comparator in ("<", "<=") and value > 0:
        return float(HUNDRED * t.value / value)
    return 0.0


def target_results(settings: Settings, groups: Sequence[GroupReport],
                   ward_months: Sequence[Values],
                   previous: Sequence[TargetResult] | None = None) -> list[TargetResult]:
    submitted = [g.values for g in groups if g.submitted]
    before = {r.target.code: r.value for r in previous or []}
    results = []
    for t in settings.targets:
        value, based_on, of_total = compute(t, submitted, ward_months, len(groups))
        results.append(TargetResult(t, value, based_on, of_total, is_met(t, value),
                                    before.get(t.code)))
    return results


def places_for(t: Target) -> int:
    """Decimal places to show a target's value: enough to compare with the target."""
    exponent = t.value.normalize().as_tuple().exponent
    shown = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if t.unit and t.unit.vi == "%":
        return max(1, shown)
    return shown
