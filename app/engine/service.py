"""The engine: takes ready items from the queue and renders them, a few at a time.

The database is the source of truth. Every state change is committed before anything is
announced; pause and cancel, from this process or another (`jobs pause 3` on the command
line), are noticed by watching job states, and reach running renders as a stop (at the next
stage boundary) or a cancel (the child process is terminated). A start after a crash puts
interrupted items back in the queue, where their checkpoints let them resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import queries
from app.cluster.executor import ClusterError, ClusterExecutor, ClusterLink
from app.delivery.objects import deliver
from app.domain.errors import UserError
from app.domain.estimate import Pace, time_left
from app.domain.idea import Idea
from app.domain.output import OutputConfig
from app.domain.resources import parse_resources
from app.domain.retry import RetryPolicy, RetryStrategy
from app.domain.states import State
from app.domain.storage import StorageError, StorageTarget, parse_target
from app.engine.events import EngineEvent, EventKind
from app.engine.load import LoadGauge
from app.engine.retry import retry_delay
from app.engine.schedules import ScheduleRunner
from app.google.publisher import Publisher, PublishOutcome
from app.google.writeback import WriteBack
from app.paths import unwritable
from app.pipeline.lifeline import sweep_leftovers
from app.pipeline.render import existing_outputs, slug
from app.pipeline.runner import RenderOutcome, RenderStatus, RenderTask, run_render
from app.publish import webhooks
from app.render_config import render_settings
from app.services import Services
from app.store import publishing, queue, stats
from app.store.database import CommitWatch, DamagedDatabase
from app.store.jobs import audit
from app.store.models import Item, Job, Upload, utcnow
from app.store.publishing import OUTPUT_FILES

log = logging.getLogger(__name__)
PROGRESS_EVERY = 2.0  # seconds between progress writes per item
PRUNE_EVERY = 6 * 3600.0
WRITE_BACK_EVERY = 1.0  # seconds between status write-backs (one request per sheet each)
WRITE_BACK_IDLE_EVERY = 15.0
WEBHOOK_GRACE = 120.0  # seconds a shutdown waits for webhook deliveries
# While nothing runs, nothing was committed and nothing woke it, the engine skips its pass
# (one PRAGMA instead of its queries) until the next waiting item's time — and, while any
# item waits, at least this often, for what only the clock changes: a minimum interval
# between starts, a deadline, a job's end time.
HEARTBEAT = 10.0
FIGURES_EVERY = 3600.0  # seconds between looks whether published videos' figures are due
# A run until idle waits for work due within this long (a retry's back-off; the longest
# default is 15 minutes) and stops, saying so, when all that is left waits longer.
IDLE_WAIT = 15 * 60.0
LAST_WRITE_BACK_SECONDS = 60.0  # the longest a stop waits for the sheets' last statuses


@dataclass(slots=True)
class _Worker:
    claim: queue.Claim | publishing.UploadClaim
    stop: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None


def job_folder(workspace: Services, claim: queue.Claim) -> Path:
    """Where a job's videos go: its own folder, or one per job in the output folder."""
    chosen = claim.output_config.get("folder")
    if chosen:
        return Path(chosen)
    base = workspace.settings.get("output.folder") or str(
        platformdirs.user_videos_path() / "Cadence"
    )
    return Path(base) / f"job-{claim.job_id}-{slug(claim.job_title, 40)}"


