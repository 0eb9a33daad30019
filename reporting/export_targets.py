"""The workbook's targets sheet: the digest's full table, one row a target, and a total.

The same `TargetResult`s as the digest (`reporting.targets`), so a number or a verdict
never differs between the two; the last row counts the verdicts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from reporting.config import Settings, Target
from reporting.digest import TargetResult, places_for
from reporting.digest_load import target_results
from reporting.export_cells import INT_FORMAT, Cell, Num
from reporting.numbers import format_number
from reporting.periods import PeriodDates
from reporting.targets import Verdict

LANG = "vi"

# The verdict as the digest gives it: "on track" is not "met" before the year is over,
# and "provisional" (too few groups reported) is not "no data".
VERDICTS: dict[Verdict, str] = {
    Verdict.MET: "Đạt", Verdict.ON_TRACK: "Đúng tiến độ", Verdict.BEHIND: "Chậm tiến độ",
    Verdict.NOT_MET: "Chưa đạt", Verdict.PROVISIONAL: "Tạm tính",
    Verdict.NO_DATA: "Chưa có số liệu",
}
SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}


def target_format(t: Target) -> str:
    """The Excel format showing a target's value like the digest does (`places_for`)."""
    places = places_for(t)
    fmt = INT_FORMAT + ("." + "0" * places if places else "")
    return fmt + '"%"' if t.unit and t.unit.vi == "%" else fmt


def _target_number(t: Target, value: Decimal | None) -> Cell:
    return None if value is None else Num(float(value), target_format(t))


def requirement(t: Target, goal: Decimal | None = None) -> str:
    """"≥ 98%", "= 0", "≥ 10.082": the plan's requirement, in Vietnamese numbers (as
    the digest writes it; `add_sheet` keeps "= 0" text, `write_csv` quotes it); `goal`:
    last year's rate for a keep-and-raise target."""
    goal = goal if goal is not None else t.value
    if goal is None:
        return f"{SIGNS[t.comparator]} năm trước"
    text = format_number(goal, LANG, places_for(t))
    return f"{SIGNS[t.comparator]} {text}{'%' if t.unit and t.unit.vi == '%' else ''}"


def based_on(r: TargetResult) -> str | None:
    if r.target.compute.kind == "latest":
        return "Số liệu mới nhất" if r.value is not None else None
    unit = {"groups": "tổ, bản", "months": "tháng", "reports": "báo cáo"}[r.unit_of_count]
    return f"{r.based_on}/{r.of_total} {unit}"


def verdict_text(r: TargetResult) -> str:
    """"Đạt", "Tạm tính"…; a keep-and-raise value without last year's to compare with
    says so rather than "no data"."""
    if r.verdict is Verdict.NO_DATA and r.value is not None and r.goal is None:
        return "Chưa có số liệu năm trước"
    return VERDICTS[r.verdict]


def target_rows(results: list[TargetResult]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for r in results:
        t = r.target
        rows.append([t.code, t.label.get(LANG), _target_number(t, r.value),
                     requirement(t, r.goal), _target_number(t, r.goal),
                     t.unit.get(LANG) if t.unit else None, verdict_text(r), based_on(r),
                     _target_number(t, r.previous)])
    if results:
        rows.append([None, f"Tổng cộng: {len(results)} chỉ tiêu", None, None, None, None,
                     verdict_totals(results), None, None])
    return rows


def verdict_counts(results: list[TargetResult]) -> list[tuple[int, str]]:
    """[(10, "Đạt"), (2, "Đúng tiến độ"), …]: how many targets have each verdict, in the
    digest's order, leaving out verdicts no target has."""
    counted = Counter(r.verdict for r in results)
    return [(counted[v], VERDICTS[v]) for v in Verdict if counted[v]]


def verdict_totals(results: list[TargetResult]) -> str:
    """"10 Đạt; 2 Đúng tiến độ; …" (the workbook's line)."""
    return "; ".join(f"{n} {label}" for n, label in verdict_counts(results))


def judged_beside(session: AsyncSession, settings: Settings, period: PeriodDates,
                  ) -> asyncio.Task[list[TargetResult]] | None:
    """The month's plan judged on a connection of its own, while the session streams
    the groups: PostgreSQL sums the year for the targets as it sends the groups, and
    this process writes them. None on SQLite (one writer, and little to gain) or on a
    session tied to one connection: the plan is then judged after the stream."""
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "postgresql":
        return None

    async def judge() -> list[TargetResult]:
        async with AsyncSession(bind) as own:
            return await target_results(own, settings, period)
    return asyncio.create_task(judge())
