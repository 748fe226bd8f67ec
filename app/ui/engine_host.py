"""The engine inside the desktop app: on the window's qasync event loop, one per data folder.

The engine's database work runs in threads and renders in child processes, so the window's
thread only dispatches. Its events arrive from worker threads and reach the window through a
queued signal. If another Cadence (say ``run --headless``) already runs the engine on this
data folder, the window does not start a second one; it shows that process's work instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:  # the engine (APScheduler, the renderer) loads after the window is painted
    from app.engine.lock import InstanceLock
    from app.engine.service import Engine
    from app.services import Services

log = logging.getLogger(__name__)


class EngineHost(QObject):
    happened = Signal(object)  # EngineEvent, delivered on the GUI thread
    state_changed = Signal(str)  # a sentence for the status bar
    failed = Signal(str)  # the engine stopped for a reason the user must fix (one line)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine: Engine | None = None
        self.task: asyncio.Task[None] | None = None
        self.lock: InstanceLock | None = None
        self.stopping = asyncio.Event()

    @staticmethod
    def claim(workspace: Services) -> InstanceLock | None:
        """Off the GUI thread: this data folder's engine lock, or None if another process
        holds it."""
        from app.engine.lock import AlreadyRunning, InstanceLock  # filelock: not before the paint

        try:
            return InstanceLock(workspace.paths.data_dir / "engine.lock").acquire()
        except AlreadyRunning:
            return None

    def start(self, workspace: Services, lock: InstanceLock | None) -> None:
        """Start on the running loop, on the GUI thread, with the lock `claim` returned."""
        if lock is None:
            log.info("engine runs in another process; the window shows its work")
            self.state_changed.emit("Another Cadence process runs the engine; showing its work")
            return
        from app.engine.service import Engine

        self.lock = lock
        self.engine = Engine(workspace, on_event=self.happened.emit)
        self.task = asyncio.ensure_future(self.engine.run(self.stopping))
        self.task.add_done_callback(self._ended)
        log.info("engine started in the window")
        self.state_changed.emit("Engine running")

    def wake(self) -> None:
        if self.engine is not None:
            self.engine.wake()

    def wake_from_thread(self) -> None:
        engine = self.engine
        if engine is not None:
            engine.wake_from_thread()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def busy(self) -> int:
        """How many renders and uploads are under way right now."""
        if self.engine is None or not self.running:
            return 0
        return len(self.engine.workers) + len(self.engine.uploads)

    def _ended(self, task: asyncio.Task[None]) -> None:
        from app.domain.errors import UserError

        error = None if task.cancelled() else task.exception()
        if isinstance(error, UserError):  # a damaged database: the user's to see and fix
            log.error("the engine stopped: %s", error)
            self.failed.emit(f"The engine stopped: {error}")
        elif error is not None:
            log.error("the engine stopped", exc_info=error)
            self.state_changed.emit("The engine stopped after an error; the details are in the log")

    def let_go(self) -> None:
        """When the loop cannot run any more (the display went away): running renders are
        asked to stop and the engine lock is released; what was running goes back to the
        queue at the next start, its attempt not counted."""
        if self.engine is not None:
            for worker in [*self.engine.workers.values(), *self.engine.uploads.values()]:
                worker.stop.set()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    async def stop(self) -> None:
        """No new items; running ones stop at their next stage boundary and wait in the queue."""
        self.stopping.set()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.lock is not None:
            self.lock.release()
            self.lock = None
