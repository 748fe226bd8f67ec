"""The desktop studio on the offscreen platform: bulk actions, search, the wizard, the tray,
single-instance hand-off, view state, and a job made in the wizard rendering in the table."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QIcon, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton, QWizard
from pytestqt.qtbot import QtBot

from app import ops, queries
from app.domain.idea import Priority
from app.engine import rendering
from app.ops.jobs import JobRequest
from app.paths import APP_ICON, DEMO_SHEET, AppPaths
from app.services import Services
from app.sources.intake import SourceSpec
from app.ui.main_window import PAGES, MainWindow
from app.ui.single_instance import InstanceServer, hand_over
from app.ui.tray import Tray
from app.ui.window_menus import open_guide, shortcut_list
from app.ui.wizard import JobWizard
from tests.conftest import DesktopOpener


@pytest.fixture
def seeded(data_dir: Path) -> Path:
    """A workspace with the (paused) demo job and two pending jobs."""
    workspace = Services(AppPaths.resolve(data_dir))
    ops.jobs.ensure_demo(workspace)
    ops.jobs.create_job(
        workspace,
        JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Science shorts", priority=Priority.HIGH),
    )
    ops.jobs.create_job(
        workspace, JobRequest.of(SourceSpec(str(DEMO_SHEET), range="A1:J4"), title="Cooking basics")
    )
    workspace.close()
    return data_dir


def open_window(qtbot: QtBot, data_dir: Path, tmp_path: Path, jobs: int) -> MainWindow:
    """The main window on a data folder, shown once its ``jobs`` jobs are in the table."""
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    win = MainWindow(
        lambda: Services(AppPaths.resolve(data_dir), front_end="gui"), ui_settings=settings
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.jobs.model.rowCount() == jobs, timeout=15_000)
    return win


@pytest.fixture
def window(qtbot: QtBot, seeded: Path, tmp_path: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, seeded, tmp_path, 3)
    yield win
    win.close()


def select(window: MainWindow, titles: set[str]) -> None:
    table = window.jobs.table
    table.clearSelection()
    for n in range(window.jobs.model.rowCount()):
        if window.jobs.model.row(n).title in titles:
            table.selectionModel().select(
                window.jobs.model.index(n, 0),
                table.selectionModel().SelectionFlag.Select
                | table.selectionModel().SelectionFlag.Rows,
            )


def states(window: MainWindow) -> dict[str, str]:
    return {r.title: r.state for r in window.jobs.model.all_rows()}


def test_bulk_actions_follow_the_state_machine(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions = window.job_actions
    select(window, {"Science shorts", "Cooking basics"})
    assert actions["pause"].isEnabled() and actions["cancel"].isEnabled()
    assert not actions["resume"].isEnabled() and not actions["retry"].isEnabled()
    select(window, {"Science shorts", "Demo: ideas from the sample sheet"})  # pending + paused
    assert not actions["pause"].isEnabled() and not actions["resume"].isEnabled()
    assert actions["cancel"].isEnabled()  # both may be canceled

    select(window, {"Science shorts", "Cooking basics"})
    actions["pause"].trigger()
    qtbot.waitUntil(lambda: states(window)["Cooking basics"] == "paused", timeout=10_000)
    assert states(window)["Science shorts"] == "paused"
    assert actions["resume"].isEnabled() and not actions["pause"].isEnabled()

    asked: list[str] = []

    def answer(_parent: Any, _title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    actions["cancel"].trigger()  # destructive: asks first; "No" changes nothing
    assert asked and "2 jobs" in asked[0]
    assert states(window)["Science shorts"] == "paused"
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    actions["cancel"].trigger()
    qtbot.waitUntil(lambda: states(window)["Science shorts"] == "canceled", timeout=10_000)
    assert window.jobs.model.count_in("Failed") == 2  # canceled jobs are listed there


def test_search_filters_as_you_type_after_a_pause(window: MainWindow, qtbot: QtBot) -> None:
    window.job_actions["find"].trigger()
    assert window.stack.currentIndex() == PAGES.index("Jobs")
    qtbot.keyClicks(window.jobs.search, "cooking")
    assert window.jobs.model.rowCount() == 3  # debounced: not on every keystroke
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 1, timeout=2000)
    window.jobs.tabs.setCurrentIndex(1)  # Completed
    assert window.jobs.model.rowCount() == 0
    assert window.jobs.tabs.tabText(0) == "Active (3)"


def test_export_writes_the_selected_jobs(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    select(window, {"Cooking basics"})
    out = tmp_path / "jobs.json"
    window.job_handlers.export_to(out, "json")
    qtbot.waitUntil(out.exists, timeout=10_000)
    exported = json.loads(out.read_text())
    assert [j["title"] for j in exported] == ["Cooking basics"]


def test_view_state_is_remembered(qtbot: QtBot, seeded: Path, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    first = MainWindow(
        lambda: Services(AppPaths.resolve(seeded), front_end="gui"), ui_settings=settings
    )
    qtbot.addWidget(first)
    first.nav.setCurrentRow(PAGES.index("Monitor"))
    first.close()
    again = MainWindow(
        lambda: Services(AppPaths.resolve(seeded), front_end="gui"), ui_settings=settings
    )
    qtbot.addWidget(again)
    assert again.stack.currentIndex() == PAGES.index("Monitor")
    again.close()


def test_every_control_has_an_accessible_name(window: MainWindow) -> None:
    from PySide6.QtWidgets import QComboBox, QLineEdit, QListWidget, QTableView

    window.job_handlers.new_job()  # the wizard's controls too

    unnamed = [
        w
        for kind in (QLineEdit, QComboBox, QTableView, QListWidget)
        for w in window.findChildren(kind)
        if not w.accessibleName() and not w.objectName().startswith("qt_")  # Qt's own parts
    ]
    assert unnamed == []


# --- the wizard ------------------------------------------------------------------------------


def wizard_of(qtbot: QtBot, data_dir: Path) -> tuple[MainWindow, Services, JobWizard]:
    """A window (not shown) on the data folder, with its New job wizard open."""
    workspace = Services(AppPaths.resolve(data_dir))
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.job_handlers.new_job()
    return window, workspace, window.wizard


def test_the_wizard_checks_each_page(qtbot: QtBot, data_dir: Path, tmp_path: Path) -> None:
    window, workspace, wizard = wizard_of(qtbot, data_dir)
    next_button = wizard.button(QWizard.WizardButton.NextButton)

    # 1. Source: nothing until a test connection succeeds.
    assert not next_button.isEnabled()
    wizard.source.location.setText(str(tmp_path / "missing.csv"))
    wizard.source.test()
    qtbot.waitUntil(lambda: bool(wizard.source.error.text()), timeout=10_000)
    assert "no such file" in wizard.source.error.text()
    assert not next_button.isEnabled()
    wizard.source.location.setText(str(DEMO_SHEET))
    wizard.source.test()
    qtbot.waitUntil(lambda: wizard.source.isComplete(), timeout=10_000)
    assert wizard.source.preview.rowCount() == 8
    assert next_button.isEnabled()
    wizard.next()

    # 2. Output: only codecs the container can hold are offered.
    assert wizard.output.title() == "Step 2 of 6: Output"
    codecs = wizard.output.video_codec
    assert [codecs.itemText(i) for i in range(codecs.count())] == ["h264", "h265"]
    wizard.output.container.setCurrentText("webm")
    assert [codecs.itemText(i) for i in range(codecs.count())] == ["vp9"]
    assert wizard.output.audio_codec.currentText() == "opus"
    wizard.next()

    # 3. Details: a title is needed.
    wizard.details.title_edit.setText("  ")
    wizard.next()
    assert wizard.currentPage() is wizard.details
    assert wizard.details.title_error.text() == "Title: is empty — give the job a name"
    wizard.details.title_edit.setText("From the wizard")
    wizard.next()

    # 4. Scheduling: malformed rules are refused naming the field; the preview is live.
    page = wizard.scheduling_page
    page.rules.setPlainText("- id: x\n  type: time_based\n  settings: {time_window: 9-5}")
    wizard.next()
    assert wizard.currentPage() is page
    assert page.rules_error.text().startswith("Rule 1, time window:")
    page.rules.setPlainText("")
    assert not page.expression.isEnabled() and not page.zone.isEnabled()  # Repeat is off
    page.recurring.setChecked(True)
    assert page.expression.isEnabled() and page.zone.isEnabled()
    QApplication.processEvents()  # laid out again, longer: the page scrolls, nothing squeezed
    editor, hint = page.rule_editor, page.rule_editor.minimumSizeHint()
    assert editor.width() >= hint.width() and editor.height() >= hint.height()
    assert editor.visibleRegion().boundingRect().width() >= hint.width()  # not clipped
    page.expression.setText("daily@07:30")
    assert len(page.preview.text().splitlines()) == 5
    page.expression.setText("daily@25:00")
    assert page.preview.text().startswith("✗")
    page.expression.setText("daily@07:30")
    wizard.next()

    # 5. Publishing: render only (the default).
    assert wizard.currentPage() is wizard.publishing
    assert not wizard.publishing.channel.isEnabled()
    wizard.next()

    # 6. Review, then Create.
    assert wizard.currentPage() is wizard.review
    assert "From the wizard" in wizard.review.summary.text()
    assert "daily@07:30" in wizard.review.summary.text()
    assert "Render only" in wizard.review.summary.text()
    assert "Validation: moderate" in wizard.review.summary.text()
    assert "Folder: the default, one per job" in wizard.review.summary.text()
    wizard.accept()
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 2, timeout=15_000)
    titles = {r.title for r in window.jobs.model.all_rows()}
    assert "From the wizard" in titles
    qtbot.waitUntil(  # the new job is selected, its items shown
        lambda: [j.title for j in window.jobs.selected()] == ["From the wizard"], timeout=10_000
    )
    with workspace.db.read() as session:
        from sqlalchemy import select as sql_select

        from app.store.models import Job, Schedule

        job = session.scalars(sql_select(Job).where(Job.title == "From the wizard")).one()
        assert job.output_config["container"] == "webm"
        assert session.scalars(sql_select(Schedule)).one().expression == "daily@07:30"
    window.close()
    window.shutdown()


# --- tray and single instance ------------------------------------------------------------------


@pytest.mark.qt_log_ignore(  # the offscreen platform has no real tray or window manager
    "systemTrayWindowChanged", "propagateSizeHints", "does not support raise"
)
def test_closing_with_a_tray_keeps_running_and_says_so_once(
    qtbot: QtBot, seeded: Path, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        lambda: Services(AppPaths.resolve(seeded), front_end="gui"), ui_settings=settings
    )
    qtbot.addWidget(window)
    told: list[str] = []
    tray = Tray(QIcon(str(APP_ICON)))
    tray.notify = lambda title, message, failed=False: told.append(message)  # type: ignore[method-assign]
    window.attach_tray(tray)
    window.show()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.close()
    assert not window.isVisible() and window.workspace is not None  # hidden, still working
    tray.show_window.emit()
    assert window.isVisible()
    window.close()
    assert len(told) == 1 and "keeps working in the tray" in told[0]
    paused: list[int] = []
    tray.pause_all.connect(lambda: paused.append(1))
    tray.menu.actions()[1].trigger()  # "Pause all"
    assert paused == [1]
    qtbot.waitUntil(lambda: states(window)["Cooking basics"] == "paused", timeout=10_000)
    window.quitting = True
    window.close()
    window.shutdown()


@pytest.mark.qt_log_ignore(
    "systemTrayWindowChanged", "propagateSizeHints", "does not support raise"
)
def test_notifications_take_you_where_to_act_unless_do_not_disturb(
    qtbot: QtBot, seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from app.engine.events import EngineEvent, EventKind

    shown: list[str] = []
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda _s, t, *_a: shown.append(t))
    window = MainWindow(lambda: Services(AppPaths.resolve(seeded), front_end="gui"))
    qtbot.addWidget(window)
    tray = Tray(QIcon(str(APP_ICON)))
    window.attach_tray(tray)
    window.show()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    row = next(r for r in window.jobs.model.all_rows() if r.title == "Cooking basics")

    window.events.notify_finished(dataclasses.replace(row, state="failed"))
    assert tray.told[-1][2] == f"job:{row.id}"
    window.nav.setCurrentRow(PAGES.index("Monitor"))
    tray.icon.messageClicked.emit()  # the user clicks it
    assert window.stack.currentIndex() == PAGES.index("Jobs")
    assert [j.title for j in window.jobs.selected()] == ["Cooking basics"]

    window.approval_news = 2
    window.events.tell_approvals()
    assert tray.told[-1] == ("Videos await your approval", "2 videos are ready — click to review",
                             "approve")  # fmt: skip
    until = "2026-12-03T08:00:00+00:00"
    for item in (1, 2):  # two videos wait for the same quota: one notification
        window.events.on_engine_event(
            EngineEvent(
                EventKind.UPLOADS_WAITING,
                row.id,
                item,
                2,
                {"message": "quota used up", "until": until},
            )
        )
    assert [t for t, _m, a in tray.told if a == "monitor"] == ["Uploads wait for YouTube's quota"]
    tray.icon.messageClicked.emit()
    assert window.stack.currentIndex() == PAGES.index("Monitor")

    before = len(shown)
    tray.quiet_action.trigger()  # Do not disturb, from the tray's menu: kept in the settings
    workspace = window.workspace
    assert workspace is not None
    qtbot.waitUntil(lambda: workspace.settings.flag("notify.quiet"), timeout=10_000)
    assert tray.notify("Job completed", "x", action="job:1") is False
    assert len(shown) == before
    window.quitting = True
    window.close()
    window.shutdown()


def test_a_second_launch_brings_the_first_to_the_front(qtbot: QtBot, data_dir: Path) -> None:
    shown: list[int] = []
    assert not hand_over(data_dir)  # nobody listening: this launch is the first
    server = InstanceServer(data_dir, lambda: shown.append(1))
    done = threading.Event()
    result: list[bool] = []
    thread = threading.Thread(target=lambda: (result.append(hand_over(data_dir)), done.set()))
    thread.start()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    thread.join(5)
    assert result == [True] and shown == [1]
    server.close()


# --- end to end ----------------------------------------------------------------------------------


@pytest.mark.qasync
def test_a_job_made_in_the_wizard_renders_in_the_table(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wizard creates a job from the demo sheet; the engine on the window's qasync loop
    renders it (stand-in renders, same engine) and the table shows it completed."""
    import qasync

    from app.pipeline.runner import RenderOutcome

    def fake_render(task: Any, progress: Any, **_kwargs: Any) -> RenderOutcome:
        progress("encode", 0.5)
        return RenderOutcome("completed", None, None)

    monkeypatch.setattr(rendering, "run_render", fake_render)
    (data_dir / "videos").mkdir()
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    window = MainWindow(
        lambda: Services(AppPaths.resolve(data_dir), front_end="gui"), run_engine=True
    )
    qtbot.addWidget(window)
    window.tray = None

    async def scenario() -> None:
        while window.workspace is None or not window.engine.running:
            await asyncio.sleep(0.05)
        window.workspace.settings.set("output.folder", str(data_dir / "videos"))
        window.job_handlers.new_job()
        wizard = window.wizard
        wizard.source.location.setText(str(DEMO_SHEET))
        wizard.source.test()
        while not wizard.source.isComplete():
            await asyncio.sleep(0.05)
        for _ in range(4):
            wizard.next()
        wizard.details.title_edit.setText("Made in the wizard")
        wizard.accept()
        for _ in range(600):
            rows = {r.title: r for r in window.jobs.model.all_rows()}
            made = rows.get("Made in the wizard")
            if made is not None and made.state == "completed":
                break
            await asyncio.sleep(0.05)
        rows = {r.title: r for r in window.jobs.model.all_rows()}
        assert rows["Made in the wizard"].state == "completed"
        assert rows["Made in the wizard"].items_completed == 8
        await window.stop_engine()

    try:
        with loop:
            loop.run_until_complete(asyncio.wait_for(scenario(), 90))
    finally:
        window.shutdown()
        asyncio.set_event_loop(None)


