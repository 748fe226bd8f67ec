"""Progress and statistics from the database: per job, and for the whole workspace."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, delete, func, select
from sqlalchemy.orm import Session

from app.domain.dispatch import SKIPPED
from app.domain.errors import UserError
from app.domain.estimate import RECENT, Measured, Pace, finish_times, job_lanes, minute_up
from app.domain.states import State
from app.store.models import AuditEntry, Execution, Item, Job, utcnow

ETA_ITEMS = 5000  # waiting items read one by one for a job's ETA; the rest by their average


def _seconds(rows: Sequence[Any]) -> list[float]:
    """Durations of (start, end) rows that have both."""
    return [(end - start).total_seconds() for start, end in rows if start and end]


def job_progress(
    session: Session, job_id: int, concurrency: int = 1, pace: Pace | None = None
) -> dict[str, Any]:
    """Percent done, item counts, time spent, and when it should be done (`job_eta`)."""
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
    eta = None
    if (counts["running"] or counts["pending"]) and job.state in (
        State.PENDING.value,
        State.RUNNING.value,
    ):
        lanes = job_lanes((job.scheduling or {}).get("max_concurrent"), concurrency)
        eta = job_eta(session, job, lanes, pace)
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
        "eta": eta.isoformat() if eta else None,  # to the minute, rounded up
        "rate_limited": limited,
        "rate_limited_until": job.rate_limited_until.isoformat()
        if job.rate_limited_until and limited
        else None,
        "waiting_until": waiting.isoformat() if waiting and not counts["running"] else None,
    }


def render_pace(session: Session, sizes: bool = True) -> Pace:
    """This computer's recent whole renders, as estimates learn from them (newest first).
    ``sizes``: read each video's size from its file while it is still there."""
    rows = session.scalars(
        select(Item.outputs)
        .where(func.json_extract(Item.outputs, "$.measure").is_not(None))
        .order_by(Item.finished_at.desc(), Item.id.desc())
        .limit(RECENT)
    ).all()
    found = []
    for outputs in rows:
        size = None
        video = Path(str((outputs or {}).get("video") or ""))
        if sizes and video.name:
            with contextlib.suppress(OSError):  # moved or deleted since: its time still counts
                size = video.stat().st_size
        measured = Measured.from_outputs(outputs or {}, size)
        if measured is not None:
            found.append(measured)
    return Pace(tuple(found))


def job_eta(session: Session, job: Job, lanes: int, pace: Pace | None = None) -> datetime | None:
    """When a job's last render should end: the running ones when the engine expects them to
    (each stage's own rate), then the waiting ones, each as long as this computer takes for a
    video of its script's length, ``lanes`` at a time and none before it may start. Rounded
    up to the minute; never a time already past. None while nothing is known to go by."""
    now = utcnow()
    pace = pace if pace is not None else render_pace(session, sizes=False)
    config = job.output_config or {}
    line = pace.line(
        str(config.get("resolution") or "1080p"), str(config.get("optimize") or "balanced")
    )
    busy = []
    for done_by, idea in session.execute(
        select(Item.done_by, Item.idea).where(
            Item.job_id == job.id, Item.state == State.RUNNING.value
        )
    ):
        if done_by is not None:
            busy.append(max(0.0, (done_by - now).total_seconds()))
        else:  # just claimed: as long as a whole render of it
            busy.append(line.seconds(_length(pace, idea)))
    work = [
        (max(0.0, (not_before - now).total_seconds()) if not_before else 0.0,
         line.seconds(_length(pace, idea)))
        for idea, not_before in session.execute(
            select(Item.idea, Item.not_before)
            .where(
                Item.job_id == job.id,
                Item.state == State.PENDING.value,
                Item.phase == "render",
            )
            .order_by(Item.rank.desc(), Item.row_number)
            .limit(ETA_ITEMS)
        )
    ]  # fmt: skip
    if len(work) == ETA_ITEMS:  # a huge job: the rest as long as the average of these
        more = session.scalar(
            select(func.count(Item.id)).where(
                Item.job_id == job.id, Item.state == State.PENDING.value, Item.phase == "render"
            )
        )
        mean = sum(seconds for _start, seconds in work) / len(work)
        work += [(0.0, mean)] * max(0, int(more or 0) - ETA_ITEMS)
    if not busy and not work:
        return None
    ends = finish_times(lanes, busy, work)
    return minute_up(now + timedelta(seconds=max([*ends, *busy], default=0.0)))


def _length(pace: Pace, idea: dict[str, Any] | None) -> float:
    idea = idea or {}
    try:
        cell = float(idea.get("duration_seconds") or 60)
    except (TypeError, ValueError):
        cell = 60.0
    return pace.video_seconds(str(idea.get("script_content") or ""), cell)


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
