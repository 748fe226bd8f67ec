"""Publishing: jobs.publish, items.phase, uploads, channels, quota_use; jobs.header_row

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("publish", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(sa.Column("header_row", sa.Integer(), nullable=True))
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phase", sa.String(length=16), nullable=False, server_default="render")
        )
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("hold", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
    )
    op.create_table(
        "quota_use",
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("uploads", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project", "day", name=op.f("pk_quota_use")),
    )
    op.create_table(
        "uploads",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("privacy", sa.String(length=16), nullable=False),
        sa.Column("publish_at", sa.DateTime(), nullable=True),
        sa.Column("session_uri", sa.Text(), nullable=True),
        sa.Column("session_started_at", sa.DateTime(), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("actual_privacy", sa.String(length=16), nullable=True),
        sa.Column("steps_done", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rejected_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_uploads_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_uploads")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uploads_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_uploads_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_status"))
        batch_op.drop_index(batch_op.f("ix_uploads_channel_id"))
    op.drop_table("uploads")
    op.drop_table("quota_use")
    op.drop_table("channels")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("phase")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("header_row")
        batch_op.drop_column("publish")
