"""The main window: navigation between Dashboard, Jobs, Calendar, Monitor and Settings.

The window never waits on the database, the network or a render: every read and write goes
through `Background` and comes back by signal; the engine runs on the window's event loop
with its own database work in threads (see `engine_host`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QWidget,
)

from app import APP_NAME, __version__, ops, queries
from app.changes import Changes, Done, bulk_done
from app.domain.errors import NotFound, UserError
from app.engine.events import EngineEvent, EventKind
from app.ops.jobs import JobRequest
from app.paths import APP_ICON, NAV_ICONS, USER_GUIDE
from app.store.job_row import JobRow
from app.ui.approval import ApprovalDialog
from app.ui.background import Background
from app.ui.engine_host import EngineHost
from app.ui.fonts import use_bundled_emoji
from app.ui.job_table import changes, prepare
from app.ui.opener import open_or_offer
from app.ui.pages.analytics import AnalyticsPage
from app.ui.pages.calendar import CalendarPage
from app.ui.pages.dashboard import DashboardPage
from app.ui.pages.jobs import ACTIONS, JobsPage
from app.ui.pages.monitor import MonitorPage
from app.ui.pages.schedules import SchedulesPage
from app.ui.pages.settings_page import SettingsPage
from app.ui.reschedule import RescheduleDialog
from app.ui.theme import apply_theme, tinted
from app.ui.tray import Tray

if TYPE_CHECKING:  # loaded when used: the wizard when a job is made, SQLAlchemy (through the
    # workspace) once the first rows are on screen, filelock when the engine's lock is claimed
    from app.api.server import LocalApi
    from app.engine.lock import InstanceLock
    from app.services import Services
    from app.store.database import CommitWatch
    from app.store.first_look import FirstLook
    from app.ui.wizard import WizardResult

log = logging.getLogger(__name__)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def export_format(path: str, chosen_filter: str) -> str:
    """The format the typed extension asks for; the chosen filter only when it names none."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("json", "csv", "yaml"):
        return suffix
    if suffix == "yml":
        return "yaml"
    return "csv" if "CSV" in chosen_filter else "yaml" if "YAML" in chosen_filter else "json"


PAGES = ("Dashboard", "Jobs", "Calendar", "Schedules", "Monitor", "Analytics", "Settings")
REFRESH_MS = 400  # engine news arrives in bursts: one reload per burst
# Changes made elsewhere (the command line, another process) show up within this; each look
# is one PRAGMA unless something was committed. No periodic full reload: rows move only when
# an action, an engine event or the audit log names them.
IDLE_REFRESH_MS = 2000
FIRST_ROWS = 200  # jobs shown before the rest are read


@dataclass(frozen=True, slots=True)
class Opened:
    workspace: Services
    rows: list[JobRow]
    prepared: list[Any]
    audit_seen: int
    commits: CommitWatch
    complete: bool  # every job read (else the newest first; the rest follow)
    quiet: bool  # Do not disturb
    gone: list[int] | None  # shown by the first look, gone since; None: nothing was shown


