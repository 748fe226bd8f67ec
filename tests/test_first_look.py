"""The window's first screenful, read without SQLAlchemy (`app.store.first_look`): the same
rows as the workspace's own read, nothing when it cannot be sure, and a window that shows
them at once and then takes the workspace's read over without losing the user's place."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytestqt.qtbot import QtBot

from app import ops, queries
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from app.store.first_look import FirstLook, first_page
from app.store.models import Item, Job, Schedule, Upload
from app.store.schema import SCHEMA_HEAD
from app.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]


def varied(workspace: Services) -> dict[str, int]:
    """Jobs of every kind the table tells apart: states, schedules (one paused, one
    deleted), one-off starts ahead and behind, uploads in each state, approval waits."""
    made = {
        name: ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title=name)
        ).job_id
        for name in ("Plain", "Scheduled", "Paused schedule", "Publishing", "Ahead", "Behind")
    }
    now = datetime.now(UTC)
    with workspace.db.write() as session:
        running = Schedule(name="Mornings", kind="cron", expression="0 9 * * *", timezone="UTC")
        held = Schedule(name="Held", kind="daily", expression="10:00", timezone="UTC", paused=True)
        session.add_all([running, held])
        session.flush()
        jobs = {name: session.get(Job, job_id) for name, job_id in made.items()}
        jobs["Scheduled"].schedule_id = running.id  # type: ignore[union-attr]
        jobs["Paused schedule"].schedule_id = held.id  # type: ignore[union-attr]
        jobs["Plain"].state = "failed"  # type: ignore[union-attr]
        jobs["Ahead"].scheduling = {"start_at": (now + timedelta(days=2)).isoformat()}  # type: ignore[union-attr]
        jobs["Behind"].scheduling = {"start_at": (now - timedelta(days=2)).isoformat()}  # type: ignore[union-attr]
        items = list(session.query(Item).filter(Item.job_id == made["Publishing"]))
        statuses = ["published", "published", "scheduled", "private", "on_hold", "waiting"]
        for item, status in zip(items, statuses, strict=False):
            session.add(Upload(item_id=item.id, channel_id="UC1", status=status))
        items[-1].phase, items[-1].state = "approval", "pending"
        session.add(Upload(item_id=items[-1].id, channel_id="UC1", status="waiting"))
        plain = list(session.query(Item).filter(Item.job_id == made["Plain"]))
        plain[0].state, plain[1].state = "completed", "failed"
    return made


def test_the_first_look_reads_what_the_workspace_reads(workspace: Services) -> None:
    made = varied(workspace)
    rows, _more, total = queries.jobs.job_page(workspace, "created_at", True, 200)

    look = first_page(workspace.paths.database, 200)

    assert look == FirstLook(rows, total)
    by_title = {r.title: r for r in look.rows}
    assert by_title["Scheduled"].schedule == "Mornings"
    assert by_title["Paused schedule"].schedule_paused
    assert by_title["Ahead"].next_run is not None and by_title["Behind"].next_run is None
    assert by_title["Plain"].items_completed == 1 and by_title["Plain"].items_failed == 1
    assert by_title["Publishing"].publishing == (
        "2 published · 1 scheduled · 1 private · 1 awaiting approval · 1 on hold"
    )
    assert len(made) == total


def test_the_first_look_reads_only_the_newest_jobs(workspace: Services) -> None:
    ids = [
        ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title=f"Job {n}")
        ).job_id
        for n in range(5)
    ]

    look = first_page(workspace.paths.database, 3)

    assert look is not None and look.total == 5
    assert [r.id for r in look.rows] == ids[:1:-1]  # newest first


def test_the_first_look_stands_aside_when_it_cannot_be_sure(
    workspace: Services, tmp_path: Path
) -> None:
    assert first_page(tmp_path / "none-yet.db", 10) is None  # a first start
    assert not (tmp_path / "none-yet.db").exists()  # and it made no empty database
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database" * 100)
    assert first_page(damaged, 10) is None
    ops.jobs.create_job(workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Kept"))
    with sqlite3.connect(workspace.paths.database) as connection:  # an older or newer schema
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    assert first_page(workspace.paths.database, 10) is None
    with sqlite3.connect(workspace.paths.database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (SCHEMA_HEAD,))
    assert first_page(workspace.paths.database, 10) is not None
    with sqlite3.connect(workspace.paths.database) as connection:  # a hand-edited row
        connection.execute("UPDATE jobs SET scheduling = '[1, 2]'")
    assert first_page(workspace.paths.database, 10) is None


def test_the_window_reaches_its_rows_without_the_database_layer() -> None:
    """What the window imports before its first rows are on screen holds no SQLAlchemy
    (0.4 s of a cold start); the workspace brings it in afterwards, in the background."""
    code = (
        "import sys; import app.store.first_look, app.ui.main_window, app.ui.launch; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'alembic'))))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_window_shows_the_first_look_then_the_workspace_takes_over(
    qtbot: QtBot, data_dir: Path
) -> None:
    paths = AppPaths.resolve(data_dir)
    with closing(Services(paths)) as seeding:
        ops.jobs.ensure_demo(seeding)
        kept = ops.jobs.create_job(
            seeding, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Kept")
        ).job_id
        deleted = ops.jobs.create_job(
            seeding, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Deleted")
        ).job_id
    may_open = threading.Event()

    def look(size: int) -> FirstLook | None:
        return first_page(paths.database, size)

    def open_workspace() -> Services:
        assert may_open.wait(15)
        workspace = Services(paths, front_end="gui")
        ops.jobs.job_action(workspace, deleted, "cancel")  # changed between the look and the open
        ops.jobs.job_action(workspace, deleted, "delete")
        ops.jobs.job_action(workspace, kept, "pause")
        return workspace

    window = MainWindow(open_workspace, first_look=look)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.painted, timeout=15_000)
    assert window.workspace is None  # on screen before the workspace opened
    assert window.jobs.model.rowCount() == 3
    assert not window.job_actions["new"].isEnabled()  # nothing to act with yet
    window.jobs.select_job(kept)

    may_open.set()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    qtbot.waitUntil(lambda: window.jobs.items_model.rowCount() > 0, timeout=15_000)
    rows = {r.id: r for r in window.jobs.model.all_rows()}
    assert deleted not in rows and rows[kept].state == "paused"
    assert [r.id for r in window.jobs.selected()] == [kept]  # the user's choice kept
    assert window.jobs.items_model.rowCount() == rows[kept].items_total  # and shown
    assert window.job_actions["new"].isEnabled()
    window.close()
