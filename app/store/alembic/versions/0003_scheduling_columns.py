"""items.rank and items.cost for ordering; jobs.rate_limited_until for quota waits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RANK = {"low": 0, "normal": 1, "high": 2}


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("cost", sa.Double(), nullable=False, server_default="0"))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_limited_until", sa.DateTime(), nullable=True))
    # Existing rows get the rank of their idea's priority (cost stays 0: sheet order).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, idea FROM items")).all()
    for item_id, idea in rows:
        priority = (json.loads(idea) if isinstance(idea, str) else idea or {}).get("priority")
        rank = _RANK.get(str(priority), 1)
        if rank != 1:
            bind.execute(
                sa.text("UPDATE items SET rank = :rank WHERE id = :id"), {"rank": rank, "id": item_id}
            )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("rate_limited_until")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("cost")
        batch_op.drop_column("rank")
