"""Alembic environment: runs on the connection the app hands it (see Database.migrate)."""

from alembic import context

from app.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the app's own entry points run migrations
    raise RuntimeError("run migrations through app.store.database.Database.migrate")


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """APScheduler keeps its own table in the same database; migrations leave it alone."""
    return not (kind == "table" and name == "apscheduler_jobs")


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
