"""Run work off the GUI thread and get its result back on the GUI thread.

The one helper every view uses: the callable must not touch widgets; `on_success` and
`on_failure` run on the GUI thread, from its event loop (never inside `run`), in the order
the work finishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")


class Background(QObject):
    """A small thread pool whose results come back through a queued signal."""

    _finished = Signal(object, object, object)  # callback, value, is_error

    def __init__(self, parent: QObject | None = None, workers: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cadence-ui")
        # Queued even from this thread: work that is done before `run` returns (a failure in
        # the first microseconds) must not call back inside `run` — its caller, a window's
        # constructor say, may not have set up what the callback uses yet.
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.pending = 0
        self.closed = False

    def run(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        if self.closed:  # the window is closing: late requests are dropped, not crashed on
            return
        self.pending += 1
        future = self._pool.submit(work)

        def done(f: Future[T]) -> None:
            error = f.exception()
            if error is not None:
                self._finished.emit(on_failure, error, True)
            else:
                self._finished.emit(on_success, f.result(), False)

        future.add_done_callback(done)

    def run_daemon(
        self,
        work: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        """Like `run`, in a thread of its own that never holds up quitting: for work that may
        wait minutes on someone else (a sign-in in the browser)."""
        if self.closed:
            return
        self.pending += 1

        def body() -> None:
            try:
                value = work()
            except BaseException as exc:
                self._finished.emit(on_failure, exc, True)
            else:
                self._finished.emit(on_success, value, False)

        threading.Thread(target=body, name="cadence-ui-wait", daemon=True).start()

    @Slot(object, object, object)
    def _deliver(self, callback: Callable[[Any], None], value: Any, is_error: bool) -> None:
        self.pending -= 1
        if self.closed:
            return
        if is_error:
            log.debug("background work failed: %r", value)
        try:
            callback(value)
        except RuntimeError as exc:
            # The view that asked was closed and deleted while the work ran (a dialog, a
            # window torn down): its answer has nowhere to go. Anything else is a bug.
            if "already deleted" not in str(exc):
                raise
            log.debug("a late answer for a view that is gone was dropped: %s", exc)

    def shutdown(self) -> None:
        self.closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
