"""Schedules run by APScheduler in the engine: firing, restarts, missed runs, pause, the CLI."""

from __future__ import annotations

import asyncio
import json
import pickle
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import ops, queries
from app.engine import rendering
from app.engine.jobstore import PersistedMemoryJobStore
from app.engine.service import Engine
from app.paths import AppPaths
from app.services import Services
from app.store import schedules as schedule_store
from app.store.models import AuditEntry, Job, Schedule

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "ideas.csv"
    path.write_text("Title,Script\nOne,Words to say.\n")
    return path


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def add(workspace: Services, sheet: Path, expression: str, topic: str = "Ideas for {date}") -> int:
    with workspace.db.write() as session:
        return schedule_store.add_schedule(
            session,
            name="Test",
            expression=expression,
            timezone="UTC",
            topic_template=topic,
            job_template={"source": str(sheet), "output": {"resolution": "720p"}},
            actor="tester",
        ).id


async def no_fill() -> int:
    return 0


def keep_queued(engine: Engine) -> None:
    """No rendering: the engine claims nothing (neither in its passes nor in a run's
    transaction)."""
    engine._fill = no_fill  # type: ignore[method-assign]
    engine.claim_in = lambda _session: []  # type: ignore[method-assign]


def serve_until(workspace: Services, done: Callable[[], bool], seconds: float = 15) -> None:
    """Run the engine (scheduling only: no renders) until ``done()`` or the time is up."""

    async def main() -> None:
        stopping = asyncio.Event()
        engine = Engine(workspace, poll_seconds=0.2, max_concurrent=1)
        keep_queued(engine)
        task = asyncio.create_task(engine.run(stopping))
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stopping.set()
        await task

    asyncio.run(main())


def jobs(workspace: Services) -> list[tuple[str, str]]:
    with workspace.db.read() as session:
        return [(j.title, j.state) for j in session.scalars(select(Job).order_by(Job.id))]


def actions(workspace: Services) -> list[str]:
    with workspace.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def aps_jobs(data_dir: Path) -> list[tuple[str, float | None]]:
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        try:
            return raw.execute("select id, next_run_time from apscheduler_jobs").fetchall()
        except sqlite3.OperationalError:  # the scheduler has not created its table yet
            return []


def test_a_schedule_creates_its_job_with_the_topic(workspace: Services, sheet: Path) -> None:
    at = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    add(workspace, sheet, f"once@{at}")
    serve_until(workspace, lambda: bool(jobs(workspace)))
    assert jobs(workspace) == [(f"Ideas for {datetime.now(UTC):%Y-%m-%d}", "pending")]
    assert "schedule.ran" in actions(workspace)
    with workspace.db.read() as session:
        job = session.scalars(select(Job)).one()
        assert job.output_config == {"resolution": "720p"} and len(job.items) == 1
        assert job.schedule_id == 1  # the table shows which schedule made it


def test_a_one_off_schedule_runs_once_even_across_restarts(
    workspace: Services, sheet: Path
) -> None:
    at = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    add(workspace, sheet, f"once@{at}")
    serve_until(workspace, lambda: bool(jobs(workspace)))
    serve_until(workspace, lambda: len(jobs(workspace)) > 1, 3)  # a restart within the grace
    assert len(jobs(workspace)) == 1


