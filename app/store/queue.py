"""The work queue in the database: claim ready items, record outcomes, move jobs through states.

Every change is one write transaction (BEGIN IMMEDIATE), so two claimers can never take the
same item, and a crash between transactions leaves a state that `recover` can repair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from json import loads
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from app.domain.dispatch import SKIPPED, Mode, Order, SchedulingConfig, job_turn, serve_order
from app.domain.errors import DraftError
from app.domain.publishing import Phase, PublishConfig, UploadStatus
from app.domain.states import State, transition
from app.store.jobs import audit, require_job
from app.store.models import Execution, Item, Job, Upload, utcnow
from app.store.moments import read_moment, stored_moment

log = logging.getLogger(__name__)
FIX = "see the log; change the job's settings or delete it"
ACTIVE_JOB_STATES = (State.PENDING.value, State.RUNNING.value)
# The claim's statements, in plain SQL: it runs before every render, and SQLAlchemy's
# statement handling costs 0.3–1 ms per query where SQLite needs microseconds. Moments are
# compared and written as the text `UTCDateTime` stores (`stored_moment`).
READY_JOBS_SQL = (
    "SELECT id FROM jobs WHERE state IN (?, ?) AND EXISTS ("  # probes the (job, state) index
    " SELECT 1 FROM items WHERE items.job_id = jobs.id AND items.state = ? AND items.phase = ?"
    " AND (items.not_before IS NULL OR items.not_before <= ?))"
)
RUNNING_RENDERS_SQL = (
    "SELECT job_id, count(*) FROM items WHERE state = ? AND phase = ? AND job_id IN ({})"
    " GROUP BY job_id"  # uploads take no render slot
)
START_JOB_SQL = (
    "UPDATE jobs SET state = ?, started_at = coalesce(started_at, ?), updated_at = ?"
    " WHERE id = ? AND state = ?"
)
CLAIM_ITEM_SQL = (
    "UPDATE items SET state = ?, attempts = attempts + 1, started_at = ?, error = NULL,"
    " done_by = NULL, updated_at = ? WHERE id = ? AND state = ?"
)
READY_JOB_ROWS_SQL = (
    "SELECT id, state, priority, created_at, title, output_config, style, scheduling FROM jobs"
    " WHERE id IN ({})"
)
READY_ITEMS_SQL = (
    "SELECT id, row_number, idea, attempts, state FROM items WHERE job_id = ? AND state = ?"
    " AND phase = ? AND (not_before IS NULL OR not_before <= ?) ORDER BY {} LIMIT ?"
)
EXECUTION_SQL = "INSERT INTO executions (item_id, attempt, started_at) VALUES (?, ?, ?)"
WITH_DEADLINE_SQL = (
    "SELECT id, started_at, created_at, deadline_minutes FROM jobs"
    " WHERE state IN (?, ?) AND deadline_minutes IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class _ReadyJob:
    """What the claim reads of a job with an item ready to render."""

    id: int
    state: str
    priority: str
    created_at: str  # as stored: sorts as the moment does
    title: str
    output_config: dict[str, Any]
    style: str | None
    scheduling: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _ReadyItem:
    id: int
    row_number: int
    idea: dict[str, Any]
    attempts: int
    state: str


@dataclass(frozen=True, slots=True)
class Claim:
    """An item handed to a worker: what to render and where."""

    item_id: int
    job_id: int
    row: int
    idea: dict[str, Any]
    attempt: int
    execution_id: int
    job_title: str
    output_config: dict[str, Any]
    style: str | None
    scheduling: dict[str, Any]


def claim_next(
    session: Session, limit: int, *, load_slots: int | Callable[[], int] | None = None
) -> list[Claim]:
    """Up to ``limit`` ready items, claimed (marked running, with an execution record).

    Jobs are served in priority order (high > normal > low, for jobs whose priority queue is
    on), then oldest first. Within a job, its scheduling configuration decides: start and end
    times, time-window and day rules, its concurrency cap, the minimum interval between starts,
    and the item order (row priority first when the priority queue is on, then cheapest or
    costliest first, then sheet order). ``load_slots`` caps how many items of *smart* jobs may
    start now, from measured load (a function: measured only if a smart job has ready items).
    """
    if limit <= 0:
        return []
    now = utcnow()
    expire_overdue(session, now)
    jobs, running, configs = _ready_jobs(session, now)
    claims: list[Claim] = []
    for job in jobs:
        free = limit - len(claims)
        if free <= 0:
            break
        config = configs[job.id]
        if config.mode is Mode.SMART and callable(load_slots):
            load_slots = load_slots()
        if config.mode is Mode.SMART and isinstance(load_slots, int):
            free = min(free, load_slots)
        try:
            with session.begin_nested():  # one job's unusable data must not stop the others
                taken = _claim_job(session, job, config, running.get(job.id, 0), free, now)
        except Exception as exc:
            log.exception("job %s cannot run", job.id)
            fail_job(session, job.id, f"this job cannot run ({type(exc).__name__}: {exc}) — {FIX}")
            continue
        claims += taken
        if config.mode is Mode.SMART and isinstance(load_slots, int):
            load_slots -= len(taken)
    return claims


def _ready_jobs(
    session: Session, now: datetime
) -> tuple[list[_ReadyJob], dict[int, int], dict[int, SchedulingConfig]]:
    """The jobs with an item ready to render, in the order they are served, with how many of
    their renders run and their scheduling (a job whose scheduling cannot be read fails)."""
    # Only jobs with an item ready to render are looked at (one query, however many jobs are
    # active: jobs held by a time rule or waiting for uploads cost nothing here).
    connection = session.connection()
    ready = [
        job_id
        for (job_id,) in connection.exec_driver_sql(
            READY_JOBS_SQL,
            (*ACTIVE_JOB_STATES, State.PENDING.value, Phase.RENDER.value, stored_moment(now)),
        )
    ]
    if not ready:
        return [], {}, {}
    marks = ", ".join("?" * len(ready))
    jobs = [
        _ReadyJob(id_, state, priority, created, title, loads(output), style, loads(scheduling))
        for id_, state, priority, created, title, output, style, scheduling in (
            connection.exec_driver_sql(READY_JOB_ROWS_SQL.format(marks), tuple(ready))
        )
    ]
    running: dict[int, int] = dict(
        connection.exec_driver_sql(
            RUNNING_RENDERS_SQL.format(marks),
            (State.RUNNING.value, Phase.RENDER.value, *ready),
        ).all()
    )
    configs: dict[int, SchedulingConfig] = {}
    for job in jobs:
        try:
            configs[job.id] = SchedulingConfig.from_dict(job.scheduling)
        except DraftError as exc:  # checked when stored: an older version's or a hand edit
            fail_job(session, job.id, f"this job's scheduling cannot be used ({exc}) — {FIX}")
    jobs = [job for job in jobs if job.id in configs]
    jobs.sort(key=lambda j: serve_order(j.priority, j.created_at, j.id, configs[j.id]))
    return jobs, running, configs


def _claim_job(
    session: Session,
    job: _ReadyJob,
    config: SchedulingConfig,
    running: int,
    free: int,
    now: datetime,
) -> list[Claim]:
    """The items of ``job`` that may start now, claimed."""
    slots = _job_slots(session, job, config, running, free, now)
    if slots <= 0:
        return []
    items = [
        _ReadyItem(id_, row, loads(idea), attempts, state)
        for id_, row, idea, attempts, state in session.connection().exec_driver_sql(
            READY_ITEMS_SQL.format(_item_order(config)),
            (job.id, State.PENDING.value, Phase.RENDER.value, stored_moment(now), slots),
        )
    ]
    return [_claim(session, job, item, now) for item in items]


def fail_job(session: Session, job_id: int, reason: str) -> None:
    """A job whose stored data cannot be used (a hand-edited database, a setting an older
    version let through): its waiting items fail with ``reason``, and the job ends failed once
    nothing of it runs. Every other job goes on."""
    job = require_job(session, job_id)
    now = utcnow()
    for item in job.items:
        if item.state == State.PENDING.value:
            item.state = transition(State.PENDING, State.FAILED, "item").value
            item.error, item.not_before, item.finished_at = reason, None, now
    if job.state == State.PENDING.value:
        job.state = transition(State.PENDING, State.FAILED).value
        job.finished_at = now
    else:
        settle_job(session, job_id)
    audit(session, "Cadence", "job.fail", "job", job_id, reason=reason)


def next_start(session: Session, now: datetime) -> datetime | None:
    """The earliest moment a waiting item of an active job may start (a retry's back-off, a
    time rule, a start time, an upload's turn): an idle engine looks again then."""
    return session.scalar(
        select(func.min(Item.not_before))
        .join(Job)
        .where(
            Job.state.in_(ACTIVE_JOB_STATES),
            Item.state == State.PENDING.value,
            Item.not_before > now,
        )
    )


def any_pending(session: Session) -> bool:
    """Whether an active job has an item waiting (to render or to upload)."""
    waiting = (
        select(Item.id)
        .join(Job)
        .where(Job.state.in_(ACTIVE_JOB_STATES), Item.state == State.PENDING.value)
    )
    return session.scalar(waiting.limit(1)) is not None


def any_ready(session: Session, now: datetime) -> bool:
    """Whether an item of an active job could start now (the load may be holding it)."""
    ready = (
        select(Item.id)
        .join(Job)
        .where(Job.state.in_(ACTIVE_JOB_STATES), Item.state == State.PENDING.value, _ready(now))
    )
    return session.scalar(ready.limit(1)) is not None


def _renderable(job_id: int) -> ColumnElement[bool]:
    """Pending items of a job still to be rendered (not waiting for approval or upload)."""
    return (
        (Item.job_id == job_id)
        & (Item.state == State.PENDING.value)
        & (Item.phase == Phase.RENDER.value)
    )


def _ready(now: datetime) -> ColumnElement[bool]:
    return (Item.not_before.is_(None)) | (Item.not_before <= now)


def _item_order(config: SchedulingConfig) -> str:
    """The ORDER BY of a job's ready items: row priority (with the priority queue on), then
    cheapest or costliest first, then sheet order."""
    order = ["rank DESC"] if config.priority_queue else []
    if config.item_order is Order.SIMPLE_FIRST:
        order.append("cost")
    elif config.item_order is Order.COMPLEX_FIRST:
        order.append("cost DESC")
    return ", ".join([*order, "row_number"])


def _job_slots(
    session: Session,
    job: _ReadyJob,
    config: SchedulingConfig,
    running: int,
    free: int,
    now: datetime,
) -> int:
    """How many items of ``job`` (which has a ready item) may start now (`job_turn`); holds
    or skips its items when they may not."""

    def last_start() -> datetime | None:
        return session.scalar(select(func.max(Item.started_at)).where(Item.job_id == job.id))

    turn = job_turn(config, now, running, free, last_start)
    if turn.ended:
        assert config.end_at is not None
        _skip_pending(
            session,
            require_job(session, job.id),
            f"{SKIPPED} the job's end time ({config.end_at:%Y-%m-%d %H:%M %Z}) passed before "
            "this item started",
        )
    elif turn.wait_until is not None:  # not now: the items wait until then
        session.execute(
            update(Item)
            .where(_renderable(job.id))
            .where((Item.not_before.is_(None)) | (Item.not_before < turn.wait_until))
            .values(not_before=turn.wait_until)
        )
    return turn.slots


def _claim(session: Session, job: _ReadyJob, item: _ReadyItem, now: datetime) -> Claim:
    """The item marked running (its job too, if it had not started) with an execution record
    — in plain SQL (see `READY_JOBS_SQL`); ORM copies of either, if loaded, are expired."""
    connection, at = session.connection(), stored_moment(now)
    running = State.RUNNING.value
    if job.state == State.PENDING.value:
        transition(State.PENDING, State.RUNNING)
        connection.exec_driver_sql(START_JOB_SQL, (running, at, at, job.id, job.state))
    transition(State(item.state), State.RUNNING, "item")
    connection.exec_driver_sql(CLAIM_ITEM_SQL, (running, at, at, item.id, item.state))
    attempt = item.attempts + 1
    execution = connection.exec_driver_sql(EXECUTION_SQL, (item.id, attempt, at)).lastrowid
    claim = Claim(
        item.id,
        job.id,
        item.row_number,
        dict(item.idea),
        attempt,
        execution,
        job.title,
        dict(job.output_config),
        job.style,
        dict(job.scheduling),
    )
    for kind, key in ((Item, item.id), (Job, job.id)):
        loaded = session.identity_map.get(session.identity_key(kind, key))
        if loaded is not None:  # read through the ORM earlier in this transaction
            session.expire(loaded)
    return claim


def _skip_pending(session: Session, job: Job, reason: str) -> int:
    skipped = 0
    for item in job.items:  # rendered videos waiting to be published are not skipped
        if item.state == State.PENDING.value and item.phase == Phase.RENDER.value:
            item.state = transition(State.PENDING, State.CANCELED, "item").value
            item.error = reason
            skipped += 1
    if job.state == State.PENDING.value:
        job.state = transition(State.PENDING, State.RUNNING).value
    settle_job(session, job.id)
    return skipped


def record_progress(
    session: Session,
    item_id: int,
    stage: str,
    fraction: float,
    done_by: datetime | None = None,
) -> None:
    """A running item's stage and how far it is; ``done_by``: when it should end."""
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(stage=stage, progress=fraction, done_by=done_by, updated_at=utcnow())
    )


