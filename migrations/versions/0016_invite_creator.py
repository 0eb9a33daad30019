"""invites: who created each code (for a member's personal-data record)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Codes made before this are of unknown origin (None), as are the CLI's.
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_invites_created_by_members"), "members",
                                 ["created_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_constraint(op.f("fk_invites_created_by_members"), type_="foreignkey")
        batch.drop_column("created_by")