def test_inline_edits_change_priority_and_next_run_with_checks(
    window: MainWindow, qtbot: QtBot
) -> None:
    from datetime import UTC, datetime, timedelta

    model = window.jobs.model
    row = next(n for n in range(model.rowCount()) if model.row(n).title == "Cooking basics")
    assert model.flags(model.index(row, 2)) & model.flags(model.index(row, 2)).ItemIsEditable
    model.setData(model.index(row, 2), "high")
    qtbot.waitUntil(
        lambda: {r.title: r.priority for r in model.all_rows()}["Cooking basics"] == "high",
        timeout=10_000,
    )
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    model.setData(model.index(model.position_of(3) or 0, 5), later)
    qtbot.waitUntil(
        lambda: {r.id: r.next_run for r in model.all_rows()}[3] == later, timeout=10_000
    )
    model.setData(model.index(model.position_of(3) or 0, 5), datetime.now(UTC) - timedelta(hours=1))
    qtbot.waitUntil(lambda: "in the future" in window.statusBar().currentMessage(), timeout=10_000)
    assert {r.id: r.next_run for r in model.all_rows()}[3] == later  # refused: unchanged


def test_finished_jobs_can_be_deleted_after_asking(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    select(window, {"Cooking basics"})
    assert not window.job_actions["delete"].isEnabled()  # pending: cancel it first
    window.job_actions["cancel"].trigger()
    qtbot.waitUntil(lambda: states(window)["Cooking basics"] == "canceled", timeout=10_000)
    select(window, {"Cooking basics"})
    assert window.job_actions["delete"].isEnabled()
    window.job_actions["delete"].trigger()
    qtbot.waitUntil(lambda: "Cooking basics" not in states(window), timeout=10_000)
    assert window.jobs.model.rowCount() == 2


def test_items_show_attempts_and_open_their_files(
    window: MainWindow, qtbot: QtBot, desktop_opener: DesktopOpener, tmp_path: Path
) -> None:
    video = tmp_path / "002-why.mp4"
    video.write_bytes(b"")
    items = window.jobs.items_model
    items.set_records(
        [
            {
                "row": 2,
                "title": "Why",
                "state": "completed",
                "stage": None,
                "progress": 1.0,
                "attempts": 2,
                "error": None,
                "outputs": {"video": str(video)},
                "warnings": [],
                "history": [
                    {"attempt": 1, "outcome": "failed", "error": "the renderer crashed"},
                    {"attempt": 2, "outcome": "completed", "error": None},
                ],
            }
        ]
    )
    from PySide6.QtCore import Qt

    tip = items.data(items.index(0, 5), Qt.ItemDataRole.ToolTipRole)
    assert "attempt 1: failed — the renderer crashed" in tip and "attempt 2: completed" in tip
    assert items.data(items.index(0, 6)) == "002-why.mp4"
    assert window.jobs.open_output(0)
    qtbot.waitUntil(lambda: desktop_opener.opened == [str(video)], timeout=5000)
    assert window.jobs.open_output(0, folder=True)
    qtbot.waitUntil(lambda: desktop_opener.opened == [str(video), str(tmp_path)], timeout=5000)
    assert window.findChild(QMessageBox, "nothing-opens") is None  # both opened: nothing said


def test_a_video_nothing_can_play_is_said_with_its_folder_offered(
    window: MainWindow, qtbot: QtBot, desktop_opener: DesktopOpener, tmp_path: Path
) -> None:
    """xdg-open starts, finds no player and exits 3: the user is told where the video is and
    can open its folder from the box (Qt alone would only warn on stderr)."""
    video = tmp_path / "out" / "003-why.mp4"
    video.parent.mkdir()
    video.write_bytes(b"")
    window.jobs.items_model.set_records(
        [
            {
                "id": 1,
                "row": 3,
                "title": "Why",
                "state": "completed",
                "outputs": {"video": str(video)},
                "warnings": [],
                "history": [],
            }
        ]
    )
    desktop_opener.fails()
    window.jobs.open_output(0)
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "nothing-opens") is not None, timeout=5000
    )
    box = window.findChild(QMessageBox, "nothing-opens")
    assert box.text() == "No application on this computer opens this video."
    assert str(video) in box.informativeText()
    labels = {button.text(): button for button in box.buttons()}
    assert {"Show folder", "Copy path"} <= set(labels)
    labels["Copy path"].click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == str(video)
    desktop_opener.fails(0)  # a file manager is there: the folder opens
    box = window.findChild(QMessageBox, "nothing-opens")
    labels = {button.text(): button for button in box.buttons()}
    labels["Show folder"].click()
    qtbot.waitUntil(lambda: desktop_opener.opened[-1:] == [str(video.parent)], timeout=5000)