def collect_again() -> None:
    """The cyclic garbage collector, off while the app starts (see app/entry.py), back on;
    what start-up made stays out of its sight (it lives as long as the app)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def confirm_text(action: str, titles: list[str]) -> str:
    """The question a destructive action asks first, worded for one job or several."""
    if len(titles) == 1:
        if action == "cancel":
            return f"Cancel “{titles[0]}”? Its items not yet rendered will not be rendered."
        return f"Delete “{titles[0]}” and its history? Its videos stay in their folder."
    if action == "cancel":
        return f"Cancel {len(titles)} jobs? Items not yet rendered will not be rendered."
    return f"Delete {len(titles)} jobs and their history? The videos stay in their folders."


def no_tray_text(busy: int) -> str:
    """What closing the window means on a desktop without a system tray."""
    making = (
        f" {plural(busy, 'video')} {'is' if busy == 1 else 'are'} being made: an encode that is "
        "nearly done finishes first, anything else starts again when Cadence next opens."
        if busy
        else ""
    )
    return (
        "This desktop has no system tray for Cadence to keep running in, so closing the window "
        "quits it: scheduled jobs and publishing wait until you open Cadence again." + making
    )


class MainWindow(QMainWindow):
    def __init__(
        self,
        open_workspace: Callable[[], Services],
        run_engine: bool = False,
        ui_settings: QSettings | None = None,
        first_look: Callable[[int], FirstLook | None] | None = None,
    ) -> None:
        super().__init__()
        use_bundled_emoji()  # titles with emoji show them (issue 34)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(QIcon(str(APP_ICON)))
        self.resize(1200, 760)
        self.run_engine = run_engine
        self.ui_settings = ui_settings
        self.background = Background(self)
        # First thing, in the background while the window is built: the newest jobs read
        # straight from the database file (`app.store.first_look`, no SQLAlchemy), shown as
        # soon as the event loop runs; then the workspace opens and reads them again.
        self.open_workspace = open_workspace
        self.snapshot: dict[int, JobRow] = {}  # the rows the table shows, to diff against
        self.painted = False  # the job table's first rows are on screen (or on their way)
        if first_look is None:
            self._start_open()
        else:
            self.background.run(lambda: self._look(first_look), self.on_first_look, self._unseen)
        self.approvals: ApprovalDialog | None = None
        self.approval_news = 0  # videos that newly await approval, told in one notification
        self.select_when_shown: int | None = None  # a job just made, to select when it shows
        self.workspace: Services | None = None
        self.quitting = False
        self.problem: QMessageBox | None = None  # the last problem shown, if any
        self.news: set[int] = set()  # jobs the engine told of since the last refresh
        self.audit_seen: int | None = None  # the newest audit entry the table reflects
        self.commits: CommitWatch | None = None  # has anything been committed since we looked?
        self.looking = False  # a look for others' changes is under way
        self.quota_told: str | None = None  # the quota wait last notified (its end)
        self.closed = False  # closed for good (not hidden in the tray)
        self.loading = False  # the first screenful is shown; every job is being read
        self.engine = EngineHost(self)
        self.local_api: LocalApi | None = None  # the REST API, when Settings turn it on
        self.engine.happened.connect(self.on_engine_event)
        self.engine.state_changed.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.engine.failed.connect(self.on_engine_failed)

        self.job_actions = self._make_actions()
        self.nav = QListWidget()
        self.nav.setAccessibleName("Views")
        self.nav.setFixedWidth(170)
        self.nav.setIconSize(QSize(20, 20))
        for name in PAGES:
            self.nav.addItem(name)
        self.stack = QStackedWidget()
        self.dashboard = DashboardPage()
        self.jobs = JobsPage(self.job_actions)
        self.calendar = CalendarPage(self.background)
        self.calendar.open_job.connect(self.show_job)
        self.calendar.changed.connect(self.refresh_rows)
        self.schedules = SchedulesPage()
        self.monitor = MonitorPage(self.background)
        self.analytics = AnalyticsPage()
        self.settings_page = SettingsPage()
        for page in (
            self.dashboard,
            self.jobs,
            self.calendar,
            self.schedules,
            self.monitor,
            self.analytics,
            self.settings_page,
        ):
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.show_page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self._build_toolbar()

        self.dashboard.create_job.connect(self.new_job)
        self.dashboard.show_job.connect(self.show_job)
        self.dashboard.act.connect(self.on_alert)
        self.dashboard.welcome_chosen.connect(self.on_welcome)
        self.dashboard.welcome.dismissed.connect(self.welcome_done)
        self.dashboard.welcome_wanted = ui_settings is not None and not ui_settings.value(
            "welcome/done", False, type=bool
        )
        self.analytics.changed.connect(self.load_analytics)
        self.analytics.fetch.connect(self.fetch_analytics)
        self.analytics.show_job.connect(self.show_job)
        self.jobs.selection_changed.connect(self.update_actions)
        self.jobs.job_selected.connect(self.load_items)
        self.settings_page.theme_chosen.connect(self.choose_theme)
        self.settings_page.sign_out.connect(self.sign_out)
        self.settings_page.save.connect(self.save_settings)
        self.settings_page.add_channel.connect(self.add_channel)
        self.settings_page.sign_in.connect(self.sign_in)
        self.schedules.act.connect(self.act_on_schedule)
        self.schedules.preview_requested.connect(self.preview_schedule)
        self.settings_page.remove_channel.connect(self.remove_channel)
        self.settings_page.copy_token.connect(self.copy_api_token)
        self.settings_page.new_style.connect(self.new_style)
        self.settings_page.test_cluster.connect(self.test_cluster)
        self.settings_page.test_storage.connect(self.test_storage)
        self.jobs.reschedule_requested.connect(self.reschedule_item)
        self.jobs.approval_requested.connect(self.review_approvals)
        self.jobs.details.act.connect(self.on_detail_action)
        self.jobs.told.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.monitor.act.connect(self.on_alert)
        self.jobs.model.edit_requested.connect(self.edit_job)

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setSingleShot(True)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh_news)
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(IDLE_REFRESH_MS)
        self.idle_timer.timeout.connect(self.refresh_elsewhere)

        self.tray: Tray | None = None
        if run_engine and Tray.available():
            self.attach_tray(Tray(QIcon(str(APP_ICON)), self))

        self._restore_view()
        self.statusBar().showMessage("Opening your workspace…")
        self.update_actions()

    def attach_tray(self, tray: Tray) -> None:
        self.tray = tray
        tray.show_window.connect(self.bring_to_front)
        tray.pause_all.connect(lambda: self.act_on_all("pause"))
        tray.resume_all.connect(lambda: self.act_on_all("resume"))
        tray.quit.connect(self.quit_app)
        tray.action_chosen.connect(self.on_notification)
        tray.quiet_changed.connect(self.set_quiet)
        tray.show()

    def on_notification(self, action: str) -> None:
        """A notification was clicked: the window, where its matter is dealt with."""
        self.bring_to_front()
        if action:
            self.on_alert(action)

    def set_quiet(self, quiet: bool) -> None:
        """Do not disturb, from the tray's menu: kept in the settings."""
        if self.workspace is not None:
            self.save_settings({"notify.quiet": quiet})

    # Building

    def _make_actions(self) -> dict[str, QAction]:
        specs = (
            ("new", "&New job…", "Ctrl+N", self.new_job),
            ("resume", "&Resume", "Ctrl+R", lambda: self.act_on_selected("resume")),
            ("pause", "&Pause", "Ctrl+P", lambda: self.act_on_selected("pause")),
            ("cancel", "&Cancel…", "Ctrl+Shift+X", lambda: self.act_on_selected("cancel")),
            ("retry", "Re&try failed items", "Ctrl+Shift+R", lambda: self.act_on_selected("retry")),
            ("delete", "&Delete…", "Del", lambda: self.act_on_selected("delete")),
            (
                "enable",
                "E&nable its schedule",
                "Ctrl+Shift+E",
                lambda: self.act_on_selected("enable"),
            ),
            (
                "disable",
                "D&isable its schedule",
                "Ctrl+Shift+D",
                lambda: self.act_on_selected("disable"),
            ),
            ("approve", "Re&view videos awaiting approval…", "Ctrl+Shift+A", self.review_approvals),
            ("export", "&Export jobs…", "Ctrl+E", self.export_jobs),
            ("refresh", "Re&fresh", "F5", self.refresh),
            ("find", "&Find", "Ctrl+F", self.focus_search),
        )
        actions = {}
        for name, text, keys, slot in specs:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, s=slot: s())
            actions[name] = action
        return actions

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.job_actions["new"])
        file_menu.addAction(self.job_actions["export"])
        file_menu.addSeparator()
        self.quit_action = QAction(
            "&Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit)
        )
        self.quit_action.triggered.connect(self.quit_app)
        file_menu.addAction(self.quit_action)
        jobs_menu = self.menuBar().addMenu("&Jobs")
        for name in ACTIONS:
            jobs_menu.addAction(self.job_actions[name])
        jobs_menu.addSeparator()
        jobs_menu.addAction(self.job_actions["approve"])
        view = self.menuBar().addMenu("&View")
        for n, name in enumerate(PAGES):
            action = QAction(name, self, shortcut=QKeySequence(f"Ctrl+{n + 1}"))
            action.triggered.connect(lambda _c=False, i=n: self.nav.setCurrentRow(i))
            view.addAction(action)
        view.addSeparator()
        view.addAction(self.job_actions["find"])
        view.addAction(self.job_actions["refresh"])
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Cadence", self)
        about.triggered.connect(
            lambda: QMessageBox.about(
                self, f"About {APP_NAME}", f"{APP_NAME} {__version__}\n\nIdeas in, videos out."
            )
        )
        guide = QAction(
            "&User guide", self, shortcut=QKeySequence(QKeySequence.StandardKey.HelpContents)
        )
        guide.triggered.connect(self.open_guide)
        help_menu.addAction(guide)
        keys = QAction("&Keyboard shortcuts", self)
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        help_menu.addSeparator()
        help_menu.addAction(about)

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Actions")
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        icons = {
            "new": QStyle.StandardPixmap.SP_FileIcon,
            "resume": QStyle.StandardPixmap.SP_MediaPlay,
            "pause": QStyle.StandardPixmap.SP_MediaPause,
            "cancel": QStyle.StandardPixmap.SP_MediaStop,
            "retry": QStyle.StandardPixmap.SP_BrowserReload,
            "approve": QStyle.StandardPixmap.SP_DialogApplyButton,
        }
        self.toolbar_icons = icons
        for name in icons:
            bar.addAction(self.job_actions[name])
        self.refresh_icons()
        self.job_actions["approve"].setIconText("Approvals")

    # View state

    def _restore_view(self) -> None:
        settings = self.ui_settings
        page = PAGES.index("Dashboard")  # a first start opens where the next step is shown
        if settings is not None:
            geometry = settings.value("window/geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            header = settings.value("jobs/header")
            if isinstance(header, QByteArray):
                self.jobs.widths_restored = self.jobs.table.horizontalHeader().restoreState(header)
            page = int(str(settings.value("window/page", page)))
            cards = settings.value("dashboard/cards")  # the last figures, until new ones come
            if isinstance(cards, str):
                self.dashboard.show_cards(cards)
            theme = str(settings.value("window/theme", "System"))
            self.settings_page.theme.setCurrentText(theme)
            apply_theme(theme)
            self.refresh_icons()
        self.nav.setCurrentRow(page)

    def _save_view(self) -> None:
        if self.ui_settings is None:
            return
        self.ui_settings.setValue("window/geometry", self.saveGeometry())
        self.ui_settings.setValue("jobs/header", self.jobs.table.horizontalHeader().saveState())
        self.ui_settings.setValue("window/page", self.nav.currentRow())
        self.ui_settings.setValue("window/theme", self.settings_page.theme.currentText())
        if self.dashboard.shown is not None:
            self.ui_settings.setValue("dashboard/cards", self.dashboard.cards())
        self.ui_settings.sync()

    def choose_theme(self, theme: str) -> None:
        apply_theme(theme)
        self.refresh_icons()
        self._save_view()

    def refresh_icons(self) -> None:
        """Toolbar icons in the theme's text colour (and dimmed when disabled)."""
        # The application's palette: the window's own catches up with a switch only later.
        colour = QApplication.palette().color(QPalette.ColorRole.ButtonText)
        for name, icon in self.toolbar_icons.items():
            self.job_actions[name].setIcon(tinted(self.style().standardIcon(icon), colour))
        palette = QApplication.palette()
        text = palette.color(QPalette.ColorRole.Text)
        on_highlight = palette.color(QPalette.ColorRole.HighlightedText)
        for row, page in enumerate(PAGES):
            glyph = QIcon(str(NAV_ICONS / f"{page.lower()}.svg"))
            self.nav.item(row).setIcon(tinted(glyph, text, 20, selected=on_highlight))

    def show_page(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        if self.workspace is None:
            return
        workspace = self.workspace
        if PAGES[index] == "Dashboard":
            self.background.run(
                partial(queries.dashboard.dashboard, workspace),
                self.dashboard.show_overview,
                self.on_failed,
            )
        elif PAGES[index] == "Calendar":
            self.calendar.set_workspace(workspace)
            self.calendar.reload()
        elif PAGES[index] == "Schedules":
            self.background.run(
                partial(queries.schedules.schedule_rows, workspace),
                self.schedules.show_rows,
                self.on_failed,
            )
        elif PAGES[index] == "Analytics":
            self.load_analytics()
        elif PAGES[index] == "Settings":
            self.background.run(
                lambda: (queries.settings.settings_snapshot(workspace), workspace.google.account()),
                lambda got: self.settings_page.show_values(
                    got[0], f"{got[1].email} ({got[1].kind.replace('_', ' ')})" if got[1] else None
                ),
                self.on_failed,
            )
            self.load_channels()

    # Opening (the workspace is opened off the GUI thread)

    @staticmethod
    def _look(
        first_look: Callable[[int], FirstLook | None],
    ) -> tuple[list[JobRow], list[Any], bool]:
        look = first_look(FIRST_ROWS)
        if look is None:
            return [], [], True
        return look.rows, prepare(look.rows), look.total <= len(look.rows)

    def on_first_look(self, look: tuple[list[JobRow], list[Any], bool]) -> None:
        rows, prepared, complete = look
        if rows and self.workspace is None:
            self.snapshot = {r.id: r for r in rows}
            self.jobs.show_rows(prepared, first=True)
            if not complete:
                self.jobs.heading.setText("Jobs (loading…)")
            self.painted = True
            QTimer.singleShot(0, lambda: self._painted(len(rows)))
        self._start_open()

    def _unseen(self, error: BaseException) -> None:
        """The first look failed in a way it does not expect (a bug): logged; the workspace
        opens as it would have anyway, and says what is wrong if anything is."""
        log.error("the first look at the jobs failed", exc_info=error)
        self._start_open()

    def _start_open(self) -> None:
        shown = dict(self.snapshot) if self.snapshot else None
        open_workspace = self.open_workspace
        self.background.run(
            lambda: self._open(open_workspace, shown), self.on_opened, self.on_failed
        )

    def _open(
        self, open_workspace: Callable[[], Services], shown: dict[int, JobRow] | None
    ) -> Opened:
        workspace = open_workspace()
        ops.jobs.ensure_demo(workspace)
        commits = workspace.db.watch()
        commits.changed()  # from here on, it tells of commits made after this read
        seen, _ = queries.jobs.news_since(workspace, None)
        # A screenful first (newest jobs): on screen in milliseconds however many jobs there
        # are; every job is read next, in the background, and merged in.
        rows, _more, total = queries.jobs.job_page(workspace, "created_at", True, FIRST_ROWS)
        quiet = workspace.settings.flag("notify.quiet")
        complete = total <= len(rows)
        if shown is None:
            prepared, gone = prepare(rows), None
        else:  # what changed since the first look (ETAs, at least)
            prepared, gone, _ = changes(shown, rows)
        return Opened(workspace, rows, prepared, seen, commits, complete, quiet, gone)

    def on_opened(self, opened: Opened) -> None:
        self.workspace = opened.workspace
        self.statusBar().showMessage(f"Workspace: {self.workspace.paths.data_dir}", 10_000)
        self.snapshot = {r.id: r for r in opened.rows}
        self.audit_seen = opened.audit_seen
        self.commits = opened.commits
        if self.tray is not None:
            self.tray.set_quiet(opened.quiet)
        self.jobs.show_rows(opened.prepared, first=opened.gone is None, gone=opened.gone)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, lambda: self._painted(len(opened.rows)))
        elif selected := self.jobs.selected():  # chosen before the workspace could show it
            self.load_items(selected[0].id)
        collect_again()
        self.loading = not opened.complete
        if self.loading:
            self.jobs.heading.setText("Jobs (loading…)")
            self.refresh_rows()
        self.monitor.output_folder = Path(
            self.workspace.settings.text("output.folder") or Path.home() / "Videos"
        )
        self.monitor.missed_source = partial(queries.dashboard.missed_runs, self.workspace)
        self.monitor.quota_source = self.workspace.limiter.held_for
        self.monitor.publishing_source = partial(queries.dashboard.publishing_state, self.workspace)
        self.monitor.cluster_source = partial(queries.settings.cluster_status, self.workspace)
        self.monitor.job_title = self.job_title
        self.show_page(self.nav.currentRow())
        self.idle_timer.start()
        self.update_actions()
        if self.run_engine:  # after the first paint: the engine's modules take a while to load
            QTimer.singleShot(0, self._start_engine)

    def _painted(self, jobs: int) -> None:
        """The window with its rows on screen now, not when Qt gets round to it (a paint
        request waits behind other work): what the start-up benchmark times."""
        if self.isVisible():
            self.repaint()
        log.info("job table shown: %d jobs", jobs)

    def _start_engine(self) -> None:
        """The engine's modules (APScheduler, the renderer) load in the background — a couple
        of seconds the window stays usable — with this data folder's engine lock (None when
        another process runs the engine); then the engine starts on this thread."""
        workspace = self.workspace
        assert workspace is not None

        def load() -> InstanceLock | None:
            import app.api.server  # the local REST API's modules, off the GUI thread too
            import app.engine.service  # noqa: F401

            return EngineHost.claim(workspace)

        self.background.run(load, self._engine_loaded, self.on_failed)

    def _engine_loaded(self, lock: InstanceLock | None) -> None:
        if self.workspace is None or self.quitting or self.closed:
            if lock is not None:
                lock.release()
            return
        self.engine.start(self.workspace, lock)
        from app.api.server import LocalApi

        self.local_api = LocalApi(
            self.workspace.paths,
            wake=self.engine.wake_from_thread,
            engine_running=lambda: self.engine.running,
        )
        self.apply_api()

    def on_failed(self, error: BaseException) -> None:
        collect_again()  # the workspace may not have opened: no first paint to wait for
        if isinstance(error, UserError):
            message = str(error)
        else:
            log.error("background work failed", exc_info=error)
            message = f"Something went wrong ({type(error).__name__}); the details are in the log."
        self.statusBar().showMessage(message, 15_000)
        # Not modal: a nested event loop here would run other results in the middle of this.
        self.problem = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, message, parent=self)
        self.problem.setModal(False)
        self.problem.show()

    # Refreshing

    def refresh(self, changed: Changes | None = None) -> None:
        """After engine news or an action: the jobs it changed (every job when not known),
        and the selected job's items if it is one of them."""
        self.tell_approvals()
        if changed is None or changed.settings:
            self.settings_changed_elsewhere()
        if changed is not None and changed.settings and not changed.jobs:
            return
        self.refresh_rows(None if changed is None else changed.jobs)
        if PAGES[self.nav.currentRow()] == "Calendar":
            self.calendar.reload()  # render and upload news changes what the days show
        jobs = self.jobs.selected()
        if len(jobs) == 1 and (changed is None or jobs[0].id in changed.jobs):
            self.load_items(jobs[0].id)

    def settings_changed_elsewhere(self) -> None:
        """Settings changed in a terminal or through the API: the Settings page (when shown)
        and the tray's Do not disturb follow."""
        if self.workspace is None:
            return
        if PAGES[self.nav.currentRow()] == "Settings":
            self.show_page(self.nav.currentRow())
        if self.tray is not None:
            workspace, tray = self.workspace, self.tray
            self.background.run(
                lambda: workspace.settings.flag("notify.quiet"), tray.set_quiet, self.on_failed
            )

    def refresh_news(self) -> None:
        """A burst of engine events is over: the jobs they were about."""
        news, self.news = self.news, set()
        self.refresh(Changes.of(jobs=news))

    def refresh_elsewhere(self) -> None:
        """The idle tick: what other processes changed, as the audit log tells it — read
        only when something was committed since the last look."""
        if self.workspace is None or self.commits is None or self.looking:
            return
        workspace, seen, commits = self.workspace, self.audit_seen, self.commits
        self.looking = True

        def look() -> tuple[int, Changes | None] | None:
            return queries.jobs.news_since(workspace, seen) if commits.changed() else None

        def done(news: tuple[int, Changes | None] | None) -> None:
            self.looking = False
            if news is None:
                return
            self.audit_seen, changed = news
            if changed is None or changed:
                self.refresh(changed)

        def failed(error: BaseException) -> None:
            self.looking = False
            self.on_failed(error)

        self.background.run(look, done, failed)

    def refresh_rows(self, ids: Collection[int] | None = None) -> None:
        """The job table's rows: every job, or only those in ``ids``."""
        if self.workspace is None or (ids is not None and not ids):
            return
        workspace, before = self.workspace, self.snapshot
        only = None if ids is None else frozenset(ids)
        self.background.run(
            lambda: (changes(before, queries.jobs.job_rows(workspace, only), only), only),
            self.on_rows,
            self.on_failed,
        )

    def on_rows(
        self,
        result: tuple[tuple[list[Any], list[int], dict[int, JobRow]], frozenset[int] | None],
    ) -> None:
        (prepared, gone, read), only = result
        if only is None:
            snapshot = read
        else:  # a few rows: merged into what the table has
            snapshot = {**self.snapshot, **read}
            for job_id in gone:
                snapshot.pop(job_id, None)
        for cached in prepared:  # tell the user when a job finishes, once
            row, before = cached.row, self.snapshot.get(cached.row.id)
            if (
                before is not None
                and before.state != row.state
                and row.state in ("completed", "failed")
            ):
                self.notify_finished(row)
        self.snapshot = snapshot
        self.jobs.show_rows(prepared, first=False, gone=gone)
        if self.loading and only is None:
            self.loading = False
            log.info("job table complete: %d jobs", len(snapshot))
        if self.select_when_shown is not None and self.select_when_shown in snapshot:
            self.jobs.select_job(self.select_when_shown)
            self.select_when_shown = None
        self.update_actions()
        if (prepared or gone) and PAGES[self.nav.currentRow()] == "Dashboard":
            self.show_page(0)  # its totals changed; when nothing did, it is not recomputed

    def notify_finished(self, row: JobRow) -> None:
        if self.tray is None:
            return
        if row.state == "completed":
            self.tray.notify(
                "Job completed",
                f"“{row.title}”: {row.items_completed} videos made — click to open it",
                action=f"job:{row.id}",
            )
        else:
            self.tray.notify(
                "Job failed",
                f"“{row.title}”: {row.items_failed} items failed — click to see why",
                failed=True,
                action=f"job:{row.id}",
            )

    def load_items(self, job_id: int) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace

        def gone(error: BaseException) -> None:  # deleted meanwhile: nothing to show
            if isinstance(error, NotFound):
                self.jobs.items_model.set_records([])
                self.jobs.details.clear()
            else:
                self.on_failed(error)

        self.background.run(lambda: queries.jobs.job(workspace, job_id), self.jobs.show_items, gone)

    def on_engine_event(self, event: EngineEvent) -> None:
        if self.local_api is not None:
            self.local_api.engine_event(event)  # to the API's live event stream
        self.monitor.engine_event(event.kind, event.item_id, event.job_id, event.row, event.data)
        if event.kind == EventKind.ITEM_PROGRESSED:
            verb = "Uploading" if event.data["stage"] == "upload" else "Rendering"
            self.statusBar().showMessage(
                f"{verb} row {event.row} of “{self.job_title(event.job_id)}”: "
                f"{event.data['stage']} {event.data['progress']:.0%}",
                5000,
            )
        elif event.kind == EventKind.ITEM_AWAITING_APPROVAL:
            self.approval_news += 1
        elif event.kind == EventKind.CHANNEL_ON_HOLD and self.tray is not None:
            self.tray.notify(
                "Uploads on hold — sign in again",
                f"{event.data['message']} — click to open Settings",
                failed=True,
                action="settings",
            )
        elif event.kind == EventKind.UPLOADS_WAITING and self.tray is not None:
            until = event.data.get("until")
            if until != self.quota_told:  # once per wait, not once per video
                self.quota_told = until
                when = datetime.fromisoformat(until).astimezone() if until else None
                self.tray.notify(
                    "Uploads wait for YouTube's quota",
                    f"{event.data.get('message') or 'The daily quota is used up'}"
                    + (f"; they go on at {when:%a %H:%M}" if when else "")
                    + " — click to see the Monitor",
                    action="monitor",
                )
        if event.job_id:
            self.news.add(event.job_id)
        self.refresh_timer.start()

    def on_engine_failed(self, text: str) -> None:
        """The engine stopped for a reason the user must fix: said where it stays in sight
        (the status bar until something else is said, the tray)."""
        self.statusBar().showMessage(text)
        if self.tray is not None:
            self.tray.notify("Cadence stopped working", text, failed=True)

    def tell_approvals(self) -> None:
        """One notification for the videos that newly await approval (engine news comes in
        bursts), and the approval window refreshed if it is open."""
        count, self.approval_news = self.approval_news, 0
        if not count:
            return
        if self.approvals is not None and self.approvals.isVisible():
            self.approvals.reload()
        if self.tray is not None:
            self.tray.notify(
                "Videos await your approval",
                f"{count} video{'s are' if count != 1 else ' is'} ready — click to review",
                action="approve",
            )

    # Actions

    def update_actions(self) -> None:
        self.jobs.update_actions(self.workspace is not None)
        self.job_actions["new"].setEnabled(self.workspace is not None)
        self.job_actions["export"].setEnabled(self.workspace is not None)

    def act_on_selected(self, action: str) -> None:
        jobs = self.jobs.selected()
        if not jobs or self.workspace is None:
            return
        if action in ("cancel", "delete"):  # destructive: ask first
            answer = QMessageBox.question(
                self,
                action.capitalize(),
                confirm_text(action, [j.title for j in jobs]),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,  # a slip of Enter must not delete or cancel
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._act([j.id for j in jobs], action)

    def act_on_all(self, action: str) -> None:
        from app.ui.pages.jobs import allowed

        rows = [r for r in self.jobs.model.all_rows() if allowed(action, r)]
        self._act([r.id for r in rows], action)

    def _act(self, job_ids: list[int], action: str) -> None:
        if self.workspace is None or not job_ids:
            return
        workspace = self.workspace

        def work() -> Done:
            outcomes = ops.jobs.jobs_action(workspace, job_ids, action)
            return bulk_done(action, outcomes)

        def done(result: Done) -> None:
            self.statusBar().showMessage(result.message, 5000)
            self.engine.wake()
            self.refresh(result.changes)

        self.background.run(work, done, self.on_failed)

    def focus_search(self) -> None:
        self.nav.setCurrentRow(PAGES.index("Jobs"))
        self.jobs.search.setFocus()
        self.jobs.search.selectAll()

    def new_style(self) -> None:
        """The style editor; a saved style is offered by the wizard from then on."""
        if self.workspace is None:
            return
        from app.ui.style_editor import StyleEditor

        editor = StyleEditor(self.background, partial(ops.jobs.save_style, self.workspace), self)
        self.style_editor = editor

        def done(result: int) -> None:
            if result and editor.saved is not None:
                self.statusBar().showMessage(
                    f"Saved the style {editor.saved.stem} ({editor.saved}) — choose it on a "
                    "new job's Output step",
                    15_000,
                )

        editor.finished.connect(done)
        editor.open()

    def on_detail_action(self, action: str) -> None:
        """A problem's button in the selected job's Details: retry, approve or sign in."""
        if action == "retry":
            self.act_on_selected("retry")
        else:
            self.on_alert(action)

    def on_welcome(self, step: str) -> None:
        """A first-run step's button: make a job, sign a channel in, or open the demo job."""
        if step == "new":
            self.new_job()
        elif step == "channel":
            self.add_channel()
        else:
            demo = next((r for r in self.snapshot.values() if r.title.startswith("Demo:")), None)
            if demo is None:
                self.new_job()
            else:
                self.show_job(demo.id)
                self.statusBar().showMessage(
                    "The demo job waits, paused — press Resume (Ctrl+R) to make its videos", 15_000
                )

    def welcome_done(self) -> None:
        self.dashboard.welcome_wanted = False
        if self.ui_settings is not None:
            self.ui_settings.setValue("welcome/done", True)

    def show_job(self, job_id: int) -> None:
        self.nav.setCurrentRow(PAGES.index("Jobs"))
        self.jobs.select_job(job_id)

    def export_jobs(self) -> None:
        if self.workspace is None:
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export jobs", "cadence-jobs.json", "JSON (*.json);;CSV (*.csv);;YAML (*.yaml)"
        )
        if not path:
            return
        self.export_to(Path(path), export_format(path, chosen))

    def export_to(self, path: Path, fmt: str) -> None:
        """The selected jobs, or those the search and tab show when none is selected."""
        if self.workspace is None:
            return
        ids = [j.id for j in self.jobs.selected()] or [r.id for r in self.jobs.model.visible_rows()]
        workspace = self.workspace
        self.background.run(
            lambda: ops.jobs.export(workspace, fmt, path, ids=ids),
            lambda _text: self.statusBar().showMessage(
                f"Exported {plural(len(ids), 'job')} to {path}", 8000
            ),
            self.on_failed,
        )

    def new_job(self) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        from app.ui.wizard import JobWizard

        wizard = JobWizard(
            self.background,
            partial(queries.sources.check_source, workspace),
            parent=self,
            channels=lambda: (workspace.channels.records(), workspace.quota_limits().uploads),
            test_footage=partial(queries.settings.test_footage, workspace),
            estimate=partial(queries.estimates.estimate, workspace),
            styles=partial(queries.settings.style_names, workspace),
        )
        wizard.created.connect(self.create_from_wizard)
        self.wizard = wizard
        wizard.open()

    def create_from_wizard(self, result: WizardResult) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace

        def work() -> tuple[str, int]:
            created = ops.jobs.create_job(
                workspace,
                JobRequest.of(
                    result.spec,
                    title=result.title,
                    priority=result.priority,
                    level=result.level,
                    output_config=result.output_config,
                    style=result.style,
                    deadline_minutes=result.deadline_minutes,
                    callback_url=result.callback_url,
                    scheduling=result.scheduling,
                    write_back=result.write_back,
                    publish=result.publish,
                    repeat=result.recurring,
                ),
            )
            message = f"Created job {created.job_id} with {created.item_count} items."
            if created.schedule_id is not None:
                message += f" It repeats as schedule {created.schedule_id}."
            return message, created.job_id

        def done(result: tuple[str, int]) -> None:
            message, job_id = result
            self.statusBar().showMessage(message, 8000)
            self.engine.wake()
            self.nav.setCurrentRow(PAGES.index("Jobs"))
            self.select_when_shown = job_id  # the new job is selected once the table has it
            self.refresh(Changes.of(jobs=[job_id]))

        self.background.run(work, done, self.on_failed)

    def edit_job(self, job_id: int, what: str, value: object) -> None:
        """An inline edit in the table: stored (and checked) in the background."""
        if self.workspace is None:
            return
        workspace = self.workspace

        def done(result: Done) -> None:
            self.statusBar().showMessage(result.message, 5000)
            self.engine.wake()
            self.refresh(result.changes)

        def failed(error: BaseException) -> None:  # said in the status bar; the table is unchanged
            text = str(error) if isinstance(error, UserError) else type(error).__name__
            self.statusBar().showMessage(f"Job {job_id}: {text}", 8000)

        self.background.run(
            lambda: ops.jobs.edit_job(workspace, job_id, **{what: value}), done, failed
        )

    def load_analytics(self) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        channel, job = self.analytics.filters()

        def shown(report: dict[str, Any]) -> None:
            self.analytics.set_choices(report["channels"], report["jobs"])
            self.analytics.show_report(report)

        self.background.run(
            lambda: queries.analytics.analytics_report(workspace, channel, job),
            shown,
            self.on_failed,
        )

    def fetch_analytics(self) -> None:
        """Read the published videos' figures now (the button); the page shows them after."""
        if self.workspace is None:
            return
        workspace = self.workspace
        self.analytics.fetch_button.setEnabled(False)
        self.statusBar().showMessage("Reading the videos' figures from YouTube…")

        def done(report: Any) -> None:
            self.analytics.fetch_button.setEnabled(True)
            self.statusBar().showMessage(report.summary(), 15_000)
            self.load_analytics()

        def failed(error: BaseException) -> None:
            self.analytics.fetch_button.setEnabled(True)
            self.on_failed(error)

        self.background.run(partial(ops.publishing.fetch_analytics, workspace), done, failed)

    def job_title(self, job_id: int) -> str:
        row = self.snapshot.get(job_id)
        return row.title if row is not None else f"job {job_id}"

    # Schedules

    def act_on_schedule(self, schedule_id: int, action: str) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        if action == "remove":
            answer = QMessageBox.question(
                self,
                "Remove schedule",
                "Remove this schedule? It makes no more jobs; the jobs it made stay.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return

        def done(result: Done) -> None:
            self.statusBar().showMessage(result.message, 8000)
            self.engine.wake()
            self.show_page(PAGES.index("Schedules"))
            self.refresh_rows()  # every job made by the schedule shows its state

        self.background.run(
            lambda: ops.schedules.schedule_action(workspace, schedule_id, action),
            done,
            self.on_failed,
        )

    def preview_schedule(self, schedule_id: int) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        self.background.run(
            lambda: queries.schedules.schedule_preview(workspace, schedule_id),
            lambda runs: self.schedules.show_preview(schedule_id, runs),
            lambda _error: None,  # removed meanwhile: nothing to preview
        )

    # Help

    def open_guide(self) -> None:
        """The README, the user guide that ships with Cadence, in the desktop's own viewer."""
        if not USER_GUIDE.exists():
            self.statusBar().showMessage(
                "The user guide did not come with this copy of Cadence — it is the README"
                " of Cadence's source.",
                15_000,
            )
            return
        open_or_offer(USER_GUIDE, self, "the user guide")

    def shortcut_list(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action with a shortcut, in menu order."""
        found = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            if not isinstance(menu, QMenu):
                continue
            for action in menu.actions():
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if keys:
                    found.append((keys, action.text().replace("&", "").rstrip("…")))
        found.append(("Shift+F10", "Menu of the selected job or item"))
        return found

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{t}</td></tr>" for k, t in self.shortcut_list())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>",
                          parent=self)  # fmt: skip
        box.setModal(False)
        self.shortcuts_box = box
        box.show()

    # Publishing

    def review_approvals(self) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        if self.approvals is None:
            frames_dir = workspace.paths.cache_dir / "previews"

            def frames(item_id: int, video: str) -> list[Path]:
                from app.pipeline.preview import preview_frames

                return preview_frames(Path(video), frames_dir / f"item-{item_id}")

            self.approvals = ApprovalDialog(
                self.background,
                partial(queries.jobs.approval_items, workspace),
                partial(ops.publishing.approve, workspace),
                partial(ops.publishing.reject, workspace),
                frames,
                parent=self,
            )
            self.approvals.decided.connect(self._decided)
        self.approvals.show()
        self.approvals.raise_()
        self.approvals.reload()

    def _decided(self, result: Done) -> None:
        self.statusBar().showMessage(result.message, 8000)
        self.engine.wake()
        self.refresh(result.changes)

    def reschedule_item(self, item_id: int, current: str) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        dialog = RescheduleDialog(item_id, current, self)
        self.reschedule_dialog = dialog

        def chosen() -> None:
            when = dialog.chosen()
            self.background.run(
                lambda: ops.publishing.reschedule(workspace, item_id, when),
                self._decided,
                self.on_failed,
            )

        dialog.accepted.connect(chosen)
        dialog.open()

    def load_channels(self) -> None:
        if self.workspace is None:
            return
        self.background.run(
            self.workspace.channels.records, self.settings_page.show_channels, self.on_failed
        )

    def add_channel(self) -> None:
        """Sign a channel in: the browser asks the channel's Google account for consent."""

        def sign_in(workspace: Services, secrets: Path) -> str:
            info = workspace.channels.login(secrets, actor=workspace.actor)
            return f"Added the YouTube channel {info.title}."

        self._browser_sign_in(
            sign_in,
            self.settings_page.add_channel_button,
            "Your browser opens Google's sign-in: choose the channel's account and allow Cadence.",
        )

    def sign_in(self) -> None:
        """Sign in to Google for Sheets: the browser asks for consent."""

        def sign_in(workspace: Services, secrets: Path) -> str:
            account = workspace.google.login_user(secrets)
            return f"Signed in to Google as {account.email}."

        self._browser_sign_in(
            sign_in,
            self.settings_page.sign_in_button,
            "Your browser opens Google's sign-in: choose your account and allow Cadence.",
        )

    def _browser_sign_in(
        self, sign_in: Callable[[Services, Path], str], button: QWidget, hint: str
    ) -> None:
        """A browser sign-in with the user's OAuth desktop client (asked for once), off the
        GUI thread, in a thread that never holds up quitting."""
        if self.workspace is None:
            return
        workspace = self.workspace

        def with_client(secrets: str) -> None:
            if not secrets:
                secrets, _ = QFileDialog.getOpenFileName(
                    self,
                    "Your OAuth desktop client (from Google Cloud console)",
                    "",
                    "OAuth client (*.json);;All files (*)",
                )
                if not secrets:
                    return

            def work() -> str:
                if not workspace.settings.get("google.client_secrets"):
                    workspace.settings.set("google.client_secrets", secrets)
                return sign_in(workspace, Path(secrets))

            def done(message: str) -> None:
                button.setEnabled(True)
                self.settings_page.message.setText(message)
                if self.nav.currentRow() == PAGES.index("Settings"):
                    self.show_page(PAGES.index("Settings"))  # the account and channels anew
                self.engine.wake()

            def failed(error: BaseException) -> None:
                button.setEnabled(True)
                self.on_failed(error)

            button.setEnabled(False)
            self.settings_page.message.setText(hint)
            self.background.run_daemon(work, done, failed)  # the browser may take minutes

        self.background.run(
            lambda: workspace.settings.text("google.client_secrets"),
            with_client,
            self.on_failed,
        )

    def remove_channel(self, channel_id: str) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace
        answer = QMessageBox.question(
            self,
            "Remove channel",
            "Remove this channel? Cadence forgets its sign-in; uploads planned for it wait "
            "until it is added again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return

        def done(message: str) -> None:
            self.settings_page.message.setText(message)
            self.load_channels()

        self.background.run(
            lambda: workspace.channels.remove(channel_id, workspace.actor), done, self.on_failed
        )

    def on_alert(self, action: str) -> None:
        if action.startswith("job:"):  # a failure: straight to its job
            self.show_job(int(action.removeprefix("job:")))
            return
        if action == "approve":
            self.review_approvals()
            return
        if action == "settings":
            self.nav.setCurrentRow(PAGES.index("Settings"))
        elif action == "failed":
            self.nav.setCurrentRow(PAGES.index("Jobs"))
            self.jobs.tabs.setCurrentIndex(2)  # Failed
        elif action == "dashboard":
            self.nav.setCurrentRow(PAGES.index("Dashboard"))
        elif action == "monitor":
            self.nav.setCurrentRow(PAGES.index("Monitor"))

    def sign_out(self) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace

        def done(message: str) -> None:
            self.statusBar().showMessage(message, 8000)
            self.show_page(PAGES.index("Settings"))

        self.background.run(workspace.google.logout, done, self.on_failed)

    def test_cluster(self, address: str) -> None:
        """Reach the render cluster (off the GUI thread: it connects over the network)."""
        page = self.settings_page
        self._try_out(
            page.test_cluster_button,
            page.cluster_status,
            f"Reaching {address}…",
            lambda workspace: queries.settings.test_cluster(workspace, address),
        )

    def test_storage(self, address: str) -> None:
        """Write a small file to the storage and read it back (off the GUI thread)."""
        page = self.settings_page
        self._try_out(
            page.test_storage_button,
            page.storage_status,
            "Writing a test file…",
            lambda workspace: queries.settings.test_storage(workspace, address),
        )

    def _try_out(
        self,
        button: QPushButton,
        label: QLabel,
        asking: str,
        call: Callable[[Services], str],
    ) -> None:
        """A Settings Test button: the answer (or what is wrong) beside it, when it comes."""
        if self.workspace is None:
            return
        workspace = self.workspace
        button.setEnabled(False)
        label.setText(asking)

        def done(sentence: str) -> None:
            button.setEnabled(True)
            label.setText(sentence)

        def failed(error: BaseException) -> None:
            button.setEnabled(True)
            label.setText(str(error) if isinstance(error, UserError) else "")
            if not isinstance(error, UserError):
                self.on_failed(error)

        self.background.run(lambda: call(workspace), done, failed)

    def save_settings(self, values: dict[str, Any]) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace

        def saved(_done: Done) -> None:
            self.settings_page.message.setText("Saved.")
            self.settings_page.secrets_kept(values)
            self.apply_api()

        self.background.run(
            lambda: ops.settings.save_settings(workspace, values), saved, self.on_failed
        )

    # The local API

    def apply_api(self) -> None:
        """Serve the API, or stop serving it, as Settings say (off the GUI thread: it binds a
        port and waits for the server)."""
        if self.workspace is None or self.local_api is None:
            if self.workspace is not None:  # this window does not run the engine
                self.settings_page.show_api(None, "the engine (and its API) runs elsewhere")
            return
        workspace, local = self.workspace, self.local_api

        def failed(error: BaseException) -> None:
            self.settings_page.show_api(None, str(error) if isinstance(error, UserError) else "")
            self.on_failed(error)

        self.background.run(
            lambda: local.apply(workspace.settings), self.settings_page.show_api, failed
        )

    def copy_api_token(self) -> None:
        if self.workspace is None:
            return
        workspace = self.workspace

        def copied(token: str) -> None:
            QGuiApplication.clipboard().setText(token)
            self.settings_page.message.setText(
                "API token copied — send it as “Authorization: Bearer …”."
            )

        self.background.run(workspace.settings.api_token, copied, self.on_failed)

    # Leaving

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def confirm_quit(self) -> bool:
        """While videos are being made, whether the user really means to quit (asked the
        same way from Ctrl+Q, the tray's Quit and closing the window without a tray)."""
        count = self.engine.busy
        if not count:
            return True
        answer = QMessageBox.question(
            self,
            "Quit Cadence?",
            f"{plural(count, 'video')} {'is' if count == 1 else 'are'} being made. Quit anyway?"
            "\n\nAn encode that is nearly done finishes first; any other stage stops now and "
            "starts again from its beginning when Cadence next opens. Finished stages are "
            "kept, and no attempt is counted against the video.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_no_tray(self) -> None:
        """Closing the window on a desktop with no system tray: Cadence cannot keep working
        hidden, so the user is told that closing stops it (and what is being made)."""
        if self.ui_settings is not None and self.ui_settings.value(
            "tray/none_ok", False, type=bool
        ):
            self.quit_app()
            return
        if self.findChild(QMessageBox, "no-tray") is not None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question, "Quit Cadence?", no_tray_text(self.engine.busy), parent=self
        )
        box.setObjectName("no-tray")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep open", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setCheckBox(QCheckBox("Don't ask again"))

        def answered(_code: int) -> None:
            if box.clickedButton() is not quit_button:
                return
            check = box.checkBox()
            if check is not None and check.isChecked() and self.ui_settings is not None:
                self.ui_settings.setValue("tray/none_ok", True)
            self.quitting = True  # asked already: no second question
            self.quit_app()

        box.finished.connect(answered)
        box.open()

    def quit_app(self) -> None:
        """Quit, asked by the user (Ctrl+Q, the tray's Quit): confirmed while work runs."""
        if not self.quitting and not self.confirm_quit():
            return
        self.quitting = True
        self._save_view()
        if self.tray is not None:
            self.tray.hide()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    async def stop_engine(self) -> None:
        """Let running renders reach a stage boundary, then release the engine lock."""
        self.closed = True  # an engine still loading does not start after this
        if self.engine.running:
            self.statusBar().showMessage("Stopping: an encode nearly done finishes first…")
        await self.engine.stop()

    def shutdown(self) -> None:
        """Finish background work and close the database; safe to call twice.
        (With the engine, await `stop_engine` first.)"""
        self.refresh_timer.stop()
        self.idle_timer.stop()
        self.monitor.timer.stop()
        if self.local_api is not None:
            self.local_api.stop()
            self.local_api = None
        self.background.shutdown()
        if self.commits is not None:
            self.commits.close()
            self.commits = None
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_view()
        if self.tray is not None and not self.quitting:
            # The scheduler keeps running in the tray; say so the first time only.
            event.ignore()
            self.hide()
            told = self.ui_settings is not None and self.ui_settings.value("tray/told", False)
            if not told:
                self.tray.notify(
                    APP_NAME, "Cadence keeps working in the tray. Quit from its menu to stop it."
                )
                if self.ui_settings is not None:
                    self.ui_settings.setValue("tray/told", True)
            return
        if self.tray is None and not self.quitting and self.run_engine:
            # No tray to keep working in: closing quits, so it says so and asks first.
            event.ignore()
            self.ask_no_tray()
            return
        if self.tray is None and not self.quitting and not self.confirm_quit():
            event.ignore()
            return
        self.closed = True  # for good: an engine still loading must not start after this
        if not self.run_engine:  # with the engine, the app stops it first, then shuts down
            self.shutdown()
        super().closeEvent(event)
