"""The jobs view: search, tabs, the sortable job table, bulk actions, and the selected job's
items and history."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.states import State
from app.store.job_row import JobRow
from app.ui.delegates import CardDelegate, EditDelegate, ProgressDelegate
from app.ui.job_details import JobDetails
from app.ui.job_models import ItemsModel
from app.ui.job_table import EDITABLE, PROGRESS_COLUMN, TABS, WIDTHS, JobTableModel
from app.ui.opener import open_or_offer
from app.ui.widgets import emphasised, heading, menu_on_shift_f10

FILTER_DELAY_MS = 150  # typing pauses this long before the table filters
MAX_ITEM_COLUMN = 280  # pixels: long problems are read in full on hover
ACTIONS = ("resume", "pause", "cancel", "retry", "delete", "enable", "disable")


def allowed(action: str, job: JobRow) -> bool:
    """Whether the job lifecycle lets ``action`` apply to ``job``."""
    state = State(job.state)
    return {
        "resume": state is State.PAUSED,
        "pause": state in (State.PENDING, State.RUNNING),
        "cancel": state in (State.PENDING, State.RUNNING, State.PAUSING, State.PAUSED),
        "retry": state is State.FAILED or (state is State.COMPLETED and job.items_failed > 0),
        "delete": state in (State.COMPLETED, State.FAILED, State.CANCELED),
        "enable": job.schedule_id is not None and job.schedule_paused,
        "disable": job.schedule_id is not None and not job.schedule_paused,
    }[action]


class JobsPage(QWidget):
    # What an operation's `Changes` must touch for this page, when shown, to read again
    # (its rows are refreshed by the ids an operation names).
    CARES: tuple[str, ...] = ()
    selection_changed = Signal()
    job_selected = Signal(int)
    reschedule_requested = Signal(int, str)  # item id, its planned publish time (ISO or "")
    told = Signal(str)  # something the user should read in the status bar
    approval_requested = Signal()

    def __init__(self, actions: dict[str, QAction]) -> None:
        super().__init__()
        self.job_actions = actions
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = heading("Jobs")
        top.addWidget(self.heading)
        top.addStretch()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search jobs (Ctrl+F)")
        self.search.setAccessibleName("Search jobs")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        top.addWidget(self.search)
        self.view_buttons: dict[str, QToolButton] = {}
        for name in ("List", "Cards"):
            button = QToolButton()
            button.setText(name)
            button.setCheckable(True)
            button.setAccessibleName(f"Show jobs as {name.lower()}")
            button.clicked.connect(lambda _c=False, n=name: self.show_as(n))
            top.addWidget(button)
            self.view_buttons[name] = button
        layout.addLayout(top)
        self.tabs = QTabBar()
        self.tabs.setAccessibleName("Job filter")
        for tab in TABS:
            self.tabs.addTab(tab)
        self.tabs.setCurrentIndex(TABS.index("All"))
        layout.addWidget(self.tabs)

        self.model = JobTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Jobs")
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(
            self.model.sort_column, self.model.sort_order
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # the title keeps its width; the rest scrolls
        header.setSectionsMovable(True)
        for column, width in enumerate(WIDTHS):
            if width:
                self.table.setColumnWidth(column, width)
        header.setMinimumSectionSize(60)
        self.widths_restored = False  # the user's own column widths were put back
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        editor = EditDelegate(self.table)
        for column in EDITABLE:
            self.table.setItemDelegateForColumn(column, editor)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        menu_on_shift_f10(self.table, lambda point: self._context_menu(point))
        self.table.selectionModel().selectionChanged.connect(self._selected)

        # The same jobs as cards: same model, same selection.
        self.cards = QListView()
        self.cards.setModel(self.model)
        self.cards.setModelColumn(0)
        self.cards.setViewMode(QListView.ViewMode.IconMode)
        self.cards.setResizeMode(QListView.ResizeMode.Adjust)
        self.cards.setUniformItemSizes(True)
        self.cards.setSpacing(4)
        self.cards.setMovement(QListView.Movement.Static)
        self.cards.setItemDelegate(CardDelegate(self.cards))
        self.cards.setSelectionModel(self.table.selectionModel())
        self.cards.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.cards.setAccessibleName("Jobs as cards")
        self.cards.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.cards.customContextMenuRequested.connect(
            lambda point: self._context_menu(point, self.cards)
        )
        menu_on_shift_f10(self.cards, lambda point: self._context_menu(point, self.cards))
        self.job_views = QStackedWidget()
        self.job_views.addWidget(self.table)
        self.job_views.addWidget(self.cards)

        self.items_model = ItemsModel()
        self.items_view = QTableView()
        self.items_view.setModel(self.items_model)
        self.items_view.setAccessibleName("Items of the selected job")
        self.items_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.items_view.verticalHeader().hide()
        self.items_view.horizontalHeader().setStretchLastSection(True)
        self.items_view.setAlternatingRowColors(True)
        self.items_view.setToolTip(
            "Double-click a finished item to play its video; right-click to show its folder. "
            "Hover over Attempts for its history."
        )
        self.items_view.doubleClicked.connect(lambda index: self.open_output(index.row()))
        self.items_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.items_view.customContextMenuRequested.connect(self._item_menu)
        menu_on_shift_f10(self.items_view, lambda point: self._item_menu(point))
        self.items_heading = emphasised(QLabel("Select a job to see its items."))
        self.items_heading.setContentsMargins(2, 4, 2, 4)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.items_heading)
        self.details = JobDetails()
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.setAccessibleName("The selected job's items and details")
        self.lower_tabs.tabBar().setAccessibleName("Items or details")
        self.lower_tabs.addTab(self.items_view, "Items")
        self.lower_tabs.addTab(self.details, "Details")
        self.lower_tabs.setTabToolTip(1, "Problems and their fixes, scheduling in words, timeline")
        lower_layout.addWidget(self.lower_tabs)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.job_views)
        splitter.addWidget(lower)
        splitter.setSizes([320, 300])
        self.splitter = splitter
        layout.addWidget(splitter, 1)

        self.filter_timer = QTimer(self)
        self.filter_timer.setSingleShot(True)
        self.filter_timer.setInterval(FILTER_DELAY_MS)
        self.filter_timer.timeout.connect(lambda: self.model.set_filter(self.search.text()))
        self.search.textChanged.connect(lambda _t: self.filter_timer.start())
        self.tabs.currentChanged.connect(lambda n: self.model.set_tab(TABS[n]))
        self.model.layoutChanged.connect(self._layout_changed)
        self.model.modelReset.connect(self._layout_changed)
        self.show_as("List")

    # Rows

    def show_rows(self, prepared: list[Any], first: bool, gone: list[int] | None = None) -> None:
        """Rows prepared off the GUI thread (`job_table.prepare` / `changes`)."""
        if first:
            self.model.load(prepared)
            if not self.widths_restored:
                self.fit_title_column()
        else:
            self.model.apply(prepared, removed=gone or [])
        self._counts()
        if first and self.model.rowCount():
            self.table.selectRow(0)

    def fit_title_column(self, widest: int = 440) -> None:
        """On a first start, the Title column as wide as the titles shown (within reason);
        after that, the widths the user left."""
        metrics = self.table.fontMetrics()
        titles = [row.title for row in self.model.all_rows()[:500]]
        needed = max((metrics.horizontalAdvance(t) for t in titles), default=0) + 24
        self.table.setColumnWidth(0, max(WIDTHS[0], min(needed, widest)))

    def _counts(self) -> None:
        for n, tab in enumerate(TABS):
            self.tabs.setTabText(n, f"{tab} ({self.model.count_in(tab)})")
        self.heading.setText(f"Jobs ({self.model.count_in('All')})")

    def _layout_changed(self, *_args: Any) -> None:
        self._counts()
        self.selection_changed.emit()
        if not self.selected():
            self._nothing_selected()

    def _nothing_selected(self) -> None:
        """No job selected (or none shown): the items panel says so instead of keeping the
        last job's items."""
        self.items_model.set_records([])
        self.details.clear()
        self.items_heading.setText(
            "Nothing matches the search or tab." if self.model.rowCount() == 0 else
            "Select a job to see its items."
        )  # fmt: skip

    # Selection and actions

    def selected(self) -> list[JobRow]:
        # By any selected cell: a card selects one column only, so "whole rows" would miss it.
        rows = sorted({i.row() for i in self.table.selectionModel().selectedIndexes()})
        return [self.model.row(r) for r in rows]

    def update_actions(self, enabled: bool) -> None:
        jobs = self.selected()
        for name in ACTIONS:
            self.job_actions[name].setEnabled(
                enabled and bool(jobs) and all(allowed(name, j) for j in jobs)
            )

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        self.selection_changed.emit()
        jobs = self.selected()
        if len(jobs) == 1:
            self.items_heading.setText(f"Items of “{jobs[0].title}”")
            self.job_selected.emit(jobs[0].id)
        elif jobs:
            self.items_heading.setText(f"{len(jobs)} jobs selected")
            self.items_model.set_records([])
            self.details.clear(f"{len(jobs)} jobs selected — select one to see its story.")
        else:
            self._nothing_selected()

    def show_items(self, job: dict[str, Any]) -> None:
        jobs = self.selected()
        if len(jobs) != 1 or jobs[0].id != job.get("id"):
            return  # read for a selection the user has left meanwhile: it would be stale
        self.items_model.set_records(job["items"])
        self.details.show_record(job)
        self.items_view.resizeColumnsToContents()
        for column in range(self.items_model.columnCount() - 1):  # no column crowds out the title
            if self.items_view.columnWidth(column) > MAX_ITEM_COLUMN:
                self.items_view.setColumnWidth(column, MAX_ITEM_COLUMN)

    def select_job(self, job_id: int) -> None:
        position = self.model.position_of(job_id)
        if position is None:
            self.tabs.setCurrentIndex(TABS.index("All"))
            self.search.clear()
            self.model.set_filter("")
            position = self.model.position_of(job_id)
        if position is not None:
            self.table.selectRow(position)
            self.table.scrollTo(self.model.index(position, 0))

    def show_as(self, name: str) -> None:
        """List (the table) or Cards: two views of the same model and selection."""
        self.job_views.setCurrentIndex(0 if name == "List" else 1)
        for other, button in self.view_buttons.items():
            button.setChecked(other == name)

    def _context_menu(self, point: QPoint, view: QAbstractItemView | None = None) -> None:
        menu = QMenu(self)
        for name in ACTIONS:
            menu.addAction(self.job_actions[name])
        menu.addSeparator()
        menu.addAction(self.job_actions["export"])
        menu.exec((view or self.table).viewport().mapToGlobal(point))

    def open_output(self, row: int, folder: bool = False) -> bool:
        """Play an item's video, or show the folder it is in (by the desktop's own apps)."""
        if not 0 <= row < self.items_model.rowCount():
            return False
        video = self.items_model.video(row)
        if not video:
            return False
        target = Path(video).parent if folder else Path(video)
        if not target.exists():
            self.told.emit(f"{target} is not there any more — it was moved or deleted.")
            return False
        # no player (or file manager) set up: a box says where it is and offers the folder
        return open_or_offer(target, self, "this folder" if folder else "this video")

    def _item_menu(self, point: QPoint) -> None:
        row = self.items_view.indexAt(point).row()
        if row < 0:
            return
        menu = self.item_menu(row)
        if not menu.isEmpty():
            menu.exec(self.items_view.viewport().mapToGlobal(point))

    def item_menu(self, row: int) -> QMenu:
        """What can be done with an item: play or show its video, open it on YouTube,
        approve it, give it a new publish time."""
        menu = QMenu(self)
        record = self.items_model.record(row)
        if self.items_model.video(row):
            menu.addAction("Open video", lambda: self.open_output(row))
            menu.addAction("Show in folder", lambda: self.open_output(row, folder=True))
        upload = self.items_model.upload(row)
        if upload is None:
            return menu
        menu.addSeparator()
        from app.domain.publishing import platform_name

        for each in self.items_model.uploads(row) or [upload]:
            if each.get("url"):
                url = str(each["url"])
                where = platform_name(str(each.get("destination") or "youtube"))
                menu.addAction(f"Open on {where}", partial(QDesktopServices.openUrl, QUrl(url)))
        if record["state"] == "pending" and record.get("phase") == "approval":
            menu.addAction("Approve or reject…", self.approval_requested.emit)
        if upload["status"] not in ("published", "rejected") and record["state"] != "canceled":
            menu.addAction(
                "Reschedule publish time…",
                lambda: self.reschedule_requested.emit(
                    int(record["id"]), str(upload.get("publish_at") or "")
                ),
            )
        return menu
