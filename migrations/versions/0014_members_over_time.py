"""members over time: deactivation, handover invites, an admin's reason for a correction

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("inactive_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("inactive_reason", sa.String(length=200), nullable=True))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("replaces_member_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_invites_replaces_member_id_members"), "members",
                                 ["replaces_member_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("note")
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint(op.f("fk_invites_replaces_member_id_members"),
                              type_="foreignkey")
        batch.drop_column("replaces_member_id")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("inactive_reason")
        batch.drop_column("inactive_since")
