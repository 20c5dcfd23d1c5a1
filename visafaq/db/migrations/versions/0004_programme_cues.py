"""Programme cues: words that point to a programme without naming it

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The knowledge store is replaced whole by every load, so existing rows only need a valid value.
    with op.batch_alter_table("kb_programmes") as batch:
        batch.add_column(sa.Column("cues", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("kb_programmes") as batch:
        batch.drop_column("cues")
