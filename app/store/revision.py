"""Developer tool: ``python -m app.store.revision "message"`` writes a migration for model changes.

It upgrades a scratch database to the current head and lets alembic compare it with the models.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from app.store.database import Database, alembic_config


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print('usage: python -m app.store.revision "what changed"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        database = Database.open(Path(scratch) / "scratch.db")
        config = alembic_config()
        with database.engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.revision(config, message=argv[0], autogenerate=True)
        database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
