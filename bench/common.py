"""What every benchmark shares: the `--size` switch, alternating runs, min/median/max,
the table and the final JSON line, a throwaway PostgreSQL database, a statement counter.

Product and baseline runs alternate (P, B, P, B, …) so that a machine that gets busier
or quieter during the run (other engineers' tests on the same cores) shifts both alike,
and the ratio stays meaningful.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "THIDUA_TEST_POSTGRES_URL"
Size = Literal["tiny", "full"]


def arguments(description: str, default_runs: int = 3) -> argparse.Namespace:
    """`--size tiny|full` (tiny finishes in seconds: for tests/test_bench.py) and `--runs`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", choices=["tiny", "full"], default="full")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"runs of each side (default {default_runs}; 2 on tiny)")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 2 if args.size == "tiny" else default_runs
    return args


@dataclass(frozen=True)
class Spread:
    """min / median / max of one figure over the runs."""

    low: float
    mid: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))

    def as_json(self, digits: int = 4) -> dict[str, float]:
        return {"min": round(self.low, digits), "median": round(self.mid, digits),
                "max": round(self.high, digits)}

    def text(self, fmt: str = "{:.3g}") -> str:
        return "/".join(fmt.format(v) for v in (self.low, self.mid, self.high))


async def alternate(runs: int, product: Callable[[], Awaitable[dict[str, float]]],
                    baseline: Callable[[], Awaitable[dict[str, float]]],
                    ) -> tuple[dict[str, Spread], dict[str, Spread]]:
    """Run product and baseline in turn `runs` times each; each run returns named figures."""
    got: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    for _ in range(runs):
        got[0].append(await product())
        got[1].append(await baseline())
    return spreads(got[0]), spreads(got[1])


def spreads(results: list[dict[str, float]]) -> dict[str, Spread]:
    """Figure name → its spread over the runs (figures every run reported)."""
    names = [name for name in results[0] if all(name in r for r in results)]
    return {name: Spread.of([r[name] for r in results]) for name in names}


def table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Print `figure | product | baseline | goal` rows under a title."""
    head = ("figure", "product min/median/max", "baseline", "goal")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    print(f"\n{title}")
    for row in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def emit(bench: str, baseline: dict[str, Any], figures: dict[str, Any],
         ratios: dict[str, Any], **extra: Any) -> None:
    """The last line of every benchmark: what a script (or tests/test_bench.py) reads."""
    print(json.dumps({"bench": bench, "baseline": baseline, "figures": figures,
                      "ratios": ratios, **extra}, ensure_ascii=False))


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@asynccontextmanager
async def fresh_pg_database(base: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on `base`'s server for the run, dropped after."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"thidua_bench_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class StatementCounter:
    """Counts SQL statements an engine sends (the `before_cursor_execute` event)."""

    def __init__(self) -> None:
        self.count = 0
        self.active = True

    def __call__(self, *_: object) -> None:
        if self.active:
            self.count += 1


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Count statements for the block (a COMMIT is not a cursor execute, so not counted)."""
    counter = StatementCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)
