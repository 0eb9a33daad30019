"""Judging the plan's targets as a ward official would: for the year, over all groups.

Pure computation over plain figures (no database), shared by the digest, the chart,
the workbook and the yearly summary, so one number never differs between them. The
kinds and their rules are described in `reporting.plan_config`; in short:

- a verdict needs enough data: a target from group reports is "tạm tính" (provisional)
  until `plan.min_coverage` % of the ward's groups have reported;
- a flow of events (`flow_ytd`) is summed since January: one new poor household in
  March keeps the target "chưa đạt" for the rest of the year;
- a cumulative amount is "lũy kế X, đạt Y% kế hoạch năm", on track or behind the
  months elapsed, and met or not only for the whole year (or once reached);
- no data, no verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from reporting.plan_config import Plan, Target
from reporting.target_totals import Figures as Figures
from reporting.target_totals import Pair, Sums, Totals, pairs_of, summarize
from reporting.target_totals import Values as Values
from reporting.target_totals import number as number

HUNDRED = Decimal(100)


class Verdict(StrEnum):
    MET = "met"  # ✅ for the year (or a rate that meets the plan now)
    ON_TRACK = "on_track"  # so far so good; the year is not over
    BEHIND = "behind"  # a cumulative amount behind the months elapsed
    NOT_MET = "not_met"  # ⚠️ chưa đạt
    PROVISIONAL = "provisional"  # tạm tính: too few groups reported to judge
    NO_DATA = "no_data"  # nothing reported yet


GOOD = (Verdict.MET, Verdict.ON_TRACK)
BAD = (Verdict.NOT_MET, Verdict.BEHIND)


@dataclass(frozen=True)
class TargetResult:
    target: Target
    value: Decimal | None
    based_on: int  # how many groups (or months) the value rests on
    of_total: int  # out of how many there are
    verdict: Verdict
    unit_of_count: str = "groups"  # "groups" or "months": what based_on counts
    previous: Decimal | None = None  # last month's value, for "change on last month"
    plan_share: Decimal | None = None  # cumulative: % of the year's plan reached
    expected_share: Decimal | None = None  # cumulative: % the months elapsed call for
    goal: Decimal | None = None  # the figure compared with (the plan's, or a baseline)
    reference_share: Decimal | None = None  # % of the target's second reference

    @property
    def met(self) -> bool | None:
        """True: met or on track; False: not met or behind; None: no verdict yet."""
        if self.verdict in GOOD:
            return True
        if self.verdict in BAD:
            return False
        return None

    @property
    def partial(self) -> bool:
        return self.based_on < self.of_total

    @property
    def change(self) -> Decimal | None:
        # A year-to-date sum always grows: "change on last month" means nothing there.
        if self.target.compute.kind in ("flow_ytd", "cumulative"):
            return None
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def progress(self) -> float | None:
        """How far along the target is, in % (100 = met), for the chart's bars."""
        if self.value is None or self.goal is None:
            return None
        t = self.target
        if t.compute.kind == "cumulative" and self.plan_share is not None:
            return float(self.plan_share)
        if t.comparator in (">=", ">"):
            if self.goal == 0:
                return 100.0 if self.met else 0.0
            return float(HUNDRED * self.value / self.goal)
        if self.met:
            return 100.0
        if t.comparator in ("<", "<=") and self.value > 0:
            return float(HUNDRED * self.goal / self.value)
        return 0.0


def compare(comparator: str, value: Decimal, goal: Decimal) -> bool:
    return {"<": value < goal, "<=": value <= goal, ">": value > goal,
            ">=": value >= goal, "==": value == goal}[comparator]


