"""How the window closes: hidden to the tray, or — asked first while videos are being made —
quitting, with the engine stopped, its child processes ended and the workspace closed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox

from app.ui.wording import no_tray_text, plural

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class WindowLeaving:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def confirm_quit(self) -> bool:
        """While videos are being made, whether the user really means to quit (asked the
        same way from Ctrl+Q, the tray's Quit and closing the window without a tray)."""
        window = self.window
        count = window.engine.busy
        if not count:
            return True
        answer = QMessageBox.question(
            window,
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
        window = self.window
        if window.ui_settings is not None and window.ui_settings.value(
            "tray/none_ok", False, type=bool
        ):
            self.quit_app()
            return
        if window.findChild(QMessageBox, "no-tray") is not None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Quit Cadence?",
            no_tray_text(window.engine.busy),
            parent=window,
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
            if check is not None and check.isChecked() and window.ui_settings is not None:
                window.ui_settings.setValue("tray/none_ok", True)
            window.quitting = True  # asked already: no second question
            self.quit_app()

        box.finished.connect(answered)
        box.open()

    def quit_app(self) -> None:
        """Quit, asked by the user (Ctrl+Q, the tray's Quit): confirmed while work runs."""
        window = self.window
        if not window.quitting and not self.confirm_quit():
            return
        window.quitting = True
        window._save_view()
        if window.tray is not None:
            window.tray.hide()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        """Finish background work and close the database; safe to call twice.
        (With the engine, await `stop_engine` first.)"""
        window = self.window
        window.refresh_timer.stop()
        window.idle_timer.stop()
        window.monitor.timer.stop()
        if window.local_api is not None:
            window.local_api.stop()
            window.local_api = None
        window.background.shutdown()
        if window.commits is not None:
            window.commits.close()
            window.commits = None
        if window.workspace is not None:
            window.workspace.close()
            window.workspace = None
