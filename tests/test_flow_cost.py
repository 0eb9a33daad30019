"""What one typed answer costs the database: Lan types a figure, the bot stores it.

The monthly report is answered one message at a time by up to ~85,000 leaders, so each
answer must stay a handful of statements: who is talking (with their group and where
they are in the conversation), the report with its period and answers, the answer
written, the report's and the conversation's rows updated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ReportValue
from reporting.services import Services
from tests.conftest import Clock
from tests.helpers import register

NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (transaction control left out)."""
    engine: AsyncEngine = services.sessions.kw["bind"]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.lstrip().upper().startswith(NOT_COUNTED):
            seen.append(" ".join(sql.split())[:120])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_a_typed_answer_costs_at_most_six_statements(services: Services,
                                                          clock: Clock) -> None:
    lan = await register(services, "100", "Nguyễn Thị Lan")
    await lan.send("/baocao")
    await lan.send("120")  # the first answer: the draft exists from here on
    clock.advance(seconds=20)  # time passes, so the report's and the position's rows change
    with statements(services) as sent:
        await lan.send("118")  # cultured families
    print(f"\n{len(sent)} statements per typed answer:\n" + "\n".join(sent))
    assert "Câu 3/12" in lan.last_text
    assert len(sent) <= 6, sent
    async with services.sessions() as s:
        stored = {v.indicator: v.value for v in await s.scalars(select(ReportValue))}
    assert stored == {"households": "120", "cultured_families": "118"}
