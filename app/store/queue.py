"""The work queue in the database: claim ready items, record outcomes, move jobs through states.

Every change is one write transaction (BEGIN IMMEDIATE), so two claimers can never take the
same item, and a crash between transactions leaves a state that `recover` can repair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app.domain.states import State, transition
from app.store.jobs import audit, require_job
from app.store.models import Execution, Item, Job, utcnow

ACTIVE_JOB_STATES = (State.PENDING.value, State.RUNNING.value)
_PRIORITY_RANK = case({"high": 2, "normal": 1, "low": 0}, value=Job.priority, else_=1)


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


def claim_next(session: Session, limit: int) -> list[Claim]:
    """Up to ``limit`` pending items of pending/running jobs: higher priority first, then older
    jobs, then sheet order. Claimed items are marked running, with an execution record."""
    if limit <= 0:
        return []
    now = utcnow()
    expire_overdue(session, now)
    rows = session.execute(
        select(Item, Job)
        .join(Job)
        .where(
            Item.state == State.PENDING.value,
            Job.state.in_(ACTIVE_JOB_STATES),
            (Item.not_before.is_(None)) | (Item.not_before <= now),
        )
        .order_by(_PRIORITY_RANK.desc(), Job.created_at, Job.id, Item.row_number)
        .limit(limit)
    ).all()
    claims = []
    for item, job in rows:
        if job.state == State.PENDING.value:
            job.state = transition(State.PENDING, State.RUNNING).value
            job.started_at = job.started_at or now
        item.state = transition(State(item.state), State.RUNNING, "item").value
        item.attempts += 1
        item.started_at = now
        item.error = None
        execution = Execution(item=item, attempt=item.attempts, started_at=now)
        session.add(execution)
        session.flush()
        claims.append(
            Claim(
                item.id,
                job.id,
                item.row_number,
                dict(item.idea),
                item.attempts,
                execution.id,
                job.title,
                dict(job.output_config),
                job.style,
                dict(job.scheduling),
            )
        )
    return claims


def record_progress(session: Session, item_id: int, stage: str, fraction: float) -> None:
    session.execute(
        update(Item)
        .where(Item.id == item_id)
        .values(stage=stage, progress=fraction, updated_at=utcnow())
    )


def finish_item(
    session: Session,
    claim: Claim,
    outcome: str,
    *,
    error: str | None = None,
    outputs: dict[str, Any] | None = None,
    retry_at: datetime | None = None,
) -> str:
    """Record how an attempt ended; returns the item's new state.

    ``outcome``: completed | failed | stopped (back to pending: a pause or a shutdown) |
    canceled. A failure with ``retry_at`` goes back to the queue until then.
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
    if outputs is not None:
        item.outputs = outputs
    if target is State.COMPLETED:
        item.progress, item.stage = 1.0, None
    item.finished_at = now if target is not State.PENDING else None
    execution.finished_at, execution.outcome, execution.error = now, outcome, error
    if retry_at is not None:
        execution.outcome = "failed"
    settle_job(session, claim.job_id)
    return item.state


def expire_overdue(session: Session, now: datetime) -> int:
    """Skip the items of jobs whose processing deadline passed before they started."""
    expired = 0
    overdue = session.scalars(
        select(Job).where(Job.state.in_(ACTIVE_JOB_STATES), Job.deadline_minutes.is_not(None))
    ).all()
    for job in overdue:
        began = job.started_at or job.created_at
        assert job.deadline_minutes is not None
        if now - began < timedelta(minutes=job.deadline_minutes):
            continue
        for item in job.items:
            if item.state == State.PENDING.value:
                item.state = transition(State.PENDING, State.CANCELED, "item").value
                item.error = (
                    f"skipped: the job's {job.deadline_minutes}-minute processing deadline "
                    "passed before this item started"
                )
                expired += 1
        if job.state == State.PENDING.value:
            job.state = transition(State.PENDING, State.RUNNING).value
        settle_job(session, job.id)
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
    elif state is State.RUNNING and not pending:
        failed = counts.get(State.FAILED.value, 0)
        job.state = transition(state, State.COMPLETING).value
        job.state = transition(State.COMPLETING, State.FAILED if failed else State.COMPLETED).value
        job.finished_at = utcnow()


def recover(session: Session) -> int:
    """After a crash: items left running go back to the queue (their checkpoints remain);
    open executions are closed as interrupted; half-finished job actions are completed."""
    now = utcnow()
    stuck = session.scalars(
        select(Item).where(Item.state.in_((State.RUNNING.value, State.COMPLETING.value)))
    ).all()
    for item in stuck:
        item.state = State.PENDING.value  # running → pending is the re-queue transition
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


def pause_job(session: Session, job_id: int, actor: str) -> Job:
    job = require_job(session, job_id)
    state = State(job.state)
    target = State.PAUSING if state is State.RUNNING else State.PAUSED
    job.state = transition(state, target).value
    settle_job(session, job_id)
    audit(session, actor, "job.pause", "job", job_id)
    return job


def resume_job(session: Session, job_id: int, actor: str) -> Job:
    job = require_job(session, job_id)
    job.state = transition(State(job.state), State.PENDING).value
    audit(session, actor, "job.resume", "job", job_id)
    return job


def cancel_job(session: Session, job_id: int, actor: str) -> Job:
    job = require_job(session, job_id)
    state = State(job.state)
    target = (
        State.CANCELING if state in (State.RUNNING, State.PAUSING, State.PAUSED) else State.CANCELED
    )
    job.state = transition(state, target).value
    for item in job.items:
        if item.state == State.PENDING.value:
            item.state = transition(State.PENDING, State.CANCELED, "item").value
    if job.state == State.CANCELED.value:
        job.finished_at = utcnow()
    settle_job(session, job_id)
    audit(session, actor, "job.cancel", "job", job_id)
    return job


def retry_job(session: Session, job_id: int, actor: str) -> int:
    """Failed items back to the queue; returns how many."""
    job = require_job(session, job_id)
    job.state = transition(State(job.state), State.PENDING).value
    again = 0
    for item in job.items:
        if item.state == State.FAILED.value:
            item.state = transition(State.FAILED, State.PENDING, "item").value
            item.error = None
            again += 1
    job.finished_at = None
    audit(session, actor, "job.retry", "job", job_id, items=again)
    return again


def retries_waiting(session: Session) -> bool:
    """Whether an item of an active job is waiting for its retry time."""
    return (
        session.scalar(
            select(func.count(Item.id))
            .join(Job)
            .where(
                Item.state == State.PENDING.value,
                Item.not_before.is_not(None),
                Job.state.in_(ACTIVE_JOB_STATES),
            )
        )
        or 0
    ) > 0
