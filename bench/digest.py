"""The digest at 15, 1,500 and 15,000 groups × 12 months on PostgreSQL: the product's
`reporting.digest_load.build_digest` against one hand-written SQL aggregate.

    THIDUA_TEST_POSTGRES_URL=postgresql+asyncpg://… python -m bench.digest [--size tiny|full]

Each size gets a fresh database (created and dropped here), migrated, then filled with
COPY (groups, the 12 periods of 2022, a report per group and month, its 12 values): in
December 80% of groups submitted (one in ten of them late), 10% left a draft, 10% sent
nothing; in the other months 90% submitted. Then, alternating, December's digest is
built and the hand SQL run, on the same engine. The hand SQL gives what the digest's
completeness and targets are made of (how many groups submitted, drafted, were late or
missing; per month and indicator the sum of the figures and the count of "yes"); the
run stops if it and the digest disagree on completeness, since the comparison would then
mean nothing. The statements `build_digest` issues are counted (engine event).
Issue 14's goals: 1,500 groups < 150 ms and ≤ 1.5× the SQL; 15,000 groups < 1 s.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import (
    ROOT,
    alternate,
    arguments,
    counting,
    emit,
    fresh_pg_database,
    pg_url,
    table,
)
from models.db import make_engine, make_sessions, upgrade
from reporting.config import Group as GroupConfig
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.digest_load import build_digest
from reporting.periods import period_dates

YEAR = 2022
SIZES = {"tiny": [15, 150], "full": [15, 1_500, 15_000]}
NUMBERS = {"households": (80, 300), "cultured_families": (60, 290), "residents": (300, 1200),
           "health_insured": (250, 1150), "internet_users": (250, 1150),
           "children_under_5": (10, 60), "children_under_6": (60, 90)}
YES_NO = ("safe_area", "drug_free", "cultured_group")

HAND_SQL = text("""
WITH months AS (SELECT id, key FROM periods WHERE key BETWEEN :first AND :last),
december AS (
    SELECT r.status, r.late FROM groups g
    LEFT JOIN reports r ON r.group_id = g.id AND r.dataset = 'group_monthly'
         AND r.period_id = (SELECT id FROM periods WHERE key = :last)
    WHERE g.active)
SELECT 'state' AS kind, coalesce(status, 'missing') AS name, CAST(late AS text) AS indicator,
       CAST(count(*) AS numeric) AS total, NULL::bigint AS yes
