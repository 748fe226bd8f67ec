"""APScheduler's job store: answered from memory, written to the database from a thread.

`AsyncIOScheduler` calls its job store on the event loop — under qasync, the window's thread.
With APScheduler's SQLAlchemy store, every due run, pause and sync step was a database
transaction on that thread (4–70 ms at 10,000 schedules, longer while another writer held
the lock). This store answers every question from memory (it is APScheduler's
`MemoryJobStore`) and persists each change, in order, from its own thread into the table
APScheduler's SQLAlchemy store uses (same rows, same pickled state), so a database made
before it keeps its stored runs, and missed runs are still judged from it after a restart.

`flush` waits until what is queued is committed; `shutdown` flushes first. A run's job is
stored in the same transaction as the run's own next run time (`store_now`, called by
`ScheduleRunner`), so no crash can leave a job made with its run still due after a restart.
Every queued change carries a sequence number; a change older than what `store_now` wrote
is skipped by the writer, so a late batch never puts back a run already made.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)
FLUSH_TIMEOUT = 30.0
COALESCE_SECONDS = 0.05
UPSERT_SQL = (
    "INSERT INTO {} (id, next_run_time, job_state) VALUES (?, ?, ?) ON CONFLICT (id)"
    " DO UPDATE SET next_run_time = excluded.next_run_time, job_state = excluded.job_state"
)


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


class _Stop:
    pass


class PersistedMemoryJobStore(MemoryJobStore):
    """APScheduler's memory store with write-behind to the database (see the module)."""

    def __init__(
        self, engine: Engine, writing: Callable[[], AbstractContextManager[Any]] = nullcontext
    ) -> None:
        super().__init__()
        self.table = SQLAlchemyJobStore(engine=engine)
        self._writing = writing  # the database's turn-taking among this process's writers
        self._loaded: list[Job] | None = None
        self._queue: queue.SimpleQueue[tuple[str, Any] | _Flush | _Stop] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._sequence = itertools.count(1)  # every change's number, in the order made
        self._written: dict[str, int] = {}  # job id → the number `store_now` wrote for it

    def load(self, scheduler: Any, alias: str = "default") -> int:
        """In a thread, before the scheduler starts: read the stored jobs (APScheduler's own
        reader; a job that cannot be restored is logged and dropped, as it always was)."""
        self.table.start(scheduler, alias)
        self._loaded = self.table.get_all_jobs()
        return len(self._loaded)

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if self._loaded is None:  # not loaded beforehand: now, on this thread
            self.load(scheduler, alias)
        for job in self._loaded or ():
            super().add_job(job)
        self._loaded = []
        self._writer = threading.Thread(target=self._write, name="schedule-store", daemon=True)
        self._writer.start()

    # APScheduler's calls (on the loop): memory first, then the same change queued.

    def add_job(self, job: Job) -> None:
        super().add_job(job)
        self._put(job)

    def update_job(self, job: Job) -> None:
        super().update_job(job)
        self._put(job)

    def remove_job(self, job_id: str) -> None:
        super().remove_job(job_id)
        self._queue.put(("remove", (next(self._sequence), job_id)))

    def remove_all_jobs(self) -> None:
        super().remove_all_jobs()
        self._queue.put(("clear", None))

    def shutdown(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put(_Stop())
            writer.join(FLUSH_TIMEOUT)
        self.table.shutdown()
        super().shutdown()

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Wait until every change queued so far is in the database (from any thread but the
        writer's); False if it did not get there in time."""
        if self._writer is None or not self._writer.is_alive():
            return True
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def store_now(self, connection: Connection, job_ids: Iterable[str]) -> Callable[[], None]:
        """Write these jobs' current states (a next run, or gone) through ``connection``, in
        its transaction. Call what it returns once that transaction has committed (holding the
        database's write turn, as a session's ``after_commit`` does): from then on the writer
        skips the older changes still queued for them. Not on the thread of a scheduler pass
        (the scheduler's lock is taken: the pass that submitted a run has ended by then)."""
        table = self.table.jobs_t.name
        numbers: dict[str, int] = {}
        with self._scheduler._jobstores_lock:  # APScheduler 3: held through a whole pass
            for job_id in job_ids:
                job = self.lookup_job(job_id)
                numbers[job_id] = next(self._sequence)
                if job is None:
                    connection.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", (job_id,))
                else:
                    connection.exec_driver_sql(UPSERT_SQL.format(table), self._row(job)[1:])

        def committed() -> None:
            self._written.update(numbers)

        return committed

    def _row(self, job: Job) -> tuple[int, str, float | None, bytes]:
        # Pickled now, on the caller's thread: the state stored is the state of this moment.
        state = pickle.dumps(job.__getstate__(), self.table.pickle_protocol)
        return next(self._sequence), job.id, datetime_to_utc_timestamp(job.next_run_time), state

    def _put(self, job: Job) -> None:
        self._queue.put(("put", self._row(job)))

    def _current(self, number: int, job_id: str) -> bool:
        return number > self._written.get(job_id, 0)

    def _still_due(self, change: tuple[str, Any]) -> bool:
        """Not yet superseded by `store_now` (checked again in the transaction: a change
        superseded now stays superseded, so skipping it here saves a transaction)."""
        kind, datum = change
        return kind == "clear" or self._current(datum[0], datum[1])

    # The writer thread

    def _write(self) -> None:
        while True:
            batch = [self._queue.get()]
            # A moment for more to come (a due run's pass queues its changes while the run
            # stores its own: the writer does not compete with it), unless someone waits.
            until = time.monotonic() + COALESCE_SECONDS
            while not isinstance(batch[-1], _Flush | _Stop):
                try:
                    batch.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
                except queue.Empty:
                    break
            while True:  # whatever else is waiting goes in the same transaction
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            changes = [op for op in batch if isinstance(op, tuple) and self._still_due(op)]
            if changes:
                try:
                    self._apply(changes)
                except Exception:  # kept in memory; the next start re-adds what is missing
                    log.exception("storing %s schedule changes failed", len(changes))
            for op in batch:
                if isinstance(op, _Flush):
                    op.done.set()
            if any(isinstance(op, _Stop) for op in batch):
                return

    def _apply(self, changes: list[tuple[str, Any]]) -> None:
        """One transaction, in plain SQL (a due run waits for it: SQLAlchemy's statement
        handling would cost more than SQLite's work); runs of puts go as one executemany."""
        table = self.table.jobs_t.name
        with self._writing(), self.table.engine.begin() as connection:
            for kind, run in itertools.groupby(changes, key=lambda change: change[0]):
                data = [datum for _kind, datum in run]
                if kind == "put":
                    rows = [row[1:] for row in data if self._current(row[0], row[1])]
                    if rows:
                        connection.exec_driver_sql(UPSERT_SQL.format(table), rows)
                elif kind == "remove":
                    gone = [(job_id,) for number, job_id in data if self._current(number, job_id)]
                    if gone:
                        connection.exec_driver_sql(f"DELETE FROM {table} WHERE id = ?", gone)
                else:
                    connection.exec_driver_sql(f"DELETE FROM {table}")