def test_the_user_guide_says_where_it_is_when_nothing_opens_it(
    window: MainWindow, qtbot: QtBot, desktop_opener: DesktopOpener
) -> None:
    from app.paths import USER_GUIDE

    desktop_opener.fails()
    open_guide(window)
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "nothing-opens") is not None, timeout=5000
    )
    box = window.findChild(QMessageBox, "nothing-opens")
    assert "the user guide" in box.text() and str(USER_GUIDE) in box.informativeText()
    assert desktop_opener.opened == [str(USER_GUIDE)]


def test_an_alert_takes_you_where_to_act(window: MainWindow) -> None:
    window.nav.setCurrentRow(PAGES.index("Monitor"))  # a hidden monitor only samples
    window.monitor.failures = [(1, f"Job 1 row {n}: crashed") for n in range(3)]
    window.monitor.tick()
    alerts = window.monitor.alerts
    assert "3 recent failures" in alerts.item(0).text()
    window.monitor.act.emit("failed")
    assert window.stack.currentIndex() == PAGES.index("Jobs")
    assert window.jobs.tabs.currentIndex() == 2


def test_start_at_login_writes_an_autostart_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import autostart

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.enabled()
    autostart.set_enabled(True, tmp_path / "data")
    entry = (tmp_path / "autostart" / "cadence.desktop").read_text()
    assert "main.py --data-dir" in entry and entry.startswith("[Desktop Entry]")
    assert autostart.enabled()
    autostart.set_enabled(False)
    assert not autostart.enabled()


