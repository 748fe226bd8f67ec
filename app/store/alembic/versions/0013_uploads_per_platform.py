"""uploads per platform: an item's video may go to YouTube and TikTok; accounts by platform

uploads' key becomes (item_id, destination); `post_id` and `state` keep what a platform other
than YouTube needs to resume an upload and never post twice; channels gain `platform`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # uploads and channels have no AUTOINCREMENT, so a batch rebuild keeps them whole.
    with op.batch_alter_table("uploads", schema=None, recreate="always") as batch_op:
        batch_op.add_column(
            sa.Column("destination", sa.String(length=16), nullable=False, server_default="youtube")
        )
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("post_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("state", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.drop_constraint("pk_uploads", type_="primary")
        batch_op.create_primary_key("pk_uploads", ["item_id", "destination"])
    op.add_column(
        "channels",
        sa.Column("platform", sa.String(length=16), nullable=False, server_default="youtube"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM uploads WHERE destination != 'youtube'")
    op.execute("DELETE FROM channels WHERE platform != 'youtube'")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("platform")
    with op.batch_alter_table("uploads", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("pk_uploads", type_="primary")
        batch_op.create_primary_key("pk_uploads", ["item_id"])
        batch_op.drop_column("state")
        batch_op.drop_column("post_id")
        batch_op.drop_column("rank")
        batch_op.drop_column("destination")
