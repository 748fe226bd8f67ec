"""The dates Cadence plans with: 1970 to 2999.

Inside that span every zone's arithmetic stays within what Python and SQLite hold — a time in
Los Angeles stored in UTC, a week of runs after it, a calendar's days around it — so a date a
user types is checked once where it enters, and nothing later fails on it (year 9999 in
Los Angeles is year 10000 in UTC, which ``datetime`` cannot hold).
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_YEAR = 1970
LAST_YEAR = 2999


class OutOfRange(ValueError):
    """A well-formed date outside the years Cadence plans for; the message says so."""


def out_of_range(day: date | datetime) -> str | None:
    """Why ``day`` cannot be planned with, or None."""
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return f"{day.year:04d} is outside the years Cadence plans for ({FIRST_YEAR} to {LAST_YEAR})"


def parse_moment(text: str) -> datetime:
    """An ISO date and time (``2026-12-01T09:00``, ``2026-12-01 09:00``, an offset allowed)
    within the years Cadence plans for: `OutOfRange` when it is not, ValueError when it is no
    date at all."""
    value = str(text).strip()
    if " " in value and "T" not in value:
        value = value.replace(" ", "T", 1)
    moment = datetime.fromisoformat(value)
    why = out_of_range(moment)
    if why is not None:
        raise OutOfRange(why)
    return moment


def parse_day(text: str) -> date:
    """An ISO date (``2026-12-01``) within the years Cadence plans for: `OutOfRange` when it
    is not, ValueError when it is no date at all."""
    day = date.fromisoformat(str(text).strip())
    why = out_of_range(day)
    if why is not None:
        raise OutOfRange(why)
    return day
