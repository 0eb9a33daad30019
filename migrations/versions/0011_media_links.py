"""media links: room for every file type a link serves

Files offered by link (`bot.media_links`) are served with the type stored with them,
and an export workbook's type
(`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`, 65 characters)
did not fit the 64 the column had: it is widened to 255 (RFC 6838 allows 127 for each
of type and subtype).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.alter_column("content_type", existing_type=sa.String(length=64),
                           type_=sa.String(length=255), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.alter_column("content_type", existing_type=sa.String(length=255),
                           type_=sa.String(length=64), existing_nullable=False)
