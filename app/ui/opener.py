"""Open a file or a folder with the desktop's own application — and know when none did.

On Linux, `QDesktopServices.openUrl` only starts ``xdg-open`` and answers True once it is
started; when no application is set up for the file, xdg-open fails afterwards and only a line
on stderr tells. Here xdg-open is run as a process of its own, and its exit status decides.
When nothing opens the file, the user is told so in a small box that offers what they can do
instead: show the folder it is in, or copy its path.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget


def open_path(path: Path, failed: Callable[[], object], parent: QObject | None = None) -> bool:
    """Open ``path`` (a video, a folder, the user guide) without waiting for it. Answers
    whether an opener was started; ``failed`` is called (on the GUI thread) when nothing
    could open it — at once, or once xdg-open has said so."""
    if not sys.platform.startswith("linux"):
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            return True
        failed()
        return False
    opener = shutil.which("xdg-open")
    if opener is None:
        failed()
        return False
    process = QProcess(parent)
    settled: list[bool] = []  # finished and errorOccurred may both come: tell once

    def settle(ok: bool) -> None:
        if settled:
            return
        settled.append(ok)
        if not ok:
            failed()
        process.deleteLater()

    process.finished.connect(lambda code, _status: settle(code == 0))
    process.errorOccurred.connect(
        lambda problem: settle(False) if problem == QProcess.ProcessError.FailedToStart else None
    )
    process.setStandardOutputFile(QProcess.nullDevice())
    process.setStandardErrorFile(QProcess.nullDevice())
    process.start(opener, [str(path)])
    return True


def open_or_offer(path: Path, parent: QWidget, what: str = "it") -> bool:
    """Open ``path``; when no application can, say so and offer its folder and its path."""
    return open_path(path, lambda: offer(path, parent, what), parent)


def offer(path: Path, parent: QWidget, what: str = "it") -> QMessageBox:
    """The box that says nothing here opens ``path`` — with *Show folder* (for a file) and
    *Copy path*. Not modal: the window goes on updating behind it."""
    box = QMessageBox(parent)
    box.setObjectName("nothing-opens")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Cadence")
    box.setText(f"No application on this computer opens {what}.")
    box.setInformativeText(f"It is here:\n{path}")
    box.setTextInteractionFlags(box.textInteractionFlags())
    folder = None
    if not path.is_dir():
        folder = box.addButton("Show folder", QMessageBox.ButtonRole.ActionRole)
    copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)

    def clicked(button: object) -> None:
        if button is copy:
            clipboard = QGuiApplication.clipboard()
            if clipboard is not None:
                clipboard.setText(str(path))
        elif folder is not None and button is folder:
            open_or_offer(path.parent, parent, "its folder")

    box.buttonClicked.connect(clicked)
    box.open()
    return box
