"""group_lineage: groups renamed, merged or split from a given month

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing groups keep NULL: valid since always, until further notice.
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("valid_from", sa.String(length=7), nullable=True))
        batch.add_column(sa.Column("valid_until", sa.String(length=7), nullable=True))
    op.create_table(
        "group_lineage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("from_key", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["groups.id"],
                                name=op.f("fk_group_lineage_parent_id_groups")),
        sa.ForeignKeyConstraint(["child_id"], ["groups.id"],
                                name=op.f("fk_group_lineage_child_id_groups")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_lineage")),
        sa.UniqueConstraint("parent_id", "child_id", "kind",
                            name=op.f("uq_group_lineage_parent_id")),
    )
    with op.batch_alter_table("group_lineage") as batch:
        batch.create_index(batch.f("ix_group_lineage_parent_id"), ["parent_id"], unique=False)
        batch.create_index(batch.f("ix_group_lineage_child_id"), ["child_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_lineage") as batch:
        batch.drop_index(batch.f("ix_group_lineage_child_id"))
        batch.drop_index(batch.f("ix_group_lineage_parent_id"))
    op.drop_table("group_lineage")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("valid_until")
        batch.drop_column("valid_from")
