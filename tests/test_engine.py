"""The engine: renders queued items, survives a SIGKILL, and obeys pause/resume/cancel/retry."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.idea import Idea
from app.domain.states import IllegalTransition
from app.engine import rendering
from app.engine.service import Engine, EngineEvent
from app.paths import AppPaths
from app.pipeline.probe import container_problem
from app.pipeline.runner import RenderOutcome, RenderStatus
from app.services import Services
from app.store import job_actions, queue
from app.store.models import AuditEntry, Item, Job
from tests.conftest import ROOT
from tests.engine_helpers import add_job, states

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def workspace(data_dir: Path) -> Iterator[Services]:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        yield ws


def run_engine(
    workspace: Services, events: list[EngineEvent] | None = None, **kwargs: object
) -> None:
    seen = events if events is not None else []
    engine = Engine(workspace, poll_seconds=0.2, on_event=seen.append, **kwargs)  # type: ignore[arg-type]
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))


def when_encoding(
    workspace: Services, job: int, action: Callable[[Any, int, str], object]
) -> Callable[[EngineEvent], None]:
    """An event listener that applies a job action (pause, cancel) once, mid-encode."""

    def listen(event: EngineEvent) -> None:
        if event.kind == "item_progressed" and event.data["stage"] == "encode":
            with workspace.db.write() as session:
                if session.get(Job, job).state == "running":  # type: ignore[union-attr]
                    action(session, job, "tester")

    return listen


def test_items_render_in_priority_order_and_the_job_completes(
    workspace: Services, tmp_path: Path
) -> None:
    low = add_job(workspace, ["Low one."], tmp_path / "low", "Low", "low")
    high = add_job(workspace, ["High one.", "High two."], tmp_path / "high", "High", "high")
    events: list[EngineEvent] = []
    run_engine(workspace, events)
    started = [e.job_id for e in events if e.kind == "item_started"]
    assert started == [high, high, low]
    assert states(workspace, high) == ("completed", ["completed", "completed"])
    assert states(workspace, low) == ("completed", ["completed"])
    assert sorted(p.name for p in (tmp_path / "high").iterdir()) == [
        "002-idea-2.json",
        "002-idea-2.mp4",
        "002-idea-2.png",
        "002-idea-2.srt",
        "003-idea-3.json",
        "003-idea-3.mp4",
        "003-idea-3.png",
        "003-idea-3.srt",
    ]
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == high)).first()
        assert item is not None and item.outputs["video"].endswith("002-idea-2.mp4")
        assert [e.outcome for e in item.executions] == ["completed"]


def test_a_failing_item_fails_the_job_and_retry_queues_it_again(
    workspace: Services, tmp_path: Path
) -> None:
    job = add_job(workspace, ["Fine.", ""], tmp_path / "out")
    run_engine(workspace)
    assert states(workspace, job) == ("failed", ["completed", "failed"])
    with workspace.db.read() as session:
        failed = session.scalars(
            select(Item).where(Item.job_id == job, Item.state == "failed")
        ).one()
        assert failed.error is not None and failed.error.startswith("the row has no script")
    with workspace.db.write() as session:
        assert job_actions.retry_job(session, job, "tester") == 1
    assert states(workspace, job) == ("pending", ["completed", "pending"])
    run_engine(workspace)
    with workspace.db.read() as session:
        failed = session.scalars(select(Item).where(Item.job_id == job, Item.row_number == 3)).one()
        assert failed.attempts == 2 and [e.outcome for e in failed.executions] == [
            "failed",
            "failed",
        ]
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "job.retry" in actions


def test_pause_stops_running_items_and_resume_finishes_them(
    workspace: Services, tmp_path: Path
) -> None:
    job = add_job(workspace, ["A sentence to speak. " * 6, "Second."], tmp_path / "out")
    engine = Engine(
        workspace, poll_seconds=0.2, on_event=when_encoding(workspace, job, job_actions.pause_job)
    )
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert states(workspace, job) == ("paused", ["pending", "pending"])
    assert not [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
    with (
        pytest.raises(IllegalTransition, match="cannot pause a job that is paused"),
        workspace.db.write() as session,
    ):
        job_actions.pause_job(session, job, "tester")
    with workspace.db.write() as session:
        job_actions.resume_job(session, job, "tester")
    run_engine(workspace)
    assert states(workspace, job) == ("completed", ["completed", "completed"])


def test_cancel_stops_everything_and_leaves_no_files(workspace: Services, tmp_path: Path) -> None:
    job = add_job(workspace, ["A sentence to speak. " * 6, "Second."], tmp_path / "out")
    engine = Engine(
        workspace, poll_seconds=0.2, on_event=when_encoding(workspace, job, job_actions.cancel_job)
    )
    asyncio.run(engine.run(asyncio.Event(), until_idle=True))
    assert states(workspace, job) == ("canceled", ["canceled", "canceled"])
    assert list((tmp_path / "out").iterdir()) == []


def test_job_actions_from_the_command_line(run_cli: Run, data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "ideas.csv"
    source.write_text("Title,Script\nOne,Words.\n")
    assert run_cli("jobs", "create", "--source", str(source)).returncode == 0
    paused = run_cli("jobs", "pause", "1")
    assert paused.returncode == 0 and paused.stdout.strip() == "Job 1 is paused."
    again = run_cli("jobs", "pause", "1")
    assert again.returncode == 2
    assert again.stderr.strip() == (
        "cadence: cannot pause a job that is paused (from paused it can only move to canceled, "
        "canceling, pending, running)"
    )
    assert run_cli("jobs", "resume", "1").stdout.strip() == "Job 1 is pending."
    assert run_cli("jobs", "cancel", "1").stdout.strip() == "Job 1 is canceled."
    with closing(sqlite3.connect(data_dir / "cadence.db")) as raw:
        actions = [r[0] for r in raw.execute("select action from audit_log order by id")]
    assert actions == ["job.create", "job.pause", "job.resume", "job.cancel"]


def _writing_into(*folders: Path) -> list[str]:
    import psutil

    return [
        " ".join(p.info["cmdline"])
        for p in psutil.process_iter(["cmdline"])
        if p.pid != os.getpid()
        and any(str(f) in part for f in folders for part in (p.info["cmdline"] or []))
    ]


def _db_rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute(query).fetchall()


def test_a_killed_engine_resumes_and_every_item_completes_exactly_once(
    data_dir: Path, tmp_path: Path
) -> None:
    """SIGKILL a headless runner mid-batch, start it again: each item ends completed once,
    with one set of outputs and no stray files."""
    out = tmp_path / "videos"
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        job = add_job(
            ws, ["A sentence to speak here. " * 4, "The second one speaks too. " * 4, "Third."], out
        )
    database = data_dir / "cadence.db"
    command = [
        sys.executable,
        str(ROOT / "main.py"),
        "--data-dir",
        str(data_dir),
        "run",
        "--headless",
    ]
    runner = subprocess.Popen([*command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the first item is done and the second is encoding
            rows = dict(
                _db_rows(
                    database,
                    "select row_number, state || ':' || coalesce(stage, '') "
                    f"from items where job_id = {job}",
                )
            )
            if rows.get(2, "").startswith("completed") and rows.get(3) == "running:encode":
                break
            assert runner.poll() is None, runner.communicate()
            assert time.monotonic() < deadline, rows
            time.sleep(0.1)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
    deadline = time.monotonic() + 2  # the render and its ffmpeg die with the engine
    while _writing_into(data_dir, out) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _writing_into(data_dir, out) == []
    assert _db_rows(database, "select state from items where row_number = 3") == [("running",)]
    assert not (out / "003-idea-3.mp4").exists()

    again = subprocess.run(
        [*command, "--until-idle"], capture_output=True, text=True, timeout=300, check=False
    )
    assert again.returncode == 0, again.stderr
    assert _db_rows(
        database, "select row_number, state, attempts from items order by row_number"
    ) == [
        (2, "completed", 1),
        (3, "completed", 1),  # the kill is not the item's fault: its attempt is given back
        (4, "completed", 1),
    ]
    outcomes = _db_rows(
        database,
        "select i.row_number, e.outcome from executions e "
        "join items i on i.id = e.item_id order by e.id",
    )
    assert outcomes == [(2, "completed"), (3, "interrupted"), (3, "completed"), (4, "completed")]
    assert _db_rows(database, "select state from jobs") == [("completed",)]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{row:03d}-idea-{row}{ext}"
        for row in (2, 3, 4)
        for ext in (".json", ".mp4", ".png", ".srt")
    )
    for row in (2, 3, 4):  # each one sound container: one moov, one mdat, its full length
        meta = json.loads((out / f"{row:03d}-idea-{row}.json").read_text())
        video = out / f"{row:03d}-idea-{row}.mp4"
        assert container_problem(video, meta["duration_seconds"], matroska=False) is None


def test_only_one_engine_per_data_folder(data_dir: Path) -> None:
    from app.engine.lock import AlreadyRunning, InstanceLock

    with (
        InstanceLock(data_dir / "engine.lock"),
        pytest.raises(
            AlreadyRunning, match=f"already running on this data folder \\(process {os.getpid()}\\)"
        ),
    ):
        InstanceLock(data_dir / "engine.lock").acquire()
    InstanceLock(data_dir / "engine.lock").acquire().release()


def test_jobs_show_gives_the_reason_an_item_failed(
    run_cli: Run, data_dir: Path, tmp_path: Path
) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        job = add_job(ws, [""], tmp_path / "out")
        run_engine(ws)
    shown = run_cli("jobs", "show", str(job))
    assert "failed" in shown.stdout
    assert "  row 2: the row has no script and no script generator is configured" in shown.stdout


def test_an_unwritable_output_folder_fails_at_once_with_the_reason(
    workspace: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a crash worth retrying three times over minutes: the user must choose a folder."""

    calls: list[object] = []
    monkeypatch.setattr(rendering, "run_render", lambda *a, **k: calls.append(a))
    job = add_job(workspace, ["Words."], Path("/proc/cadence-cannot-write-here"))
    run_engine(workspace)
    assert states(workspace, job) == ("failed", ["failed"])
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
        assert item.attempts == 1 and item.not_before is None
        assert "videos cannot be written to /proc/cadence-cannot-write-here" in (item.error or "")
    assert calls == []


