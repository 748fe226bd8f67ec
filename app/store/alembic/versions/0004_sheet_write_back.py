"""jobs.write_back, items.sheet_status and items.sheet_synced_at: status write-back

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("write_back", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sheet_status", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("sheet_synced_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("sheet_synced_at")
        batch_op.drop_column("sheet_status")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("write_back")
