"""What a user does to a job in the store: pause, resume, cancel, start now, retry its failed
items — each a state change checked against the job's life cycle (`app.domain.states`) and
audited, in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.errors import UserError
from app.domain.publishing import UploadStatus
from app.domain.states import State, transition
from app.store.jobs import audit, require_job
from app.store.models import Job, utcnow
from app.store.queue import cancel_pending, settle_job


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
    cancel_pending(job)
    if job.state == State.CANCELED.value:
        job.finished_at = utcnow()
    settle_job(session, job_id)
    audit(session, actor, "job.cancel", "job", job_id)
    return job


def execute_job(session: Session, job_id: int, actor: str) -> Job:
    """Start a waiting job now: a paused one resumes, a start time or retry wait is dropped."""
    job = require_job(session, job_id)
    state = State(job.state)
    if state not in (State.PENDING, State.PAUSED):
        hint = " — retry it instead" if state is State.FAILED else ""
        raise UserError(f"job {job_id} is {job.state}; only a waiting job can start now{hint}")
    if state is State.PAUSED:
        job.state = transition(state, State.PENDING).value
    scheduling = dict(job.scheduling or {})
    if scheduling.pop("start_at", None) is not None:
        job.scheduling = scheduling
    for item in job.items:
        if item.state == State.PENDING.value:
            item.not_before = None
    audit(session, actor, "job.execute", "job", job_id)
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
            for upload in item.uploads:
                upload.attempts = 0
                if upload.status == UploadStatus.FAILED.value:  # that platform is asked again
                    upload.status, upload.note = UploadStatus.QUEUED.value, None
            again += 1
    job.finished_at = None
    audit(session, actor, "job.retry", "job", job_id, items=again)
    return again
