"""media: charts and photos in the database, readable by every sender

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 11:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    op.create_index(op.f("ix_media_created_at"), "media", ["created_at"])
    op.create_table(
        "media_file_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], ondelete="CASCADE",
                                name=op.f("fk_media_file_ids_media_id_media")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_file_ids")),
        sa.UniqueConstraint("media_id", "channel", name=op.f("uq_media_file_ids_media_id")),
    )
    with op.batch_alter_table("good_deed_photos") as batch:
        batch.add_column(sa.Column("media_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_good_deed_photos_media_id_media"), "media",
                                 ["media_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("good_deed_photos") as batch:
        batch.drop_constraint(op.f("fk_good_deed_photos_media_id_media"), type_="foreignkey")
        batch.drop_column("media_id")
    op.drop_table("media_file_ids")
    op.drop_table("media")