def test_cards_show_the_same_jobs_and_selection(window: MainWindow) -> None:
    page = window.jobs
    select(window, {"Cooking basics"})
    page.show_as("Cards")
    assert page.job_views.currentWidget() is page.cards
    assert page.cards.model() is page.model
    assert page.cards.selectionModel() is page.table.selectionModel()
    assert [i.row() for i in page.cards.selectionModel().selectedRows()] == [
        page.model.position_of(3)
    ]
    assert page.view_buttons["Cards"].isChecked() and not page.view_buttons["List"].isChecked()


def test_a_scheduled_jobs_schedule_can_be_disabled_and_enabled(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    from app.store import schedules as schedule_store
    from app.store.models import Schedule

    workspace = Services(AppPaths.resolve(data_dir))
    with workspace.db.write() as session:
        schedule_id = schedule_store.add_schedule(
            session, name="Daily shorts", expression="daily@18:00", timezone="UTC",
            topic_template="", job_template={"source": str(DEMO_SHEET)}, actor="tester",
        ).id  # fmt: skip
    ops.jobs.create_job(
        workspace,
        JobRequest.of(SourceSpec(str(DEMO_SHEET)), title="Shorts", schedule_id=schedule_id),
    )
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 1, timeout=15_000)
    assert window.jobs.model.row(0).schedule == "Daily shorts"
    select(window, {"Shorts"})
    assert (
        window.job_actions["disable"].isEnabled() and not window.job_actions["enable"].isEnabled()
    )
    window.job_actions["disable"].trigger()
    qtbot.waitUntil(lambda: window.jobs.model.row(0).schedule_paused, timeout=10_000)
    with workspace.db.read() as session:
        assert session.get(Schedule, schedule_id).paused  # type: ignore[union-attr]
    assert window.job_actions["enable"].isEnabled()
    window.close()
    window.shutdown()


