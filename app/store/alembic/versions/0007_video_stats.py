"""video_stats: published videos' views, likes and comments, one row per daily reading

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "video_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_video_stats_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_stats")),
    )
    with op.batch_alter_table("video_stats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_stats_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_stats_fetched_at"), ["fetched_at"], unique=False
        )
        batch_op.create_index(
            "ix_video_stats_item_fetched", ["item_id", "fetched_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("video_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_video_stats_item_fetched")
        batch_op.drop_index(batch_op.f("ix_video_stats_fetched_at"))
        batch_op.drop_index(batch_op.f("ix_video_stats_channel_id"))
    op.drop_table("video_stats")