def _finished_files(folder: Path, row: int, title: str, meta_title: str) -> None:
    from app.pipeline.render import output_stem

    stem = output_stem(row, Idea(idea_title=title))
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".mp4", ".png", ".srt"):
        (folder / f"{stem}{suffix}").write_bytes(b"x")
    (folder / f"{stem}.json").write_text(f'{{"title": "{meta_title}", "duration_seconds": 9.5}}')


@pytest.mark.parametrize("ours", [True, False])
def test_a_finished_video_found_after_a_crash_is_adopted_only_if_it_is_ours(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    """The engine died between the files' final rename and recording them: the next attempt
    finds the video and takes it as the item's, with no note — unless it is another video."""
    from app.pipeline.runner import RenderOutcome

    folder = tmp_path / "out"
    job = add_job(workspace, ["Words."], folder)
    _finished_files(folder, 2, "Idea 2", "Idea 2" if ours else "Something else")
    monkeypatch.setattr(
        rendering,
        "run_render",
        lambda *a, **k: RenderOutcome(
            "skipped", error="002-idea-2.mp4 already exists — pass --overwrite"
        ),
    )
    run_engine(workspace)
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
        if ours:
            assert (item.state, item.error) == ("completed", None)
            assert item.outputs["video"].endswith("002-idea-2.mp4")
            assert item.outputs["duration"] == 9.5
        else:
            assert item.state == "failed" and item.attempts == 1
            assert "is another video — move it away" in (item.error or "")


def test_engine_crashes_never_count_against_an_item(workspace: Services, tmp_path: Path) -> None:
    job = add_job(workspace, ["Words."], tmp_path / "out")
    for _crash in range(3):  # claimed, then the engine dies mid-render, three times
        with workspace.db.write() as session:
            [claim] = queue.claim_next(session, 1)
            assert claim.job_id == job
        with workspace.db.write() as session:
            queue.recover(session)
    with workspace.db.read() as session:
        item = session.scalars(select(Item).where(Item.job_id == job)).one()
        assert item.state == "pending" and item.attempts == 0
        assert [e.outcome for e in item.executions] == ["interrupted"] * 3  # history kept


def test_a_data_folder_that_cannot_be_locked_says_so_in_one_line() -> None:
    """A read-only data folder (or one that cannot hold a lock file) is a message, not the
    traceback it once was."""
    from app.domain.errors import UserError
    from app.engine.lock import InstanceLock

    with pytest.raises(UserError, match=r"cannot use the data folder /proc/self/cadence"):
        InstanceLock(Path("/proc/self/cadence/engine.lock")).acquire()


def test_canceling_a_job_leaves_no_item_pending_or_promising_a_retry(
    workspace: Services, tmp_path: Path
) -> None:
    from datetime import timedelta

    from app.store.models import utcnow

    job = add_job(workspace, ["One.", "Two."], tmp_path / "out")
    with workspace.db.write() as session:
        first, second = queue.claim_next(session, 2)
        queue.finish_item(  # a crash: back in the queue for a retry
            session, first, "failed", error="crashed — retrying in 30 s (attempt 2 of 3)",
            retry_at=utcnow() + timedelta(seconds=30),
        )  # fmt: skip
        job_actions.cancel_job(session, job, "test")
        queue.finish_item(session, second, "stopped")  # the running one stops, re-queued
    with workspace.db.read() as session:
        items = session.scalars(select(Item).where(Item.job_id == job)).all()
        assert [(i.state, i.error) for i in items] == [("canceled", "canceled with the job")] * 2
        assert session.get(Job, job).state == "canceled"  # type: ignore[union-attr]


def test_a_cancel_reaches_renders_that_fill_every_pooled_thread(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renders hold their threads for minutes; the engine's own database calls (reading a
    cancel, claiming, a schedule's run) must still find a thread. Here the event loop's pool
    has as many threads as there are renders: in it, the cancel would wait for a render to
    end — and these only end when canceled."""
    started: list[int] = []

    def render_until_canceled(*_args: Any, cancel: Any, **_kwargs: Any) -> RenderOutcome:
        started.append(1)
        assert cancel.wait(30), "the cancel never reached the render"
        return RenderOutcome(RenderStatus.CANCELED, error="canceled")

    monkeypatch.setattr(rendering, "run_render", render_until_canceled)
    job = add_job(workspace, ["One.", "Two.", "Three."], tmp_path / "out")

    claimed: list[int] = []

    def cancel_once_all_run(event: EngineEvent) -> None:
        if event.kind == "item_started":
            claimed.append(event.item_id or 0)
            if len(claimed) == 3:  # every pooled thread now holds a render
                with workspace.db.write() as session:
                    job_actions.cancel_job(session, job, "tester")

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=3))
        engine = Engine(workspace, poll_seconds=0.2, max_concurrent=3, on_event=cancel_once_all_run)
        await asyncio.wait_for(engine.run(asyncio.Event(), until_idle=True), 60)

    asyncio.run(main())
    assert len(started) == 3
    assert states(workspace, job) == ("canceled", ["canceled", "canceled", "canceled"])


def test_one_job_the_engine_cannot_use_fails_with_its_reason_and_the_others_go_on(
    workspace: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data an older version let through (a start in year 9999 in Los Angeles — year 10000 in
    UTC; WebM with H.264): the engine fails those jobs, says why, and renders the good one."""
    far = add_job(workspace, ["Never."], tmp_path / "far", "Far")
    webm = add_job(workspace, ["Cannot."], tmp_path / "webm", "WebM")
    good = add_job(workspace, ["Fine."], tmp_path / "good", "Good")
    odd = add_job(workspace, ["Odd."], tmp_path / "odd", "Odd")
    slots = queue._job_slots

    def broken_for_odd(session: Any, job: Any, *args: Any) -> int:
        if job.id == odd:  # whatever the reason: a bug, a value no check foresaw
            raise OverflowError("date value out of range")
        return slots(session, job, *args)

    monkeypatch.setattr(queue, "_job_slots", broken_for_odd)
    with workspace.db.write() as session:
        session.get(Job, far).scheduling = {  # type: ignore[union-attr]
            "mode": "time_based",
            "start_at": "9999-12-31T23:59:00-08:00",
            "timezone": "America/Los_Angeles",
        }
        job = session.get(Job, webm)
        assert job is not None
        job.output_config = {**job.output_config, "container": "webm", "video_codec": "h264"}
    run_engine(workspace)
    assert states(workspace, good) == ("completed", ["completed"])
    assert states(workspace, far) == ("failed", ["failed"])
    assert states(workspace, webm) == ("failed", ["failed"])
    assert states(workspace, odd) == ("failed", ["failed"])
    with workspace.db.read() as session:
        errors = {i.job_id: i.error for i in session.scalars(select(Item))}
    assert errors[far] == (
        "this job's scheduling cannot be used (start time: 9999 is outside the years Cadence "
        "plans for (1970 to 2999)) — see the log; change the job's settings or delete it"
    )
    assert errors[odd] == (
        "this job cannot run (OverflowError: date value out of range) — see the log; change "
        "the job's settings or delete it"
    )
    assert errors[webm] is not None and errors[webm].startswith(
        "this job's output settings cannot be rendered (WebM carries VP9"
    )


def test_a_database_damaged_inside_is_noticed_at_start_and_nothing_more_is_written(
    data_dir: Path, tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """8 KB of garbage in the middle of the file: the engine's quick check at start finds
    it, stops before writing, and says in one line what `db check` and `db restore` do."""
    with closing(Services(AppPaths.resolve(data_dir))) as ws:
        for _ in range(2):
            add_job(ws, ["Words to say here. " * 20] * 600, tmp_path / "out")
    database = data_dir / "cadence.db"
    with closing(sqlite3.connect(database)) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = database.stat().st_size
    with database.open("r+b") as fh:
        fh.seek(size // 2 - (size // 2) % 4096)
        fh.write(os.urandom(8192))
    damaged = database.read_bytes()
    result = run_cli("run", "--headless", "--until-idle")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"cadence: the database {database} is damaged (")
    assert "nothing more is written to it; `cadence db check` shows the damage" in line
    assert "Traceback" not in result.stderr
    assert database.read_bytes() == damaged  # not a byte written


def test_a_write_after_damage_was_met_is_refused(workspace: Services) -> None:
    from app.store.database import DamagedDatabase

    workspace.db.found_damaged("database disk image is malformed")
    with pytest.raises(DamagedDatabase, match="nothing more is written"), workspace.db.write():
        pass


def test_until_idle_stops_when_all_that_is_left_waits_on_a_later_time(
    data_dir: Path, tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """A job that starts in 2030 (or uploads waiting for tomorrow's quota) no longer keeps
    `run --headless --until-idle` running for good: it stops and says what waits, until when."""
    sheet = tmp_path / "ideas.csv"
    sheet.write_text("idea_title,script_content\nLater,Words.\n")
    made = run_cli("jobs", "create", "--source", str(sheet), "--mode", "time_based",
                   "--start", "2030-01-01T09:00", "--timezone", "Europe/Berlin")  # fmt: skip
    assert made.returncode == 0, made.stderr
    ran = run_cli("run", "--headless", "--until-idle")
    assert ran.returncode == 0, ran.stderr
    assert "Job 1 “ideas — " in ran.stdout
    assert "1 item waits until Tue 01 Jan 2030 " in ran.stdout


def test_a_google_quota_wait_during_the_engines_work_marks_its_job_rate_limited(
    workspace: Services, tmp_path: Path
) -> None:
    """The engine wires the workspace's rate limiter to the jobs: a request that waits for
    quota makes its job's progress say so (a no-op wiring fails here)."""
    from app.google.ratelimit import RateLimiter
    from app.store import stats

    job = add_job(workspace, ["Words."], tmp_path / "out")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    workspace._limiter = RateLimiter(1, 300, clock=lambda: now[0], sleep=sleep)
    Engine(workspace)  # the wiring is made when the engine is
    workspace.limiter.acquire("me", job_id=job)  # the bucket's one token
    assert workspace.limiter.acquire("me", job_id=job) > 0  # waits: the engine is told
    with workspace.db.read() as session:
        progress = stats.job_progress(session, job)
    assert progress["rate_limited"] is True and progress["rate_limited_until"]