def finish_item(
    session: Session,
    claim: Claim,
    outcome: str,
    *,
    error: str | None = None,
    outputs: dict[str, Any] | None = None,
    output_url: str | None = None,
    retry_at: datetime | None = None,
) -> str:
    """Record how an attempt ended; returns the item's new state.

    ``outcome``: completed | failed | stopped (back to pending: a pause or a shutdown) |
    canceled. A failure with ``retry_at`` goes back to the queue until then. ``output_url``:
    where the video was delivered in object storage, recorded with ``outputs``.
    """
    item = session.get(Item, claim.item_id)
    execution = session.get(Execution, claim.execution_id)
    assert item is not None and execution is not None
    now = utcnow()
    target = {
        "completed": State.COMPLETED,
        "failed": State.FAILED,
        "stopped": State.PENDING,
        "canceled": State.CANCELED,
    }[outcome]
    publishes = bool(item.uploads) and item.phase == Phase.RENDER.value
    if target is State.COMPLETED and publishes:
        target = State.PENDING  # rendered: next its approval or upload
    # Running items pass through the in-between states the lifecycle requires.
    step = {State.COMPLETED: State.COMPLETING, State.CANCELED: State.CANCELING}.get(target)
    if item.state == State.RUNNING.value and step is not None:
        item.state = transition(State.RUNNING, step, "item").value
    if target is State.FAILED and retry_at is not None:
        target = State.PENDING
    current = State(item.state)
    if current is not target:
        item.state = transition(current, target, "item").value
    item.error = error
    item.not_before = retry_at
    item.done_by = None
    if outcome == "stopped":
        give_back_attempt(item)
    if outputs is not None:
        item.outputs, item.output_url = outputs, output_url
    if target is State.COMPLETED:
        item.progress, item.stage = 1.0, None
    item.finished_at = now if target is not State.PENDING else None
    if outcome == "completed" and publishes:
        after_render(session, item)
    execution.finished_at, execution.outcome, execution.error = now, outcome, error
    if retry_at is not None:
        execution.outcome = "failed"
    settle_job(session, claim.job_id)
    return item.state


