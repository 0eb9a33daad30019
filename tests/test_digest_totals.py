"""The digest's targets from totals the database sums equal the same rules worked out
here from the raw rows (issue 14: the digest aggregated in SQL).

A generated year (December 2021 for last year's baselines, then January to December
2022) on each database: the ward's 15 groups and 25 more, one of them retired (its
reports still count in year-to-date sums, not in a month's groups); each month a group
submitted on time, late, left a draft or sent nothing; figures with decimals ("0.1"
three times is 0.3, not 0.30000000000000004), negatives, blanks (None), questions never
answered (no row), words in a figure's place, "yes"/"no" and unanswered yes/no
questions; a submitted report with no value at all; the ward office's figures, with
blanks and months it entered nothing. The plan is the shipped
one with four targets more that read the groups' figures over the year (cumulative,
flow_ytd, latest, and latest kept and raised from last year's value), which the shipped
plan reads only from the ward office.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Group, Period, Report, ReportStatus, ReportValue
from reporting.config import Settings
from reporting.digest_load import build_digest, group_reports, target_results
from reporting.periods import PeriodDates, period_dates
from reporting.plan_config import Target
from reporting.services import Services
from reporting.targets import Figures, TargetResult, judge_plan

AT = datetime(2022, 6, 1, tzinfo=UTC)
MONTHS = [(2021, 12), *((2022, m) for m in range(1, 13))]
WORDS = ("abc", "", "1,5", "chưa rõ")  # words where a figure goes: not numbers
YES_NO = ("safe_area", "drug_free", "cultured_group")


def _target(code: str, kind: str, indicator: str, comparator: str, value: str | None,
            **more: Any) -> Target:
    return Target.model_validate({
        "code": code, "label": {"vi": code, "en": code}, "comparator": comparator,
        "compute": {"kind": kind, "indicator": indicator},
        "value": None if value is None else Decimal(value), **more})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shipped settings whose 2022 plan also judges groups' figures over the year."""
    plan = settings.plan(2022)
    assert plan is not None
    extra = [_target("households_built", "cumulative", "households", ">=", "20000"),
             _target("children_events", "flow_ytd", "children_under_5", "<=", "50"),
             _target("insured_latest", "latest", "health_insured", ">=", "100"),
             _target("residents_kept", "latest", "residents", ">=", None,
                     judge="keep_and_raise", baseline={"last_year": True})]
    plans = [p.model_copy(update={"targets": [*p.targets, *extra]}) if p.year == 2022 else p
             for p in settings.plans]
    return settings.model_copy(update={"plans": plans})


def _figure(rng: random.Random) -> str | None:
    draw = rng.random()
    if draw < 0.08:
        return None  # blank
    if draw < 0.12:
        return rng.choice(WORDS)
    if draw < 0.30:
        return rng.choice(["0.1", "0.25", "12.5", "-2.75", "1000000000.000001"])
    return str(rng.randint(0, 400))


