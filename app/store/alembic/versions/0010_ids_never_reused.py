"""jobs, items and schedules: ids are never reused (AUTOINCREMENT)

A deleted job's id went to the next job made, so the audit log held two jobs' histories
under one id, and anything still holding the old id acted on the new job. The tables are
rebuilt with AUTOINCREMENT, and each counter starts past every id the audit log names —
ids of rows deleted before this upgrade are not given again either.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"jobs": "job", "items": "item", "schedules": "schedule"}  # table: audit target kind


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    connection = op.get_bind()
    for table, kind in TABLES.items():
        used = connection.exec_driver_sql(
            f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0),"  # noqa: S608 - fixed names
            " coalesce((SELECT max(target_id) FROM audit_log WHERE target_kind = ?), 0))",
            (kind,),
        ).scalar()
        connection.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        connection.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, int(used or 0))
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