def after_render(session: Session, item: Item) -> str | None:
    """A rendered item that publishes moves on to approval or upload (it stays pending, so its
    job is not finished before its video is out); returns the phase, None if it only renders."""
    if not item.uploads or item.phase != Phase.RENDER.value:
        return None
    approve = PublishConfig.from_dict(item.job.publish).approve
    phase = Phase.APPROVAL if approve else Phase.UPLOAD
    item.phase, item.stage, item.progress, item.not_before = phase.value, phase.value, 0.0, None
    for upload in item.uploads:
        upload.status = (
            UploadStatus.WAITING.value if phase is Phase.APPROVAL else UploadStatus.QUEUED.value
        )
    return phase.value


def expire_overdue(session: Session, now: datetime) -> int:
    """Skip the items of jobs whose processing deadline passed before they started."""
    with_deadline = session.connection().exec_driver_sql(WITH_DEADLINE_SQL, ACTIVE_JOB_STATES)
    overdue = [
        job_id
        for job_id, started, created, minutes in with_deadline
        if now - read_moment(started or created) >= timedelta(minutes=minutes)
    ]
    if not overdue:
        return 0
    expired = 0
    for job in session.scalars(select(Job).where(Job.id.in_(overdue))).all():
        assert job.deadline_minutes is not None
        expired += _skip_pending(
            session,
            job,
            f"{SKIPPED} the job's {job.deadline_minutes}-minute processing deadline "
            "passed before this item started",
        )
    return expired