def value_of(t: Target, f: Figures | Totals) -> tuple[Decimal | None, int, int, str]:
    """(value, based on, out of, what is counted) for one target over `f`."""
    c = t.compute
    if isinstance(f, Figures):
        f = summarize(f, pairs_of([t]))
    if c.kind == "ratio":
        assert c.numerator and c.denominator
        pair = f.pairs.get((c.numerator, c.denominator), Pair())
        if not pair.usable or pair.denominator == 0:
            return None, pair.usable, f.groups_total, "groups"
        return HUNDRED * pair.numerator / pair.denominator, pair.usable, f.groups_total, "groups"
    assert c.indicator
    if c.kind == "share_of_groups":
        known = f.known.get(c.indicator, 0)
        if not known or f.groups_total == 0:
            return None, 0, f.groups_total, "groups"
        # Over all the ward's groups: one that has not answered is not a "yes".
        yes = f.yes.get(c.indicator, 0)
        return HUNDRED * yes / f.groups_total, known, f.groups_total, "groups"
    if c.indicator in f.group_indicators:
        sums, rows, unit = f.group_sums.get(c.indicator, Sums()), f.group_rows, "reports"
    else:
        sums, rows, unit = f.ward_sums.get(c.indicator, Sums()), f.ward_rows, "months"
    if c.kind == "latest":
        return sums.latest, (1 if sums.latest is not None else 0), 1, unit
    # flow_ytd, cumulative: months without a figure count as not reported, not as zero.
    return (sums.total if sums.count else None), sums.count, rows, unit


def judge(plan: Plan, t: Target, f: Figures | Totals, *, previous: Decimal | None = None,
          baseline: Decimal | None = None) -> TargetResult:
    """The target's value over `f` and the verdict the plan's wording calls for."""
    if isinstance(f, Figures):
        f = summarize(f, pairs_of([t]))
    value, based_on, of_total, unit = value_of(t, f)
    goal = baseline if t.judge == "keep_and_raise" else t.value
    result = TargetResult(t, value, based_on, of_total, Verdict.NO_DATA, unit, previous,
                          goal=goal, reference_share=_share(value, t.reference.value)
                          if t.reference else None)
    if value is None or goal is None:
        return result
    kind = t.compute.kind
    if kind in ("ratio", "share_of_groups"):
        covered = HUNDRED * based_on / of_total if of_total else Decimal(0)
        if covered < plan.min_coverage:
            return replace(result, verdict=Verdict.PROVISIONAL)
    if kind == "flow_ytd":
        if not compare(t.comparator, value, goal):
            return replace(result, verdict=Verdict.NOT_MET)  # one event breaks the year's target
        return replace(result, verdict=Verdict.MET if f.year_over else Verdict.ON_TRACK)
    if kind == "cumulative":
        share = _share(value, goal)
        expected = HUNDRED * f.month / 12
        reached = compare(t.comparator, value, goal)
        if reached or f.year_over:
            verdict = Verdict.MET if reached else Verdict.NOT_MET
        else:
            verdict = Verdict.ON_TRACK if share is not None and share >= expected \
                else Verdict.BEHIND
        return replace(result, verdict=verdict, plan_share=share, expected_share=expected)
    met = compare(t.comparator, value, goal)
    return replace(result, verdict=Verdict.MET if met else Verdict.NOT_MET)


def judge_plan(plan: Plan, f: Figures | Totals,
               previous: Mapping[str, Decimal | None] | None = None,
               baselines: Mapping[str, Decimal | None] | None = None) -> list[TargetResult]:
    """Every target of `plan` over `f`; `previous`: last month's values by target code;
    `baselines`: last year's values for keep-and-raise targets computed from data."""
    prev, base = previous or {}, baselines or {}
    if isinstance(f, Figures):
        f = summarize(f, pairs_of(plan.targets))
    out = []
    for t in plan.targets:
        fixed = t.baseline.value if t.baseline is not None else None
        out.append(judge(plan, t, f, previous=prev.get(t.code),
                         baseline=fixed if fixed is not None else base.get(t.code)))
    return out


def needs_attention(results: Sequence[TargetResult], n: int = 3) -> list[TargetResult]:
    """The targets furthest from their goal among those not met or behind, worst first."""
    bad = [r for r in results if r.verdict in BAD]
    return sorted(bad, key=lambda r: r.progress if r.progress is not None else 0.0)[:n]


def _share(value: Decimal | None, of: Decimal | None) -> Decimal | None:
    if value is None or of is None or of == 0:
        return None
    return HUNDRED * value / of
