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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

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

from app import ops
from app.domain.calendar_runs import parse_moved
from app.domain.schedule import parse_schedule, zone
from app.engine.jobstore import PersistedMemoryJobStore
from app.google.sheets import SheetError
from app.ops.jobs import CreatedJob, JobPlan
from app.paths import expand
from app.services import Services
from app.sources.intake import SourceSpec
from app.store import schedules as schedule_store
from app.store.jobs import audit
from app.store.models import Schedule
from app.store.moments import stored_moment
from app.triggers import build_trigger

log = logging.getLogger(__name__)
JOB_FUNCTION = "app.engine.schedules:fire_schedule"
_active: ScheduleRunner | None = None
RETRY_SUFFIX = "-retry"  # a run that could not reach its sheet, tried again
RETRY_SECONDS = 300
SYNC_CHUNK = 50  # schedules applied between yields to the event loop
LEAD_SECONDS = 2.0  # a run reads its sheet this long before its time (see `_look_ahead`)
FRESH_SECONDS = 10.0  # a plan serves only a run within this long after the planned time
PLAN_WAIT_SECONDS = 120.0  # a run waits this long at most for its sheet's read in flight
PLAN_YIELD_SECONDS = 0.05  # planning waits this long at most for a run going on to finish
PLAN_DEFER_SECONDS = 0.05  # planning starts no sooner after APScheduler's pass


# What a run reads first, built once (on the dispatch path).
_ONE_SCHEDULE = select(Schedule.__table__).where(Schedule.__table__.c.id == bindparam("id"))


class Dispatcher(Protocol):
    """Who renders the jobs runs make (the engine): a run claims what can start at once in the
    job's own transaction, so its first item starts as the job is committed — not after a
    second transaction, a hop to the event loop and a pass of the engine's loop."""

    def claim_in(self, session: Session) -> list[Any]:
        """In the run's thread and transaction: claim what fits now (perhaps nothing)."""

    def give_back(self, claims: list[Any]) -> None:
        """``claims`` will not be started here: their transaction did not commit, or the loop
        closed (then the next start's recovery puts them back in the queue)."""

    def created(self, job_id: int, claims: list[Any]) -> None:
        """On the event loop, after the commit: the job exists; start ``claims``."""


@dataclass(eq=False)
class _Ahead:
    """A run's job, read and checked before its time (`ScheduleRunner._look_ahead`)."""

    run_time: datetime
    ready: threading.Event = field(default_factory=threading.Event)
    plan: JobPlan | None = None  # None: the run reads its sheet itself
    version: datetime | None = None  # the schedule's ``updated_at`` when planned
    source: Path | None = None  # a local sheet, looked at again when the run comes
    stamp: tuple[int, int] | None = None  # its (mtime, size) before it was read


class _Stale(Exception):
    """The schedule changed after its run was planned: the run reads everything afresh."""


class _Off(Exception):
    """The schedule was paused or switched off after its run was planned: no run."""


def _file_stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        found = path.stat() if path is not None else None
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size) if found is not None else None


def _may_run(schedule: Row[Any], now: datetime) -> bool:
    """Switched on, not paused, and ``now`` inside its start and end."""
    if schedule.paused or not schedule.enabled:
        return False
    return not (
        (schedule.start_at and now < schedule.start_at)
        or (schedule.end_at and now > schedule.end_at)
    )


class _Scheduler(AsyncIOScheduler):
    """APScheduler's asyncio scheduler, saying each time it sets its timer (on the loop, after
    every pass over due runs and every change of a job): `ScheduleRunner` then plans the runs
    due within `LEAD_SECONDS`."""

    on_timer: Callable[[float | None], None] | None = None

    def _start_timer(self, wait_seconds: float | None) -> None:
        super()._start_timer(wait_seconds)
        if self.on_timer is not None:
            self.on_timer(wait_seconds)


def fire_schedule(schedule_id: int) -> None:
    """What APScheduler runs (by name, in a worker thread): one run of a schedule."""
    if _active is not None:
        _active.fire(schedule_id)


def _schedule_of(job_id: object) -> int:
    return int(str(job_id).removeprefix("schedule-").removesuffix(RETRY_SUFFIX))


