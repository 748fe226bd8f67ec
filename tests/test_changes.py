"""Operations say what they changed; the window reloads only those rows."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app import ops, queries
from app.changes import Changes, Done
from app.domain.errors import UserError
from app.engine.service import EngineEvent, EventKind
from app.ops.jobs import JobRequest
from app.paths import DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from app.ui.main_window import PAGES, MainWindow


def three_jobs(workspace: Services) -> list[int]:
    return [
        ops.jobs.create_job(
            workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET)), title=f"J{n}")
        ).job_id
        for n in (1, 2, 3)
    ]


def test_operations_return_the_ids_they_changed(data_dir: Path) -> None:
    with closing(Services(AppPaths.resolve(data_dir))) as workspace:
        first, second, third = three_jobs(workspace)
        done = ops.jobs.job_action(workspace, first, "pause")
        assert done == Done(f"Job {first} is paused.", Changes.of(jobs=[first]))
        assert str(done) == f"Job {first} is paused."  # the CLI prints it as it is
        assert ops.jobs.edit_job(workspace, second, priority="high").changes.jobs == {second}

        # One action on many jobs: each its own outcome; a refusal does not stop the others.
        summary = ops.jobs.jobs_action(workspace, [first, third, 999], "pause")
        outcomes = summary.outcomes
        assert [job_id for job_id, _ in outcomes] == [first, third, 999]
        assert isinstance(outcomes[0][1], UserError)  # already paused
        assert outcomes[1][1].changes.jobs == {third}  # type: ignore[union-attr]
        assert "there is no job 999" in str(outcomes[2][1])
        assert summary.changes.jobs == {third}
        assert summary.message.startswith("Pause: 1 job. Job 1 could not:")
        assert "(and 1 more)" in summary.message


def test_news_since_reads_other_processes_changes_from_the_audit_log(data_dir: Path) -> None:
    paths = AppPaths.resolve(data_dir)
    with closing(Services(paths, front_end="gui")) as window, closing(Services(paths)) as cli:
        first, second, _third = three_jobs(cli)
        seen, nothing = queries.jobs.news_since(window, None)
        assert nothing == Changes()
        ops.jobs.job_action(cli, second, "pause")
        seen, news = queries.jobs.news_since(window, seen)
        assert news == Changes.of(jobs=[second])
        assert queries.jobs.news_since(window, seen) == (seen, Changes())  # told once
        ops.jobs.job_action(cli, first, "pause")
        from app.store import schedules as schedule_store

        with cli.db.write() as session:
            schedule = schedule_store.add_schedule(
                session, name="S", expression="daily@09:00", timezone="UTC",
                topic_template="", job_template={"source": str(DEMO_SHEET)}, actor="cli",
            )  # fmt: skip
            schedule_id = schedule.id
        seen, news = queries.jobs.news_since(window, seen)
        assert news == Changes.of(jobs=[first], schedules=[schedule_id])
        # A schedule's run: the schedule and the job it made, not everything.
        ran = ops.schedules.schedule_action(cli, schedule_id, "run")
        [made] = ran.changes.jobs
        seen, news = queries.jobs.news_since(window, seen)
        assert news == Changes.of(jobs=[made], schedules=[schedule_id])
        # Something the log cannot name (a channel signed in): everything is read again.
        with cli.db.write() as session:
            from app.store.jobs import audit

            audit(session, "cli", "channel.add", "channel", None)
        assert queries.jobs.news_since(window, seen)[1] is None


def test_the_window_reloads_only_the_rows_an_action_changed(
    qtbot: QtBot, data_dir: Path, monkeypatch: Any
) -> None:
    paths = AppPaths.resolve(data_dir)
    with closing(Services(paths)) as cli:
        first, second, third = three_jobs(cli)
    workspace = Services(paths, front_end="gui")
    asked: list[frozenset[int] | None] = []
    real = queries.jobs.job_rows

    def job_rows(services: Services, ids: Any = None) -> Any:
        asked.append(None if ids is None else frozenset(ids))
        return real(services, ids)

    monkeypatch.setattr(queries.jobs, "job_rows", job_rows)
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 3, timeout=15_000)
    asked.clear()

    window.jobs.select_job(second)
    window.job_actions["pause"].trigger()
    qtbot.waitUntil(lambda: window.snapshot[second].state == "paused", timeout=10_000)
    assert asked == [frozenset({second})]
    assert window.snapshot[first].state == "pending"  # the others are kept, not reloaded

    # Another process (the CLI, the API) pauses a job: the idle tick reloads that row only.
    asked.clear()
    with closing(Services(paths)) as cli:
        ops.jobs.job_action(cli, third, "pause")
    window.refresh_elsewhere()
    qtbot.waitUntil(lambda: window.snapshot[third].state == "paused", timeout=10_000)
    assert asked == [frozenset({third})]

    # An engine event about one job repaints that job's row, and only it.
    asked.clear()
    window.events.on_engine_event(
        EngineEvent(EventKind.ITEM_PROGRESSED, first, 0, 2, {"stage": "speech", "progress": 0.4})
    )
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert asked == [frozenset({first})]

    # Idle ticks with nothing committed read nothing: no audit query, no periodic reload.
    asked.clear()
    looked: list[Any] = []
    real_news = queries.jobs.news_since
    monkeypatch.setattr(
        queries.jobs, "news_since", lambda s, seen: looked.append(seen) or real_news(s, seen)
    )
    for _ in range(3):
        window.refresh_elsewhere()
        qtbot.waitUntil(lambda: not window.looking, timeout=5_000)
    assert looked == [] and asked == []
    window.close()
    workspace.close()


def test_settings_are_saved_all_or_none_and_audited(data_dir: Path) -> None:
    from sqlalchemy import select

    from app.settings import SettingError
    from app.store.models import AuditEntry

    with closing(Services(AppPaths.resolve(data_dir), front_end="api")) as workspace:
        with pytest.raises(SettingError, match=r"speech\.rate must be from 80"):
            ops.settings.save_settings(workspace, {"engine.max_concurrent": 3, "speech.rate": 9000})
        assert workspace.settings.integer("engine.max_concurrent") == 1  # nothing stored
        done = ops.settings.save_settings(
            workspace, {"engine.max_concurrent": 3, "speech.rate": ""}
        )
        assert done.changes.settings == {"engine.max_concurrent", "speech.rate"}
        assert workspace.settings.integer("engine.max_concurrent") == 3
        with workspace.db.read() as session:
            entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor) == ("settings.change", workspace.actor)
        assert entry.details == {"keys": ["engine.max_concurrent", "speech.rate"]}


def test_a_setting_changed_in_a_terminal_shows_in_an_open_window(
    qtbot: QtBot, data_dir: Path, run_cli: Any
) -> None:
    """`cadence settings set` goes through the same audited operation as the window: the
    window's idle look sees it and its Settings page shows the new value."""
    paths = AppPaths.resolve(data_dir)
    workspace = Services(paths, front_end="gui")
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Settings"))
    qtbot.waitUntil(lambda: window.settings_page.max_concurrent.value() == 1, timeout=10_000)
    changed = run_cli("settings", "set", "engine.max_concurrent", "3")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "engine.max_concurrent = 3"
    # Nothing but the window's own 2-second look at the audit log: no nudge from the test.
    said = time.monotonic()
    qtbot.waitUntil(lambda: window.settings_page.max_concurrent.value() == 3, timeout=10_000)
    print(f"shown {time.monotonic() - said:.1f} s after the command returned")
    with workspace.db.read() as session:
        from sqlalchemy import select

        from app.store.models import AuditEntry

        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.action == "settings.change"
        assert entry.actor.endswith("via cli") and entry.details["keys"] == [
            "engine.max_concurrent"
        ]
    window.close()
    workspace.close()


