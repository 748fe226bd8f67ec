"""A job as the job table shows it — a plain record, made from the database by
`app.store.jobs.job_rows` (SQLAlchemy) or `app.store.first_look` (the standard library's
sqlite3, for the window's first screenful); both build it here, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.publishing import Phase, UploadStatus
from app.domain.states import State

# Upload states worth a word in the YouTube column, in the order they are told.
PUBLISHING_WORDS = ("published", "scheduled", "private", "awaiting approval", "on hold", "failed")


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    title: str
    state: str
    priority: str
    items_total: int
    items_completed: int
    items_failed: int
    next_run: datetime | None
    schedule: str
    created_at: datetime
    updated_at: datetime
    eta: datetime | None = None
    schedule_id: int | None = None  # the schedule that made it, if any
    schedule_paused: bool = False
    publishing: str = ""  # its videos on YouTube, in words; "" when it only renders

    @property
    def percent(self) -> float:
        if not self.items_total:
            return 100.0 if self.state == State.COMPLETED.value else 0.0
        return 100.0 * (self.items_completed + self.items_failed) / self.items_total


def publishing_words(counts: Iterable[tuple[int, str, str, str, int]]) -> dict[int, str]:
    """Per publishing job, from (job id, upload status, item phase, item state, how many):
    how many videos are published, scheduled, awaiting approval… in words."""
    found: dict[int, dict[str, int]] = {}
    for job_id, status, phase, state, count in counts:
        key = status
        if state == State.PENDING.value and phase == Phase.APPROVAL.value:
            key = "awaiting approval"
        elif status == UploadStatus.ON_HOLD.value:
            key = "on hold"
        tally = found.setdefault(job_id, {})
        tally[key] = tally.get(key, 0) + count
    return {
        job_id: " · ".join(f"{tally[k]} {k}" for k in PUBLISHING_WORDS if tally.get(k)) or "not yet"
        for job_id, tally in found.items()
    }


def next_run(start_at: str | None, now: datetime, zone: str | None = None) -> datetime | None:
    """A one-off job's planned start, while it is still ahead — in the job's own zone, so
    that it can be shown as planned ("09:00 CET")."""
    start = datetime.fromisoformat(start_at) if start_at else None
    if not start or start <= now:
        return None
    try:
        return start.astimezone(ZoneInfo(zone)) if zone else start
    except (ZoneInfoNotFoundError, ValueError):
        return start