def settle_job(session: Session, job_id: int) -> None:
    """Move a job on once none of its items is running: done, failed, paused or canceled."""
    job = session.get(Job, job_id)
    assert job is not None
    counts = dict(
        session.execute(
            select(Item.state, func.count()).where(Item.job_id == job_id).group_by(Item.state)
        ).all()
    )
    running = counts.get(State.RUNNING.value, 0)
    pending = counts.get(State.PENDING.value, 0)
    state = State(job.state)
    if running:
        return
    if state is State.PAUSING:
        job.state = transition(state, State.PAUSED).value
    elif state is State.CANCELING:
        job.state = transition(state, State.CANCELED).value
        job.finished_at = utcnow()
        cancel_pending(job)  # an item re-queued meanwhile (a stopped render) must not linger
    elif state is State.RUNNING and not pending:
        failed = counts.get(State.FAILED.value, 0)
        job.state = transition(state, State.COMPLETING).value
        job.state = transition(State.COMPLETING, State.FAILED if failed else State.COMPLETED).value
        job.finished_at = utcnow()


def cancel_pending(job: Job) -> None:
    """A canceled job's waiting items end canceled, without a stale "retrying in …" note."""
    for item in job.items:
        if item.state == State.PENDING.value:
            item.state = transition(State.PENDING, State.CANCELED, "item").value
            item.error = "canceled with the job"
            item.not_before = None


