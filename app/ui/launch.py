"""Start the desktop app: check for a display, then run Qt on a qasync event loop."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes.util
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app import APP_NAME
from app.paths import AppPaths

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication

    from app.services import Services

log = logging.getLogger(__name__)

# Shared libraries Qt's xcb plugin loads at start-up, and the Debian packages that hold them.
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xkbcommon-x11": "libxkbcommon-x11-0"}


def display_problem() -> str | None:
    """Why the window cannot open here, in one line, or None when it can."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc…: the user chose it
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return (
            f"{APP_NAME} needs a desktop session to open its window, and none was found "
            "(DISPLAY is not set) — run without a window: python main.py run --headless "
            "(python main.py --help lists every command)"
        )
    if not os.environ.get("WAYLAND_DISPLAY"):
        missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if not ctypes.util.find_library(lib)]
        if missing:
            return (
                "the window cannot open because system libraries are missing — install them "
                f"with: sudo apt-get install {' '.join(missing)}"
            )
    return None


def quit_on_signals(
    app: QCoreApplication, before: Callable[[], None] = lambda: None
) -> Callable[[], None]:
    """Ctrl+C in a terminal and SIGTERM from the session quit cleanly, with no polling timer,
    and without asking: nobody is there to answer (``before`` says so to the window).

    Python runs signal handlers only between bytecodes, and Qt waits in C; the C-level
    handler writes a byte to a socket Qt watches, whose notifier brings Python back to run
    the handler. Returns what undoes it."""
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(512)

    notifier.activated.connect(drain)

    def quit_now(*_args: object) -> None:
        before()
        app.quit()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, quit_now)

    def undo() -> None:
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()

    return undo


def open_workspace(paths: AppPaths) -> Services:
    """The workspace, opened in the background once the job table is on screen: SQLAlchemy
    and the tables load then (`app.store.first_look` read the first screenful without them)."""
    from app.services import Services

    return Services(paths, front_end="gui")


NO_TRAY_TO_START_IN = (
    "this desktop has no system tray to start in, so the window opens instead "
    "(closing it quits Cadence)"
)


def run_gui(paths: AppPaths, in_tray: bool = False) -> int:
    # Before PySide6, whose import hook reads the source of every module imported after it.
    from app.store.first_look import first_page

    problem = display_problem()
    if problem:
        print(f"cadence: {problem}", file=sys.stderr)
        return 2

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.paths import APP_ICON
    from app.ui.main_window import MainWindow
    from app.ui.qt_guard import guard_signal_emits
    from app.ui.single_instance import InstanceServer, hand_over

    guard_signal_emits()  # before the first emit: see app/ui/qt_guard.py
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("cadence")
    app.setWindowIcon(QIcon(str(APP_ICON)))
    if hand_over(paths.data_dir):
        print("Cadence is already running; its window was brought to the front.")
        return 0
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ui_settings = QSettings(str(paths.config_dir / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        lambda: open_workspace(paths),
        run_engine=True,
        ui_settings=ui_settings,
        first_look=lambda size: first_page(paths.database, size),
    )
    server = InstanceServer(paths.data_dir, window.bring_to_front)
    app.setQuitOnLastWindowClosed(window.tray is None)  # with a tray, closing keeps it running
    if in_tray and window.tray is not None:
        log.info("started in the tray (the window opens from its icon)")
    else:
        if in_tray:  # asked to start hidden, with nowhere to hide: say so, show the window
            told = NO_TRAY_TO_START_IN
            print(f"cadence: {told}", file=sys.stderr)
            log.warning(told)
            window.statusBar().showMessage(told, 30_000)
        window.show()
    quitting = asyncio.Event()

    def unattended() -> None:
        """A signal or the session ending: quit without asking (nobody would answer)."""
        window.quitting = True

    app.aboutToQuit.connect(quitting.set)
    app.aboutToQuit.connect(unattended)
    app.commitDataRequest.connect(lambda _manager: unattended())  # logging out, shutting down
    undo_signals = quit_on_signals(app, unattended)
    log.info("window opened (data in %s)", paths.data_dir)
    with loop:
        loop.run_until_complete(quitting.wait())
        try:
            # Running renders stop as a pause stops them and wait in the queue for the next
            # start; the sheets get their last statuses; the engine lock is let go.
            loop.run_until_complete(window.stop_engine())
        except RuntimeError:  # Qt's loop ended under it: the display went away
            log.warning("the display went away: Cadence stopped without finishing its stop")
            window.engine.let_go()
        window.shutdown()
        server.close()
    undo_signals()
    log.info("stopped")
    return 0