FROM december GROUP BY status, late
UNION ALL
SELECT 'sum', m.key, v.indicator, sum(v.number), count(*) FILTER (WHERE v.value = 'yes')
FROM months m
JOIN reports r ON r.period_id = m.id AND r.dataset = 'group_monthly' AND r.status = 'submitted'
JOIN report_values v ON v.report_id = r.id
GROUP BY m.key, v.indicator
""")


def ward_of(settings: Settings, groups: int) -> Settings:
    """The shipped config with `groups` generated groups instead of its 15."""
    made = [GroupConfig(code=f"g-{i:05d}", name=f"Tổ {i}") for i in range(1, groups + 1)]
    return settings.model_copy(update={"groups": made})


def _values(rng: random.Random, report_id: int, at: datetime,
            start: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for offset, (code, (low, high)) in enumerate(NUMBERS.items()):
        n = rng.randint(low, high)
        rows.append((start + offset, report_id, code, str(n), Decimal(n), at))
    for offset, code in enumerate(YES_NO, start=len(NUMBERS)):
        answer = "yes" if rng.random() < 0.8 else "no"
        rows.append((start + offset, report_id, code, answer, Decimal(answer == "yes"), at))
    base = len(NUMBERS) + len(YES_NO)
    rows.append((start + base, report_id, "sanitation", rng.choice(["good", "fair"]), None, at))
    rows.append((start + base + 1, report_id, "notes", None, None, at))
    return rows


async def load(url: str, settings: Settings, groups: int) -> int:
    """Migrate, then COPY the year in; returns how many value rows were written."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    rng = random.Random(14)
    periods: list[tuple[Any, ...]] = []
    reports: list[tuple[Any, ...]] = []
    values: list[tuple[Any, ...]] = []
    for month in range(1, 13):
        p = period_dates(settings.calendar, YEAR, month)
        periods.append((month, p.key, p.opens_on, p.due_on, p.locks_on))
        due = datetime.combine(p.due_on, datetime.min.time(), UTC)
        for g in range(1, groups + 1):
            draw = rng.random()
            submitted = draw < (0.8 if month == 12 else 0.9)
            if not submitted and draw >= (0.9 if month == 12 else 1.0):
                continue  # this group sent nothing this month
            late = submitted and rng.random() < 0.1
            at = due + timedelta(days=1 if late else -2)
            report_id = len(reports) + 1
            reports.append((report_id, g, month, "group_monthly",
                            "submitted" if submitted else "draft", late,
                            at if submitted else None, at, at))
            values.extend(_values(rng, report_id, at, len(values) + 1))
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql")
                                 .render_as_string(hide_password=False))
    try:
        await conn.copy_records_to_table(
            "groups", columns=["id", "code", "name", "active"],
            records=[(i, g.code, g.name, True)
                     for i, g in enumerate(settings.groups, start=1)])
        await conn.copy_records_to_table(
            "periods", columns=["id", "key", "opens_on", "due_on", "locks_on"], records=periods)
        await conn.copy_records_to_table(
            "reports", columns=["id", "group_id", "period_id", "dataset", "status", "late",
                                "submitted_at", "created_at", "updated_at"], records=reports)
        await conn.copy_records_to_table(
            "report_values", columns=["id", "report_id", "indicator", "value", "number",
                                      "updated_at"], records=values)
        for name in ("groups", "periods", "reports", "report_values"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                               f"(SELECT max(id) FROM {name}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return len(values)


def completeness(states: Counter[str]) -> dict[str, int]:
    return {k: states[k] for k in ("submitted", "draft", "missing", "late")}


def targets_from_sql(settings: Settings, month_key: str, states: Counter[str],
                     sums: dict[tuple[str, str], tuple[Decimal, int]]) -> dict[str, float]:
    """The month's ratio and share-of-groups targets (% as `reporting.targets` computes
    them: every generated report has every figure) from the hand SQL's sums."""
    plan = settings.plan(YEAR)
    assert plan is not None
    groups = sum(states[k] for k in ("submitted", "draft", "missing"))
    out: dict[str, float] = {}
    for t in plan.targets:
        c = t.compute
        if c.kind == "ratio" and c.numerator and c.denominator:
            top, under = sums.get((month_key, c.numerator)), sums.get((month_key, c.denominator))
            if top and under and under[0]:
                out[t.code] = round(float(100 * top[0] / under[0]), 6)
        elif c.kind == "share_of_groups" and c.indicator and groups:
            yes = sums.get((month_key, c.indicator), (Decimal(0), 0))[1]
            out[t.code] = round(100 * yes / groups, 6)
    return out


async def one_size(base: str, settings: Settings, groups: int,
                   runs: int) -> dict[str, Any]:
    ward = ward_of(settings, groups)
    december = period_dates(ward.calendar, YEAR, 12)
    async with fresh_pg_database(base) as url:
        started = time.perf_counter()
        rows = await load(url, ward, groups)
        loaded = time.perf_counter() - started
        engine = make_engine(url)
        sessions = make_sessions(engine)
        seen: dict[str, dict[str, int]] = {}
        targets: dict[str, dict[str, float]] = {}
        try:
            async def product() -> dict[str, float]:
                with counting(engine) as statements:
                    t0 = time.perf_counter()
                    async with sessions() as s:
                        digest = await build_digest(s, ward, december, december.due_on)
                    took = time.perf_counter() - t0
                states = Counter(g.state for g in digest.groups)
                states["late"] = sum(1 for g in digest.groups if g.submitted and g.late)
                seen["digest"] = completeness(states)
                judged = {r.target.code: round(float(r.value), 6) for r in digest.targets
                          if r.value is not None and r.target.compute.kind in
                          ("ratio", "share_of_groups")}
                targets["digest"] = judged
                return {"seconds": took, "statements": statements.count}

            async def baseline() -> dict[str, float]:
                t0 = time.perf_counter()
                async with sessions() as s:
                    result = (await s.execute(HAND_SQL, {"first": f"{YEAR}-01",
                                                         "last": december.key})).all()
                took = time.perf_counter() - t0
                states: Counter[str] = Counter()
                sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
                for kind, name, indicator, total, yes in result:
                    if kind == "state":
                        states[name] += int(total)
                        states["late"] += int(total) if indicator == "true" else 0
                    else:
                        sums[(name, indicator)] = (total or Decimal(0), int(yes))
                seen["sql"] = completeness(states)
                targets["sql"] = targets_from_sql(ward, december.key, states, sums)
                return {"seconds": took}

            await product(), await baseline()  # warm: connections, plans, imports
            ours, hand = await alternate(runs, product, baseline)
        finally:
            await engine.dispose()
    if seen["digest"] != seen["sql"]:
        sys.exit(f"digest and hand SQL disagree on completeness at {groups} groups: {seen}")
    if targets["digest"] != targets["sql"]:
        sys.exit(f"digest and hand SQL disagree on targets at {groups} groups: {targets}")
    return {"groups": groups, "value_rows": rows, "load_s": round(loaded, 2),
            "digest_s": ours["seconds"], "sql_s": hand["seconds"],
            "statements": ours["statements"].mid, "completeness": seen["sql"],
            "targets_checked": len(targets["sql"])}


async def main() -> None:
    args = arguments(__doc__ or "")
    base = pg_url()
    if base is None:
        sys.exit("bench.digest needs PostgreSQL: set THIDUA_TEST_POSTGRES_URL")
    settings = load_settings(ROOT / "config.yaml")
    results = [await one_size(base, settings, n, args.runs) for n in SIZES[args.size]]
    goals = {15: "—", 150: "—", 1_500: "< 150 ms, ≤ 1.5×", 15_000: "< 1 s"}
    rows = []
    for r in results:
        ratio = r["digest_s"].mid / r["sql_s"].mid
        rows.append((f"digest, {r['groups']:,} groups × 12 months (s)",
                     f"{r['digest_s'].text('{:.3f}')} ({ratio:.1f}×, "
                     f"{r['statements']:.0f} statements)",
                     r["sql_s"].text("{:.3f}"), goals[r["groups"]]))
    table(f"December {YEAR} digest vs one SQL aggregate, PostgreSQL, {args.runs} runs each",
          rows)
    for r in results:
        print(f"  {r['groups']:,} groups: {r['value_rows']:,} value rows loaded in "
              f"{r['load_s']} s; completeness {r['completeness']} and "
              f"{r['targets_checked']} ratio/share targets: digest = SQL")
    key = {r["groups"]: r for r in results}
    emit("digest",
         {str(n): {"sql_s": r["sql_s"].as_json()} for n, r in key.items()},
         {str(n): {"digest_s": r["digest_s"].as_json(), "statements": r["statements"],
                   "completeness": r["completeness"], "value_rows": r["value_rows"]}
          for n, r in key.items()},
         {str(n): round(r["digest_s"].mid / r["sql_s"].mid, 1) for n, r in key.items()},
         size=args.size, runs=args.runs)


if __name__ == "__main__":
    asyncio.run(main())
