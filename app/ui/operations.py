"""How the window carries out what the user asks: the actions its menus, toolbar and shortcuts
offer (`WindowAction`), and one runner for every operation (`OperationRunner`).

An operation (`app.ops`) runs off the GUI thread through `Background`; its `Done` comes back
once, on `did_execute` — the window shows its sentence, wakes the engine and hands its
`Changes` to each page, which refreshes only when they touch what it shows (`cares`). A
refusal or a bug comes back on one failure path.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.changes import Changes, Done

if TYPE_CHECKING:
    from app.services import Services
    from app.ui.background import Background


class WindowAction(StrEnum):
    """What the menus, the toolbar and the shortcuts offer (a StrEnum: "pause" finds it)."""

    NEW = "new"
    RESUME = "resume"
    PAUSE = "pause"
    CANCEL = "cancel"
    RETRY = "retry"
    DELETE = "delete"
    ENABLE = "enable"  # the schedule that makes the selected job
    DISABLE = "disable"
    APPROVE = "approve"
    EXPORT = "export"
    REFRESH = "refresh"
    FIND = "find"


ASKS_FIRST = (WindowAction.CANCEL, WindowAction.DELETE)  # destructive: a question first


def cares(fields: tuple[str, ...], changed: Changes | None) -> bool:
    """Whether a page that shows ``fields`` of the data (``jobs``, ``items``, ``schedules``,
    ``settings``) must read them again after ``changed`` (None: anything may have changed)."""
    return changed is None or any(getattr(changed, name) for name in fields)


class OperationRunner(QObject):
    """Runs operations on the open workspace, off the GUI thread; each `Done` comes back on
    `did_execute`, each failure to ``failed``."""

    did_execute = Signal(object)  # the `Done`

    def __init__(
        self,
        background: Background,
        services: Callable[[], Services | None],
        failed: Callable[[BaseException], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.background = background
        self.services = services
        self.failed = failed

    def run(
        self,
        operation: Callable[[Services], Done],
        *,
        then: Callable[[Done], Any] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        daemon: bool = False,
    ) -> bool:
        """Start ``operation``; False when no workspace is open yet (nothing is started).
        ``then`` runs (on the GUI thread) before the `Done` is announced; ``failed``
        replaces the window's own failure path; ``daemon``: a thread that never holds up
        quitting (a browser sign-in may take minutes)."""
        services = self.services()
        if services is None:
            return False

        def done(result: Done) -> None:
            if then is not None:
                then(result)
            self.did_execute.emit(result)

        start = self.background.run_daemon if daemon else self.background.run
        start(lambda: operation(services), done, failed or self.failed)
        return True
