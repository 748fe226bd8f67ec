"""Schedules, run by APScheduler on the engine's event loop; each run creates a job.

APScheduler's jobs are kept in the app's database (same engine, same pragmas) by a store that
answers from memory and writes from its own thread (`app.engine.jobstore`). Jobs are
referenced by text with the schedule id as their only argument, so the store can always
unpickle them. The database's `schedules` table is the source of truth: the scheduler is
synced from it at start and whenever it changes (from this process or the command line).

Missed runs: a run missed by less than ``schedule.grace_minutes`` (the laptop slept, the app
was closed) runs once at start-up — several missed runs of one schedule coalesce into one.
Older ones are recorded as missed (`schedule list` shows them; `schedule run ID` runs now).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Row, bindparam, event, select
from sqlalchemy.orm import Session

from app.domain.calendar_runs import parse_moved
from app.domain.schedule import parse_schedule, zone
from app.engine.jobstore import PersistedMemoryJobStore
from app.google.sheets import SheetError
from app.store import schedules as schedule_store
from app.store.jobs import audit
from app.store.models import Schedule
from app.store.moments import stored_moment
from app.triggers import build_trigger
from app.workspace import CreatedJob, Workspace

log = logging.getLogger(__name__)
JOB_FUNCTION = "app.engine.schedules:fire_schedule"
_active: ScheduleRunner | None = None
RETRY_SUFFIX = "-retry"  # a run that could not reach its sheet, tried again
RETRY_SECONDS = 300
SYNC_CHUNK = 50  # schedules applied between yields to the event loop


# What a run reads first, built once (on the dispatch path).
_ONE_SCHEDULE = select(Schedule.__table__).where(Schedule.__table__.c.id == bindparam("id"))


def fire_schedule(schedule_id: int) -> None:
    """What APScheduler runs (by name, in a worker thread): one run of a schedule."""
    if _active is not None:
        _active.fire(schedule_id)


def _schedule_of(job_id: object) -> int:
    return int(str(job_id).removeprefix("schedule-").removesuffix(RETRY_SUFFIX))


def run_schedule(
    workspace: Workspace,
    schedule: Schedule | Row[Any],
    when: datetime,
    also: Callable[[Session, int], None] | None = None,
) -> CreatedJob:
    """Create the job a schedule makes at ``when`` (see `Workspace.job_from_schedule`);
    ``schedule``: its model, or its row as read (the same names)."""
    return workspace.job_from_schedule(schedule, when, also)


TRIGGER_VERSION = "crontab-2"  # bumped when the trigger's maths change: stored jobs are rebuilt


def _fingerprint(schedule: Schedule) -> str:
    moved = ""
    if schedule.moved_runs:  # a moved run changes the trigger: rebuilt, next run recomputed
        listing = json.dumps(schedule.moved_runs, sort_keys=True).encode()
        moved = f"|moved:{hashlib.sha256(listing).hexdigest()[:16]}"
    return f"{schedule.expression}|{schedule.timezone}{moved}|{TRIGGER_VERSION}"


def _same_plan(name: str, schedule: Schedule) -> bool:
    """A stored job for the same expression and zone, made by an earlier trigger version
    (never when runs were moved since: its stored next run may be the moved one)."""
    if schedule.moved_runs or "|moved:" in name:
        return False
    return name.rsplit("|", 1)[0] == f"{schedule.expression}|{schedule.timezone}" or name == (
        f"{schedule.expression}|{schedule.timezone}"
    )


class ScheduleRunner:
    def __init__(self, workspace: Workspace, on_job_created: Callable[[int], None]) -> None:
        self.workspace = workspace
        self.on_job_created = on_job_created
        self.scheduler: AsyncIOScheduler | None = None
        self.store: PersistedMemoryJobStore | None = None
        self.seen: dict[int, datetime] | None = None  # schedule id → last change, when synced
        self.signature: tuple[int, datetime | None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.submitted_once: set[int] = set()
        self.kinds: dict[int, str] = {}
        self.running_fires = 0
        self.idle = threading.Condition()

    async def start(self) -> None:
        """Call from inside the running event loop (APScheduler needs it)."""
        global _active
        self.loop = asyncio.get_running_loop()
        grace = self.workspace.settings.integer("schedule.grace_minutes") * 60
        db = self.workspace.db
        self.store = PersistedMemoryJobStore(
            db.engine.execution_options(cadence_write=True), db.writing
        )
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": self.store},
            job_defaults={"misfire_grace_time": grace, "coalesce": True, "max_instances": 1},
            timezone=UTC,
            event_loop=self.loop,
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        _active = self
        await asyncio.to_thread(self.store.load, self.scheduler)  # 10,000 rows: not on the loop
        # Sync first (paused): stored runs that were missed are judged when the scheduler starts.
        self.scheduler.start(paused=True)
        await self.sync()
        self.scheduler.resume()

    async def stop(self, grace: float = 120.0) -> None:
        """No more runs; a run in progress finishes first (its job is stored before the app
        closes the database), within ``grace`` seconds."""
        global _active
        running = self.scheduler is not None and self.scheduler.running
        if running and self.scheduler is not None:
            self.scheduler.pause()  # no new runs; shutting down now would cancel this one's future
        await asyncio.to_thread(self._wait_for_runs, grace)
        await asyncio.sleep(0)  # let the finished run's result reach the scheduler
        if running and self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        _active = None

    def _wait_for_runs(self, grace: float) -> None:
        with self.idle:
            if not self.idle.wait_for(lambda: self.running_fires == 0, timeout=grace):
                log.warning("a schedule run was still going after %s s at shutdown", grace)

    async def sync_if_changed(self) -> None:
        """Apply only what changed since the last sync (a full sync of thousands of schedules
        on every change would stall the loop)."""
        found = await asyncio.to_thread(self._read_changes)
        if found is None:
            return
        changed, removed = found
        assert self.scheduler is not None
        for n, schedule in enumerate(changed, 1):
            self._apply(schedule, self.scheduler.get_job(f"schedule-{schedule.id}"))
            if n % SYNC_CHUNK == 0:
                await asyncio.sleep(0)  # let the window (and due runs) have the loop
        for gone in removed:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"schedule-{gone}")

    def _read_changes(self) -> tuple[list[Schedule], set[int]] | None:
        """In a thread: the schedules added or edited since the last read, and the ids of
        those removed; None if nothing changed.

        Only what changed is read and compared: reading all 10,000 versions whenever a
        one-off ran (it switches itself off) cost tens of milliseconds of a thread holding
        the GIL, in the way of the next due run."""
        try:
            return self._read_changed()
        except BaseException:
            self.signature = self.seen = None  # half-read: the next read starts over, whole
            raise

    def _read_changed(self) -> tuple[list[Schedule], set[int]] | None:
        with self.workspace.db.read() as session:
            signature = schedule_store.signature(session)
            if signature == self.signature:
                return None  # the cheap check, every pass: nothing changed
            previous, self.signature = self.signature, signature
            seen = self.seen
            if seen is None or previous is None:
                seen, fresh = {}, schedule_store.versions(session)
            else:
                fresh = schedule_store.versions(session, previous[1])
            changed_ids = {i for i, at in fresh.items() if seen.get(i) != at}
            seen.update(fresh)
            removed: set[int] = set()
            if len(seen) != signature[0]:  # some were removed: the whole (narrow) read
                current = schedule_store.versions(session)
                removed = seen.keys() - current.keys()
                changed_ids |= {i for i, at in current.items() if seen.get(i) != at}
                seen = current
            self.seen = seen
            if not (changed_ids or removed):
                return None
            return schedule_store.by_ids(session, changed_ids), removed

    def _read_all(self) -> tuple[list[Schedule], dict[str, Job]]:
        """In a thread: every schedule, and every job APScheduler has stored (one read)."""
        assert self.scheduler is not None
        with self.workspace.db.read() as session:
            self.signature = schedule_store.signature(session)
            self.seen = schedule_store.versions(session)
            schedules = schedule_store.all_schedules(session)
        return schedules, {job.id: job for job in self.scheduler.get_jobs()}

    async def sync(self) -> None:
        """Make the scheduler's jobs match the whole schedules table (at start).

        APScheduler's own calls stay on the loop thread (its job submission and our one-off
        bookkeeping rely on that), in chunks so that a window on the same loop stays live."""
        assert self.scheduler is not None
        schedules, stored = await asyncio.to_thread(self._read_all)
        wanted = {f"schedule-{s.id}" for s in schedules if s.enabled}
        for job_id, job in stored.items():
            if job_id not in wanted and job_id.removesuffix(RETRY_SUFFIX) not in wanted:
                job.remove()
        for n, schedule in enumerate(schedules, 1):
            self._apply(schedule, stored.get(f"schedule-{schedule.id}"))
            if n % SYNC_CHUNK == 0:
                await asyncio.sleep(0)

    def _apply(self, schedule: Schedule, existing: Job | None) -> None:
        """Add, replace, pause, resume or remove one schedule's APScheduler job."""
        assert self.scheduler is not None
        self.kinds[schedule.id] = schedule.kind
        job_id = f"schedule-{schedule.id}"
        if not schedule.enabled or schedule.id in self.submitted_once:
            if existing is not None:
                existing.remove()
            return
        if existing is None or existing.name != _fingerprint(schedule):
            spec = parse_schedule(schedule.expression)
            keep: dict[str, Any] = {}
            if existing is not None and _same_plan(existing.name, schedule):
                # Only the trigger's maths changed: its stored next run — perhaps one missed
                # while the app was closed — is kept, so the upgrade loses no run.
                keep["next_run_time"] = existing.next_run_time
            existing = self.scheduler.add_job(
                JOB_FUNCTION,
                build_trigger(
                    spec, zone(schedule.timezone), moved=parse_moved(schedule.moved_runs)
                ),
                args=[schedule.id], id=job_id, name=_fingerprint(schedule),
                replace_existing=True, **keep,
            )  # fmt: skip
        if schedule.paused and existing.next_run_time is not None:
            existing.pause()
        elif not schedule.paused and existing.next_run_time is None:
            existing.resume()

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        """On the loop thread, before APScheduler drops a finished one-off job: remember it, so
        no sync re-adds it while its run is still being recorded."""
        schedule_id = _schedule_of(event.job_id)
        if str(event.job_id).endswith(RETRY_SUFFIX):
            return
        if self.kinds.get(schedule_id, "") == "once":
            self.submitted_once.add(schedule_id)

    # Called by APScheduler

    def fire(self, schedule_id: int) -> None:
        with self.idle:
            self.running_fires += 1
        try:
            self._fire(schedule_id)
        finally:
            with self.idle:
                self.running_fires -= 1
                self.idle.notify_all()

    def _store_next_run(self, session: Session, schedule_id: int) -> None:
        """In the job's transaction: the schedule's next run (and its retry's), as the pass
        that submitted this run left them — a crash can then never leave the job made with
        its run still due after a restart (see `PersistedMemoryJobStore.store_now`)."""
        if self.store is None:
            return
        aps_id = f"schedule-{schedule_id}"
        committed = self.store.store_now(session.connection(), (aps_id, f"{aps_id}{RETRY_SUFFIX}"))
        event.listen(session, "after_commit", lambda _session: committed(), once=True)

    def _fire(self, schedule_id: int) -> None:
        now = datetime.now(UTC)
        with self.workspace.db.engine.connect() as connection:  # a row, not an ORM object: ⅓
            schedule = connection.execute(_ONE_SCHEDULE, {"id": schedule_id}).one_or_none()
        if schedule is None or schedule.paused or not schedule.enabled:
            return
        if (schedule.start_at and now < schedule.start_at) or (
            schedule.end_at and now > schedule.end_at
        ):
            return

        def ran(session: Session, job_id: int) -> None:
            """In the job's own transaction: the run recorded, a one-off switched off (a
            restart must not run it again)."""
            audit(session, f"schedule {schedule_id}", "schedule.ran", "schedule", schedule_id,
                  job=job_id)  # fmt: skip
            if schedule.kind == "once":  # plain SQL: loading the schedule would cost more
                session.connection().exec_driver_sql(
                    "UPDATE schedules SET enabled = 0, updated_at = ? WHERE id = ?",
                    (stored_moment(datetime.now(UTC)), schedule_id),  # stamped in its turn
                )
            self._store_next_run(session, schedule_id)

        try:
            created = run_schedule(self.workspace, schedule, now, ran)
        except Exception as exc:  # a source that cannot be read: recorded, shown, not lost
            log.warning("schedule %s could not create its job: %s", schedule_id, exc)
            again = self._retry_later(schedule_id, exc)
            with self.workspace.db.write() as session:
                audit(
                    session,
                    f"schedule {schedule_id}",
                    "schedule.failed",
                    "schedule",
                    schedule_id,
                    error=str(exc),
                    retry_at=again.isoformat() if again else None,
                )
            return
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.on_job_created, created.job_id)

    def _retry_later(self, schedule_id: int, error: Exception) -> datetime | None:
        """A sheet that could not be reached (network, quota, Google down): this run is tried
        again in a few minutes rather than lost. Other failures wait for the user."""
        cause = error.__cause__
        if not (isinstance(cause, SheetError) and cause.transient) or self.scheduler is None:
            return None
        when = datetime.now(UTC) + timedelta(seconds=RETRY_SECONDS)
        self.scheduler.add_job(
            JOB_FUNCTION, DateTrigger(run_date=when), args=[schedule_id],
            id=f"schedule-{schedule_id}{RETRY_SUFFIX}", replace_existing=True,
        )  # fmt: skip
        return when

    def _on_missed(self, event: JobExecutionEvent) -> None:
        schedule_id = _schedule_of(event.job_id)
        when = event.scheduled_run_time
        log.info("schedule %s missed its run at %s", schedule_id, when)
        with self.workspace.db.write() as session:
            audit(
                session,
                "Cadence",
                "schedule.missed",
                "schedule",
                schedule_id,
                scheduled=when.isoformat(),
            )

    def _on_error(self, event: JobExecutionEvent) -> None:
        log.error("schedule job %s raised", event.job_id, exc_info=event.exception)
