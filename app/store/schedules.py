"""Schedules in the database: add, list, pause, resume, remove — each audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.domain.schedule import check_template, parse_schedule, zone
from app.store.jobs import audit
from app.store.models import Schedule


def add_schedule(
    session: Session,
    *,
    name: str,
    expression: str,
    timezone: str,
    topic_template: str,
    job_template: dict[str, Any],
    actor: str,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> Schedule:
    """Store a schedule whose expression, zone and template are all valid."""
    spec = parse_schedule(expression)
    zone(timezone)
    check_template(topic_template)
    schedule = Schedule(
        name=name.strip() or expression, kind=spec.kind, expression=expression,
        timezone=timezone, topic_template=topic_template, job_template=job_template,
        start_at=start_at, end_at=end_at,
    )  # fmt: skip
    session.add(schedule)
    session.flush()
    audit(session, actor, "schedule.add", "schedule", schedule.id, expression=expression)
    return schedule


def get_schedule(session: Session, schedule_id: int) -> Schedule:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound(f"there is no schedule {schedule_id} — `schedule list` shows them")
    return schedule


def set_paused(session: Session, schedule_id: int, paused: bool, actor: str) -> Schedule:
    schedule = get_schedule(session, schedule_id)
    schedule.paused = paused
    audit(
        session, actor, "schedule.pause" if paused else "schedule.resume", "schedule", schedule_id
    )
    return schedule


def remove_schedule(session: Session, schedule_id: int, actor: str) -> None:
    schedule = get_schedule(session, schedule_id)
    session.delete(schedule)
    audit(
        session, actor, "schedule.remove", "schedule", schedule_id, expression=schedule.expression
    )


def all_schedules(session: Session) -> list[Schedule]:
    return list(session.scalars(select(Schedule).order_by(Schedule.id)))


def signature(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever a schedule is added, edited or removed (to resync the scheduler)."""
    row = session.execute(select(func.count(Schedule.id), func.max(Schedule.updated_at))).one()
    return int(row[0]), row[1]


def changed_since(session: Session, since: datetime | None) -> list[Schedule]:
    """Schedules added or edited at or after ``since`` (all of them when None)."""
    query = select(Schedule).order_by(Schedule.id)
    if since is not None:
        query = query.where(Schedule.updated_at >= since)
    return list(session.scalars(query))


def all_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Schedule.id)))
