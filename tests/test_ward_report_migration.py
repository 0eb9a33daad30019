"""Migration 0009 on a database that already holds duplicate ward reports.

Before it, two admins starting the ward's /baocao at once could make two reports for one
month (NULL group ids never collide). The migration keeps one — the submitted one, else
the earliest — moves over the answers it lacks and every audit row, points conversations
at it, and only then adds the index that refuses a second one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models.db import make_engine, upgrade

T0 = datetime(2022, 4, 3, 2, 0, tzinfo=UTC)


async def _insert(conn: AsyncConnection, table: str, **row: Any) -> int:
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    stmt = sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id")  # noqa: S608
    if "data" in row:
        stmt = stmt.bindparams(sa.bindparam("data", type_=sa.JSON()))
    return int((await conn.execute(stmt, row)).scalar_one())


async def _report(conn: AsyncConnection, period: int, status: str, minutes: int,
                  group: int | None = None) -> int:
    at = T0 + timedelta(minutes=minutes)
    return await _insert(conn, "reports", group_id=group, period_id=period,
                         dataset="ward_progress" if group is None else "group_monthly",
                         status=status, late=False, created_at=at, updated_at=at,
                         submitted_at=at if status == "submitted" else None)


async def _value(conn: AsyncConnection, report: int, indicator: str, value: str) -> None:
    await _insert(conn, "report_values", report_id=report, indicator=indicator, value=value,
                  updated_at=T0)


async def test_duplicate_ward_reports_are_merged_then_refused(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as conn:
            march = await _insert(conn, "periods", key="2022-03", opens_on=date(2022, 3, 25),
                                  due_on=date(2022, 4, 5), locks_on=date(2022, 4, 10))
            april = await _insert(conn, "periods", key="2022-04", opens_on=date(2022, 4, 25),
                                  due_on=date(2022, 5, 5), locks_on=date(2022, 5, 10))
            group = await _insert(conn, "groups", code="to-1", name="Tổ 1", active=True)
            first = await _report(conn, march, "draft", 0)  # Thảo's, started first
            sent = await _report(conn, march, "submitted", 1)  # Mai's, submitted: kept
            third = await _report(conn, march, "draft", 2)
            alone = await _report(conn, april, "draft", 0)  # no duplicate: untouched
            group_report = await _report(conn, march, "draft", 0, group=group)
            await _value(conn, first, "production_value", "1")
            await _value(conn, sent, "production_value", "2")
            await _value(conn, sent, "budget_revenue", "5")
            await _value(conn, third, "roads_asphalted", "9")
            await _insert(conn, "audit_log", report_id=third, indicator="roads_asphalted",
                          old_value="8", new_value="9", at=T0, reason="correction")
            conv = await _insert(conn, "conversations", channel="telegram", external_id="9",
                                 flow="report", step="q:3", data={"report_id": third},
                                 updated_at=T0)
        await upgrade(engine)
        async with engine.begin() as conn:
            reports = (await conn.execute(sa.text(
                "SELECT id FROM reports ORDER BY id"))).scalars().all()
            assert reports == [sent, alone, group_report]
            values: dict[str, str] = dict((await conn.execute(sa.text(
                "SELECT indicator, value FROM report_values WHERE report_id = :r"),
                {"r": sent})).all())
            # Its own figure stands; the answers it lacked came over.
            assert values == {"production_value": "2", "budget_revenue": "5",
                              "roads_asphalted": "9"}
            audit = (await conn.execute(sa.text("SELECT report_id FROM audit_log"))).scalars()
            assert audit.all() == [sent]
            data = (await conn.execute(sa.text("SELECT data FROM conversations WHERE id = :c")
                                       .columns(data=sa.JSON()), {"c": conv})).scalar_one()
            assert data["report_id"] == sent
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await _report(conn, march, "draft", 5)
        async with engine.begin() as conn:  # a group's report still has its own constraint
            other = await _insert(conn, "groups", code="to-2", name="Tổ 2", active=True)
            await _report(conn, march, "draft", 5, group=other)
    finally:
        await engine.dispose()