def test_a_card_click_selects_the_job_everywhere(window: MainWindow, qtbot: QtBot) -> None:
    """Cards select one column only; the job still drives the items panel and the actions."""
    from PySide6.QtCore import QItemSelectionModel

    window.jobs.show_as("Cards")
    index = window.jobs.model.index(0, 0)
    window.jobs.cards.selectionModel().select(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect
    )
    [job] = window.jobs.selected()
    assert job.title == window.jobs.model.row(0).title
    assert window.jobs.items_heading.text() == f"Items of “{job.title}”"
    assert window.job_actions["cancel"].isEnabled()


def test_a_search_with_no_match_empties_the_items_panel(window: MainWindow, qtbot: QtBot) -> None:
    window.jobs.table.selectRow(0)
    qtbot.waitUntil(lambda: window.jobs.items_model.rowCount() > 0, timeout=10_000)
    window.jobs.model.set_filter("no job is called this")
    assert window.jobs.items_model.rowCount() == 0
    assert window.jobs.items_heading.text() == "Nothing matches the search or tab."


def test_a_failure_alert_opens_its_job(window: MainWindow) -> None:
    target = next(r for r in window.jobs.model.all_rows() if r.title == "Cooking basics")
    window.monitor.engine_event("item_finished", 9, target.id, 2, {"state": "failed", "error": "x"})
    window.monitor._show_alerts()
    actions = [
        window.monitor.alerts.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(window.monitor.alerts.count())
    ]
    assert f"job:{target.id}" in actions
    window.events.on_alert(f"job:{target.id}")
    assert [j.title for j in window.jobs.selected()] == ["Cooking basics"]


