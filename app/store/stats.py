"""Progress and statistics from the database: per job, and for the whole workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, delete, func, select
from sqlalchemy.orm import Session

from app.domain.errors import UserError
from app.domain.scheduling import SKIPPED
from app.domain.states import State
from app.store.models import AuditEntry, Execution, Item, Job, utcnow


def _seconds(rows: Sequence[Any]) -> list[float]:
    """Durations of (start, end) rows that have both."""
    return [(end - start).total_seconds() for start, end in rows if start and end]


def job_progress(session: Session, job_id: int, concurrency: int = 1) -> dict[str, Any]:
    """Percent done, item counts, time spent, and an ETA from this job's own pace."""
    job = session.get(Job, job_id)
    assert job is not None
    items = session.execute(select(Item.state, Item.error).where(Item.job_id == job_id)).all()
    total = len(items)
    skipped = sum(
        1
        for state, error in items
        if state == State.CANCELED.value and (error or "").startswith(SKIPPED)
    )
    counts = {
        "completed": sum(1 for s, _ in items if s == State.COMPLETED.value),
        "failed": sum(1 for s, _ in items if s == State.FAILED.value),
        "running": sum(1 for s, _ in items if s == State.RUNNING.value),
        "pending": sum(1 for s, _ in items if s == State.PENDING.value),
        "skipped": skipped,
        "canceled": sum(1 for s, _ in items if s == State.CANCELED.value) - skipped,
    }
    finished = total - counts["running"] - counts["pending"]
    durations = _seconds(
        session.execute(
            select(Execution.started_at, Execution.finished_at)
            .join(Item)
            .where(Item.job_id == job_id, Execution.outcome == "completed")
        ).all()
    )
    per_item = sum(durations) / len(durations) if durations else None
    remaining = counts["running"] + counts["pending"]
    eta = None
    if (
        per_item is not None
        and remaining
        and job.state in (State.PENDING.value, State.RUNNING.value)
    ):
        eta = utcnow() + timedelta(seconds=per_item * remaining / max(concurrency, 1))
    now = utcnow()
    end = job.finished_at or now
    limited = job.rate_limited_until is not None and job.rate_limited_until > now
    waiting = session.scalar(
        select(func.min(Item.not_before)).where(
            Item.job_id == job_id, Item.state == State.PENDING.value, Item.not_before > now
        )
    )
    return {
        "job_id": job_id,
        "state": job.state,
        "percent_complete": round(100.0 * finished / total, 1) if total else 100.0,
        "items_total": total,
        **{f"items_{k}": v for k, v in counts.items()},
        "processing_seconds": round((end - job.started_at).total_seconds(), 1)
        if job.started_at
        else 0.0,
        "seconds_per_item": round(per_item, 1) if per_item is not None else None,
        "eta": eta.isoformat() if eta else None,
        "rate_limited": limited,
        "rate_limited_until": job.rate_limited_until.isoformat()
        if job.rate_limited_until and limited
        else None,
        "waiting_until": waiting.isoformat() if waiting and not counts["running"] else None,
    }


def mark_rate_limited(session: Session, job_id: int, until: datetime) -> None:
    """A Google quota holds the job until ``until``: its progress says so until then."""
    job = session.get(Job, job_id)
    if job is not None and (job.rate_limited_until is None or job.rate_limited_until < until):
        job.rate_limited_until = until


def workspace_stats(session: Session) -> dict[str, Any]:
    by_state = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
    item_states = dict(session.execute(select(Item.state, func.count()).group_by(Item.state)).all())
    active = sum(
        by_state.get(s, 0) for s in ("pending", "running", "pausing", "completing", "canceling")
    )
    done = item_states.get(State.COMPLETED.value, 0)
    failed = item_states.get(State.FAILED.value, 0)
    return {
        "jobs_total": sum(by_state.values()),
        "jobs_active": active,
        "jobs_by_state": {s.value: by_state.get(s.value, 0) for s in State},
        "items_completed": done,
        "items_failed": failed,
        "items_pending": item_states.get(State.PENDING.value, 0),
        "success_rate": round(100.0 * done / (done + failed), 1) if done + failed else None,
    }


def outcomes_since(session: Session, since: datetime) -> list[tuple[datetime, str, int]]:
    """Items completed or failed since ``since``: (quarter hour, in UTC; state; how many).

    Quarter hours, not days: which day a video was made on is the user's local day, which
    only the caller knows (and zones such as India's are half an hour off UTC)."""
    stored = func.strftime("%Y-%m-%d %H", Item.finished_at)
    quarter = func.cast(func.strftime("%M", Item.finished_at), Integer) / 15
    rows = session.execute(
        select(stored, quarter, Item.state, func.count())
        .where(
            Item.finished_at >= since,
            Item.state.in_((State.COMPLETED.value, State.FAILED.value)),
        )
        .group_by(stored, quarter, Item.state)
    ).all()
    found = []
    for hour, part, state, count in rows:
        at = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        found.append((at + timedelta(minutes=15 * int(part)), str(state), int(count)))
    return found


def prune_history(session: Session, keep_days: int) -> dict[str, int]:
    """Delete attempt history and audit entries older than ``keep_days`` days (1 to 3650:
    a count that would reach today or tomorrow is never taken to mean "everything")."""
    if not 1 <= keep_days <= 3650:
        raise UserError(f"history is kept from 1 to 3650 days, not {keep_days}")
    cutoff = utcnow() - timedelta(days=keep_days)
    old_runs = delete(Execution).where(
        Execution.finished_at.is_not(None), Execution.finished_at < cutoff
    )
    executions = cast(CursorResult[Any], session.execute(old_runs)).rowcount
    old_entries = delete(AuditEntry).where(AuditEntry.at < cutoff)
    entries = cast(CursorResult[Any], session.execute(old_entries)).rowcount
    return {"executions": executions or 0, "audit_entries": entries or 0}
