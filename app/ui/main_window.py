"""The main window: navigation between Dashboard, Jobs, Calendar, Monitor and Settings.

The window never waits on the database, the network or a render: every read and write goes
through `Background` and comes back by signal; the engine runs on the window's event loop
with its own database work in threads (see `engine_host`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QSize, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QIcon,
    QPalette,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app import APP_NAME
from app.changes import Changes, Done
from app.domain.errors import NotFound, UserError
from app.paths import APP_ICON, NAV_ICONS
from app.store.job_row import JobRow
from app.ui.background import Background
from app.ui.engine_host import EngineHost
from app.ui.fonts import use_bundled_emoji
from app.ui.job_handlers import JobHandlers
from app.ui.job_table import changes
from app.ui.operations import OperationRunner, cares
from app.ui.pages.analytics import AnalyticsPage
from app.ui.pages.calendar import CalendarPage
from app.ui.pages.dashboard import DashboardPage
from app.ui.pages.jobs import JobsPage
from app.ui.pages.monitor import MonitorPage
from app.ui.pages.schedules import SchedulesPage
from app.ui.pages.settings_page import SettingsPage
from app.ui.settings_handlers import SettingsHandlers
from app.ui.theme import apply_theme, tinted
from app.ui.tray import Tray
from app.ui.window_leaving import WindowLeaving
from app.ui.window_menus import build_menus, build_toolbar, make_actions
from app.ui.window_news import WindowNews
from app.ui.window_open import WindowOpening, collect_again

if TYPE_CHECKING:  # loaded when used: the wizard when a job is made, SQLAlchemy (through the
    # workspace) once the first rows are on screen, filelock when the engine's lock is claimed
    from app.api.server import LocalApi
    from app.services import Services
    from app.store.database import CommitWatch
    from app.store.first_look import FirstLook
    from app.ui.approval import ApprovalDialog

log = logging.getLogger(__name__)


PAGES = ("Dashboard", "Jobs", "Calendar", "Schedules", "Monitor", "Analytics", "Settings")
REFRESH_MS = 400  # engine news arrives in bursts: one reload per burst
# Changes made elsewhere (the command line, another process) show up within this; each look
# is one PRAGMA unless something was committed. No periodic full reload: rows move only when
# an action, an engine event or the audit log names them.
IDLE_REFRESH_MS = 2000


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
        self.opening = WindowOpening(self)
        self.opening.start(first_look)
        self.approvals: ApprovalDialog | None = None
        self.wizard: Any = None  # the open dialogs, kept while they show
        self.style_editor: Any = None
        self.reschedule_dialog: Any = None
        self.shortcuts_box: Any = None
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
        self.events = WindowNews(self)
        self.engine = EngineHost(self)
        self.local_api: LocalApi | None = None  # the REST API, when Settings turn it on
        self.engine.happened.connect(self.events.on_engine_event)
        self.engine.state_changed.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.engine.failed.connect(self.events.on_engine_failed)

        # Every change the user makes runs through one runner; its `Done` comes back once.
        self.runner = OperationRunner(self.background, lambda: self.workspace, self.on_failed, self)
        self.runner.did_execute.connect(self.on_done)
        self.job_handlers = JobHandlers(self)
        self.leaving = WindowLeaving(self)
        self.settings_handlers = SettingsHandlers(self)
        self.job_actions = make_actions(self)
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
        self.quit_action = build_menus(self)
        self.toolbar_icons = build_toolbar(self)
        self.refresh_icons()

        self.dashboard.create_job.connect(self.job_handlers.new_job)
        self.dashboard.show_job.connect(self.show_job)
        self.dashboard.act.connect(self.events.on_alert)
        self.dashboard.welcome_chosen.connect(self.events.on_welcome)
        self.dashboard.welcome.dismissed.connect(self.events.welcome_done)
        self.dashboard.welcome_wanted = ui_settings is not None and not ui_settings.value(
            "welcome/done", False, type=bool
        )
        self.analytics.changed.connect(self.job_handlers.load_analytics)
        self.analytics.fetch.connect(self.job_handlers.fetch_analytics)
        self.analytics.show_job.connect(self.show_job)
        self.jobs.selection_changed.connect(self.update_actions)
        self.jobs.job_selected.connect(self.load_items)
        self.settings_page.theme_chosen.connect(self.choose_theme)
        self.settings_page.sign_out.connect(self.settings_handlers.sign_out)
        self.settings_page.save.connect(self.settings_handlers.save_settings)
        self.settings_page.add_channel.connect(self.settings_handlers.add_channel)
        self.settings_page.add_tiktok.connect(self.settings_handlers.add_tiktok)
        self.settings_page.add_meta.connect(self.settings_handlers.add_meta)
        self.settings_page.sign_in.connect(self.settings_handlers.sign_in)
        self.schedules.act.connect(self.job_handlers.act_on_schedule)
        self.schedules.preview_requested.connect(self.job_handlers.preview_schedule)
        self.settings_page.remove_channel.connect(self.settings_handlers.remove_channel)
        self.settings_page.copy_token.connect(self.settings_handlers.copy_api_token)
        self.settings_page.new_style.connect(self.job_handlers.new_style)
        self.settings_page.test_cluster.connect(self.settings_handlers.test_cluster)
        self.settings_page.test_storage.connect(self.settings_handlers.test_storage)
        self.settings_page.test_footage.connect(self.settings_handlers.test_footage)
        self.jobs.reschedule_requested.connect(self.job_handlers.reschedule_item)
        self.jobs.approval_requested.connect(self.job_handlers.review_approvals)
        self.jobs.details.act.connect(self.job_handlers.on_detail_action)
        self.jobs.told.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.monitor.act.connect(self.events.on_alert)
        self.jobs.model.edit_requested.connect(self.job_handlers.edit_job)

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
        tray.pause_all.connect(lambda: self.job_handlers.act_on_all("pause"))
        tray.resume_all.connect(lambda: self.job_handlers.act_on_all("resume"))
        tray.quit.connect(self.leaving.quit_app)
        tray.action_chosen.connect(self.on_notification)
        tray.quiet_changed.connect(self.set_quiet)
        tray.show()

    def on_notification(self, action: str) -> None:
        """A notification was clicked: the window, where its matter is dealt with."""
        self.bring_to_front()
        if action:
            self.events.on_alert(action)

    def set_quiet(self, quiet: bool) -> None:
        """Do not disturb, from the tray's menu: kept in the settings."""
        if self.workspace is not None:
            self.settings_handlers.save_settings({"notify.quiet": quiet})

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

        from app import queries

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
            self.job_handlers.load_analytics()
        elif PAGES[index] == "Settings":
            self.background.run(
                lambda: (queries.settings.settings_snapshot(workspace), workspace.google.account()),
                lambda got: self.settings_page.show_values(
                    got[0], f"{got[1].email} ({got[1].kind.replace('_', ' ')})" if got[1] else None
                ),
                self.on_failed,
            )
            self.settings_handlers.load_channels()

    # Opening (the workspace is opened off the GUI thread)

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

    def on_done(self, done: Done) -> None:
        """An operation finished (`OperationRunner.did_execute`): said, the engine woken (it
        may have work now), and what it changed refreshed."""
        self.statusBar().showMessage(done.message, 8000)
        self.engine.wake()
        self.refresh(done.changes)

    def refresh(self, changed: Changes | None = None) -> None:
        """After an operation, engine news or others' changes: each view reads again only
        what ``changed`` touches (None: anything may have) — the job table the rows it names,
        the selected job's items when its job is among them, the page on screen when it
        shows what changed (its ``CARES``), the tray's Do not disturb when settings did."""
        self.events.tell_approvals()
        if self.workspace is None:
            return
        if changed is None or changed.jobs:
            self.refresh_rows(None if changed is None else changed.jobs)
        if cares(getattr(self.stack.currentWidget(), "CARES", ()), changed):
            self.show_page(self.nav.currentRow())
        if (changed is None or changed.settings) and self.tray is not None:
            workspace, tray = self.workspace, self.tray
            self.background.run(
                lambda: workspace.settings.flag("notify.quiet"), tray.set_quiet, self.on_failed
            )
        jobs = self.jobs.selected()
        if len(jobs) == 1 and (changed is None or jobs[0].id in changed.jobs):
            self.load_items(jobs[0].id)

    def page_index(self, name: str) -> int:
        return PAGES.index(name)

    def refresh_news(self) -> None:
        """A burst of engine events is over: the jobs they were about."""
        news, self.news = self.news, set()
        self.refresh(Changes.of(jobs=news))

    def refresh_elsewhere(self) -> None:
        """The idle tick: what other processes changed, as the audit log tells it — read
        only when something was committed since the last look."""
        from app import queries

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
        from app import queries

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
                self.events.notify_finished(row)
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

    def load_items(self, job_id: int) -> None:

        from app import queries

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

    # Actions

    def update_actions(self) -> None:
        self.jobs.update_actions(self.workspace is not None)
        self.job_actions["new"].setEnabled(self.workspace is not None)
        self.job_actions["export"].setEnabled(self.workspace is not None)

    def focus_search(self) -> None:
        self.nav.setCurrentRow(PAGES.index("Jobs"))
        self.jobs.search.setFocus()
        self.jobs.search.selectAll()

    def show_job(self, job_id: int) -> None:
        self.nav.setCurrentRow(PAGES.index("Jobs"))
        self.jobs.select_job(job_id)

    def job_title(self, job_id: int) -> str:
        row = self.snapshot.get(job_id)
        return row.title if row is not None else f"job {job_id}"

    # Schedules

    # Help

    # Publishing

    # The local API

    # Leaving

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    async def stop_engine(self) -> None:
        """Let running renders reach a stage boundary, then release the engine lock."""
        self.closed = True  # an engine still loading does not start after this
        if self.engine.running:
            self.statusBar().showMessage("Stopping: an encode nearly done finishes first…")
        await self.engine.stop()

    def quit_app(self) -> None:
        self.leaving.quit_app()

    def shutdown(self) -> None:
        self.leaving.shutdown()

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
            self.leaving.ask_no_tray()
            return
        if self.tray is None and not self.quitting and not self.leaving.confirm_quit():
            event.ignore()
            return
        self.closed = True  # for good: an engine still loading must not start after this
        if not self.run_engine:  # with the engine, the app stops it first, then shuts down
            self.leaving.shutdown()
        super().closeEvent(event)
