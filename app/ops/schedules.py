"""Operations on schedules: add, edit, pause, resume, remove, run now; the job a schedule makes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app import ops, queries
from app.changes import Changes, Done, ScheduleAction
from app.domain.errors import UserError
from app.domain.idea import Priority
from app.domain.validation import Level, SheetReport
from app.ops.jobs import CreatedJob, JobPlan, JobRequest
from app.sources.intake import SourceSpec
from app.store import jobs as job_store
from app.store.models import Job

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScheduleAdded(Done):
    """A schedule stored: its id, its next runs and its source's report now."""

    schedule_id: int = field(kw_only=True)
    runs: list[datetime] = field(kw_only=True)
    report: SheetReport = field(kw_only=True)


def add_schedule(
    services: Services,
    spec: SourceSpec,
    *,
    name: str,
    expression: str,
    timezone: str | None = None,
    topic: str = "",
    priority: Priority = Priority.NORMAL,
    level: Level = Level.MODERATE,
    output_config: dict[str, Any] | None = None,
    style: str | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> ScheduleAdded:
    """A schedule that makes a job from ``spec`` at each run of ``expression``: checked
    (its expression, zone, window, topic, output and source) before it is stored. Returns
    it, its next three runs and the source's report now."""
    from app.domain.dates import out_of_range
    from app.domain.output import Delivery, OutputConfig
    from app.domain.schedule import ScheduleError, check_template, local_zone_name
    from app.store import schedules as schedule_store
    from app.triggers import upcoming

    tz_name = timezone or local_zone_name()
    for what, moment in (("start", start_at), ("end", end_at)):
        why = moment and out_of_range(moment)
        if why:
            raise ScheduleError(f"the {what}: {why}")
    if start_at and end_at and end_at <= start_at:
        raise ScheduleError("the end must be after the start")
    runs = upcoming(expression, tz_name, datetime.now(UTC), 3, start_at, end_at)
    if not runs:
        raise ScheduleError(f"{expression} has no run in the future — pick a later time")
    check_template(topic)
    output = dict(output_config or {})
    codecs, delivery = Delivery.split(output)
    OutputConfig.from_dict(codecs)
    report = queries.sources.check_source(services, spec, level)
    location = spec.stored_location()
    ops.jobs.check_job_output(services, delivery, style)
    template = {
        "source": location, "tab": spec.tab, "range": spec.range,
        "priority": priority.value, "level": level.value, "output": output, "style": style,
    }  # fmt: skip
    with services.db.write() as session:
        schedule = schedule_store.add_schedule(
            session, name=name, expression=expression, timezone=tz_name,
            topic_template=topic, job_template=template, actor=services.actor,
            start_at=start_at, end_at=end_at,
        )  # fmt: skip
        schedule_id, shown = schedule.id, schedule.name
    message = f"Added schedule {schedule_id} “{shown}”."
    return ScheduleAdded(
        message, Changes.of(schedules=[schedule_id]), schedule_id=schedule_id, runs=runs,
        report=report,
    )  # fmt: skip


def edit_schedule(services: Services, schedule_id: int, **changes: Any) -> Done:
    """Rename a schedule or change its expression, time zone or topic (checked)."""
    from app.store import schedules as schedule_store

    with services.db.write() as session:
        schedule_store.edit_schedule(session, schedule_id, services.actor, **changes)
    what = ", ".join(k.replace("_", " ") for k in changes) or "nothing"
    return Done(f"Schedule {schedule_id}: {what} changed.", Changes.of(schedules=[schedule_id]))


def job_from_schedule(
    services: Services,
    schedule: Any,
    when: datetime,
    also: Callable[[Session, int], None] | None = None,
) -> CreatedJob:
    """Create the job a schedule makes at ``when``; ``also`` as in `store_job`."""
    return ops.jobs.store_job(services, plan_from_schedule(services, schedule, when), also)


def plan_from_schedule(services: Services, schedule: Any, when: datetime) -> JobPlan:
    """The job a schedule makes at ``when``: fresh rows from its source, a title from its
    topic template (or its name and the date)."""
    from app.domain.schedule import render_topic, zone

    template = dict(schedule.job_template)
    local = when.astimezone(zone(schedule.timezone))
    title = (
        render_topic(schedule.topic_template, local)
        if schedule.topic_template
        else f"{schedule.name} — {local:%d %b %Y %H:%M}"
    )
    return ops.jobs.plan_job(
        services,
        JobRequest.of(
            SourceSpec(template["source"], tab=template.get("tab"), range=template.get("range")),
            title=title[:200],
            priority=Priority(template.get("priority", "normal")),
            level=Level(template.get("level", "moderate")),
            output_config=template.get("output", {}),
            style=template.get("style"),
            deadline_minutes=template.get("deadline_minutes"),
            callback_url=template.get("callback_url"),
            scheduling=template.get("scheduling"),
            write_back=template.get("write_back"),
            actor=f"schedule {schedule.id}",
            schedule_id=schedule.id,
            publish=template.get("publish") or None,
        ),
    )


def schedule_action(services: Services, schedule_id: int, action: str) -> Done:
    """pause | resume | remove | run (make its job now); returns what happened."""
    from app.store import schedules as schedule_store

    try:
        action = ScheduleAction(action)
    except ValueError:
        raise UserError(f"{action!r} is not something a schedule can do") from None
    changed = Changes.of(schedules=[schedule_id])
    if action == ScheduleAction.RUN:
        with services.db.read() as session:
            schedule = schedule_store.get_schedule(session, schedule_id)
        created = job_from_schedule(
            services,
            schedule,
            datetime.now(UTC),
            lambda session, job_id: job_store.audit(
                session, services.actor, "schedule.ran", "schedule", schedule_id, job=job_id
            ),  # in the job's own transaction
        )
        return Done(
            f"Created job {created.job_id} “{created.title}” with {created.item_count} items.",
            changed | created.changes,
        )
    with services.db.write() as session:
        # The jobs it made show whether their schedule still runs: they changed too.
        made = session.scalars(select(Job.id).where(Job.schedule_id == schedule_id)).all()
        if action == ScheduleAction.REMOVE:
            schedule_store.remove_schedule(session, schedule_id, services.actor)
        else:
            schedule_store.set_paused(
                session, schedule_id, action == ScheduleAction.PAUSE, services.actor
            )
    return Done(f"Schedule {schedule_id}: {action}d.", changed | Changes.of(jobs=made))
