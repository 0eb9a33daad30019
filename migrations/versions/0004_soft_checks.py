"""soft checks: a mark on a report value that a soft check asked about

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 20:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_values") as batch:
        batch.add_column(sa.Column("soft_check", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_values") as batch:
        batch.drop_column("soft_check")
