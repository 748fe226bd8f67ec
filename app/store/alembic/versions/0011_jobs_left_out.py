"""jobs.left_out: the sheet's rows a job left out, each with its reasons

Validation's problem rows (and the empty rows it skipped) were shown once, before the job was
made, and then forgotten: the job's Details said "Problems: None". They are kept on the job.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild would lose the table's AUTOINCREMENT (0010).
    op.add_column(
        "jobs", sa.Column("left_out", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )


def downgrade() -> None:
    with op.batch_alter_table(
        "jobs", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("left_out")
