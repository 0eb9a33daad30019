"""The ward's plan: groups, calendar, indicators, rules, targets and good deeds.

Loaded once at start from YAML and validated completely, so that a mistake stops
start-up with the file, the key and the reason instead of surfacing mid-conversation.
`Settings` is the whole of config.yaml: this plan plus the runtime sections (`bot`,
`schedule`, `delivery`) from `reporting.runtime_config`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator, model_validator

from models.group_history import GroupHistory
from reporting.address import Address
from reporting.calendar_config import Calendar as Calendar
from reporting.config_base import CODE as CODE
from reporting.config_base import Choice as Choice
from reporting.config_base import Comparator as Comparator

# `X as X`: re-exported, so `from reporting.config import ConfigError, Delivery` (the
# runtime sections compose `Settings` below) keeps working for existing callers.
from reporting.config_base import ConfigError as ConfigError
from reporting.config_base import Loc, Problems, Strict
from reporting.config_base import Text as Text
from reporting.config_changes import Changes, change_problems
from reporting.deeds_config import Category as Category
from reporting.deeds_config import GoodDeeds as GoodDeeds
from reporting.deeds_config import default_good_deeds
from reporting.group_changes import GroupChange, derive
from reporting.paperwork_config import Documents, Review, Signup, signup_problems
from reporting.plan_config import GROUP_KINDS, Plan
from reporting.plan_config import Compute as Compute
from reporting.plan_config import Target as Target
from reporting.runtime_config import BotSettings as BotSettings
from reporting.runtime_config import Delivery as Delivery
from reporting.runtime_config import Health as Health
from reporting.runtime_config import Schedule as Schedule
from reporting.soft_checks import SoftChecks

GROUP_CODE = r"^[a-z0-9][a-z0-9-]*$"
# The units a ward-level name starts with ("Phường Quyết Thắng").
WARD_UNITS = ("Phường", "Xã", "Thị trấn")
DatasetName = Literal["group_monthly", "ward_progress"]
# Who enters a dataset: each group leader for their group, or the ward office.
Source = Literal["group_leader", "ward_office"]
# How often an indicator is asked: every month (required unless `required: false`), or
# when the figure is known (health station, police, school year): never required, and
# a month without it is "not reported", not zero.
Frequency = Literal["monthly", "when_known"]


class IndicatorType(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENT = "percent"
    YES_NO = "yes_no"
    CHOICE = "choice"
    TEXT = "text"

    @property
    def numeric(self) -> bool:
        return self in (IndicatorType.INTEGER, IndicatorType.DECIMAL, IndicatorType.PERCENT)


class Indicator(Strict):
    code: Annotated[str, Field(pattern=CODE, max_length=40)]
    label: Text
    type: IndicatorType
    unit: Text | None = None
    help: Text | None = None
    required: bool = True
    min: Decimal | None = None
    max: Decimal | None = None
    choices: list[Choice] = Field(default_factory=list)
    # At most what Telegram delivers in one message: a longer answer could not be typed.
    max_length: int = Field(default=500, ge=1, le=4096)
    # A short label for buttons and summaries on a small screen.
    short: Text | None = None
    frequency: Frequency = "monthly"
    changes: Changes = "flow"  # flow | stock | title: `reporting.config_changes`
    # The example shown with the question and its errors ("120"); default by type/unit.
    example: Decimal | None = None
    # yes_no only: "met" answers a standard or title with "Đạt" / "Chưa đạt", not "Có"/"Không".
    answers: Literal["yes_no", "met"] = "yes_no"

    @model_validator(mode="before")
    @classmethod
    def _when_known_is_optional(cls, data: Any) -> Any:
        """A `when_known` figure may be skipped: `required` defaults to false for it."""
        if isinstance(data, dict) and data.get("frequency") == "when_known" \
                and "required" not in data:
            return {**data, "required": False}
        return data

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        problems: list[tuple[Loc, str]] = []
        if self.frequency == "when_known" and self.required:
            problems.append((("required",), "a 'when_known' indicator is never required "
                                            "(a month without it is not reported): remove "
                                            "'required: true' or use frequency 'monthly'"))
        if self.type is IndicatorType.CHOICE:
            if len(self.choices) < 2:
                problems.append((("choices",), "a 'choice' indicator needs at least two choices"))
            codes = [c.code for c in self.choices]
            if len(set(codes)) != len(codes):
                problems.append((("choices",), "choice codes must be unique"))
        if self.answers != "yes_no" and self.type is not IndicatorType.YES_NO:
            problems.append((("answers",), f"'answers' only applies to type 'yes_no', not "
                                           f"'{self.type}'"))
        if self.type is not IndicatorType.CHOICE and self.choices:
            problems.append((("choices",),
                             f"'choices' only applies to type 'choice', not '{self.type}'"))
        for key, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and not self.type.numeric:
                problems.append(((key,), f"'min'/'max' only apply to numeric types "
                                         f"(integer, decimal, percent), not '{self.type}'"))
        if self.min is not None and self.max is not None and self.min > self.max:
            problems.append((("min",), f"min ({self.min}) is greater than max ({self.max})"))
        problems += self._example_problems()
        if problems:
            raise Problems(problems)
        return self

    def _example_problems(self) -> list[tuple[Loc, str]]:
        ex = self.example
        if ex is None:
            return []
        if not self.type.numeric:
            return [(("example",), f"'example' only applies to numeric types, not '{self.type}'")]
        if not ex.is_finite() or (self.type is IndicatorType.INTEGER
                                  and ex != ex.to_integral_value()):
            return [(("example",), f"example {ex} is not a whole number")]
        exponent = ex.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            return [(("example",), f"example {ex} has more than 4 decimals")]
        low, high = self.lower, self.upper
        if (low is not None and ex < low) or (high is not None and ex > high):
            return [(("example",), f"example {ex} is outside min/max")]
        return []

    @property
    def lower(self) -> Decimal | None:
        if self.min is not None:
            return self.min
        # Counts and percentages are never negative unless the ward says otherwise.
        return Decimal(0) if self.type.numeric else None

    @property
    def upper(self) -> Decimal | None:
        if self.max is not None:
            return self.max
        return Decimal(100) if self.type is IndicatorType.PERCENT else None

    def short_label(self, lang: str) -> str:
        return (self.short or self.label).get(lang)


_RULE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>|==)\s*([a-z][a-z0-9_]*)\s*$")


class Rule(Strict):
    """A cross-field rule inside one report, written `left <= right`."""

    left: str
    op: Comparator
    right: str

    @classmethod
    def parse(cls, text: str) -> Rule:
        m = _RULE.match(text)
        if not m:
            raise ValueError(
                f"rule {text!r} is not of the form 'indicator_a <= indicator_b' "
                "(operators: <, <=, >, >=, ==)"
            )
        return cls(left=m.group(1), op=m.group(2), right=m.group(3))


def _rule_from_text(value: Any) -> Any:
    return Rule.parse(value) if isinstance(value, str) else value


def _duplicates(codes: list[str], key: str) -> list[tuple[Loc, str]]:
    """`(key, n, "code")` for every repeat of a code, naming where it was first used."""
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for n, code in enumerate(codes):
        if code in first:
            problems.append(((key, n, "code"),
                             f"duplicate code '{code}' (already used by {key}[{first[code]}])"))
        else:
            first[code] = n
    return problems


class Dataset(Strict):
    label: Text
    source: Source
    indicators: list[Indicator] = Field(min_length=1)
    # One rule per item, so every malformed rule is reported at its own index.
    rules: list[Annotated[Rule, BeforeValidator(_rule_from_text)]] = Field(default_factory=list)
    # Figures asked about again (far from last month, above a soft maximum), not refused.
    soft_checks: SoftChecks = Field(default_factory=SoftChecks)
    title_month: int | None = Field(default=None, ge=1, le=12)  # titles asked this month

    @model_validator(mode="after")
    def _check(self) -> Dataset:
        problems = _duplicates([i.code for i in self.indicators], "indicators")
        if self.source == "group_leader":
            # A leader is asked every question every month; "when known" figures come
            # from elsewhere (health station, police, school) through the ward office.
            problems += [(("indicators", n, "frequency"),
                          "'when_known' is only for figures the ward office enters "
                          "(source 'ward_office'); a group leader answers every month")
                         for n, i in enumerate(self.indicators)
                         if i.frequency == "when_known"]
        problems += change_problems(self.indicators, self.title_month)
        by_code = {i.code: i for i in self.indicators}
        for n, rule in enumerate(self.rules):
            text = f"rule '{rule.left} {rule.op} {rule.right}'"
            for side in (rule.left, rule.right):
                if side not in by_code:
                    problems.append((("rules", n), f"{text}: unknown indicator '{side}'"))
                elif not by_code[side].type.numeric:
                    problems.append((("rules", n), f"{text}: '{side}' is not numeric"))
        problems += [(("soft_checks", *loc), msg) for loc, msg in self.soft_checks.problems(
            {c: (i.type.numeric, i.upper) for c, i in by_code.items()})]
        if problems:
            raise Problems(problems)
        return self

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)


class Group(Strict):
    code: Annotated[str, Field(pattern=GROUP_CODE, max_length=32)]
    name: str = Field(min_length=1, max_length=100)


class Ward(Strict):
    code: Annotated[str, Field(pattern=GROUP_CODE)]
    name: str = Field(min_length=1)
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def start_of(self, day: date) -> datetime:
        """The UTC moment the ward's local `day` begins (stored times are UTC)."""
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    @property
    def unit(self) -> str:
        """The administrative unit the name starts with, lower case: "phường"."""
        return next((u.lower() for u in WARD_UNITS if self.name.startswith(u + " ")),
                    "phường")

    @property
    def place(self) -> str:
        """The name without its unit: "Quyết Thắng" (the place of a document's date)."""
        return next((self.name[len(u) + 1:] for u in WARD_UNITS
                     if self.name.startswith(u + " ")), self.name)

    @property
    def mid(self) -> str:
        """The name mid-sentence (Nghị định 30/2020): "phường Quyết Thắng"."""
        return self.name if self.place == self.name else f"{self.unit} {self.place}"


