"""good deeds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:38:20.328080
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "good_deeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=True),
        sa.Column("subject_name", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_good_deeds_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["members.id"], name=op.f("fk_good_deeds_reported_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["members.id"], name=op.f("fk_good_deeds_reviewed_by_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_good_deeds")),
    )
    with op.batch_alter_table("good_deeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_good_deeds_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_good_deeds_status"), ["status"], unique=False)

    op.create_table(
        "good_deed_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deed_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column("local_path", sa.String(length=255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deed_id"],
            ["good_deeds.id"],
            name=op.f("fk_good_deed_photos_deed_id_good_deeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_good_deed_photos")),
    )
    with op.batch_alter_table("good_deed_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_good_deed_photos_deed_id"), ["deed_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("good_deed_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_good_deed_photos_deed_id"))

    op.drop_table("good_deed_photos")
    with op.batch_alter_table("good_deeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_good_deeds_status"))
        batch_op.drop_index(batch_op.f("ix_good_deeds_group_id"))

    op.drop_table("good_deeds")
