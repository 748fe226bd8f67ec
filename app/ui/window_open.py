"""How the window opens: the newest jobs read straight from the database file and shown
first (`app.store.first_look`, no SQLAlchemy), then the workspace opened off the GUI thread
and the rows read again through it, then — after the first paint — the engine and the local
API started."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

from app.store.job_row import JobRow
from app.ui.engine_host import EngineHost
from app.ui.job_table import changes, prepare

if TYPE_CHECKING:
    from app.engine.lock import InstanceLock
    from app.services import Services
    from app.store.database import CommitWatch
    from app.store.first_look import FirstLook
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

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


class WindowOpening:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def start(self, first_look: Callable[[int], FirstLook | None] | None) -> None:
        """Read the first screenful straight from the file (when a reader is given), then
        open the workspace."""
        if first_look is None:
            self._start_open()
        else:
            self.window.background.run(
                lambda: self._look(first_look), self.on_first_look, self._unseen
            )

    @staticmethod
    def _look(
        first_look: Callable[[int], FirstLook | None],
    ) -> tuple[list[JobRow], list[Any], bool]:
        look = first_look(FIRST_ROWS)
        if look is None:
            return [], [], True
        return look.rows, prepare(look.rows), look.total <= len(look.rows)

    def on_first_look(self, look: tuple[list[JobRow], list[Any], bool]) -> None:
        window = self.window
        rows, prepared, complete = look
        if rows and window.workspace is None:
            window.snapshot = {r.id: r for r in rows}
            window.jobs.show_rows(prepared, first=True)
            if not complete:
                window.jobs.heading.setText("Jobs (loading…)")
            window.painted = True
            QTimer.singleShot(0, lambda: self._painted(len(rows)))
        self._start_open()

    def _unseen(self, error: BaseException) -> None:
        """The first look failed in a way it does not expect (a bug): logged; the workspace
        opens as it would have anyway, and says what is wrong if anything is."""
        log.error("the first look at the jobs failed", exc_info=error)
        self._start_open()

    def _start_open(self) -> None:
        window = self.window
        shown = dict(window.snapshot) if window.snapshot else None
        open_workspace = window.open_workspace
        window.background.run(
            lambda: self._open(open_workspace, shown), self.on_opened, window.on_failed
        )

    @staticmethod
    def _open(open_workspace: Callable[[], Services], shown: dict[int, JobRow] | None) -> Opened:
        from app import ops, queries

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
        window = self.window

        from app import queries

        window.workspace = opened.workspace
        window.statusBar().showMessage(f"Workspace: {window.workspace.paths.data_dir}", 10_000)
        window.snapshot = {r.id: r for r in opened.rows}
        window.audit_seen = opened.audit_seen
        window.commits = opened.commits
        if window.tray is not None:
            window.tray.set_quiet(opened.quiet)
        window.jobs.show_rows(opened.prepared, first=opened.gone is None, gone=opened.gone)
        if not window.painted:
            window.painted = True
            QTimer.singleShot(0, lambda: self._painted(len(opened.rows)))
        elif selected := window.jobs.selected():  # chosen before the workspace could show it
            window.load_items(selected[0].id)
        collect_again()
        window.loading = not opened.complete
        if window.loading:
            window.jobs.heading.setText("Jobs (loading…)")
            window.refresh_rows()
        window.monitor.output_folder = Path(
            window.workspace.settings.text("output.folder") or Path.home() / "Videos"
        )
        window.monitor.missed_source = partial(queries.dashboard.missed_runs, window.workspace)
        window.monitor.quota_source = window.workspace.limiter.held_for
        window.monitor.publishing_source = partial(
            queries.dashboard.publishing_state, window.workspace
        )
        window.monitor.cluster_source = partial(queries.settings.cluster_status, window.workspace)
        window.monitor.job_title = window.job_title
        window.show_page(window.nav.currentRow())
        window.idle_timer.start()
        window.update_actions()
        if window.run_engine:  # after the first paint: the engine's modules take a while to load
            QTimer.singleShot(0, self._start_engine)

    def _painted(self, jobs: int) -> None:
        """The window with its rows on screen now, not when Qt gets round to it (a paint
        request waits behind other work): what the start-up benchmark times."""
        window = self.window
        if window.isVisible():
            window.repaint()
        log.info("job table shown: %d jobs", jobs)

    def _start_engine(self) -> None:
        """The engine's modules (APScheduler, the renderer) load in the background — a couple
        of seconds the window stays usable — with this data folder's engine lock (None when
        another process runs the engine); then the engine starts on this thread."""
        window = self.window
        workspace = window.workspace
        assert workspace is not None

        def load() -> InstanceLock | None:
            import app.api.server  # the local REST API's modules, off the GUI thread too
            import app.engine.service  # noqa: F401

            return EngineHost.claim(workspace)

        window.background.run(load, self._engine_loaded, window.on_failed)

    def _engine_loaded(self, lock: InstanceLock | None) -> None:
        window = self.window
        if window.workspace is None or window.quitting or window.closed:
            if lock is not None:
                lock.release()
            return
        window.engine.start(window.workspace, lock)
        from app.api.server import LocalApi

        window.local_api = LocalApi(
            window.workspace.paths,
            wake=window.engine.wake_from_thread,
            engine_running=lambda: window.engine.running,
        )
        window.settings_handlers.apply_api()