_SOURCES: dict[str, Source] = {"group_monthly": "group_leader",
                               "ward_progress": "ward_office"}
_WHO: dict[Source, str] = {"group_leader": "group leaders", "ward_office": "ward office"}


class Settings(Strict):
    ward: Ward
    # How members are addressed in greetings and thanks, per role ("đồng chí Lan").
    address: Address = Field(default_factory=Address)
    bot: BotSettings = Field(default_factory=BotSettings)
    good_deeds: GoodDeeds = Field(default_factory=default_good_deeds)
    schedule: Schedule = Field(default_factory=Schedule)
    delivery: Delivery = Field(default_factory=Delivery)
    health: Health = Field(default_factory=Health)
    groups: list[Group] = Field(min_length=1)
    # Renames, merges and splits from a given month (`reporting.group_changes`).
    group_changes: list[GroupChange] = Field(default_factory=list)
    calendar: Calendar = Field(default_factory=Calendar)
    datasets: dict[DatasetName, Dataset]
    # The plan of each year (the targets of section II.3 of the 2022 plan, and so on).
    plans: list[Plan] = Field(default_factory=list)
    # The paperwork: documents' issuer and signer, the year's sign-up, the year's review.
    documents: Documents = Field(default_factory=Documents)
    signup: Signup = Field(default_factory=Signup)
    review: Review = Field(default_factory=Review)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        problems = _duplicates([g.code for g in self.groups], "groups")
        problems += derive(self.group_pairs, self.group_changes)[1]
        if "group_monthly" not in self.datasets:
            problems.append((("datasets",), "'group_monthly' is required"))
        for name, ds in self.datasets.items():
            expected = _SOURCES[name]
            if ds.source != expected:
                problems.append((("datasets", name, "source"),
                                 f"'{name}' is entered by the {_WHO[expected]}: its source "
                                 f"must be '{expected}', got '{ds.source}'"))
        problems += _duplicates([str(p.year) for p in self.plans], "plans")
        for n, plan in enumerate(self.plans):
            problems += [(("plans", n, *loc), msg)
                         for loc, msg in _duplicates([t.code for t in plan.targets], "targets")]
            for m, t in enumerate(plan.targets):
                problems += [(("plans", n, "targets", m, "compute", *loc), msg)
                             for loc, msg in self._check_target(t)]
        if "group_monthly" in self.datasets:
            problems += signup_problems(self.signup, {
                i.code: i.type.value for i in self.report.indicators})
        if problems:
            raise Problems(problems)
        return self

    def _check_target(self, t: Target) -> list[tuple[Loc, str]]:
        c = t.compute
        problems: list[tuple[Loc, str]] = []
        for key, ref in (("indicator", c.indicator), ("numerator", c.numerator),
                         ("denominator", c.denominator)):
            if ref is None:
                continue
            found = self.indicator(ref)
            if found is None:
                where = "'group_monthly'" if c.kind in GROUP_KINDS else \
                    "'group_monthly' or 'ward_progress'"
                problems.append(((key,), f"unknown indicator '{ref}' in {where}"))
                continue
            ds_name, ind = found
            if c.kind in GROUP_KINDS and ds_name != "group_monthly":
                problems.append(((key,), f"'{c.kind}' is computed from the groups' reports: "
                                         f"'{ref}' is in '{ds_name}'"))
            if c.kind == "share_of_groups" and ind.type is not IndicatorType.YES_NO:
                problems.append(((key,), f"share_of_groups needs a yes_no indicator, "
                                         f"'{ref}' is {ind.type}"))
            if c.kind != "share_of_groups" and not ind.type.numeric:
                problems.append(((key,), f"'{ref}' is not numeric"))
        return problems

    def indicator(self, code: str) -> tuple[DatasetName, Indicator] | None:
        """Where an indicator is asked (the groups' data set first), or None."""
        names: tuple[DatasetName, ...] = ("group_monthly", "ward_progress")
        for name in names:
            ds = self.datasets.get(name)
            if ds is not None and any(i.code == code for i in ds.indicators):
                return name, ds.indicator(code)
        return None

    def plan(self, year: int) -> Plan | None:
        """The plan of `year`, None when the config has none for it."""
        return next((p for p in self.plans if p.year == year), None)

    @property
    def report(self) -> Dataset:
        return self.datasets["group_monthly"]

    def group(self, code: str) -> Group | None:
        return next((g for g in self.groups if g.code == code), None)

    @property
    def group_pairs(self) -> list[tuple[str, str]]:
        """(code, name) of each configured group, as `models.queries.sync_groups` takes."""
        return [(g.code, g.name) for g in self.groups]

    @property
    def group_history(self) -> GroupHistory:
        """Every group over time and the changes between them (`sync_groups` takes it)."""
        return derive(self.group_pairs, self.group_changes)[0]
