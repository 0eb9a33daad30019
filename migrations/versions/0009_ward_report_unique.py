"""ward report unique: one ward report per period, and a version for shared drafts

The unique constraint (group_id, period_id, dataset) never held the ward's own report:
its group_id is NULL, and NULLs do not collide, so two admins starting `/baocao` at
once could make two. Existing duplicates are merged first, into the report to keep (the
submitted one, else the earliest): answers it lacks and every audit row move to it, the
rest is deleted, and conversations pointing at a deleted report point at the kept one.
Then a partial unique index (`WHERE group_id IS NULL`, on both databases) holds it.

`version` on reports and their values lets several editors share one draft: each change
bumps the report's version and stamps the value with it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 11:00:00.000000
"""

from __future__ import annotations

import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("reports", "report_values"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                       server_default="0"))
    _merge_ward_duplicates(op.get_bind())
    op.create_index("uq_reports_ward_period", "reports", ["period_id", "dataset"],
                    unique=True, sqlite_where=sa.text("group_id IS NULL"),
                    postgresql_where=sa.text("group_id IS NULL"))


def _merge_ward_duplicates(conn: sa.Connection) -> None:
    rows = conn.execute(sa.text(
        "SELECT id, period_id, dataset FROM reports WHERE group_id IS NULL "
        # The report to keep comes first: submitted, then the earliest submission or start.
        "ORDER BY period_id, dataset, CASE WHEN status = 'submitted' THEN 0 ELSE 1 END, "
        "submitted_at, created_at, id")).all()
    by_owner: dict[tuple[int, str], list[int]] = defaultdict(list)
    for rid, period_id, dataset in rows:
        by_owner[(period_id, dataset)].append(rid)
    moved: dict[int, int] = {}  # deleted report id → kept report id
    for keep, *others in by_owner.values():
        for other in others:
            # Answers the kept report lacks move over; its own answers stand.
            conn.execute(sa.text(
                "UPDATE report_values SET report_id = :keep WHERE report_id = :other "
                "AND indicator NOT IN (SELECT indicator FROM report_values WHERE report_id = :keep)"
            ), {"keep": keep, "other": other})
            conn.execute(sa.text("UPDATE audit_log SET report_id = :keep WHERE report_id = :other"),
                         {"keep": keep, "other": other})
            conn.execute(sa.text("DELETE FROM report_values WHERE report_id = :other"),
                         {"other": other})
            conn.execute(sa.text("DELETE FROM reports WHERE id = :other"), {"other": other})
            moved[other] = keep
    if moved:
        _repoint_conversations(conn, moved)


def _repoint_conversations(conn: sa.Connection, moved: dict[int, int]) -> None:
    """A conversation in a deleted report continues in the kept one."""
    convs = conn.execute(sa.text("SELECT id, data FROM conversations WHERE flow = 'report'")).all()
    for cid, raw in convs:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        if data.get("report_id") in moved:
            data["report_id"] = moved[data["report_id"]]
            data.pop("seen", None)
            conn.execute(sa.text("UPDATE conversations SET data = :data WHERE id = :id")
                         .bindparams(sa.bindparam("data", type_=sa.JSON())),
                         {"data": data, "id": cid})


def downgrade() -> None:
    op.drop_index("uq_reports_ward_period", "reports")
    for table in ("report_values", "reports"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
