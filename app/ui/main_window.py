"""The main window: the workspace's jobs, and the items of the selected job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME, __version__
from app.domain.errors import UserError
from app.domain.states import State
from app.engine.lock import InstanceLock
from app.engine.service import EngineEvent
from app.store.jobs import JobSummary
from app.ui.background import Background
from app.ui.engine_host import EngineHost
from app.ui.job_models import ItemsModel, JobsModel
from app.workspace import Workspace

log = logging.getLogger(__name__)


def _table(model: JobsModel | ItemsModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


@dataclass(frozen=True, slots=True)
class Opened:
    workspace: Workspace
    jobs: list[JobSummary]
    lock: InstanceLock | None


class MainWindow(QMainWindow):
    """Opens the workspace in the background; never waits on the database itself."""

    def __init__(self, open_workspace: Callable[[], Workspace], run_engine: bool = False) -> None:
        super().__init__()
        self.run_engine = run_engine
        self.engine = EngineHost(self)
        self.engine.happened.connect(self.on_engine_event)
        self.engine.state_changed.connect(self.on_engine_state)
        self.engine_state = ""
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(400)  # engine events arrive in bursts: one reload each
        self.refresh_timer.timeout.connect(self.refresh)
        self.setWindowTitle(APP_NAME)
        self.resize(1100, 700)
        self.background = Background(self)
        self.workspace: Workspace | None = None

        self.jobs_model = JobsModel()
        self.items_model = ItemsModel()
        self.jobs_view = _table(self.jobs_model, "Jobs")
        self.items_view = _table(self.items_model, "Items of the selected job")
        self.jobs_view.selectionModel().selectionChanged.connect(self.on_job_selected)
        self.jobs_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

        self.heading = QLabel("Opening your workspace…")
        self.heading.setObjectName("heading")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: 600; padding: 6px 2px;")
        self.items_heading = QLabel("Select a job to see its items.")
        self.items_heading.setStyleSheet("font-weight: 600; padding: 4px 2px;")

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.items_heading)
        lower_layout.addWidget(self.items_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.jobs_view)
        splitter.addWidget(lower)
        splitter.setSizes([260, 440])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.heading)
        layout.addWidget(splitter)
        self.setCentralWidget(central)
        self._build_menus()
        self._build_job_menu()
        self.statusBar().showMessage("Starting…")

        self.background.run(lambda: self._open(open_workspace), self.on_opened, self.on_failed)

    def _build_job_menu(self) -> None:
        menu = self.menuBar().addMenu("&Jobs")
        self.job_actions: dict[str, QAction] = {}
        for name, label, keys in (
            ("resume", "&Resume", "Ctrl+R"),
            ("pause", "&Pause", "Ctrl+P"),
            ("cancel", "&Cancel…", "Ctrl+Shift+X"),
            ("retry", "Re&try failed items", "Ctrl+Shift+R"),
        ):
            action = QAction(label, self, shortcut=QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, n=name: self.act_on_job(n))
            action.setEnabled(False)
            menu.addAction(action)
            self.job_actions[name] = action
        self.update_job_actions()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        refresh = QAction("&Refresh", self, shortcut=QKeySequence(QKeySequence.StandardKey.Refresh))
        refresh.triggered.connect(self.refresh)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(refresh)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Cadence", self)
        about.triggered.connect(
            lambda: QMessageBox.about(
                self, f"About {APP_NAME}", f"{APP_NAME} {__version__}\n\nIdeas in, videos out."
            )
        )
        help_menu.addAction(about)

    # Background work (runs off the GUI thread)

    def _open(self, open_workspace: Callable[[], Workspace]) -> Opened:
        workspace = open_workspace()
        workspace.ensure_demo()
        lock = EngineHost.claim(workspace) if self.run_engine else None
        return Opened(workspace, workspace.jobs(), lock)

    # Results (on the GUI thread)

    def on_opened(self, opened: Opened) -> None:
        self.workspace = opened.workspace
        self.statusBar().showMessage(f"Workspace: {self.workspace.paths.data_dir}")
        self.on_jobs_loaded(opened.jobs)
        if self.run_engine:
            self.engine.start(self.workspace, opened.lock)

    def on_jobs_loaded(self, jobs: list[JobSummary]) -> None:
        selected = self.selected_job()
        self.jobs_model.set_records(jobs)
        count = len(jobs)
        self.heading.setText(f"Jobs ({count})" if count else "No jobs yet")
        rows = [n for n, job in enumerate(jobs) if selected and job.id == selected.id]
        if rows:
            self.jobs_view.selectRow(rows[0])
        elif count:
            self.jobs_view.selectRow(0)
        for column in range(1, self.jobs_model.columnCount()):
            self.jobs_view.resizeColumnToContents(column)
        self.update_job_actions()

    def selected_job(self) -> JobSummary | None:
        rows = self.jobs_view.selectionModel().selectedRows()
        return self.jobs_model.job(rows[0].row()) if rows else None

    def update_job_actions(self) -> None:
        """Each action is enabled only where the job's state allows it."""
        job = self.selected_job()
        state = State(job.state) if job else None
        allowed = {
            "resume": state is State.PAUSED,
            "pause": state in (State.PENDING, State.RUNNING),
            "cancel": state in (State.PENDING, State.RUNNING, State.PAUSING, State.PAUSED),
            "retry": state is State.FAILED
            or (state is State.COMPLETED and job is not None and job.items_failed > 0),
        }
        for name, action in self.job_actions.items():
            action.setEnabled(bool(allowed[name]) and self.workspace is not None)

    def act_on_job(self, action: str) -> None:
        job = self.selected_job()
        if job is None or self.workspace is None:
            return
        if action == "cancel":
            answer = QMessageBox.question(
                self,
                "Cancel job",
                f"Cancel “{job.title}”? Items not yet rendered will not be rendered.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        workspace = self.workspace

        def done(message: str) -> None:
            self.statusBar().showMessage(message, 5000)
            self.engine.wake()
            self.refresh()

        self.background.run(lambda: workspace.job_action(job.id, action), done, self.on_failed)

    def on_engine_event(self, event: EngineEvent) -> None:
        if event.kind == "item_progressed":
            self.statusBar().showMessage(
                f"Rendering row {event.row} of job {event.job_id}: "
                f"{event.data['stage']} {event.data['progress']:.0%}"
            )
        elif event.kind == "item_finished":
            self.statusBar().showMessage(
                f"Row {event.row} of job {event.job_id}: {event.data['state']}", 5000
            )
        self.refresh_timer.start()

    def on_engine_state(self, text: str) -> None:
        self.engine_state = text
        self.statusBar().showMessage(text, 5000)

    def on_failed(self, error: BaseException) -> None:
        if isinstance(error, UserError):
            message = str(error)
        else:
            log.error("background work failed", exc_info=error)
            message = f"Something went wrong ({type(error).__name__}); the details are in the log."
        self.statusBar().showMessage(message)
        QMessageBox.warning(self, APP_NAME, message)

    def refresh(self) -> None:
        if self.workspace is not None:
            self.background.run(self.workspace.jobs, self.on_jobs_loaded, self.on_failed)
            self.load_items()

    def load_items(self) -> None:
        job = self.selected_job()
        if self.workspace is None or job is None:
            return
        workspace = self.workspace
        self.background.run(lambda: workspace.job(job.id), self.on_items_loaded, self.on_failed)

    def on_job_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.update_job_actions()
        if self.workspace is None or not selected.indexes():
            return
        job = self.jobs_model.job(selected.indexes()[0].row())
        self.items_heading.setText(f"Items of “{job.title}”")
        self.load_items()

    def on_items_loaded(self, job: dict[str, Any]) -> None:
        self.items_model.set_records(job["items"])
        self.items_view.resizeColumnsToContents()

    async def stop_engine(self) -> None:
        """Let running renders reach a stage boundary, then release the engine lock."""
        if self.engine.running:
            self.statusBar().showMessage("Stopping: running videos finish their current stage…")
        await self.engine.stop()

    def shutdown(self) -> None:
        """Finish background work and close the database; safe to call twice.
        (With the engine, await `stop_engine` first.)"""
        self.refresh_timer.stop()
        self.background.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.run_engine:  # with the engine, the app stops it first, then shuts down
            self.shutdown()
        super().closeEvent(event)