def test_a_repeating_job_from_the_wizard_is_said_selected_and_listed(
    qtbot: QtBot, data_dir: Path
) -> None:
    """The wizard's job and its schedule: one operation (its Changes name both), one
    sentence in the status bar, the new job selected once the table has it, and the
    schedule in the Schedules view."""
    from app.ui.main_window import PAGES

    paths = AppPaths.resolve(data_dir)
    workspace = Services(paths, front_end="gui")
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Schedules"))
    done: list[Done] = []
    window.runner.did_execute.connect(done.append)
    window.job_handlers.new_job()
    wizard = window.wizard
    wizard.source.location.setText(str(DEMO_SHEET))
    wizard.source.test()
    qtbot.waitUntil(wizard.source.isComplete, timeout=15_000)
    for _ in range(3):
        wizard.next()
    wizard.scheduling_page.recurring.setChecked(True)
    wizard.details.title_edit.setText("Every Monday")
    wizard.accept()
    qtbot.waitUntil(lambda: bool(done), timeout=15_000)
    [created] = done
    [job_id] = created.changes.jobs
    [schedule_id] = created.changes.schedules
    assert created.message == (
        f"Created job {job_id} “Every Monday” with 8 items. Schedule {schedule_id} makes it again."
    )
    assert window.statusBar().currentMessage() == created.message
    qtbot.waitUntil(lambda: [j.id for j in window.jobs.selected()] == [job_id], timeout=10_000)
    window.nav.setCurrentRow(PAGES.index("Schedules"))
    qtbot.waitUntil(lambda: window.schedules.table.rowCount() == 1, timeout=10_000)
    window.close()
    workspace.close()
