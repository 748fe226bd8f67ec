"""Small widgets every view uses: a page heading, a path field with Browse…."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)


def emphasised(label: QLabel, points: float | None = None) -> QLabel:
    """Bold (and sized) through the font, not a style sheet: a style-sheeted label keeps the
    text colour of the theme it was first drawn in, so it would not follow a theme switch."""
    font = label.font()
    font.setBold(True)
    if points is not None:
        font.setPointSizeF(points)
    label.setFont(font)
    return label


def muted(label: QLabel) -> QLabel:
    """Secondary text in the palette's placeholder colour (it follows the theme)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def clear_layout(layout: QLayout) -> None:
    """Remove (and delete) every widget a layout holds."""
    while (old := layout.takeAt(0)) is not None:
        widget = old.widget()
        if widget is not None:
            widget.deleteLater()


def action_row(text: str, button: str, act: Callable[[], None], framed: bool = False) -> QWidget:
    """A line saying what is wrong, with the button that deals with it (none when ``button``
    is empty); the button's spoken name carries both."""
    row: QWidget = QFrame() if framed else QWidget()
    if isinstance(row, QFrame):
        row.setFrameShape(QFrame.Shape.StyledPanel)
    line = QHBoxLayout(row)
    line.setContentsMargins(*((8, 4, 8, 4) if framed else (0, 0, 0, 0)))
    label = QLabel(text)
    label.setWordWrap(True)
    line.addWidget(label, 1)
    if button:
        push = QPushButton(button)
        push.setAccessibleName(f"{button}: {text}")
        push.clicked.connect(lambda _checked=False: act())
        line.addWidget(push)
    return row


def heading(text: str) -> QLabel:
    return emphasised(QLabel(text), 16)


def ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """OK (named for what it does) and Cancel, wired to the dialog's accept and reject."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def menu_on_shift_f10(view: QAbstractItemView, open_menu: Callable[[QPoint], None]) -> QShortcut:
    """Shift+F10 opens a view's context menu at its current item, as the Menu key does.

    ``open_menu`` takes a point in the viewport's coordinates, like
    ``customContextMenuRequested`` of a scroll area."""

    def at_current() -> None:
        rect = view.visualRect(view.currentIndex())
        open_menu(rect.center() if rect.isValid() else QPoint(4, 4))

    shortcut = QShortcut(QKeySequence("Shift+F10"), view, at_current)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    return shortcut


class PathField(QWidget):
    """A line edit for a path, with Browse… for a folder, or a file matching ``filter``."""

    chosen = Signal(str)  # a path picked with Browse…

    def __init__(self, name: str, *, filter: str | None = None, placeholder: str = "") -> None:
        super().__init__()
        self.name, self.filter = name, filter
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setAccessibleName(name)
        self.edit.setPlaceholderText(placeholder)
        browse = QPushButton("Browse…")
        browse.setAccessibleName(f"Choose the {name.lower()}")
        browse.clicked.connect(self.browse)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def browse(self) -> None:
        if self.filter is None:
            chosen = QFileDialog.getExistingDirectory(self, self.name, self.edit.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, self.name, "", self.filter)
        if chosen:
            self.edit.setText(chosen)
            self.chosen.emit(chosen)
