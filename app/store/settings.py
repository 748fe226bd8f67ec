"""Key/value settings in the database (JSON values)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.store.models import Setting

if TYPE_CHECKING:
    from app.store.database import Database


def read_setting(database: Database, key: str, default: Any = None) -> Any:
    """One setting, read on its own: a plain query, no session (settings are read on every
    render, claim and page; a session costs four times as much)."""
    with database.engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT value FROM settings WHERE key = ?", (key,))
        row = found.first()
    if row is None or row[0] is None:
        return default
    value = row[0]  # the column's NUMERIC affinity turns JSON numbers into numbers
    return json.loads(value) if isinstance(value, str | bytes) else value


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return row.value if row is not None else default


def set_setting(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
