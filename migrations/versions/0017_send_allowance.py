"""send_allowance, send_chat_slots: one sending pace shared by every instance

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_allowance",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("next_slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_send_allowance")),
    )
    op.create_table(
        "send_chat_slots",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("free_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_send_chat_slots")),
    )
    with op.batch_alter_table("send_chat_slots") as batch:
        batch.create_index(batch.f("ix_send_chat_slots_free_at"), ["free_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("send_chat_slots") as batch:
        batch.drop_index(batch.f("ix_send_chat_slots_free_at"))
    op.drop_table("send_chat_slots")
    op.drop_table("send_allowance")
