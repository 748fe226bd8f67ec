"""APScheduler's job store: answered from memory, written to the database from a thread.

`AsyncIOScheduler` calls its job store on the event loop — under qasync, the window's thread.
With APScheduler's SQLAlchemy store, every due run, pause and sync step was a database
transaction on that thread (4–70 ms at 10,000 schedules, longer while another writer held
the lock). This store answers every question from memory (it is APScheduler's
`MemoryJobStore`) and persists each change, in order, from its own thread into the table
APScheduler's SQLAlchemy store uses (same rows, same pickled state), so a database made
before it keeps its stored runs, and missed runs are still judged from it after a restart.

`flush` waits until what is queued is committed; `shutdown` flushes first. A run's job is
made only after its next run time is stored (`ScheduleRunner` flushes before it), so a crash
between the two can never make the run happen again after a restart.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Engine

log = logging.getLogger(__name__)
FLUSH_TIMEOUT = 30.0


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
        self._queue.put(("remove", job_id))

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

    def _put(self, job: Job) -> None:
        # Pickled now, on the caller's thread: the state stored is the state of this moment.
        state = pickle.dumps(job.__getstate__(), self.table.pickle_protocol)
        self._queue.put(("put", (job.id, datetime_to_utc_timestamp(job.next_run_time), state)))

    # The writer thread

    def _write(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # whatever else is waiting goes in the same transaction
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            changes = [op for op in batch if isinstance(op, tuple)]
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
                    connection.exec_driver_sql(
                        f"INSERT INTO {table} (id, next_run_time, job_state) VALUES (?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET next_run_time = excluded.next_run_time, "
                        "job_state = excluded.job_state",
                        data,
                    )
                elif kind == "remove":
                    connection.exec_driver_sql(
                        f"DELETE FROM {table} WHERE id = ?", [(job_id,) for job_id in data]
                    )
                else:
                    connection.exec_driver_sql(f"DELETE FROM {table}")