def test_stored_schedules_survive_a_restart_without_copies(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    add(workspace, sheet, "daily@06:00")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    first = aps_jobs(data_dir)
    assert [j for j, _ in first] == ["schedule-1"]
    serve_until(workspace, lambda: False, 1.0)
    assert aps_jobs(data_dir) == first  # same job, same next run: not re-added, not reset


def _move_next_run(data_dir: Path, when: datetime) -> None:
    """Pretend the app was closed: the stored next run is in the past."""
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        job_id, state = raw.execute("select id, job_state from apscheduler_jobs").fetchone()
        data = pickle.loads(state)
        data["next_run_time"] = when
        raw.execute(
            "update apscheduler_jobs set job_state = ?, next_run_time = ? where id = ?",
            (pickle.dumps(data), when.timestamp(), job_id),
        )
        raw.commit()


def test_a_recently_missed_run_runs_once_at_start(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    add(workspace, sheet, "*/5 * * * *")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    _move_next_run(data_dir, datetime.now(UTC) - timedelta(minutes=17))  # three runs missed
    serve_until(workspace, lambda: bool(jobs(workspace)), 10)
    time.sleep(0.2)
    assert len(jobs(workspace)) == 1  # coalesced into one run
    assert "schedule.missed" not in actions(workspace)


def test_a_run_stores_its_next_run_in_its_job_s_own_transaction(
    workspace: Services, sheet: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made job and stored next run commit together: with the store's writer thread doing
    nothing, a missed run that runs at start still leaves its next run stored — so a crash
    right after the job is made cannot make a restart run it again."""
    add(workspace, sheet, "*/5 * * * *")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    _move_next_run(data_dir, datetime.now(UTC) - timedelta(minutes=3))
    monkeypatch.setattr(PersistedMemoryJobStore, "_apply", lambda self, changes: None)
    serve_until(workspace, lambda: bool(jobs(workspace)), 10)
    assert len(jobs(workspace)) == 1
    [(_, next_run)] = aps_jobs(data_dir)
    assert next_run is not None and next_run > time.time()


def test_an_old_missed_run_is_recorded_not_run(
    workspace: Services, sheet: Path, data_dir: Path, run_cli: Run
) -> None:
    # Twelve hours away from now, so that no run of the schedule falls within the grace period
    # (at 06:05 a daily@06:00 schedule's run of today is recent, and rightly runs).
    hour = (datetime.now(UTC) + timedelta(hours=12)).hour
    add(workspace, sheet, f"daily@{hour:02d}:00")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    _move_next_run(data_dir, datetime.now(UTC) - timedelta(days=2))
    serve_until(workspace, lambda: "schedule.missed" in actions(workspace), 10)
    assert jobs(workspace) == []
    listed = run_cli("schedule", "list")
    assert "last: missed at" in listed.stdout and "schedule run 1" in listed.stdout
    ran = run_cli("schedule", "run", "1")
    assert ran.returncode == 0 and ran.stdout.startswith("Created job 1 “Ideas for")


def test_pausing_a_schedule_pauses_its_job(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    schedule_id = add(workspace, sheet, "daily@06:00")
    with workspace.db.write() as session:
        schedule_store.set_paused(session, schedule_id, True, "tester")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    assert aps_jobs(data_dir) == [("schedule-1", None)]
    with workspace.db.write() as session:
        schedule_store.set_paused(session, schedule_id, False, "tester")
    serve_until(workspace, lambda: aps_jobs(data_dir)[0][1] is not None, 5)
    assert aps_jobs(data_dir)[0][1] is not None


def test_a_source_that_fails_at_run_time_is_recorded(
    workspace: Services, sheet: Path, run_cli: Run
) -> None:
    at = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    add(workspace, sheet, f"once@{at}")
    sheet.unlink()
    serve_until(workspace, lambda: "schedule.failed" in actions(workspace))
    assert jobs(workspace) == []
    assert "last: failed at" in run_cli("schedule", "list").stdout
    assert "no such file" in run_cli("schedule", "list").stdout


def test_schedule_commands(run_cli: Run, sheet: Path) -> None:
    refused = [
        (["Bad", "0 25 * * *"], "hour: 25 is out of range"),
        (["Past", "once@2020-01-01T09:00"], "has no run in the future"),
        (["Topic", "daily@09:00", "--topic", "About {subject}"], "unknown variable {subject}"),
        (["Zone", "daily@09:00", "--tz", "Moon/Base"], "unknown time zone"),
    ]
    for extra, says in refused:
        result = run_cli("schedule", "add", *extra, "--source", str(sheet))
        assert result.returncode == 2 and says in result.stderr, result.stderr
    missing = run_cli(
        "schedule", "add", "Gone", "daily@09:00", "--source", str(sheet.parent / "x.csv")
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr

    added = run_cli(
        "schedule",
        "add",
        "Morning",
        "weekly@mon,thu@09:00",
        "--source",
        str(sheet),
        "--tz",
        "Europe/Berlin",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Added schedule 1 “Morning” (1 valid rows in the sheet now).")
    listed = json.loads(run_cli("schedule", "list", "--json").stdout)
    assert listed[0]["expression"] == "weekly@mon,thu@09:00" and listed[0]["state"] == "active"
    assert datetime.fromisoformat(listed[0]["next_run"]).strftime("%a %H:%M") in (
        "Mon 09:00",
        "Thu 09:00",
    )
    assert run_cli("schedule", "pause", "1").stdout.strip() == "Schedule 1: paused."
    assert json.loads(run_cli("schedule", "list", "--json").stdout)[0]["next_run"] is None
    assert run_cli("schedule", "resume", "1").stdout.strip() == "Schedule 1: resumed."
    assert run_cli("schedule", "remove", "1").stdout.strip() == "Schedule 1: removed."
    assert run_cli("schedule", "remove", "1").returncode == 2


def test_schedules_removed_while_running_lose_their_jobs(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    keep = add(workspace, sheet, "daily@06:00")
    gone = add(workspace, sheet, "daily@07:00")

    async def main() -> None:
        stopping = asyncio.Event()
        engine = Engine(workspace, poll_seconds=0.1, run_schedules=True)
        keep_queued(engine)
        task = asyncio.create_task(engine.run(stopping))
        while len(aps_jobs(data_dir)) < 2:
            await asyncio.sleep(0.05)
        with workspace.db.write() as session:
            schedule_store.remove_schedule(session, gone, "tester")
        for _ in range(50):
            if len(aps_jobs(data_dir)) == 1:
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await task

    asyncio.run(main())
    assert [j for j, _ in aps_jobs(data_dir)] == [f"schedule-{keep}"]


def test_start_and_end_dates(run_cli: Run, sheet: Path, workspace: Services) -> None:
    ended = run_cli(
        "schedule",
        "add",
        "Old",
        "daily@09:00",
        "--source",
        str(sheet),
        "--tz",
        "UTC",
        "--end",
        "2020-01-01T00:00",
    )
    assert ended.returncode == 2 and "no run in the future" in ended.stderr
    backwards = run_cli(
        "schedule",
        "add",
        "Odd",
        "daily@09:00",
        "--source",
        str(sheet),
        "--start",
        "2031-01-02T00:00",
        "--end",
        "2031-01-01T00:00",
    )
    assert backwards.returncode == 2 and "--end must be after --start" in backwards.stderr
    later = run_cli(
        "schedule",
        "add",
        "Later",
        "daily@09:00",
        "--source",
        str(sheet),
        "--tz",
        "UTC",
        "--start",
        "2031-06-01T00:00",
        "--end",
        "2031-06-30T23:00",
    )
    assert later.returncode == 0, later.stderr
    assert "Next runs: Sun 01 Jun 2031 09:00 UTC" in later.stdout
    listed = json.loads(run_cli("schedule", "list", "--json").stdout)[0]
    assert listed["next_run"] == "2031-06-01T09:00:00+00:00"
    assert listed["end"] == "2031-06-30T23:00:00+00:00"


def test_runs_outside_the_window_make_no_job(workspace: Services, sheet: Path) -> None:
    at = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    schedule_id = add(workspace, sheet, f"once@{at}")
    with workspace.db.write() as session:
        stored = session.get(Schedule, schedule_id)
        assert stored is not None
        stored.end_at = datetime.now(UTC)
    serve_until(workspace, lambda: bool(jobs(workspace)), 5)
    assert jobs(workspace) == []


def test_stopping_while_a_schedule_runs_finishes_that_run_first(
    workspace: Services,
    sheet: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Quit in the middle of a run: the engine waits for it, so its job is stored (once)
    before the engine returns and the app closes the database."""
    entered = threading.Event()
    real = ops.jobs.store_job

    def slow_store(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(ops.jobs, "store_job", slow_store)
    at = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    add(workspace, sheet, f"once@{at}")
    after_stop: list[list[tuple[str, str]]] = []

    async def main() -> None:
        stopping = asyncio.Event()
        engine = Engine(workspace, poll_seconds=0.1)
        keep_queued(engine)
        task = asyncio.create_task(engine.run(stopping))
        while not entered.is_set():
            await asyncio.sleep(0.02)
        stopping.set()  # mid-run
        await task
        after_stop.append(jobs(workspace))  # before the loop's own executor shutdown

    asyncio.run(main())
    assert len(after_stop[0]) == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no cancelled run
    serve_until(workspace, lambda: len(jobs(workspace)) > 1, 2)  # restart: not run again
    assert len(jobs(workspace)) == 1


def test_jobs_stored_by_the_old_trigger_are_rebuilt_keeping_a_missed_run(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    """An upgrade from the CronTrigger-based version: the stored job (old trigger, old name)
    is replaced by the crontab trigger, and the run it had missed still runs once."""
    from app.domain.schedule import parse_cron, zone
    from app.triggers import CrontabTrigger, WallClockTrigger, cron_triggers

    add(workspace, sheet, "*/5 * * * *")
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    missed = datetime.now(UTC) - timedelta(minutes=7)
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        job_id, state = raw.execute("select id, job_state from apscheduler_jobs").fetchone()
        data = pickle.loads(state)
        tz = zone("UTC")
        data["trigger"] = WallClockTrigger(
            cron_triggers(parse_cron("*/5 * * * *"), tz), tz, follow_real_time=True
        )
        data["name"] = "*/5 * * * *|UTC"  # the old fingerprint
        data["next_run_time"] = missed
        raw.execute(
            "update apscheduler_jobs set job_state = ?, next_run_time = ? where id = ?",
            (pickle.dumps(data), missed.timestamp(), job_id),
        )
        raw.commit()
    serve_until(workspace, lambda: bool(jobs(workspace)), 10)
    assert len(jobs(workspace)) == 1  # the missed run ran (once), after the rebuild
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        [(state,)] = raw.execute("select job_state from apscheduler_jobs").fetchall()
    stored = pickle.loads(state)
    assert isinstance(stored["trigger"], CrontabTrigger)
    assert stored["name"].endswith("|crontab-2")


def test_a_run_moved_on_the_calendar_runs_at_its_new_time_once(
    workspace: Services, sheet: Path, data_dir: Path
) -> None:
    schedule_id = add(workspace, sheet, "0 0 1 1 *")  # New Year at midnight, UTC
    serve_until(workspace, lambda: bool(aps_jobs(data_dir)), 5)
    year = datetime.now(UTC).year + 1
    original = datetime(year, 1, 1, tzinfo=UTC)
    soon = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    said = ops.calendar.move(workspace, f"run:{schedule_id}@{original.isoformat()}", soon).message
    assert "instead, this once" in said
    shown = queries.schedules.schedule_preview(
        workspace, schedule_id, 2
    )  # the Schedules view's next runs
    assert shown == [soon, datetime(year + 1, 1, 1, tzinfo=UTC)]
    serve_until(workspace, lambda: bool(jobs(workspace)), 20)
    assert len(jobs(workspace)) == 1  # the moved run ran
    [(_id, next_run)] = aps_jobs(data_dir)
    assert next_run == datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()  # New Year is skipped
    assert "schedule.move_run" in actions(workspace)


def test_changes_are_read_one_by_one_not_every_schedule_each_time(
    workspace: Services, sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With thousands of schedules, each one-off's run changes one row: the engine must read
    that row, not all of them (a full read held the GIL in the way of the next due run) — and
    still see every addition, edit and removal."""
    from app.engine.schedules import ScheduleRunner

    ids = [add(workspace, sheet, f"daily@{h:02d}:00") for h in range(8)]
    runner = ScheduleRunner(workspace, lambda _job: None)
    read_sizes: list[int] = []
    versions = schedule_store.versions

    def counted(session: Any, since: datetime | None = None) -> dict[int, datetime]:
        found = versions(session) if since is None else versions(session, since)
        read_sizes.append(len(found))
        return found

    monkeypatch.setattr(schedule_store, "versions", counted)
    first = runner._read_changes()
    assert first is not None and first[1] == set() and [s.id for s in first[0]] == ids
    assert read_sizes == [8]
    assert runner._read_changes() is None  # nothing changed: nothing read

    read_sizes.clear()
    with workspace.db.write() as session:
        schedule_store.set_paused(session, ids[3], True, "tester")
    changed = runner._read_changes()
    assert changed is not None and [(s.id, s.paused) for s in changed[0]] == [(ids[3], True)]
    assert changed[1] == set()
    assert max(read_sizes) <= 2  # the paused one (and at most the one stamped last before it)

    read_sizes.clear()
    added = add(workspace, sheet, "daily@23:00")
    changed = runner._read_changes()
    assert changed is not None and [s.id for s in changed[0]] == [added]
    assert max(read_sizes) <= 2

    with workspace.db.write() as session:  # a removal and an addition in one go
        schedule_store.remove_schedule(session, ids[0], "tester")
    again = add(workspace, sheet, "daily@22:00")
    changed = runner._read_changes()
    assert changed is not None and [s.id for s in changed[0]] == [again]
    assert changed[1] == {ids[0]}
    assert runner.seen is not None and set(runner.seen) == {*ids[1:], added, again}


# Runs planned ahead: the sheet is read a moment before the run's time, the job made at it.


def _soon(seconds: float) -> tuple[str, float]:
    """A one-off's expression ``seconds`` from now (whole seconds), and that moment."""
    at = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return f"once@{at:%Y-%m-%dT%H:%M:%S}", at.timestamp()


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When each sheet was read (by a run, or by its planning ahead)."""
    reads: list[float] = []
    real = queries.sources.check_source

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(time.time())
        return real(*args, **kwargs)

    monkeypatch.setattr(queries.sources, "check_source", counted)
    return reads


def _created_at(workspace: Services) -> list[float]:
    with workspace.db.read() as session:
        return [j.created_at.replace(tzinfo=UTC).timestamp() for j in session.scalars(select(Job))]


def test_a_run_reads_its_sheet_ahead_and_makes_its_job_at_its_time(
    workspace: Services, sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_reads(monkeypatch)
    expression, due = _soon(4)
    add(workspace, sheet, expression)
    serve_until(workspace, lambda: bool(jobs(workspace)))
    assert len(reads) == 1  # read once: ahead, not again at its time
    assert due - 3 < reads[0] < due
    (made,) = _created_at(workspace)
    assert made >= due  # no job before its time
    with workspace.db.read() as session:
        assert len(session.scalars(select(Job)).one().items) == 1


def test_a_sheet_saved_after_its_run_was_planned_is_read_again(
    workspace: Services, sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_reads(monkeypatch)
    expression, _due = _soon(4)
    add(workspace, sheet, expression)

    def save_after_planning() -> bool:
        if len(reads) == 1 and sheet.read_text().count("\n") == 2:
            sheet.write_text("Title,Script\nOne,Words to say.\nTwo,More words.\n")
        return bool(jobs(workspace))

    serve_until(workspace, save_after_planning)
    assert len(reads) == 2  # planned, then read again at its time: the file had changed
    with workspace.db.read() as session:
        assert [i.title for i in session.scalars(select(Job)).one().items] == ["One", "Two"]


def test_schedules_changed_after_their_run_was_planned_run_as_they_are_now(
    workspace: Services, sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edited between planning and its time: the edit counts. Paused: no run."""
    reads = _count_reads(monkeypatch)
    expression, due = _soon(4)
    edited = add(workspace, sheet, expression, topic="Old topic")
    paused = add(workspace, sheet, expression, topic="Paused topic")

    def change_after_planning() -> bool:
        if len(reads) == 2 and not changed:
            with workspace.db.write() as session:
                schedule_store.edit_schedule(session, edited, "tester", topic_template="New topic")
                schedule_store.set_paused(session, paused, True, "tester")
            changed.append(True)
        return bool(jobs(workspace)) and time.time() > due + 1.5

    changed: list[bool] = []
    serve_until(workspace, change_after_planning)
    assert changed
    assert jobs(workspace) == [("New topic", "pending")]


def test_runs_due_together_never_start_more_renders_than_allowed(
    workspace: Services, sheet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run claims its first item in its job's own transaction; the engine's own claims
    and other runs' count the same slots."""
    from app.pipeline.runner import RenderOutcome

    lock, running, most = threading.Lock(), [0], [0]
    result = {"video": "v", "thumbnail": "t", "captions": "c", "metadata": "m", "duration": 1}

    def render(*_args: Any, **_kwargs: Any) -> RenderOutcome:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.4)
        with lock:
            running[0] -= 1
        return RenderOutcome("completed", result=result)

    monkeypatch.setattr(rendering, "run_render", render)
    expression, _due = _soon(3)
    for _ in range(3):
        add(workspace, sheet, expression)

    def all_done() -> bool:
        return [state for _title, state in jobs(workspace)] == ["completed"] * 3

    async def main() -> None:
        stopping = asyncio.Event()
        engine = Engine(workspace, poll_seconds=0.2, max_concurrent=1)
        task = asyncio.create_task(engine.run(stopping))
        deadline = time.monotonic() + 20
        while not all_done() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stopping.set()
        await task

    asyncio.run(main())
    assert all_done()
    assert most[0] == 1
