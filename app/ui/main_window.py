"""The main window: the workspace's jobs, and the items of the selected job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, Qt
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
from app.store.jobs import JobSummary
from app.ui.background import Background
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


class MainWindow(QMainWindow):
    """Opens the workspace in the background; never waits on the database itself."""

    def __init__(self, open_workspace: Callable[[], Workspace]) -> None:
        super().__init__()
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
        self.statusBar().showMessage("Starting…")

        self.background.run(lambda: self._open(open_workspace), self.on_opened, self.on_failed)

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

    @staticmethod
    def _open(open_workspace: Callable[[], Workspace]) -> tuple[Workspace, list[JobSummary]]:
        workspace = open_workspace()
        workspace.ensure_demo()
        return workspace, workspace.jobs()

    # Results (on the GUI thread)

    def on_opened(self, result: tuple[Workspace, list[JobSummary]]) -> None:
        self.workspace, jobs = result
        self.statusBar().showMessage(f"Workspace: {self.workspace.paths.data_dir}")
        self.on_jobs_loaded(jobs)

    def on_jobs_loaded(self, jobs: list[JobSummary]) -> None:
        self.jobs_model.set_records(jobs)
        count = len(jobs)
        self.heading.setText(f"Jobs ({count})" if count else "No jobs yet")
        if count and not self.jobs_view.selectionModel().hasSelection():
            self.jobs_view.selectRow(0)
        for column in range(1, self.jobs_model.columnCount()):
            self.jobs_view.resizeColumnToContents(column)

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

    def on_job_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self.workspace is None or not selected.indexes():
            return
        job = self.jobs_model.job(selected.indexes()[0].row())
        self.items_heading.setText(f"Items of “{job.title}”")
        workspace = self.workspace
        self.background.run(lambda: workspace.job(job.id), self.on_items_loaded, self.on_failed)

    def on_items_loaded(self, job: dict[str, Any]) -> None:
        self.items_model.set_records(job["items"])
        self.items_view.resizeColumnsToContents()

    def shutdown(self) -> None:
        """Finish background work and close the database; safe to call twice."""
        self.background.shutdown()
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
