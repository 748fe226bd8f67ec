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
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cluster.executor import ClusterExecutor, ClusterLink
from app.domain.retry import RetryPolicy, RetryStrategy
from app.domain.states import State
from app.engine.dispatch import Dispatch
from app.engine.events import EngineEvent, EventKind
from app.engine.load import LoadGauge
from app.engine.rendering import Rendering
from app.engine.schedules import ScheduleRunner
from app.engine.upkeep import Upkeep
from app.engine.uploading import Uploading
from app.google.publisher import Publisher
from app.pipeline.lifeline import sweep_leftovers
from app.services import Services
from app.store import publishing, queue
from app.store.database import CommitWatch, DamagedDatabase
from app.store.models import Item, Job, utcnow

log = logging.getLogger(__name__)
# A run until idle waits for work due within this long (a retry's back-off; the longest
# default is 15 minutes) and stops, saying so, when all that is left waits longer.
IDLE_WAIT = 15 * 60.0


@dataclass(slots=True)
class Worker:
    claim: queue.Claim | publishing.UploadClaim
    stop: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None


async def in_own_thread(work: Callable[[Worker], None], worker: Worker, *, name: str) -> None:
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
    """The engine: one loop that starts what may start and keeps the books, with the work
    itself done by its collaborators — `Dispatch` (which renders start), `Rendering` (a
    render, its delivery and its outcome), `Uploading` (publishing) and `Upkeep` (webhooks,
    write-back, figures, pruning)."""

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
        self.workers: dict[int, Worker] = {}
        self.uploads: dict[int, Worker] = {}  # uploads run beside renders, in their own slots
        self.finished = 0  # workers that ended, renders and uploads
        self._wake = asyncio.Event()
        self._loop_running: asyncio.AbstractEventLoop | None = None
        self.run_schedules = run_schedules
        self.schedules: ScheduleRunner | None = None
        self.gauge = gauge or LoadGauge()
        self.write_back_left = 0  # rows whose status the last stop could not write
        self._commits: CommitWatch | None = None  # open while running
        self._retired: list[ClusterExecutor] = []  # closed when the engine stops
        self._link = ClusterLink(self._retired.append)  # while render.cluster names one
        self.dispatch = Dispatch(self.db, self.gauge, self.capacity, lambda: len(self.workers))
        self.rendering = Rendering(self)
        self.uploading = Uploading(self, publisher)
        self.upkeep = Upkeep(workspace)
        self.writeback = self.upkeep.writeback
        self.limiter = workspace.limiter
        self.limiter.on_limited = self.upkeep.rate_limited  # a waiting job says so

    def _must_look(self) -> bool:
        """In a thread: a pass has work to find — something committed, or its time came."""
        assert self._commits is not None
        committed = self._commits.changed()  # always read, so the next look compares to now
        figures = time.monotonic() >= self.upkeep.figures_at
        return committed or self.dispatch.due() or figures

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
        await asyncio.to_thread(self.upkeep.prune)
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
        with self.dispatch.lock:
            self.dispatch.accepting = True
        try:
            await self._passes(stopping, until_idle)
        finally:
            with self.dispatch.lock:
                self.dispatch.accepting = False

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
        self.write_back_left = await self.upkeep.finish()

    async def _pass(self, until_idle: bool) -> bool:
        """One look at the work: start what may start, then the bookkeeping. True when
        ``until_idle`` and nothing is left to do."""
        finished_before = self.finished
        # The loop may be the window's (qasync): database work goes to threads.
        # Ready work first (dispatch latency), then bookkeeping.
        await self._follow_job_actions()
        started = await self._fill()
        started += await self.uploading.fill()
        if self.schedules is not None:
            await self.schedules.sync_if_changed()
        await self.upkeep.each_pass()
        return bool(
            until_idle
            and not self.workers
            and not self.uploads
            and not started
            # A worker that ended during this pass may have left work to claim (the next
            # item of its job, its upload): look again before calling it a day.
            and self.finished == finished_before
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

    def _retries_waiting(self) -> bool:
        """Whether a run until idle waits for work whose time is near (a retry's back-off);
        work that waits longer (tomorrow's quota, a start in 2030) does not keep it."""
        within = utcnow() + timedelta(seconds=IDLE_WAIT)
        with self.db.read() as session:
            post = publishing.next_post_due(session, utcnow())  # a post from here, due soon
            return queue.retries_waiting(session, within) or (post is not None and post <= within)

    def wake(self) -> None:
        self._wake.set()

    def wake_from_thread(self) -> None:
        """`wake` for other threads (the API's): handed to the engine's own loop."""
        loop = self._loop_running
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def on_event(self, event: EngineEvent) -> None:
        """Announce (after commit) and note that the sheet has news."""
        self.upkeep.news = True
        self._on_event(event)

    def _recover(self) -> int:
        with self.db.write() as session:
            return queue.recover(session)

    # Starting work (the `Dispatcher` a schedule's run uses, too)

    def claim_in(self, session: Session) -> list[queue.Claim]:
        """A schedule's run, in its job's transaction (see `Dispatcher`)."""
        return self.dispatch.claim_for_run(session)

    def give_back(self, claims: list[queue.Claim]) -> None:
        self.dispatch.give_back(claims)

    def created(self, job_id: int, claims: list[queue.Claim]) -> None:
        """On the loop: a schedule's run made a job (and perhaps claimed its first items)."""
        self._begin(claims)
        self.wake()  # the rest of its items, and the pass's bookkeeping

    def _begin(self, claims: list[queue.Claim]) -> None:
        """On the loop: claimed renders start (or, the loop having ended, go back)."""
        if not claims:
            return
        started = self.dispatch.begin(
            claims, lambda claim: self.start(claim, self.workers, self.rendering.render, {})
        )
        if not started:  # the app is closing: rare, and a few rows
            with self.db.write() as session:
                for claim in claims:
                    queue.finish_item(session, claim, "stopped")

    def capacity(self) -> int:
        """Renders at once: `engine.max_concurrent` here, or on a cluster the sum of its
        usable workers' slots (once it has been asked)."""
        cluster = self.cluster
        return cluster.capacity if cluster is not None and cluster.capacity else self.max_concurrent

    async def _fill(self) -> int:
        if self.dispatch.free() <= 0:
            return 0
        claims = await asyncio.to_thread(self.dispatch.claim)
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

    def start(
        self,
        claim: queue.Claim | publishing.UploadClaim,
        pool: dict[int, Worker],
        work: Callable[[Worker], None],
        data: dict[str, Any],
    ) -> None:
        """A worker for a claimed item (a render or an upload), announced as started."""
        worker = Worker(claim)
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
        self, worker: Worker, pool: dict[int, Worker], work: Callable[[Worker], None]
    ) -> None:
        """Run the work in a thread; whatever happens, the slot is freed and the loop woken."""
        try:
            await in_own_thread(work, worker, name=f"item-{worker.claim.item_id}")
        except Exception as exc:
            log.exception("worker for item %s failed", worker.claim.item_id)
            await asyncio.to_thread(self._fail_running, worker.claim, exc)
        finally:
            pool.pop(worker.claim.item_id, None)
            self.finished += 1
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

    # Where renders go, and how failures try again

    @property
    def cluster(self) -> ClusterExecutor | None:
        """The render cluster renders go to now, if any."""
        return self._link.current

    def cluster_now(self) -> ClusterExecutor | None:
        """Where the next render goes, as `render.cluster` says now (a change in Settings
        takes effect with the next render; renders already on the old cluster finish there)."""
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