def give_back_attempt(item: Item, upload: Upload | None = None) -> None:
    """The attempt just claimed did not count: it ended for a reason not the item's (Cadence
    stopped or was killed, a pause, a quota wait). Renders and uploads count apart."""
    if upload is None:  # the one it was sending, as far as the store knows
        sending = [u for u in item.uploads if u.status == UploadStatus.UPLOADING.value]
        upload = sending[0] if sending else item.upload
    if item.phase == Phase.UPLOAD.value and upload is not None:
        upload.attempts = max(0, upload.attempts - 1)
    else:
        item.attempts = max(0, item.attempts - 1)


def recover(session: Session) -> int:
    """After a crash: items left running go back to the queue (their checkpoints remain);
    open executions are closed as interrupted; half-finished job actions are completed."""
    now = utcnow()
    stuck = session.scalars(
        select(Item).where(Item.state.in_((State.RUNNING.value, State.COMPLETING.value)))
    ).all()
    for item in stuck:
        item.state = State.PENDING.value  # running → pending is the re-queue transition
        give_back_attempt(item)  # Cadence stopping is never the item's fault
    session.execute(
        update(Execution)
        .where(Execution.finished_at.is_(None))
        .values(finished_at=now, outcome="interrupted", error="the app stopped during this attempt")
    )
    for job in session.scalars(
        select(Job).where(
            Job.state.in_(
                (
                    State.PAUSING.value,
                    State.CANCELING.value,
                    State.RUNNING.value,
                    State.COMPLETING.value,
                )
            )
        )
    ):
        if job.state == State.COMPLETING.value:
            job.state = State.RUNNING.value
        settle_job(session, job.id)
    return len(stuck)


# --- user actions ----------------------------------------------------------------------------


def retries_waiting(session: Session, within: datetime | None = None) -> bool:
    """Whether an item of an active job is waiting for its time (a retry's back-off, a start
    time, a quota) — with ``within``, one that comes by then."""
    waiting = (
        select(Item.id)
        .join(Job)
        .where(
            Item.state == State.PENDING.value,
            Item.not_before.is_not(None),
            Job.state.in_(ACTIVE_JOB_STATES),
        )
    )
    if within is not None:
        waiting = waiting.where(Item.not_before <= within)
    return session.scalar(waiting.limit(1)) is not None


def waits(session: Session, now: datetime) -> list[tuple[int, str, datetime, int]]:
    """Work that waits on a time: (job id, title, the first item's time, items), soonest
    first — what a run that stops while they wait should say."""
    rows = session.execute(
        select(Job.id, Job.title, func.min(Item.not_before), func.count(Item.id))
        .join(Item)
        .where(
            Item.state == State.PENDING.value,
            Item.not_before > now,
            Job.state.in_(ACTIVE_JOB_STATES),
        )
        .group_by(Job.id)
        .order_by(func.min(Item.not_before))
    ).all()
    return [(job_id, title, when, count) for job_id, title, when, count in rows if when]