async def _generate(s: AsyncSession, settings: Settings, seed: int, extra_groups: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - a reproducible year, not a secret
    await s.execute(insert(Group), [{"code": f"x-{i}", "name": f"Tổ thêm {i}", "active": i != 0}
                                    for i in range(extra_groups)])
    group_ids = list((await s.scalars(select(Group.id).order_by(Group.id))).all())
    numeric = [i.code for i in settings.report.indicators if i.code not in YES_NO]
    ward_codes = [i.code for i in settings.datasets["ward_progress"].indicators]
    for year, month in MONTHS:
        p = period_dates(settings.calendar, year, month)
        period_id = (await s.execute(insert(Period).values(
            key=p.key, opens_on=p.opens_on, due_on=p.due_on, locks_on=p.locks_on)
            .returning(Period.id))).scalar_one()
        due = datetime.combine(p.due_on, datetime.min.time(), UTC)
        for gid in group_ids:
            draw = rng.random()
            if draw < 0.2:
                continue  # nothing sent
            submitted = draw < 0.85
            late = submitted and rng.random() < 0.15
            at = due + timedelta(days=2 if late else -1)
            rid = (await s.execute(insert(Report).values(
                group_id=gid, period_id=period_id, dataset="group_monthly",
                status=ReportStatus.SUBMITTED if submitted else ReportStatus.DRAFT,
                late=late, submitted_at=at if submitted else None, created_at=at,
                updated_at=at).returning(Report.id))).scalar_one()
            if rng.random() < 0.03:
                continue  # a report with no value at all
            rows = [{"indicator": c, "value": _figure(rng)} for c in numeric
                    if rng.random() > 0.05]  # some questions never answered
            rows += [{"indicator": c, "value": rng.choice(["yes", "yes", "no", None])}
                     for c in YES_NO if rng.random() > 0.05]
            await s.execute(insert(ReportValue), [
                {**r, "report_id": rid, "updated_at": AT,
                 "soft_check": "asked" if rng.random() < 0.02 else None} for r in rows])
        if rng.random() < 0.15:
            continue  # the ward office entered nothing this month
        rid = (await s.execute(insert(Report).values(
            group_id=None, period_id=period_id, dataset="ward_progress",
            status=ReportStatus.SUBMITTED, submitted_at=AT, created_at=AT,
            updated_at=AT).returning(Report.id))).scalar_one()
        await s.execute(insert(ReportValue), [
            {"report_id": rid, "indicator": c, "value": _figure(rng), "updated_at": AT}
            for c in ward_codes if rng.random() > 0.2])


@dataclass(frozen=True)
class Raw:
    """Every row of the year, as plain tuples: what the expectations are computed from."""

    shown: dict[str, set[int]]  # period key → the groups of that month
    reports: list[tuple[str, int, int | None, str, str]]  # key, id, group, dataset, status
    values: dict[int, dict[str, str | None]]  # report id → indicator → value

    def submitted(self, dataset: str, keys: list[str]) -> list[tuple[str, int, int | None]]:
        return sorted((k, rid, g) for k, rid, g, d, st in self.reports
                      if d == dataset and st == "submitted" and k in keys)


async def _raw(s: AsyncSession) -> Raw:
    groups = (await s.execute(select(Group.id, Group.active, Group.valid_from,
                                     Group.valid_until))).all()
    keys = list((await s.scalars(select(Period.key))).all())
    shown = {k: {g for g, active, since, until in groups
                  if (since is None or since <= k) and (until is None or until > k)
                  and (active or until is not None)} for k in keys}
    reports = [tuple(r) for r in (await s.execute(
        select(Period.key, Report.id, Report.group_id, Report.dataset, Report.status)
        .join(Period, Period.id == Report.period_id))).all()]
    values: dict[int, dict[str, str | None]] = {}
    for rid, code, value in (await s.execute(
            select(ReportValue.report_id, ReportValue.indicator, ReportValue.value))).all():
        values.setdefault(rid, {})[code] = value
    return Raw(shown, reports, values)  # type: ignore[arg-type]


def _num(value: str | None) -> Decimal | None:
    """A stored number: canonical digits, an optional minus and fraction."""
    if value is None or not value or value.strip() != value:
        return None
    body = value[1:] if value.startswith("-") else value
    whole, _, fraction = body.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or body.endswith("."):
        return None
    return Decimal(value)


def _months(p: PeriodDates) -> list[str]:
    return [f"{p.year:04d}-{m:02d}" for m in range(1, p.month + 1)]


def expected(raw: Raw, settings: Settings, p: PeriodDates) -> dict[str, tuple[Any, ...]]:
    """Target code → (value, based on, out of), each rule worked out from the raw rows."""
    plan = settings.plan(2022)
    assert plan is not None
    group_codes = {i.code for i in settings.report.indicators}
    month = [raw.values.get(rid, {}) for _, rid, g in raw.submitted("group_monthly", [p.key])
             if g in raw.shown[p.key]]
    total = len(raw.shown[p.key])
    year = [raw.values[rid] for _, rid, _ in raw.submitted("group_monthly", _months(p))
            if rid in raw.values]
    ward: list[dict[str, str | None]] = []
    for key in _months(p):
        merged: dict[str, str | None] = {}
        for _, rid, _ in raw.submitted("ward_progress", [key]):
            merged.update(raw.values.get(rid, {}))
        ward.append(merged)
    out: dict[str, tuple[Any, ...]] = {}
    for t in plan.targets:
        c = t.compute
        if c.kind == "ratio":
            both = [(_num(v.get(c.numerator or "")), _num(v.get(c.denominator or "")))
                    for v in month]
            usable = [(n, d) for n, d in both if n is not None and d is not None]
            under = sum(d for _, d in usable)
            value = 100 * sum(n for n, _ in usable) / under if usable and under else None
            out[t.code] = (value, len(usable), total)
        elif c.kind == "share_of_groups":
            answers = [v.get(c.indicator or "") for v in month]
            known = sum(a in ("yes", "no") for a in answers)
            value = Decimal(100) * answers.count("yes") / total if known else None
            out[t.code] = (value, known, total)
        else:
            rows = year if c.indicator in group_codes else ward
            numbers = [n for r in rows if (n := _num(r.get(c.indicator or ""))) is not None]
            if c.kind == "latest":
                out[t.code] = (numbers[-1] if numbers else None, int(bool(numbers)), 1)
            else:
                out[t.code] = (sum(numbers) if numbers else None, len(numbers), len(rows))
    return out


def listed(raw: Raw, settings: Settings, p: PeriodDates) -> Figures:
    """The month as lists of reports, as the digest loaded it before (every value)."""
    month = [raw.values.get(rid, {}) for _, rid, g in raw.submitted("group_monthly", [p.key])
             if g in raw.shown[p.key]]
    ward = []
    for key in _months(p):
        merged: dict[str, str | None] = {}
        for _, rid, _ in raw.submitted("ward_progress", [key]):
            merged.update(raw.values.get(rid, {}))
        ward.append(merged)
    return Figures(p.month, len(raw.shown[p.key]), month,
                   [raw.values[rid] for _, rid, _ in raw.submitted("group_monthly", _months(p))
                    if rid in raw.values], ward,
                   frozenset(i.code for i in settings.report.indicators))


def _seen(results: list[TargetResult]) -> dict[str, tuple[Any, ...]]:
    return {r.target.code: (r.value, r.based_on, r.of_total) for r in results}


@pytest.mark.parametrize("month", [12, 3, 1])
async def test_targets_from_sql_totals_equal_the_raw_rows(services: Services,
                                                          month: int) -> None:
    settings = services.settings
    async with services.sessions() as s, s.begin():
        await _generate(s, settings, seed=month, extra_groups=25)
    p = period_dates(settings.calendar, 2022, month)
    prev = period_dates(settings.calendar, *((2021, 12) if month == 1 else (2022, month - 1)))
    async with services.sessions() as s:
        raw = await _raw(s)
        results = await target_results(s, settings, p)
        states = await group_reports(s, p.key, values=False)
    want = expected(raw, settings, p)
    assert _seen(results) == want
    # Not a vacuous equality: the year has numbers, decimals and answers for every rule.
    assert all(want[code][0] is not None for code in ("health_insurance_rate",
               "cultured_groups_rate", "households_built", "children_events",
               "insured_latest", "residents_kept"))
    # Verdicts, last month's values and last year's baselines as the list-based rules
    # give them from every value: the same results, field for field.
    plan = settings.plan(2022)
    assert plan is not None
    december = period_dates(settings.calendar, 2021, 12)
    before = judge_plan(plan, listed(raw, settings, prev))
    baselines = {r.target.code: r.value for r in judge_plan(plan, listed(raw, settings,
                                                                          december))}
    assert results == judge_plan(plan, listed(raw, settings, p),
                                 previous={r.target.code: r.value for r in before},
                                 baselines=baselines)
    # Completeness from narrow rows: each shown group's state as its report has it.
    by_group = {g: st for k, _, g, d, st in raw.reports if k == p.key and d == "group_monthly"}
    assert len(states) == len(raw.shown[p.key]) == 39  # 15 + 25, one retired
    assert sorted(g.state for g in states) == sorted(
        by_group.get(g, "missing") for g in raw.shown[p.key])
    assert all(g.values == {} for g in states)  # the digest reads no value


@contextmanager
def counted(s: AsyncSession) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = s.get_bind()

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _digest_statements(services: Services, p: PeriodDates) -> tuple[int, Mapping[str, Any]]:
    async with services.sessions() as s:
        with counted(s) as seen:
            digest = await build_digest(s, services.settings, p, p.due_on)
    return len(seen), {"groups": len(digest.groups), "targets": _seen(digest.targets)}


async def test_digest_statements_do_not_grow_with_the_groups(services: Services) -> None:
    settings = services.settings
    p = period_dates(settings.calendar, 2022, 12)
    async with services.sessions() as s, s.begin():
        await _generate(s, settings, seed=7, extra_groups=5)
    small, seen_small = await _digest_statements(services, p)
    async with services.sessions() as s, s.begin():
        # Six times the groups, each with a report and its values for December.
        december = await s.scalar(select(Period.id).where(Period.key == p.key))
        ids = (await s.execute(insert(Group).returning(Group.id), [
            {"code": f"y-{i}", "name": f"Tổ mới {i}", "active": True}
            for i in range(100)])).scalars().all()
        reports = (await s.execute(insert(Report).returning(Report.id), [
            {"group_id": gid, "period_id": december, "dataset": "group_monthly",
             "status": ReportStatus.SUBMITTED, "late": False, "submitted_at": AT,
             "created_at": AT, "updated_at": AT} for gid in ids])).scalars().all()
        await s.execute(insert(ReportValue), [
            {"report_id": rid, "indicator": code, "value": value, "updated_at": AT,
             "soft_check": "asked"}
            for rid in reports for code, value in (("residents", "100"),
                                                   ("health_insured", "90"),
                                                   ("safe_area", "yes"))])
    large, seen_large = await _digest_statements(services, p)
    assert seen_large["groups"] == seen_small["groups"] + 100 == 119
    assert seen_large["targets"] != seen_small["targets"]  # the new reports were counted
    assert large == small
    # Groups, reports with names, flagged values, corrections; the targets' totals
    # (group counts, yes answers, ratio sums, and per year: sums, report counts, latest
    # figures, the ward's figures); the two lists of good deeds.
    assert small <= 17
