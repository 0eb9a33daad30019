"""The plan's targets, year by year, and how each is judged (config.yaml `plans:`).

A ward official judges a target the way the plan words it, so each target declares
its kind (`compute.kind`) and the rules follow from it (`reporting.targets`):

- `ratio`: 100 × Σ numerator / Σ denominator over the groups' reports of the month,
  with how many groups it rests on; judged once enough groups reported (`min_coverage`).
- `share_of_groups`: % of **all** the ward's groups answering yes (a group that has not
  answered is not a yes); judged once enough groups answered.
- `flow_ytd`: events summed since January ("no new poor households", "no serious
  incidents"): one event breaks the year's target; met only when the year is over.
- `cumulative`: a yearly amount built up month by month ("production value 1.192 tỷ"):
  "lũy kế X, đạt Y% kế hoạch năm", on track or behind the months elapsed, met or not
  only for the whole year (or once the year's amount is reached).
- `latest`: a rate the ward office enters when known (enrolment, recruitment): the
  latest figure of the year.

`judge: keep_and_raise` ("giữ vững và nâng tỷ lệ") compares with a baseline — last
year's value, written in config or computed from last year's data — instead of a
fixed number. `reference` is a second figure the plan names (budget revenue against
the city-assigned target).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reporting.config_base import CODE, Comparator, Loc, Problems, Strict, Text

Kind = Literal["ratio", "share_of_groups", "flow_ytd", "cumulative", "latest"]
# Kinds computed from the groups' monthly reports; the others read one dataset's
# indicator (the groups' or the ward office's, wherever it is defined).
GROUP_KINDS: tuple[Kind, ...] = ("ratio", "share_of_groups")
_UPPER = ("<", "<=", "==")  # "at most": a flow of events the year must stay under
_LOWER = (">", ">=")


class Compute(Strict):
    """How a target's value is computed from the figures (see the module's docstring)."""

    kind: Kind
    indicator: str | None = None
    numerator: str | None = None
    denominator: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Compute:
        ratio = self.kind == "ratio"
        needed = ("numerator", "denominator") if ratio else ("indicator",)
        problems: list[tuple[Loc, str]] = []
        for key in ("indicator", "numerator", "denominator"):
            if key in needed and not getattr(self, key):
                problems.append(((key,), f"required for kind '{self.kind}'"))
            elif key not in needed and getattr(self, key):
                problems.append(((key,), f"not used by kind '{self.kind}' (it needs "
                                         f"{' and '.join(needed)})"))
        if problems:
            raise Problems(problems)
        return self


class Baseline(Strict):
    """What a keep-and-raise target is compared with: a number, or last year's value."""

    value: Decimal | None = None  # e.g. last year's rate from the year-end report
    last_year: bool = False  # computed from last year's data in the database

    @model_validator(mode="after")
    def _check(self) -> Baseline:
        if (self.value is None) == (not self.last_year):
            raise Problems([((), "give either `value` or `last_year: true`")])
        return self


class Reference(Strict):
    """A second figure the plan compares with, e.g. the city-assigned budget target."""

    label: Text
    value: Decimal = Field(gt=0)


class Target(Strict):
    code: Annotated[str, Field(pattern=CODE, max_length=40)]
    label: Text
    compute: Compute
    comparator: Comparator = ">="
    value: Decimal | None = None  # as written in the plan; none for keep_and_raise
    judge: Literal["threshold", "keep_and_raise"] = "threshold"
    baseline: Baseline | None = None
    reference: Reference | None = None
    unit: Text | None = None
    source: str | None = None  # the plan's own words

    @model_validator(mode="after")
    def _check(self) -> Target:
        problems: list[tuple[Loc, str]] = []
        raise_ = self.judge == "keep_and_raise"
        if raise_ and self.baseline is None:
            problems.append((("baseline",), "keep_and_raise needs a baseline"))
        if not raise_ and self.baseline is not None:
            problems.append((("baseline",), "only keep_and_raise targets have a baseline"))
        if not raise_ and self.value is None:
            problems.append((("value",), "required (the plan's figure)"))
        if raise_ and self.comparator not in _LOWER:
            problems.append((("comparator",), "keep_and_raise means at least last year's: "
                                              "use >= or >"))
        kind = self.compute.kind
        if kind == "cumulative" and self.comparator not in _LOWER:
            problems.append((("comparator",), "a cumulative target is an amount to reach: "
                                              "use >= or >"))
        if kind == "flow_ytd" and self.comparator not in _UPPER:
            problems.append((("comparator",), "a flow_ytd target is a count to stay under "
                                              "(<, <= or ==); for an amount to reach use "
                                              "kind cumulative"))
        if problems:
            raise Problems(problems)
        return self


class Plan(Strict):
    """One year's plan: its targets, and when group-based targets may be judged."""

    year: int = Field(ge=2000, le=2100)
    source: str | None = None  # e.g. "Kế hoạch số 21/KH-UBND ngày 20/01/2022, mục II.3"
    # A target computed from group reports gets a verdict only once this share (%) of the
    # ward's groups has reported; before that it is "tạm tính" (provisional).
    min_coverage: Decimal = Field(default=Decimal(80), gt=0, le=100)
    targets: list[Target] = Field(default_factory=list)
