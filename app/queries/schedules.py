"""The read side of schedules: the Schedules view's rows, a schedule's next runs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.domain.errors import UserError

if TYPE_CHECKING:
    from app.services import Services

log = logging.getLogger(__name__)


def schedule_runs(session: Any, now: datetime, count: int) -> list[tuple[datetime, str]]:
    """(time, schedule name) of the next ``count`` runs of each active schedule."""
    from app.store import schedules as schedule_store
    from app.triggers import upcoming

    runs: list[tuple[datetime, str]] = []
    for schedule in schedule_store.active_schedules(session):
        try:
            found = upcoming(
                schedule.expression, schedule.timezone, now, count,
                schedule.start_at, schedule.end_at,
            )  # fmt: skip
        except UserError:  # stored before a rule tightened: shown by `schedule list`
            continue
        runs += [(when, schedule.name) for when in found]
    return runs


def schedule_rows(services: Services) -> list[dict[str, Any]]:
    """Every schedule as `schedule list` and the Schedules view show it: state, window,
    next run and the last result."""
    from app.store import schedules as schedule_store
    from app.store.models import utcnow
    from app.triggers import upcoming

    with services.db.read() as session:
        found = [
            (s.id, s.name, s.expression, s.timezone, s.paused or not s.enabled,
             s.start_at, s.end_at)
            for s in schedule_store.all_schedules(session)
        ]  # fmt: skip
    with services.db.read() as session:
        last = schedule_store.last_runs(session)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for sid, name, expression, tz_name, paused, start_at, end_at in found:
        try:
            runs = [] if paused else upcoming(expression, tz_name, now, 1, start_at, end_at)
        except UserError:  # stored before a rule tightened
            runs = []
        result = last.get(sid)
        rows.append({
            "id": sid, "name": name, "expression": expression, "timezone": tz_name,
            "state": "paused" if paused else "active",
            "start": start_at.isoformat() if start_at else None,
            "end": end_at.isoformat() if end_at else None,
            "next_run": runs[0].isoformat() if runs else None,
            "last": None if result is None else {
                "what": result["what"], "at": result["at"].isoformat(),
                "detail": result.get("error") or result.get("scheduled") or result.get("job"),
            },
        })  # fmt: skip
    return rows


def schedule_preview(services: Services, schedule_id: int, count: int = 5) -> list[datetime]:
    from app.domain.calendar_runs import parse_moved
    from app.store import schedules as schedule_store
    from app.store.models import utcnow
    from app.triggers import upcoming

    with services.db.read() as session:
        s = schedule_store.get_schedule(session, schedule_id)
        expression, tz_name, start_at, end_at = s.expression, s.timezone, s.start_at, s.end_at
        moved = parse_moved(s.moved_runs)
    now = utcnow()
    runs = upcoming(expression, tz_name, now, count + len(moved), start_at, end_at)
    if moved:  # runs moved on the calendar: at their new times
        tz = runs[0].tzinfo if runs else None
        runs = [r for r in runs if r.astimezone(UTC) not in moved]
        runs += [new.astimezone(tz) for new in moved.values() if new > now]
    return sorted(runs, key=lambda r: r.timestamp())[:count]
