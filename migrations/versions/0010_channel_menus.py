"""channel menus: the last numbered menu per chat without buttons (Zalo); longer photo refs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_menus",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("expects", sa.String(length=16), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_channel_menus")),
    )
    # A Zalo photo ref is the photo's URL, longer than Telegram's file ids.
    with op.batch_alter_table("good_deed_photos") as batch:
        batch.alter_column("file_id", existing_type=sa.String(length=255),
                           type_=sa.String(length=2048), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("good_deed_photos") as batch:
        batch.alter_column("file_id", existing_type=sa.String(length=2048),
                           type_=sa.String(length=255), existing_nullable=False)
    op.drop_table("channel_menus")
