"""Schedules in the database: add, list, pause, resume, remove — each audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import DraftError, NotFound
from app.domain.schedule import check_template, parse_schedule, zone
from app.store.jobs import audit
from app.store.models import Schedule

MAX_NAME = 200


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
        name=_name(name), kind=spec.kind, expression=expression,
        timezone=timezone, topic_template=topic_template, job_template=job_template,
        start_at=start_at, end_at=end_at,
    )  # fmt: skip
    session.add(schedule)
    session.flush()
    audit(session, actor, "schedule.add", "schedule", schedule.id, expression=expression)
    return schedule


# A job's absolute times: a later run would meet them in the past (a start that has gone, an
# end that stops every item, publish times that have gone by), so each run plans its own.
_ONCE_ONLY = {
    "scheduling": ("start_at", "end_at"),
    "publish": ("publish_at", "every", "first", "slot_times"),
}


def template_of(job: dict[str, Any]) -> dict[str, Any]:
    """What a schedule stores to make ``job`` (a job's stored columns, as `new_job` builds
    them) again at each run: every setting but its absolute times (`_ONCE_ONLY`)."""
    template = {
        "source": job["source_location"],
        "tab": job.get("source_tab"),
        "range": job.get("source_range"),
        "priority": job.get("priority"),
        "level": job.get("validation_level"),
        "output": job.get("output_config") or {},
        "style": job.get("style"),
        "deadline_minutes": job.get("deadline_minutes"),
        "callback_url": job.get("callback_url"),
        "write_back": job.get("write_back"),
        "scheduling": job.get("scheduling") or {},
        "publish": job.get("publish") or {},
    }
    for part, keys in _ONCE_ONLY.items():
        template[part] = {k: v for k, v in template[part].items() if k not in keys}
    return {k: v for k, v in template.items() if v is not None}


def _name(name: str) -> str:
    shown = "".join(c for c in " ".join(str(name).split()) if c.isprintable())
    if not shown:
        raise DraftError("schedule name", "is empty — give the schedule a name")
    if len(shown) > MAX_NAME:
        raise DraftError("schedule name", f"is longer than {MAX_NAME} characters — shorten it")
    return shown


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


def edit_schedule(
    session: Session,
    schedule_id: int,
    actor: str,
    *,
    name: str | None = None,
    expression: str | None = None,
    timezone: str | None = None,
    topic_template: str | None = None,
) -> Schedule:
    schedule = get_schedule(session, schedule_id)
    changes: dict[str, Any] = {}
    if expression is not None:
        schedule.kind = parse_schedule(expression).kind
        schedule.expression = changes["expression"] = expression
    if timezone is not None:
        zone(timezone)
        schedule.timezone = changes["timezone"] = timezone
    if topic_template is not None:
        check_template(topic_template)
        schedule.topic_template = changes["topic"] = topic_template
    if name is not None:
        schedule.name = changes["name"] = _name(name)
    audit(session, actor, "schedule.edit", "schedule", schedule_id, **changes)
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
    """Changes whenever a schedule is added, edited or removed: a cheap first check."""
    row = session.execute(select(func.count(Schedule.id), func.max(Schedule.updated_at))).one()
    return int(row[0]), row[1]


def active_schedules(session: Session) -> list[Schedule]:
    """Schedules that will run: enabled and not paused."""
    query = select(Schedule).where(Schedule.enabled.is_(True), Schedule.paused.is_(False))
    return list(session.scalars(query))


def versions(session: Session, since: datetime | None = None) -> dict[int, datetime]:
    """Each schedule's last change: compared with the previous read, it tells exactly which
    schedules were added, edited or removed (one narrow read, even for thousands). With
    ``since``: only those changed at or after it (writers take turns and stamp their changes
    inside their turn, so nothing committed after a read can carry an earlier moment)."""
    query = select(Schedule.id, Schedule.updated_at)
    if since is not None:
        query = query.where(Schedule.updated_at >= since)
    return {i: at for i, at in session.execute(query)}


def by_ids(session: Session, ids: set[int]) -> list[Schedule]:
    found: list[Schedule] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):  # SQLite caps bound parameters
        chunk = ordered[start : start + 500]
        found += session.scalars(select(Schedule).where(Schedule.id.in_(chunk)))
    return sorted(found, key=lambda s: s.id)


def last_runs(session: Session) -> dict[int, dict[str, Any]]:
    """The latest run, miss or failure of each schedule, from the audit log."""
    from app.store.models import AuditEntry

    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(("schedule.ran", "schedule.missed", "schedule.failed")))
        .order_by(AuditEntry.id)
    ).all()
    return {
        r.target_id: {"what": r.action.split(".")[1], "at": r.at, **r.details}
        for r in rows
        if r.target_id is not None
    }
