"""member channels: link codes, a channel preference, last use and reach per identity

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("channel_choice", sa.String(length=16), nullable=True))
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        # Existing identities are reachable as far as we know (the member's own flag
        # stays what it was).
        batch.add_column(sa.Column("unreachable", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("link_member_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_invites_link_member_id_members"), "members",
                                 ["link_member_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint(op.f("fk_invites_link_member_id_members"), type_="foreignkey")
        batch.drop_column("link_member_id")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("unreachable")
        batch.drop_column("last_used_at")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("channel_choice")
