"""items.done_by: when a running render is expected to end

The engine works it out from the stage's own progress rate and what the later stages took in
this computer's measured renders; a job's "done about" and the monitor's "Left" read it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild would lose the table's AUTOINCREMENT (0010).
    op.add_column("items", sa.Column("done_by", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "items", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("done_by")