def test_icons_are_drawn_for_high_dpi_screens(window: MainWindow) -> None:
    from PySide6.QtCore import QSize

    icon = window.nav.item(0).icon()
    for ratio in (1.0, 2.0, 3.0):  # a 200 % screen gets a 40-pixel glyph, not a blown-up 20
        pixmap = icon.pixmap(QSize(20, 20), ratio)
        assert (pixmap.width(), pixmap.devicePixelRatio()) == (round(20 * ratio), ratio)


def test_an_export_follows_the_typed_extension() -> None:
    from app.ui.wording import export_format, plural

    assert export_format("/tmp/jobs.csv", "JSON (*.json)") == "csv"
    assert export_format("/tmp/jobs.yml", "JSON (*.json)") == "yaml"
    assert export_format("/tmp/jobs", "CSV (*.csv)") == "csv"
    assert (plural(1, "job"), plural(2, "job")) == ("1 job", "2 jobs")


def test_colours_follow_every_theme_switch(window: MainWindow) -> None:
    """Headings, card figures, toolbar and sidebar icons take the palette of the theme in
    force — after any number of switches — and disabled actions look disabled in the dark."""
    from PySide6.QtGui import QIcon, QPalette

    def heading_lightness() -> int:
        return window.jobs.heading.palette().color(QPalette.ColorRole.WindowText).lightness()

    def icon_lightness(icon: QIcon, mode: QIcon.Mode = QIcon.Mode.Normal) -> int:
        image = icon.pixmap(24, 24, mode).toImage()
        lit = [
            image.pixelColor(x, y)
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        ]
        return max(c.lightness() for c in lit) if lit else -1

    try:
        for theme, light_text in (("Dark", True), ("Light", False), ("Dark", True)):
            window.choose_theme(theme)
            QApplication.processEvents()
            assert (heading_lightness() > 180) is light_text, theme
            assert (icon_lightness(window.job_actions["cancel"].icon()) > 180) is light_text
            for row in range(window.nav.count()):  # every page has a glyph, in the text colour
                assert (icon_lightness(window.nav.item(row).icon()) > 180) is light_text, row
        palette = QApplication.palette()
        assert palette.color(
            QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText
        ) != palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
    finally:
        window.choose_theme("System")


def test_without_a_tray_closing_asks_while_videos_are_made(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.engine_host import EngineHost

    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def question(_parent: object, _title: str, text: str, *_a: object) -> object:
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(EngineHost, "busy", property(lambda _self: 2))
    monkeypatch.setattr(QMessageBox, "question", question)
    window.tray = None
    window.close()
    assert window.isVisible() and "2 videos are being made" in asked[0]
    answer[0] = QMessageBox.StandardButton.Yes
    window.close()
    assert not window.isVisible()


def test_a_fresh_workspace_opens_on_the_dashboard_with_the_next_step(
    qtbot: QtBot, data_dir: Path
) -> None:
    window = MainWindow(lambda: Services(AppPaths.resolve(data_dir), front_end="gui"))
    qtbot.addWidget(window)
    assert window.stack.currentIndex() == PAGES.index("Dashboard")
    qtbot.waitUntil(lambda: "Resume" in window.dashboard.next_step.text(), timeout=15_000)
    assert "open <b>Jobs</b>" in window.dashboard.next_step.text()
    window.close()
    window.shutdown()


def test_a_first_run_welcomes_with_three_steps_until_dismissed(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)

    def open_window() -> MainWindow:
        window = MainWindow(
            lambda: Services(AppPaths.resolve(data_dir), front_end="gui"), ui_settings=settings
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
        return window

    window = open_window()
    welcome = window.dashboard.welcome
    qtbot.waitUntil(welcome.isVisible, timeout=15_000)
    assert [m.text() for m in welcome.marks.values()] == ["1.", "2.", "3."]  # nothing done yet
    demo = next(b for b in welcome.findChildren(QPushButton) if b.text() == "Open the demo job")
    demo.click()
    assert window.stack.currentIndex() == PAGES.index("Jobs")
    assert next(j.title for j in window.jobs.selected()).startswith("Demo:")
    window.nav.setCurrentRow(PAGES.index("Dashboard"))
    next(b for b in welcome.findChildren(QPushButton) if b.text() == "Got it").click()
    assert not welcome.isVisible() and settings.value("welcome/done", type=bool)
    window.close()
    window.shutdown()
    again = open_window()  # the next start: no welcome
    qtbot.wait(300)
    assert not again.dashboard.welcome.isVisible()
    again.close()
    again.shutdown()


def test_help_lists_shortcuts_and_the_monitor_names_jobs(window: MainWindow) -> None:
    shortcuts = dict(shortcut_list(window))
    assert shortcuts["Ctrl+N"] == "New job" and "Ctrl+Shift+A" in shortcuts
    job = next(r for r in window.jobs.model.all_rows() if r.title == "Cooking basics")
    window.monitor.engine_event("item_started", 5, job.id, 2, {"attempt": 1})
    window.monitor._show_running()
    assert window.monitor.table.item(0, 0).text() == "Cooking basics"


def test_details_never_keep_the_last_jobs_story(window: MainWindow, qtbot: QtBot) -> None:
    """No job selected, several, or a search matching nothing: Details shows nothing of the
    job that was selected before — not its scheduling text, not its timeline."""
    details = window.jobs.details
    select(window, {"Science shorts"})
    qtbot.waitUntil(lambda: details.timeline.count() > 0, timeout=10_000)
    assert details.scheduling.text()
    select(window, {"Science shorts", "Cooking basics"})
    assert details.scheduling.text() == "" and details.timeline.count() == 0
    assert window.jobs.items_model.rowCount() == 0
    assert "2 jobs selected" in " ".join(label.text() for label in details.findChildren(QLabel))
    select(window, {"Cooking basics"})
    qtbot.waitUntil(lambda: details.timeline.count() > 0, timeout=10_000)
    window.jobs.search.setText("no job is called this")
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 0, timeout=5000)
    assert details.scheduling.text() == "" and details.timeline.count() == 0
    assert window.jobs.items_heading.text() == "Nothing matches the search or tab."
    window.jobs.search.clear()
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 3, timeout=5000)
    window.jobs.table.clearSelection()
    assert details.scheduling.text() == "" and details.timeline.count() == 0


