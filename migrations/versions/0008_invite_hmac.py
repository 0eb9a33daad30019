"""invite hmac: keyed invite hashes (scheme per row), app_secrets, overall guess index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get "sha256": they keep working until used or expired.
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("hash_scheme", sa.String(length=16), nullable=False,
                                   server_default="sha256"))
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )
    op.create_index("ix_code_attempts_at", "code_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_code_attempts_at", table_name="code_attempts")
    op.drop_table("app_secrets")
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("hash_scheme")
