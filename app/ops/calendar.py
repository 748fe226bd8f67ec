"""Operations on the content calendar: its planning rules, and moving a video's publish time,
a one-off job's start or one run of a schedule (each checked against the rules first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app import ops
from app.changes import Changes, Done
from app.domain.calendar_config import CalendarConfig
from app.domain.calendar_plan import check_move
from app.domain.errors import NotFound, UserError
from app.domain.schedule import local_zone_name
from app.domain.zoned import zoned
from app.queries.calendar import NEIGHBOURHOOD, Calendar
from app.store import calendar as calendar_store
from app.store.jobs import audit
from app.store.models import Job, Schedule

if TYPE_CHECKING:
    from app.services import Services


@dataclass(frozen=True, slots=True)
class ConfigSaved(Done):
    """The calendar's rules for a channel (or the default) as they are now."""

    config: CalendarConfig = field(kw_only=True)


def set_config(services: Services, channel: str, changes: dict[str, Any]) -> ConfigSaved:
    """Change a channel's planning rules (or the default's: ``channel`` "")."""
    key = Calendar(services).channel(channel)
    with services.db.write() as session:
        config = calendar_store.save(session, key, changes, services.actor, local_zone_name())
    return ConfigSaved(
        f"Calendar rules saved for {channel}." if channel else "Default calendar rules saved.",
        Changes.of(settings=[f"calendar.{key or 'default'}"]),
        config=config,
    )


def move(services: Services, key: str, when: datetime, calendar: Calendar | None = None) -> Done:
    """Move a video's publish time, a one-off job's start or a schedule's run, if the rules
    allow it."""
    calendar = calendar or Calendar(services)
    kind, _, ident = key.partition(":")
    if kind == "run":
        return _move_run(services, calendar, key, when)
    ident = ident.split("@", 1)[0]  # an item's post on another platform moves the item
    if kind not in ("item", "job") or not ident.isdigit():
        raise NotFound(f"{key!r} is not a video, a job or a run on the calendar")
    now = calendar.clock()
    moving = calendar.find(key)
    reach = NEIGHBOURHOOD
    state = calendar.state(min(when, moving.when) - reach, max(when, moving.when) + reach)
    config = state.config(moving.channel)
    why = check_move(state.occurrences, key, when, config, now)
    if why is not None:
        raise UserError(f"cannot move “{moving.title}” there: {why}")
    if kind == "item":
        return ops.publishing.reschedule(services, int(ident), when)
    return _move_job(services, int(ident), when)


def _move_run(services: Services, calendar: Calendar, key: str, when: datetime) -> Done:
    """One run of a schedule to another time: recorded on the schedule, whose trigger then
    skips the run's own instant and fires at the new one."""
    plan, moving = calendar.run(key)
    at, schedule_id = moving.when, plan.schedule_id
    now = calendar.clock()
    if at <= now:
        raise UserError(f"cannot move “{plan.name}”: that run has already happened")
    state = calendar.state(min(when, at) - NEIGHBOURHOOD, max(when, at) + NEIGHBOURHOOD)
    if all(o.key != key for o in state.occurrences):
        state.occurrences.append(moving)
    why = check_move(state.occurrences, key, when, state.config(plan.channel), now)
    if why is not None:
        raise UserError(f"cannot move “{plan.name}” there: {why}")
    target = when.astimezone(UTC)
    with services.db.write() as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule is not None
        moved = dict(schedule.moved_runs or {})
        # A run moved before is known by its own instant: move that entry along.
        original = next(
            (a for a, b in moved.items() if datetime.fromisoformat(b) == at), at.isoformat()
        )
        if datetime.fromisoformat(original) == target:
            moved.pop(original, None)  # back where the schedule puts it
        else:
            moved[original] = target.isoformat()
        schedule.moved_runs = moved
        audit(
            session, services.actor, "schedule.move_run", "schedule", schedule_id,
            run=original, to=target.isoformat(),
        )  # fmt: skip
    return Done(
        f"“{plan.name}” runs {zoned(when, plan.tz.key)} instead, this once.",
        Changes.of(schedules=[schedule_id]),
    )


def _move_job(services: Services, job_id: int, when: datetime) -> Done:
    with services.db.write() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"there is no job {job_id}")
        scheduling = dict(job.scheduling or {})
        before = scheduling.get("start_at")
        scheduling["start_at"] = when.isoformat()
        zone = str(scheduling.get("timezone") or local_zone_name())
        job.scheduling = scheduling
        moved = []
        for item in job.items:
            if item.state == "pending":
                item.not_before = when
                moved.append(item.id)
        audit(
            session, services.actor, "job.move", "job", job_id,
            before=before, after=scheduling["start_at"],
        )  # fmt: skip
    return Done(
        f"Job {job_id} now starts {zoned(when, zone)}.", Changes.of(jobs=[job_id], items=moved)
    )
