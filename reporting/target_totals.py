"""What a plan is judged on, as totals: the sums, counts and latest figures the target
rules of `reporting.targets` read, not every value they come from.

The database makes a `Totals` with a few grouped statements (`reporting.digest_sums`);
the yearly summary, the chart and the tests still describe a month as lists of reports
(`Figures`), which `summarize` reduces to the same `Totals`. One set of rules
(`reporting.targets.value_of`) then reads both, so a number never depends on where its
figures came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reporting.plan_config import Target

Values = Mapping[str, str | None]
YES_NO = ("yes", "no")


def number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Figures:
    """What a plan is judged on, for one reporting month, as lists of reports."""

    month: int  # 1-12: the reported month (how much of the year has elapsed)
    groups_total: int  # every active group of the ward
    groups: Sequence[Values]  # the submitted group reports of the month
    groups_ytd: Sequence[Values]  # every submitted group report since January
    ward_months: Sequence[Values]  # the ward office's figures, January → month
    group_indicators: frozenset[str] = frozenset()  # codes asked of the groups

    @property
    def year_over(self) -> bool:
        return self.month == 12


@dataclass(frozen=True)
class Sums:
    """One indicator's numbers over some rows (reports, or the ward's months)."""

    total: Decimal = Decimal(0)
    count: int = 0  # rows with a number (a blank, "yes" or a word is not one)
    latest: Decimal | None = None  # the last number, in month then report order


@dataclass(frozen=True)
class Pair:
    """A ratio's two figures over the reports that gave both as numbers."""

    usable: int = 0
    numerator: Decimal = Decimal(0)
    denominator: Decimal = Decimal(0)


@dataclass(frozen=True)
class Totals:
    """`Figures` reduced to what the rules read (for the indicators the plan reads)."""

    month: int
    groups_total: int
    # The month's submitted group reports: "yes" answers and yes-or-no answers.
    yes: Mapping[str, int] = field(default_factory=dict)
    known: Mapping[str, int] = field(default_factory=dict)
    pairs: Mapping[tuple[str, str], Pair] = field(default_factory=dict)
    # Submitted group reports since January: sums by indicator, and how many reports.
    group_sums: Mapping[str, Sums] = field(default_factory=dict)
    group_rows: int = 0
    # The ward office's figures since January: sums by indicator, and how many months.
    ward_sums: Mapping[str, Sums] = field(default_factory=dict)
    ward_rows: int = 0
    group_indicators: frozenset[str] = frozenset()

    @property
    def year_over(self) -> bool:
        return self.month == 12


def pairs_of(targets: Iterable[Target]) -> set[tuple[str, str]]:
    """The (numerator, denominator) of every ratio target."""
    return {(t.compute.numerator, t.compute.denominator) for t in targets
            if t.compute.kind == "ratio" and t.compute.numerator and t.compute.denominator}


def sums_of(rows: Iterable[Values]) -> dict[str, Sums]:
    """Each indicator's numbers over `rows`, in their order (the last is the latest)."""
    total: dict[str, Decimal] = {}
    count: dict[str, int] = {}
    latest: dict[str, Decimal] = {}
    for row in rows:
        for code, value in row.items():
            n = number(value)
            if n is None:
                continue
            total[code] = total.get(code, Decimal(0)) + n
            count[code] = count.get(code, 0) + 1
            latest[code] = n
    return {code: Sums(total[code], count[code], latest[code]) for code in total}


def summarize(f: Figures, pairs: Iterable[tuple[str, str]]) -> Totals:
    """`f` as totals; `pairs`: the ratios to sum (`pairs_of` the targets judged)."""
    yes: dict[str, int] = {}
    known: dict[str, int] = {}
    for g in f.groups:
        for code, value in g.items():
            if value in YES_NO:
                known[code] = known.get(code, 0) + 1
                yes[code] = yes.get(code, 0) + (value == "yes")
    summed: dict[tuple[str, str], Pair] = {}
    for top, under in pairs:
        both = [(n, d) for g in f.groups if (n := number(g.get(top))) is not None
                and (d := number(g.get(under))) is not None]
        summed[(top, under)] = Pair(len(both), sum((n for n, _ in both), Decimal(0)),
                                    sum((d for _, d in both), Decimal(0)))
    return Totals(month=f.month, groups_total=f.groups_total, yes=yes, known=known,
                  pairs=summed, group_sums=sums_of(f.groups_ytd), group_rows=len(f.groups_ytd),
                  ward_sums=sums_of(f.ward_months), ward_rows=len(f.ward_months),
                  group_indicators=f.group_indicators)
