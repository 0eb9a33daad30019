"""ix_report_values_flagged: the values a soft check asked about, without the rest

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-05 16:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None

FLAGGED = sa.text("soft_check IS NOT NULL")


def upgrade() -> None:
    # Partial: the digest asks a month's reports for their flagged values; a full scan of
    # each report's dozen values cost 0.2 s at 15,000 groups, this index holds a few rows.
    op.create_index("ix_report_values_flagged", "report_values", ["report_id"],
                    unique=False, sqlite_where=FLAGGED, postgresql_where=FLAGGED)


def downgrade() -> None:
    op.drop_index("ix_report_values_flagged", table_name="report_values")
