"""Moments as `models.UTCDateTime` stores them in SQLite — UTC, no zone, microseconds — for
hand-written SQL: the claim (which compares them as text) and the window's first look (which
must not import SQLAlchemy). A test keeps them equal to what the ORM writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def stored_moment(moment: datetime) -> str:
    """An aware datetime as the database holds it."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@overload
def read_moment(text: str) -> datetime: ...
@overload
def read_moment(text: None) -> None: ...
def read_moment(text: str | None) -> datetime | None:
    """A stored moment, as the aware datetime the ORM would give."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text is not None else None