def run_schedule(
    workspace: Services,
    schedule: Schedule | Row[Any],
    when: datetime,
    also: Callable[[Session, int], None] | None = None,
) -> CreatedJob:
    """Create the job a schedule makes at ``when`` (see `Services.job_from_schedule`);
    ``schedule``: its model, or its row as read (the same names)."""
    return ops.schedules.job_from_schedule(workspace, schedule, when, also)


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
    def __init__(self, workspace: Services, dispatcher: Dispatcher) -> None:
        self.workspace = workspace
        self.dispatcher = dispatcher
        self.scheduler: _Scheduler | None = None
        self.store: PersistedMemoryJobStore | None = None
        self.seen: dict[int, datetime] | None = None  # schedule id → last change, when synced
        self.signature: tuple[int, datetime | None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.submitted_once: set[int] = set()
        self.kinds: dict[int, str] = {}
        self.running_fires = 0
        self.runs_submitted = 0  # by APScheduler and not finished (may run ahead of the event)
        self.idle = threading.Condition()
        self.ahead: dict[int, _Ahead] = {}  # schedule id → its next run, planned
        self.ahead_lock = threading.Lock()
        self._ahead_timer: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Call from inside the running event loop (APScheduler needs it)."""
        global _active
        self.loop = asyncio.get_running_loop()
        grace = self.workspace.settings.integer("schedule.grace_minutes") * 60
        db = self.workspace.db
        self.store = PersistedMemoryJobStore(
            db.engine.execution_options(cadence_write=True), db.writing
        )
        self.scheduler = scheduler = _Scheduler(
            jobstores={"default": self.store},
            job_defaults={"misfire_grace_time": grace, "coalesce": True, "max_instances": 1},
            timezone=UTC,
            event_loop=self.loop,
        )
        scheduler.on_timer = self._plan_soon
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
        self._plan_soon(None)
        await asyncio.to_thread(self._wait_for_runs, grace)
        await self._results_delivered()
        if running and self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        _active = None

    async def _results_delivered(self, seconds: float = 5.0) -> None:
        """A finished run's result reaches APScheduler's executor through the loop (a thread
        hands it over): shutting down before it has would cancel that future and log the run
        as failed. One turn of the loop is not always enough on a busy machine."""
        if self.scheduler is None:
            return
        try:
            executor = self.scheduler._lookup_executor("default")
        except KeyError:
            return
        pending = getattr(executor, "_pending_futures", None)  # APScheduler 3's asyncio executor
        deadline = time.monotonic() + seconds
        await asyncio.sleep(0)
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

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
        no sync re-adds it while its run is still being recorded. (And before the look-ahead
        this pass sets off: planning waits for the runs submitted.)"""
        with self.idle:
            self.runs_submitted += 1
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
                self.runs_submitted -= 1
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

    # Planning ahead: a run's sheet is read and its rows checked a moment before its time,
    # so that at its time only the job's inserts are left (dispatch latency).

    def _plan_soon(self, wait: float | None) -> None:
        """On the loop, whenever APScheduler sets its timer (``wait``: seconds to the next
        run, None for none): a timer to plan what will be due within `LEAD_SECONDS`."""
        if self._ahead_timer is not None:
            self._ahead_timer.cancel()
            self._ahead_timer = None
        if wait is None or self.loop is None:
            return
        # Not at once: this pass may have just submitted runs, which have the processor first.
        later = max(wait - LEAD_SECONDS, PLAN_DEFER_SECONDS)
        self._ahead_timer = self.loop.call_later(later, self._look_ahead)

    def _look_ahead(self) -> None:
        """On the loop: the runs due within `LEAD_SECONDS` not planned yet are planned, in a
        thread of their own (a Google Sheet's read may take seconds)."""
        self._ahead_timer = None
        if self.store is None or self.scheduler is None:
            return
        horizon = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
        with self.scheduler._jobstores_lock:
            due = self.store.get_due_jobs(horizon)
        batch: list[tuple[int, _Ahead]] = []
        with self.ahead_lock:
            gone = horizon - timedelta(seconds=LEAD_SECONDS + FRESH_SECONDS)
            for schedule_id in [i for i, e in self.ahead.items() if e.run_time < gone]:
                del self.ahead[schedule_id]  # planned, then paused or removed: never ran
            for job in due:
                if str(job.id).endswith(RETRY_SUFFIX) or job.next_run_time is None:
                    continue
                schedule_id = _schedule_of(job.id)
                known = self.ahead.get(schedule_id)
                if known is None or known.run_time != job.next_run_time:
                    self.ahead[schedule_id] = entry = _Ahead(job.next_run_time)
                    batch.append((schedule_id, entry))
        if batch:
            threading.Thread(
                target=self._plan, args=(batch,), name="schedule-plan", daemon=True
            ).start()

    def _plan(self, batch: list[tuple[int, _Ahead]]) -> None:
        for schedule_id, entry in batch:
            # Runs due now have the processor first (for a moment only: one of them may be
            # waiting for this very plan).
            with self.idle:
                self.idle.wait_for(lambda: self.runs_submitted <= 0, PLAN_YIELD_SECONDS)
            try:
                with self.workspace.db.engine.connect() as connection:
                    schedule = connection.execute(_ONE_SCHEDULE, {"id": schedule_id}).one_or_none()
                template = schedule.job_template if schedule is not None else {}
                if (
                    schedule is None
                    or not _may_run(schedule, entry.run_time)
                    or (template.get("publish") or {}).get("slots")  # slots: taken at its time
                ):
                    continue
                spec = SourceSpec(template["source"])
                entry.source = None if spec.kind == "gsheet" else expand(spec.location)
                entry.stamp = _file_stamp(entry.source)  # before the read: a later write shows
                entry.version = schedule.updated_at
                entry.plan = ops.schedules.plan_from_schedule(
                    self.workspace, schedule, entry.run_time
                )
            except Exception as exc:  # its run reads the sheet itself, and says what is wrong
                log.debug("schedule %s: not planned ahead (%s)", schedule_id, exc)
                entry.plan = None
            finally:
                entry.ready.set()

    def _planned(self, schedule_id: int, now: datetime) -> _Ahead | None:
        """The plan made for the run due now, if it is ready and still good."""
        with self.ahead_lock:
            entry = self.ahead.get(schedule_id)
            if entry is None or now < entry.run_time - timedelta(seconds=1):
                return None  # none, or made for a later run
            del self.ahead[schedule_id]
        if now > entry.run_time + timedelta(seconds=FRESH_SECONDS):
            return None  # the app slept through its time: read the sheet as it is now
        if not entry.ready.wait(PLAN_WAIT_SECONDS) or entry.plan is None:
            return None
        if entry.source is not None and _file_stamp(entry.source) != entry.stamp:
            return None  # the file was saved since: read again
        return entry

    # Called by APScheduler

    def _fire(self, schedule_id: int) -> None:
        now = datetime.now(UTC)
        entry = self._planned(schedule_id, now)
        if entry is not None:
            with contextlib.suppress(_Stale):
                self._run(schedule_id, now, entry)
                return
        self._run(schedule_id, now, None)

    def _run(self, schedule_id: int, now: datetime, entry: _Ahead | None) -> None:
        """One run: its job made (from ``entry``'s plan, or read now), the run recorded, and
        the first items claimed — all in one transaction."""
        schedule: Row[Any] | None = None
        if entry is None:
            with self.workspace.db.engine.connect() as connection:  # a row, not an ORM object
                schedule = connection.execute(_ONE_SCHEDULE, {"id": schedule_id}).one_or_none()
            if schedule is None or not _may_run(schedule, now):
                return
        claims: list[Any] = []

        def ran(session: Session, job_id: int) -> None:
            """In the job's own transaction: the run recorded, a one-off switched off (a
            restart must not run it again), and what can start at once claimed."""
            current = schedule
            if current is None:  # planned: the schedule must still be as it was then
                assert entry is not None
                current = (
                    session.connection().execute(_ONE_SCHEDULE, {"id": schedule_id}).one_or_none()
                )
                if current is None or not _may_run(current, now):
                    raise _Off  # removed, paused or switched off meanwhile
                if current.updated_at != entry.version:
                    raise _Stale
            audit(session, f"schedule {schedule_id}", "schedule.ran", "schedule", schedule_id,
                  job=job_id)  # fmt: skip
            if current.kind == "once":  # plain SQL: loading the schedule would cost more
                session.connection().exec_driver_sql(
                    "UPDATE schedules SET enabled = 0, updated_at = ? WHERE id = ?",
                    (stored_moment(datetime.now(UTC)), schedule_id),  # stamped in its turn
                )
            self._store_next_run(session, schedule_id)
            claims.extend(self.dispatcher.claim_in(session))

        try:
            if schedule is not None:
                created = run_schedule(self.workspace, schedule, now, ran)
            else:
                assert entry is not None and entry.plan is not None
                created = ops.jobs.store_job(self.workspace, entry.plan, ran)
        except _Off:  # (raised before anything was claimed)
            return
        except _Stale:
            raise
        except Exception as exc:  # a source that cannot be read: recorded, shown, not lost
            self.dispatcher.give_back(claims)
            self._failed(schedule_id, exc)
            return
        except BaseException:
            self.dispatcher.give_back(claims)
            raise
        if self.loop is None or self.loop.is_closed():
            self.dispatcher.give_back(claims)
            return
        try:
            self.loop.call_soon_threadsafe(self.dispatcher.created, created.job_id, claims)
        except RuntimeError:  # the loop closed meanwhile
            self.dispatcher.give_back(claims)

    def _failed(self, schedule_id: int, exc: Exception) -> None:
        """A run that could not make its job: recorded (the Schedules view shows it), and
        tried again soon when the sheet could not be reached."""
        log.warning("schedule %s could not create its job: %s", schedule_id, exc)
        again = self._retry_later(schedule_id, exc)
        with self.workspace.db.write() as session:
            audit(
                session, f"schedule {schedule_id}", "schedule.failed", "schedule", schedule_id,
                error=str(exc), retry_at=again.isoformat() if again else None,
            )  # fmt: skip

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
