"""pledges: the year's sign-up (đăng ký thi đua) per group

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"],
                                name=op.f("fk_pledges_group_id_groups")),
        sa.ForeignKeyConstraint(["registered_by"], ["members.id"],
                                name=op.f("fk_pledges_registered_by_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledges")),
        sa.UniqueConstraint("group_id", "year", name=op.f("uq_pledges_group_id")),
    )
    with op.batch_alter_table("pledges") as batch:
        batch.create_index(batch.f("ix_pledges_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pledges") as batch:
        batch.drop_index(batch.f("ix_pledges_group_id"))
    op.drop_table("pledges")
