"""The schedule store: APScheduler's jobs answered from memory, persisted from a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import event

from app import ops
from app.engine.jobstore import PersistedMemoryJobStore
from app.ops.jobs import JobRequest
from app.services import Services
from tests.test_schedules_engine import add, aps_jobs, jobs, serve_until


def noop() -> None:
    pass


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "ideas.csv"
    path.write_text("Title,Script\nOne,Words to say.\n")
    return path


def run_scheduler(workspace: Services, body: Any) -> Any:
    """``body(scheduler, store)`` inside a running loop with a started, paused scheduler."""

    async def main() -> Any:
        store = PersistedMemoryJobStore(workspace.db.engine.execution_options(cadence_write=True))
        scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)
        await asyncio.to_thread(store.load, scheduler)
        scheduler.start(paused=True)
        try:
            return body(scheduler, store)
        finally:
            scheduler.shutdown(wait=False)

    return asyncio.run(main())


def test_changes_reach_the_database_and_come_back_after_a_restart(
    workspace: Services, data_dir: Path
) -> None:
    def first(scheduler: AsyncIOScheduler, store: PersistedMemoryJobStore) -> None:
        for n in range(3):
            scheduler.add_job(noop, IntervalTrigger(hours=n + 1), id=f"job-{n}", name=f"n{n}")
        scheduler.remove_job("job-1")
        scheduler.get_job("job-2").pause()
        assert store.flush()

    run_scheduler(workspace, first)
    stored = dict(aps_jobs(data_dir))
    assert set(stored) == {"job-0", "job-2"}
    assert stored["job-2"] is None  # paused: no next run
    assert stored["job-0"] == pytest.approx(time.time() + 3600, abs=30)

    def second(scheduler: AsyncIOScheduler, _store: PersistedMemoryJobStore) -> Any:
        return {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}

    found = run_scheduler(workspace, second)
    assert {k: v[0] for k, v in found.items()} == {"job-0": "n0", "job-2": "n2"}
    assert found["job-2"][1] is None
    assert found["job-0"][1].timestamp() == pytest.approx(stored["job-0"])


def test_shutting_down_stores_what_was_still_queued(workspace: Services, data_dir: Path) -> None:
    def body(scheduler: AsyncIOScheduler, _store: PersistedMemoryJobStore) -> None:
        for n in range(200):
            scheduler.add_job(noop, IntervalTrigger(minutes=n + 1), id=f"job-{n}")

    run_scheduler(workspace, body)  # no flush: shutdown must not drop the queued writes
    assert len(aps_jobs(data_dir)) == 200


def test_a_due_schedule_costs_the_event_loop_no_database_work(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    """The loop may be the window's: APScheduler's reads and writes of its jobs happen in the
    store's own thread, never on the loop, while a schedule fires and its next run is stored."""
    threads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "apscheduler_jobs" in statement:
            threads.append(threading.current_thread().name)

    event.listen(workspace.db.engine, "before_cursor_execute", seen)
    try:
        start = datetime.now(UTC) + timedelta(seconds=2)
        add(workspace, sheet, "every@1m")  # stored, then updated when it runs
        add(workspace, sheet, f"once@{start:%Y-%m-%dT%H:%M:%S}")  # fires, then removed
        serve_until(workspace, lambda: bool(jobs(workspace)))
    finally:
        event.remove(workspace.db.engine, "before_cursor_execute", seen)
    assert jobs(workspace), "the one-off schedule should have made its job"
    assert threads, "the store should have written its jobs"
    assert "MainThread" not in threads  # asyncio.run's loop runs on the main thread
    assert [job for job, _ in aps_jobs(data_dir)] == ["schedule-1"]  # the one-off is gone


def test_a_change_older_than_what_a_run_stored_is_never_written_back(
    workspace: Services, data_dir: Path
) -> None:
    """A run stores its schedule's next run in its job's transaction; a batch the writer took
    before it (the state before the run) must not put the run back as still due."""
    later = datetime.now(UTC) + timedelta(hours=5)

    def body(scheduler: AsyncIOScheduler, store: PersistedMemoryJobStore) -> tuple[Any, Any]:
        scheduler.add_job(noop, IntervalTrigger(hours=1), id="job-0")
        assert store.flush()
        stale = store._row(scheduler.get_job("job-0"))  # queued before the run, not yet written
        scheduler.modify_job("job-0", next_run_time=later)  # what the run's pass left
        assert store.flush()
        with workspace.db.engine.begin() as connection:
            committed = store.store_now(connection, ["job-0", "job-gone"])
        committed()
        before = aps_jobs(data_dir)
        store._apply([("put", stale), ("remove", (0, "job-0"))])  # the late batch
        return before, aps_jobs(data_dir)

    before, after = run_scheduler(workspace, body)
    assert before == after == [("job-0", pytest.approx(later.timestamp()))]


def test_a_repeating_job_makes_the_same_job_at_every_run(
    workspace: Services, sheet: Path, tmp_path: Path
) -> None:
    """The wizard's "Repeat": the job and its schedule are stored together, and each run
    makes a job with every setting of the first — mode, rules, zone, output, deadline,
    callback, write-back, priority, level, style — but the absolute times, which each run
    plans anew; its title names the run's date once."""
    from datetime import date

    from app.domain.idea import Priority
    from app.domain.validation import Level
    from app.sources.intake import SourceSpec
    from app.store.models import Job, Schedule

    scheduling = {
        "mode": "smart",
        "timezone": "Europe/Berlin",
        "max_concurrent": 2,
        "priority_queue": False,
        "start_at": "2030-03-01T09:00",
        "rules": [{"id": "day", "type": "time_based",
                   "settings": {"time_window": "08:00-20:00", "days_of_week": ["mon", "tue"]}}],
    }  # fmt: skip
    created = ops.jobs.create_job(
        workspace,
        JobRequest.of(
            SourceSpec(str(sheet)),
            priority=Priority.HIGH,
            level=Level.PERMISSIVE,
            output_config={
                "container": "webm",
                "resolution": "720p",
                "folder": str(tmp_path / "v"),
            },
            style="minimal",
            deadline_minutes=90,
            callback_url="https://hooks.example/done",
            scheduling=scheduling,
            repeat={"expression": "daily@07:30", "timezone": "Europe/Berlin"},
        ),
    )
    assert created.schedule_id is not None
    with workspace.db.read() as session:
        first = session.get(Job, created.job_id)
        schedule = session.get(Schedule, created.schedule_id)
        assert first is not None and schedule is not None
        assert first.schedule_id == schedule.id
        assert schedule.name == "ideas"  # the default title's date is the run's to add
    done = ops.schedules.schedule_action(workspace, schedule.id, "run")
    [again_id] = [j for j in done.changes.jobs]
    with workspace.db.read() as session:
        again = session.get(Job, again_id)
        assert again is not None
        fields = ("priority", "validation_level", "output_config", "style", "deadline_minutes",
                  "callback_url", "write_back", "source_kind", "source_location",
                  "source_tab", "source_range", "publish")  # fmt: skip
        for name in fields:
            assert getattr(again, name) == getattr(first, name), name
        expected = {k: v for k, v in first.scheduling.items() if k not in ("start_at", "end_at")}
        assert again.scheduling == expected
        assert again.scheduling["mode"] == "smart"
        assert again.scheduling["timezone"] == "Europe/Berlin"
        assert first.title == f"ideas — {date.today():%d %b %Y}"
        assert again.title.startswith("ideas — ") and again.title.count("—") == 1
        assert again.schedule_id == schedule.id
