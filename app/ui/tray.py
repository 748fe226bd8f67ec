"""The system tray: Cadence keeps working when its window is closed."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon


class Tray(QObject):
    show_window = Signal()
    pause_all = Signal()
    resume_all = Signal()
    quit = Signal()
    action_chosen = Signal(str)  # a notification was clicked: what it offered (job:ID, approve…)
    quiet_changed = Signal(bool)  # Do not disturb was switched from the tray's menu

    def __init__(self, icon: QIcon, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip("Cadence")
        self.menu = QMenu()
        for text, signal in (
            ("Show Cadence", self.show_window),
            ("Pause all", self.pause_all),
            ("Resume all", self.resume_all),
        ):
            action = QAction(text, self.menu)
            action.triggered.connect(signal.emit)
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.quiet_action = QAction("Do not disturb", self.menu)
        self.quiet_action.setCheckable(True)
        self.quiet_action.toggled.connect(self.quiet_changed.emit)
        self.menu.addAction(self.quiet_action)
        self.menu.addSeparator()
        quit_action = QAction("Quit", self.menu)
        quit_action.triggered.connect(self.quit.emit)
        self.menu.addAction(quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.offered = ""  # what clicking the last notification does
        self.told: list[tuple[str, str, str]] = []  # (title, message, action) shown, newest last
        self.icon.messageClicked.connect(lambda: self.action_chosen.emit(self.offered))

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    @property
    def quiet(self) -> bool:
        return self.quiet_action.isChecked()

    def set_quiet(self, quiet: bool) -> None:
        """As the settings say (without telling `quiet_changed` back)."""
        self.quiet_action.blockSignals(True)
        self.quiet_action.setChecked(quiet)
        self.quiet_action.blockSignals(False)

    def notify(self, title: str, message: str, failed: bool = False, action: str = "") -> bool:
        """A desktop notification (unless Do not disturb is on); clicking it does ``action``
        (`action_chosen`). Returns whether it was shown."""
        if self.quiet:
            return False
        self.offered = action
        self.told = [*self.told[-19:], (title, message, action)]
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if failed
            else QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(title, message, kind, 8000)
        return True

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_window.emit()
