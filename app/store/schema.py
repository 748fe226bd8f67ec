"""Where the bundled migrations live and which one is the newest — kept apart from the
database layer so that a reader without SQLAlchemy (`app.store.first_look`) can check it."""

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("alembic")
SCHEMA_HEAD = "0013"  # the newest bundled migration (a test checks it against alembic's)