def test_a_missing_video_is_said_not_silently_ignored(window: MainWindow, qtbot: QtBot) -> None:
    told: list[str] = []
    window.jobs.told.connect(told.append)
    window.jobs.items_model.set_records(
        [
            {
                "id": 1,
                "row": 2,
                "title": "Gone",
                "state": "completed",
                "outputs": {"video": "/tmp/cadence-no-such-video.mp4"},
                "warnings": [],
                "history": [],
            }
        ]
    )
    assert window.jobs.open_output(0) is False
    assert "is not there any more" in told[0]


def test_schedules_can_be_managed_in_the_window(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import schedules as schedule_store

    workspace = Services(AppPaths.resolve(data_dir))
    with workspace.db.write() as session:
        schedule_store.add_schedule(
            session,
            name="Morning ideas",
            expression="daily@07:30",
            timezone="Europe/Berlin",
            topic_template="Ideas {date}",
            job_template={"source": str(DEMO_SHEET)},
            actor="test",
        )
    window = MainWindow(lambda: workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    window.nav.setCurrentRow(PAGES.index("Schedules"))
    page = window.schedules
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=15_000)
    assert page.table.item(0, 0).text() == "Morning ideas"
    assert page.table.item(0, 3).text() == "active"
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: page.preview.text().startswith("Next runs:"), timeout=15_000)
    assert page.preview.text().count("07:30") + page.preview.text().count(":30") >= 1
    page.buttons["pause"].click()
    qtbot.waitUntil(lambda: page.table.item(0, 3).text() == "paused", timeout=15_000)
    assert page.buttons["resume"].isEnabled() and not page.buttons["pause"].isEnabled()
    page.table.selectRow(0)
    page.buttons["run"].click()
    qtbot.waitUntil(
        lambda: len(queries.jobs.jobs(workspace)) == 2, timeout=30_000
    )  # demo + the new one
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    page.table.selectRow(0)
    page.buttons["remove"].click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=15_000)
    window.close()
    window.shutdown()