async def in_own_thread(work: Callable[[_Worker], None], worker: _Worker, *, name: str) -> None:
    """``work(worker)`` in a thread of its own, awaited. A render or an upload holds its thread
    for minutes: in the event loop's shared pool (min(32, cores + 4) threads — 6 on a 2-core
    machine) enough of them would leave no thread for the engine's short database calls and
    the schedules' runs, and a cancel would wait for a render to end."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():  # the awaiting task was canceled meanwhile
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            work(worker)
        except BaseException as exc:  # handed to the awaiting task, which logs it
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed (the app quit)
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name=name, daemon=True).start()
    await done


class Engine:
    def __init__(
        self,
        workspace: Services,
        *,
        max_concurrent: int | None = None,
        poll_seconds: float = 1.0,
        on_event: Callable[[EngineEvent], None] = lambda _e: None,
        run_schedules: bool = True,
        gauge: LoadGauge | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.workspace = workspace
        self.db = workspace.db
        self.max_concurrent = max_concurrent or workspace.settings.integer("engine.max_concurrent")
        self.poll_seconds = poll_seconds
        self._on_event = on_event
        self.workers: dict[int, _Worker] = {}
        self.uploads: dict[int, _Worker] = {}  # uploads run beside renders, in their own slots
        self._finished = 0  # workers that ended, renders and uploads
        self._pace: tuple[int, Pace] | None = None  # (at which _finished, this computer's pace)
        self._pace_lock = threading.Lock()
        self.max_uploads = workspace.settings.integer("youtube.max_uploads")
        self._publisher = publisher
        self._wake = asyncio.Event()
        self._loop_running: asyncio.AbstractEventLoop | None = None
        self.run_schedules = run_schedules
        self.schedules: ScheduleRunner | None = None
        self._pruned_at = 0.0
        self.webhook_threads: list[threading.Thread] = []
        self.gauge = gauge or LoadGauge()
        self.writeback = WriteBack(workspace.db, workspace.sheets)
        self.write_back_left = 0  # rows whose status the last stop could not write
        self._flushing: asyncio.Future[int] | None = None
        self._flushed_at = 0.0
        self._news = True
        self.limiter = workspace.limiter
        self.limiter.on_limited = self._rate_limited  # a waiting job says so in its progress
        self._commits: CommitWatch | None = None  # open while running
        self._look_at = 0.0  # monotonic: the next pass even when nothing else asks for one
        self._held = False  # the load held back ready work: look again every poll
        self._figures_at = 0.0  # monotonic: the next look whether figures are due (daily)
        self._figures: asyncio.Future[None] | None = None
        self._retired: list[ClusterExecutor] = []  # closed when the engine stops
        self._link = ClusterLink(self._retired.append)  # while render.cluster names one
        # Claimed renders not yet started: claims are made in threads (the engine's own, and a
        # schedule's run in its job's transaction) and started on the loop. Both counts are
        # read and changed together under this lock, so no claimer over-fills the slots.
        self._slots = threading.Lock()
        self._in_flight = 0
        self._accepting = False  # while the loop runs: claims made now will be started

    def _must_look(self) -> bool:
        """In a thread: a pass has work to find — something committed, or its time came."""
        assert self._commits is not None
        committed = self._commits.changed()  # always read, so the next look compares to now
        now = time.monotonic()
        return committed or self._held or now >= self._look_at or now >= self._figures_at

    # The loop

    async def run(self, stopping: asyncio.Event, *, until_idle: bool = False) -> None:
        """Work until ``stopping`` is set (or, with ``until_idle``, until the queue is empty).

        On stopping, running items end at their next stage boundary and go back to the queue.
        """
        self._loop_running = asyncio.get_running_loop()
        # A damaged file is found before anything is written to it (`DamagedDatabase`).
        await asyncio.to_thread(self.db.quick_check)
        # An encoder an earlier crash left writing would race this run's renders.
        await asyncio.to_thread(sweep_leftovers, self.workspace.paths.cache_dir / "work")
        recovered = await asyncio.to_thread(self._recover)
        if recovered:
            log.info("re-queued %s items interrupted by the last shutdown", recovered)
        await asyncio.to_thread(self._prune)
        if self.schedules is None and self.run_schedules:
            self.schedules = ScheduleRunner(self.workspace, self)
            await self.schedules.start()
        # What exists now (modules, 10,000 schedules' triggers, caches) lives as long as the
        # app: out of the cyclic collector's sight, a full collection — which holds every
        # thread, the window's included — takes milliseconds instead of over 100 ms.
        gc.freeze()
        self._commits = self.db.watch()
        try:
            await self._loop(stopping, until_idle)
        finally:
            self._commits.close()
            for cluster in [*self._retired, *([self.cluster] if self.cluster else [])]:
                await asyncio.to_thread(cluster.close)  # remote renders still going: cancelled
            if self.schedules is not None:
                await self.schedules.stop()
                self.schedules = None

    async def _loop(self, stopping: asyncio.Event, until_idle: bool) -> None:
        with self._slots:
            self._accepting = True
        try:
            await self._passes(stopping, until_idle)
        finally:
            with self._slots:
                self._accepting = False

    async def _passes(self, stopping: asyncio.Event, until_idle: bool) -> None:
        while not stopping.is_set():
            # Cleared before this pass's work: a wake-up that arrives while it awaits a thread
            # (a schedule just made a job) must not be lost until the next poll.
            woken, busy = self._wake.is_set(), bool(self.workers or self.uploads)
            self._wake.clear()
            if not (woken or busy or until_idle or await asyncio.to_thread(self._must_look)):
                await self._rest(stopping)
                continue
            try:
                if await self._pass(until_idle):
                    break
            except DamagedDatabase:  # nothing more may be written: the engine stops, saying why
                raise
            except Exception:  # a bug in one pass must not stop the work of every job
                log.exception("the engine's pass failed; it goes on")
            await self._rest(stopping)
        running = [*self.workers.values(), *self.uploads.values()]
        for worker in running:
            worker.stop.set()
        pending = [w.task for w in running if w.task is not None]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for thread in self.webhook_threads:  # let deliveries in flight finish (or give up)
            await asyncio.to_thread(thread.join, WEBHOOK_GRACE)
        for flight in (self._flushing, self._figures):  # in flight: completes; the rest waits
            if flight is not None:
                await asyncio.gather(flight, return_exceptions=True)
        # The last statuses (the last video's "completed" among them) reach the sheet before
        # the engine stops; what cannot (offline, quota) is counted and said.
        self.write_back_left = await asyncio.to_thread(self._last_write_back)

    async def _pass(self, until_idle: bool) -> bool:
        """One look at the work: start what may start, then the bookkeeping. True when
        ``until_idle`` and nothing is left to do."""
        finished_before = self._finished
        # The loop may be the window's (qasync): database work goes to threads.
        # Ready work first (dispatch latency), then bookkeeping.
        await self._follow_job_actions()
        started = await self._fill()
        started += await self._fill_uploads()
        if self.schedules is not None:
            await self.schedules.sync_if_changed()
        if time.monotonic() - self._pruned_at > PRUNE_EVERY:
            await asyncio.to_thread(self._prune)
        self._maybe_write_back()
        self._maybe_read_figures()
        return bool(
            until_idle
            and not self.workers
            and not self.uploads
            and not started
            # A worker that ended during this pass may have left work to claim (the next
            # item of its job, its upload): look again before calling it a day.
            and self._finished == finished_before
            and not await asyncio.to_thread(self._retries_waiting)
        )

    async def _rest(self, stopping: asyncio.Event) -> None:
        """Until woken, stopped, or the poll interval is over."""
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stopping.wait()),
        ]
        await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    def _send_webhook(self, job_id: int, url: str, body: bytes) -> None:
        """Deliver in its own thread: retries with backoff never hold up the engine."""
        secret = self.workspace.settings.webhook_secret()

        def send() -> None:
            details: dict[str, object]
            try:
                status = webhooks.deliver(url, body, secret)
                action, details = "webhook.sent", {"status": status}
            except webhooks.WebhookError as exc:
                log.warning("webhook for job %s: %s", job_id, exc)
                action, details = "webhook.failed", {"error": str(exc)}
            with self.db.write() as session:
                audit(session, "Cadence", action, "job", job_id, url=url, **details)

        thread = threading.Thread(target=send, name=f"webhook-{job_id}", daemon=True)
        self.webhook_threads.append(thread)
        thread.start()

    def _tell_if_ended(self, session: Any, job_id: int) -> None:
        """A job that just completed or failed posts its summary to its callback URL."""
        job = session.get(Job, job_id)
        assert job is not None
        if job.callback_url and job.state in (State.COMPLETED.value, State.FAILED.value):
            body = webhooks.payload(
                stats.job_progress(session, job.id),
                job.finished_at.isoformat() if job.finished_at else None,
            )
            self._send_webhook(job.id, job.callback_url, body)

    def _prune(self) -> None:
        """History older than ``history.keep_days`` goes, at start and every few hours."""
        self._pruned_at = time.monotonic()
        days = self.workspace.settings.integer("history.keep_days")
        with self.db.write() as session:
            removed = stats.prune_history(session, days)
        if any(removed.values()):
            log.info("pruned history older than %s days: %s", days, removed)

    def _retries_waiting(self) -> bool:
        """Whether a run until idle waits for work whose time is near (a retry's back-off);
        work that waits longer (tomorrow's quota, a start in 2030) does not keep it."""
        with self.db.read() as session:
            return queue.retries_waiting(session, utcnow() + timedelta(seconds=IDLE_WAIT))

    def wake(self) -> None:
        self._wake.set()

    def wake_from_thread(self) -> None:
        """`wake` for other threads (the API's): handed to the engine's own loop."""
        loop = self._loop_running
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def _maybe_write_back(self) -> None:
        """At most one status write-back a second, in a thread, never holding up the loop."""
        if self._flushing is not None and not self._flushing.done():
            return
        # Soon after news of our own (an item started, progressed, finished); otherwise now
        # and then, for changes made elsewhere (a `jobs cancel` in a terminal) or still pending.
        every = WRITE_BACK_EVERY if self._news else WRITE_BACK_IDLE_EVERY
        if time.monotonic() - self._flushed_at < every:
            return
        self._flushed_at = time.monotonic()
        self._news = False
        self._flushing = asyncio.ensure_future(asyncio.to_thread(self._write_back))

    def _maybe_read_figures(self) -> None:
        """Once a day, the published videos' views, likes and comments (in a thread)."""
        if time.monotonic() < self._figures_at:
            return
        if self._figures is not None and not self._figures.done():
            return
        self._figures_at = time.monotonic() + FIGURES_EVERY
        self._figures = asyncio.ensure_future(asyncio.to_thread(self._read_figures))

    def _read_figures(self) -> None:
        try:
            analytics = queries.analytics.analytics(self.workspace)
            if analytics.due():
                log.info("%s", analytics.fetch().summary())
        except Exception:  # a bug here must not stop the engine; tomorrow's read tries again
            log.exception("reading the videos' figures failed")

    def _last_write_back(self) -> int:
        try:
            return self.writeback.flush_all(LAST_WRITE_BACK_SECONDS)
        except Exception:  # a bug here must not keep the engine from stopping
            log.exception("the last status write-back failed")
            return self.writeback.pending_count()

    def _write_back(self) -> int:
        try:
            return self.writeback.flush() if self.writeback.pending() else 0
        except Exception:  # a bug here must not stop the engine; the news stays pending
            log.exception("status write-back failed")
            return 0

    def on_event(self, event: EngineEvent) -> None:
        """Announce (after commit) and note that the sheet has news."""
        self._news = True
        self._on_event(event)

    def _rate_limited(self, job_id: int | None, seconds: float) -> None:
        """A Google request of ``job_id`` waits for quota: its progress says so meanwhile."""
        if job_id is not None:
            with self.db.write() as session:
                stats.mark_rate_limited(session, job_id, utcnow() + timedelta(seconds=seconds))

    def _recover(self) -> int:
        with self.db.write() as session:
            return queue.recover(session)

    def _free(self) -> int:
        """Render slots neither running nor claimed for a start (in any thread)."""
        with self._slots:
            return self.capacity() - len(self.workers) - self._in_flight

    def _claim_in(
        self, session: Session, free: int, load_slots: Callable[[], int] | None = None
    ) -> list[queue.Claim]:
        """Claim up to ``free`` items in ``session`` (a write transaction: claimers take turns)
        and count them as claimed until the loop starts them (`_begin`)."""
        # The machine's load, read once — and only if a smart job has ready items.
        load_slots = load_slots or functools.cache(
            lambda: self.gauge.slots(len(self.workers), free)
        )
        claims = queue.claim_next(session, free, load_slots=load_slots)
        with self._slots:
            self._in_flight += len(claims)
        return claims

    def claim_in(self, session: Session) -> list[queue.Claim]:
        """A schedule's run, in its job's transaction (see `Dispatcher`)."""
        with self._slots:
            if not self._accepting:
                return []
        free = self._free()
        return self._claim_in(session, free) if free > 0 else []

    def give_back(self, claims: list[queue.Claim]) -> None:
        with self._slots:
            self._in_flight -= len(claims)

    def created(self, job_id: int, claims: list[queue.Claim]) -> None:
        """On the loop: a schedule's run made a job (and perhaps claimed its first items)."""
        self._begin(claims)
        self.wake()  # the rest of its items, and the pass's bookkeeping

    def _begin(self, claims: list[queue.Claim]) -> None:
        """On the loop: claimed renders start (or, the loop having ended, go back)."""
        if not claims:
            return
        with self._slots:
            self._in_flight -= len(claims)
            accepting = self._accepting
            for claim in claims if accepting else ():
                self._start(claim, self.workers, self._render, {})
        if not accepting:  # the app is closing: rare, and a few rows
            with self.db.write() as session:
                for claim in claims:
                    queue.finish_item(session, claim, "stopped")

    def _claim(self) -> list[queue.Claim]:
        """In a thread: claim what fits the free slots (the dispatch path: nothing else here)."""
        claims: list[queue.Claim] = []
        try:
            self._claim_and_plan(claims)
        except BaseException:
            self.give_back(claims)  # not committed: never claimed
            raise
        return claims

    def _claim_and_plan(self, claims: list[queue.Claim]) -> None:
        """`_claim`'s transaction: the claims, or, with none, when to look again."""
        with self.db.write() as session:
            free = self._free()
            load_slots = functools.cache(lambda: self.gauge.slots(len(self.workers), free))
            claims += self._claim_in(session, free, load_slots) if free > 0 else []
            if not claims and free > 0:  # idle: when must it look again? (not dispatch)
                now = utcnow()
                self._held = load_slots() < free and queue.any_ready(session, now)
                upcoming = queue.next_start(session, now)
                # Only waiting work has clock-driven rules: with none, no heartbeat at all.
                wait = HEARTBEAT if queue.any_pending(session) else float("inf")
                if upcoming is not None:
                    wait = min(wait, (upcoming - now).total_seconds())
                self._look_at = time.monotonic() + wait

    def capacity(self) -> int:
        """Renders at once: `engine.max_concurrent` here, or on a cluster the sum of its
        usable workers' slots (once it has been asked)."""
        cluster = self.cluster
        return cluster.capacity if cluster is not None and cluster.capacity else self.max_concurrent

    async def _fill(self) -> int:
        if self._free() <= 0:
            return 0
        claims = await asyncio.to_thread(self._claim)
        self._begin(claims)
        return len(claims)

    def _job_states(self, job_ids: set[int]) -> dict[int, str]:
        with self.db.read() as session:
            rows = session.execute(select(Job.id, Job.state).where(Job.id.in_(job_ids)))
            return {job_id: state for job_id, state in rows}

    async def _follow_job_actions(self) -> None:
        """Pause and cancel reach running renders and uploads, whichever process asked."""
        running = [*self.workers.values(), *self.uploads.values()]
        if not running:
            return
        job_ids = {w.claim.job_id for w in running}
        states = await asyncio.to_thread(self._job_states, job_ids)
        for worker in running:
            state = states.get(worker.claim.job_id)
            if state == State.CANCELING.value:
                worker.cancel.set()
            elif state == State.PAUSING.value:
                worker.stop.set()

    def _start(
        self,
        claim: queue.Claim | publishing.UploadClaim,
        pool: dict[int, _Worker],
        work: Callable[[_Worker], None],
        data: dict[str, Any],
    ) -> None:
        """A worker for a claimed item (a render or an upload), announced as started."""
        worker = _Worker(claim)
        pool[claim.item_id] = worker
        worker.task = asyncio.ensure_future(self._supervise(worker, pool, work))
        self.on_event(
            EngineEvent(
                EventKind.ITEM_STARTED,
                claim.job_id,
                claim.item_id,
                claim.row,
                {"attempt": claim.attempt, **data},
            )
        )

    async def _supervise(
        self, worker: _Worker, pool: dict[int, _Worker], work: Callable[[_Worker], None]
    ) -> None:
        """Run the work in a thread; whatever happens, the slot is freed and the loop woken."""
        try:
            await in_own_thread(work, worker, name=f"item-{worker.claim.item_id}")
        except Exception as exc:
            log.exception("worker for item %s failed", worker.claim.item_id)
            await asyncio.to_thread(self._fail_running, worker.claim, exc)
        finally:
            pool.pop(worker.claim.item_id, None)
            self._finished += 1
            self._wake.set()

    def _fail_running(self, claim: queue.Claim | publishing.UploadClaim, exc: Exception) -> None:
        """A worker that died before recording its outcome (a bug): its item must not stay
        running — it fails with a pointer to the log, and its job goes on."""
        error = f"internal error ({type(exc).__name__}: {exc}) — see the log, then retry"
        try:
            with self.db.write() as session:
                if session.scalar(select(Item.state).where(Item.id == claim.item_id)) != (
                    State.RUNNING.value
                ):
                    return
                if isinstance(claim, queue.Claim):
                    queue.finish_item(session, claim, "failed", error=error)
                else:
                    publishing.finish_upload(session, claim, "failed", message=error)
        except Exception:
            log.exception("item %s could not be marked failed", claim.item_id)

    # In a worker thread

    def _render(self, worker: _Worker) -> None:
        claim = worker.claim
        assert isinstance(claim, queue.Claim)
        try:
            folder = job_folder(self.workspace, claim)
            settings = render_settings(
                self.workspace.settings,
                self.workspace.paths,
                OutputConfig.from_dict(
                    {k: v for k, v in claim.output_config.items() if k != "folder"}
                ),
                style=claim.style or "",
                footage=claim.output_config.get("footage"),
            )
        except Exception as exc:  # stored settings that cannot render: the item says why
            if not isinstance(exc, UserError):
                log.exception("item %s: its job's settings cannot be used", claim.item_id)
            why = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            error = f"this job's output settings cannot be rendered ({why}) — change them, retry"
            self._record(claim, RenderOutcome(RenderStatus.FAILED, error=error))
            return
        work = self.workspace.paths.cache_dir / "work" / f"item-{claim.item_id}"
        task = RenderTask(claim.idea, claim.row, settings, folder, work)
        plan = self._stage_plan(claim, settings.output)
        last_stage, last_at, stage_began = "", 0.0, time.monotonic()

        def progress(stage: str, fraction: float) -> None:
            nonlocal last_stage, last_at, stage_began
            now = time.monotonic()
            if stage != last_stage:
                stage_began = now
            if stage != last_stage or now - last_at >= PROGRESS_EVERY:
                last_stage, last_at = stage, now
                left = time_left(plan, stage, fraction, now - stage_began) if plan else None
                done_by = utcnow() + timedelta(seconds=left) if left is not None else None
                with self.db.write() as session:
                    queue.record_progress(session, claim.item_id, stage, fraction, done_by)
                self.on_event(
                    EngineEvent(
                        EventKind.ITEM_PROGRESSED,
                        claim.job_id,
                        claim.item_id,
                        claim.row,
                        {"stage": stage, "progress": fraction, "left": left},
                    )
                )

        timeout = 60.0 * self.workspace.settings.integer("engine.item_timeout_minutes")
        began = time.monotonic()
        unusable = unwritable(folder)
        if unusable is not None:  # the user's to fix: retrying would only repeat it
            outcome = RenderOutcome(
                RenderStatus.FAILED,
                error=f"videos cannot be written to {folder} ({unusable}) — choose another output "
                "folder (Settings, or the job's folder) or fix its permissions, then retry",
            )
        elif (cluster := self._cluster()) is None:
            outcome = run_render(
                task, progress, cancel=worker.cancel, stop=worker.stop, timeout=timeout
            )
        else:
            try:
                outcome = cluster.render(
                    task, progress, item_id=claim.item_id, cancel=worker.cancel,
                    stop=worker.stop, timeout=timeout, needs=self._needs(claim),
                    shared=self._shared_folder(),
                )  # fmt: skip
            except ClusterError as exc:  # unreachable now: retried with the job's backoff
                outcome = RenderOutcome(
                    RenderStatus.FAILED, error=str(exc), transient=exc.transient
                )
            except Exception as exc:  # a bug, or Dask failing oddly: the item must not hang
                log.exception("rendering item %s on the cluster failed", claim.item_id)
                outcome = RenderOutcome(
                    RenderStatus.FAILED,
                    error=f"internal error while rendering on the cluster ({exc}) — see the log",
                    transient=True,
                )
        if outcome.result is not None:  # the render's wall time here, its process's start too
            outcome.result["wall"] = round(time.monotonic() - began, 2)
        self._record(claim, outcome, folder, progress)

    def _stage_plan(self, claim: queue.Claim, output: OutputConfig) -> dict[str, float]:
        """What each stage of this item's render should take, from this computer's measured
        renders (learned again whenever a render has finished); {} when it cannot be told."""
        try:
            with self._pace_lock:
                if self._pace is None or self._pace[0] != self._finished:
                    self._pace = (
                        self._finished,
                        queries.estimates.render_pace(self.workspace, sizes=False),
                    )
                pace = self._pace[1]
            idea = Idea.from_dict(claim.idea)
            length = queries.estimates.video_lengths(
                self.workspace, [idea], claim.style or None, pace
            )[0]
            return pace.plan(length, output.resolution.value, output.optimize.value)
        except Exception:  # an estimate must never stop a render
            log.exception("item %s: no time estimate", claim.item_id)
            return {}

    def _shared_folder(self) -> Path | None:
        """This computer's path to the folder the cluster's workers reach too, if any."""
        text = self.workspace.settings.text("render.shared_folder")
        return Path(text) if text else None

    def _needs(self, claim: queue.Claim) -> dict[str, float]:
        """What a cluster worker must offer to render this job's videos (``GPU=1``): the
        job's own ``needs``, else the ``render.cluster_needs`` setting."""
        chosen = claim.output_config.get("needs")
        text = chosen if chosen is not None else self.workspace.settings.get("render.cluster_needs")
        return parse_resources(str(text or ""), "needs")

    def _storage(self, claim: queue.Claim) -> StorageTarget | None:
        """Where this job's finished files go beyond the disk: its own ``storage`` (``""`` or
        ``none``: nowhere), else the workspace's ``storage.target``."""
        chosen = claim.output_config.get("storage")
        text = str(chosen if chosen is not None else self.workspace.settings.get("storage.target"))
        return parse_target(text) if text.strip() and text.strip().lower() != "none" else None

    def _deliver(
        self, claim: queue.Claim, outputs: dict[str, Any], progress: Callable[[str, float], None]
    ) -> tuple[str | None, StorageError | None]:
        """A finished item's files sent to object storage when its job asks: the video's
        address, or what went wrong (the item is then retried; its render is not repeated)."""
        try:
            target = self._storage(claim)
            if target is None:
                return None, None
            progress("deliver", 0.0)
            files = [Path(outputs[k]) for k in OUTPUT_FILES if outputs.get(k)]
            files = [f for f in files if f.exists()]
            urls = deliver(
                files,
                target,
                f"job-{claim.job_id}-{slug(claim.job_title, 40)}",
                self.workspace.storage_access(),
                mark=str(claim.item_id),
                progress=lambda fraction: progress("deliver", fraction),
            )
        except StorageError as exc:
            return None, exc
        except Exception as exc:  # a bug, or a storage library failing oddly: said, retried
            log.exception("delivering item %s to storage failed", claim.item_id)
            return None, StorageError(f"internal error ({exc}) — see the log")
        return urls[0] if urls else None, None

    @property
    def cluster(self) -> ClusterExecutor | None:
        """The render cluster renders go to now, if any."""
        return self._link.current

    def _cluster(self) -> ClusterExecutor | None:
        """Where this render goes, as `render.cluster` says now (a change in Settings takes
        effect with the next render; renders already on the old cluster finish there)."""
        return self._link.at(str(self.workspace.settings.get("render.cluster")))

    def retry_policy(self, claim: queue.Claim | publishing.UploadClaim) -> RetryPolicy:
        settings = self.workspace.settings
        default = RetryPolicy(
            strategy=RetryStrategy(settings.get("engine.retry_strategy")),
            base_seconds=settings.integer("engine.retry_base_seconds"),
            max_seconds=max(
                settings.integer("engine.retry_max_seconds"),
                settings.integer("engine.retry_base_seconds"),
            ),
            max_attempts=settings.integer("engine.max_attempts"),
        )
        scheduling = claim.scheduling if isinstance(claim, queue.Claim) else {}
        return RetryPolicy.from_dict(scheduling.get("retry", {}), default)

    def _adopt(
        self, claim: queue.Claim, folder: Path | None
    ) -> tuple[str, str | None, dict[str, Any] | None]:
        """A finished video under this item's name: its own (the engine died between the
        files' final rename and recording them) when its metadata names this idea — adopted
        without a word; anything else is not overwritten, and the item says why."""
        from app.domain.idea import Idea
        from app.pipeline.metadata import clean_title

        if folder is None:
            return "completed", None, None
        idea = Idea.from_dict(claim.idea)
        config = OutputConfig.from_dict(
            {k: v for k, v in claim.output_config.items() if k != "folder"}
        )
        outputs = existing_outputs(folder, claim.row, idea, config)
        try:
            meta = json.loads(Path(outputs["metadata"]).read_text(encoding="utf-8"))
            ours = meta.get("title") == clean_title(idea.idea_title)
        except (OSError, ValueError, AttributeError):
            ours = False
        if ours:
            return "completed", None, outputs
        return (
            "failed",
            f"{Path(outputs['video']).name} in {folder} is another video — move it away (or "
            "choose another output folder), then retry",
            None,
        )

    def _record(
        self,
        claim: queue.Claim,
        outcome: RenderOutcome,
        folder: Path | None = None,
        progress: Callable[[str, float], None] = lambda _s, _f: None,
    ) -> None:
        status: str = outcome.status
        error, transient = outcome.error, outcome.transient
        outputs = None
        if status == RenderStatus.COMPLETED and outcome.result:
            outputs = {k: outcome.result[k] for k in OUTPUT_FILES}
            outputs["duration"] = outcome.result["duration"]
            # What the item panel shows beside the files: stock clips used, and why not.
            outputs["credits"] = outcome.result.get("credits") or []
            outputs["notes"] = outcome.result.get("warnings") or []
            if outcome.result.get("measure") and not outcome.result.get("resumed_from"):
                # A whole render (not one resumed half-way): what estimates learn from.
                outputs["measure"] = {
                    **outcome.result["measure"],
                    "seconds": outcome.result.get("wall") or outcome.result.get("seconds"),
                }
        if status == RenderStatus.SKIPPED:  # its video exists: done just before the last stop?
            status, error, outputs = self._adopt(claim, folder)
        url = None
        if status == RenderStatus.COMPLETED and outputs is not None:
            url, problem = self._deliver(claim, outputs, progress)
            if problem is not None:  # the files stay; the retry finds them and sends them again
                status, outputs, transient = RenderStatus.FAILED, None, problem.transient
                error = f"rendered, but not delivered to storage: {problem}"
        retry_at = None
        if status == RenderStatus.FAILED:
            policy = self.retry_policy(claim)
            delay = retry_delay(policy, claim.attempt, transient=transient)
            if delay is not None:
                retry_at = utcnow() + timedelta(seconds=delay)
                error = f"{error} — retrying in {delay:.0f} s (attempt {claim.attempt + 1} of {policy.max_attempts})"  # noqa: E501
        if outcome.details:
            log.error("item %s failed:\n%s", claim.item_id, outcome.details)
        with self.db.write() as session:
            state = queue.finish_item(
                session,
                claim,
                status,
                error=error,
                outputs=outputs,
                output_url=url,
                retry_at=retry_at,
            )
            phase = session.scalar(select(Item.phase).where(Item.id == claim.item_id))
            self._tell_if_ended(session, claim.job_id)
        self.on_event(
            EngineEvent(
                EventKind.ITEM_FINISHED,
                claim.job_id,
                claim.item_id,
                claim.row,
                {"state": state, "error": error, "outputs": outputs, "phase": phase},
            )
        )
        if phase == "approval" and state == State.PENDING.value:
            self.on_event(
                EngineEvent(
                    EventKind.ITEM_AWAITING_APPROVAL, claim.job_id, claim.item_id, claim.row
                )
            )
        if phase == "upload":
            self.wake()

    # Uploads

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            ws = self.workspace
            self._publisher = Publisher(self.db, ws.channels, ws.quota, ws.publish_settings())
        return self._publisher

    def _claim_uploads(self, free: int) -> list[publishing.UploadClaim]:
        with self.db.write() as session:
            return publishing.claim_uploads(session, free, utcnow())

    async def _fill_uploads(self) -> int:
        free = self.max_uploads - len(self.uploads)
        if free <= 0:
            return 0
        claims = await asyncio.to_thread(self._claim_uploads, free)
        for claim in claims:
            self._start(claim, self.uploads, self._publish, {"stage": "upload"})
        return len(claims)

    def _publish(self, worker: _Worker) -> None:
        """In a worker thread: one upload attempt, then its outcome recorded."""
        claim = worker.claim
        assert isinstance(claim, publishing.UploadClaim)
        last_at = 0.0

        def progress(fraction: float) -> None:
            nonlocal last_at
            now = time.monotonic()
            if now - last_at >= PROGRESS_EVERY:
                last_at = now
                with self.db.write() as session:
                    queue.record_progress(session, claim.item_id, "upload", fraction)
                self.on_event(
                    EngineEvent(
                        EventKind.ITEM_PROGRESSED,
                        claim.job_id,
                        claim.item_id,
                        claim.row,
                        {"stage": "upload", "progress": fraction},
                    )
                )

        try:
            outcome = self.publisher.publish(claim.item_id, progress, worker.stop, worker.cancel)
        except Exception as exc:  # a bug: the item fails with a pointer to the log
            log.exception("publishing item %s failed", claim.item_id)
            outcome = PublishOutcome("failed", f"internal error while uploading ({exc})")
        self._record_upload(claim, outcome)

    def _record_upload(self, claim: publishing.UploadClaim, outcome: PublishOutcome) -> None:
        kind, message, until = outcome.kind, outcome.message, outcome.until
        if kind == "retry":
            policy = self.retry_policy(claim)
            delay = retry_delay(policy, claim.attempt, transient=True)
            if delay is None:
                kind = "failed"
                message = f"upload: {message} — tried {claim.attempt} times; retry the job later"
            else:
                until = utcnow() + timedelta(seconds=delay)
                message = f"upload: {message} — trying again in {delay:.0f} s"
        with self.db.write() as session:
            state = publishing.finish_upload(
                session, claim, kind, message=message, status=outcome.status, until=until
            )
            url = session.scalar(select(Upload.url).where(Upload.item_id == claim.item_id))
            self._tell_if_ended(session, claim.job_id)
        data = {"state": state, "error": message or None, "upload": outcome.status, "url": url}
        self.on_event(
            EngineEvent(EventKind.ITEM_FINISHED, claim.job_id, claim.item_id, claim.row, data)
        )
        if outcome.kind == "wait":
            waiting = {"message": message, "until": until.isoformat() if until else None}
            self.on_event(
                EngineEvent(
                    EventKind.UPLOADS_WAITING, claim.job_id, claim.item_id, claim.row, waiting
                )
            )
        if outcome.kind == "hold":
            held = {"message": outcome.message}
            self.on_event(
                EngineEvent(EventKind.CHANNEL_ON_HOLD, claim.job_id, claim.item_id, claim.row, held)
            )