def test_shift_f10_opens_the_context_menu_at_the_current_row(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = window.jobs
    window.show_page(PAGES.index("Jobs"))
    asked: list[QPoint] = []
    monkeypatch.setattr(page, "_context_menu", lambda point, view=None: asked.append(point))
    select(window, {"Cooking basics"})
    current = page.model.index(page.model.position_of(3), 1)
    page.table.setCurrentIndex(current)
    # The shortcut is fired, not typed: a typed Shift would stay held in the application's
    # modifier state for the tests after this one (and turn their clicks into Shift-clicks).
    (shortcut,) = page.table.findChildren(QShortcut)
    assert shortcut.key() == QKeySequence("Shift+F10")
    assert shortcut.context() == Qt.ShortcutContext.WidgetWithChildrenShortcut
    shortcut.activated.emit()
    assert asked == [page.table.visualRect(current).center()]


def test_ctrl_q_asks_like_closing_while_videos_are_made(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+Q (and the tray's Quit) asks first while work runs, saying what really happens;
    No keeps Cadence running."""
    from app.ui.engine_host import EngineHost

    monkeypatch.setattr(EngineHost, "busy", property(lambda _self: 2))
    asked: list[str] = []

    def answer(_parent: Any, _title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    quits: list[bool] = []
    monkeypatch.setattr(QApplication, "quit", lambda *_a: quits.append(True))
    window.quit_action.trigger()
    assert len(asked) == 1 and "2 videos are being made" in asked[0]
    assert "nearly done finishes first" in asked[0] and "next stage" not in asked[0]
    assert not window.quitting and quits == []
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    window.quit_action.trigger()
    assert window.quitting and quits == [True]
    window.quitting = False  # the fixture closes the window as a user would


def colourful(image: QImage) -> int:
    """Pixels with a colour (not grey, black or white): what an emoji glyph draws."""
    count = 0
    for x in range(image.width()):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            rgb = (c.red(), c.green(), c.blue())
            count += max(rgb) - min(rgb) > 60
    return count


def test_emoji_in_a_title_are_drawn_in_colour_not_boxes(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    ops.jobs.create_job(
        workspace,
        JobRequest.of(SourceSpec(str(DEMO_SHEET), range="A1:J2"), title="Garden 🌱🔥 shorts"),
    )
    ops.jobs.create_job(
        workspace,
        JobRequest.of(SourceSpec(str(DEMO_SHEET), range="A1:J2"), title="Garden plain shorts"),
    )
    workspace.close()
    win = open_window(qtbot, data_dir, tmp_path, 2)
    table, model = win.jobs.table, win.jobs.model
    table.clearSelection()  # a selected row's colour is not an emoji's
    seen = {}
    for n in range(2):
        index = model.index(n, 0)
        assert "Garden" in str(index.data())
        table.scrollTo(index)
        cell = table.viewport().grab(table.visualRect(index)).toImage()
        seen[model.row(n).title] = colourful(cell)
    assert seen["Garden 🌱🔥 shorts"] > 20 and seen["Garden plain shorts"] == 0
    win.close()


def test_a_destructive_question_is_worded_for_one_job_or_several() -> None:
    from app.ui.wording import confirm_text

    assert confirm_text("delete", ["Bees"]) == (
        "Delete “Bees” and its history? Its videos stay in their folder."
    )
    assert confirm_text("delete", ["Bees", "Cats"]).startswith("Delete 2 jobs and their history")
    assert confirm_text("cancel", ["Bees"]).startswith("Cancel “Bees”? Its items")


def test_closing_without_a_tray_says_that_it_quits(window: MainWindow, qtbot: QtBot) -> None:
    assert window.tray is None
    window.run_engine = True  # the app's window: it runs the schedules
    try:
        window.close()
        box = window.findChild(QMessageBox, "no-tray")
        assert box is not None and box.isVisible()
        assert "no system tray for Cadence to keep running in" in box.text()
        assert "closing the window quits it" in box.text()
        keep = next(b for b in box.buttons() if b.text() == "Keep open")
        keep.click()
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, "no-tray") is None)
        assert window.isVisible() and not window.quitting
    finally:
        window.run_engine = False


def test_esc_in_the_wizard_asks_before_discarding_what_was_typed(
    qtbot: QtBot, data_dir: Path
) -> None:
    window, _workspace, wizard = wizard_of(qtbot, data_dir)
    wizard.show()
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)  # nothing typed: it just closes
    assert not wizard.isVisible()

    window.job_handlers.new_job()
    wizard = window.wizard
    wizard.show()
    wizard.source.location.setText(str(DEMO_SHEET))
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    box = wizard.findChild(QMessageBox, "discard-job")
    assert box is not None and box.isVisible() and wizard.isVisible()
    next(b for b in box.buttons() if b.text() == "Keep editing").click()
    assert wizard.isVisible() and wizard.source.location.text() == str(DEMO_SHEET)
    wizard.reject()  # the close button asks the same
    box = wizard.findChild(QMessageBox, "discard-job")
    next(b for b in box.buttons() if b.text() == "Discard").click()
    assert not wizard.isVisible()
    window.close()
    window.shutdown()


def test_the_rules_hint_is_a_hint_not_a_problem(qtbot: QtBot) -> None:
    from app.ui.rule_editor import RuleEditor

    editor = RuleEditor()
    qtbot.addWidget(editor)
    editor.show()
    assert editor.hint.isVisible() and "Add a rule" in editor.hint.text()
    assert editor.problem.text() == ""  # the red line says nothing while nothing is wrong
    assert "#b91c1c" not in editor.hint.styleSheet()
    editor.add_rule()
    assert not editor.hint.isVisible()
    editor.remove_rule()
    assert editor.hint.isVisible() and editor.problem.text() == ""


def test_the_first_welcome_step_is_done_once_the_demo_job_is_used(data_dir: Path) -> None:
    workspace = Services(AppPaths.resolve(data_dir))
    try:
        ops.jobs.ensure_demo(workspace)
        assert queries.dashboard.dashboard(workspace)["welcome"]["sheet"] is False
        demo = next(j for j in queries.jobs.jobs(workspace) if j.title.startswith("Demo:"))
        ops.jobs.job_action(workspace, demo.id, "resume")
        assert queries.dashboard.dashboard(workspace)["welcome"]["sheet"] is True
    finally:
        workspace.close()
