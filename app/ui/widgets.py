"""Small widgets every view uses: a page heading, a path field with Browse…."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget


def heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-size: 16pt; font-weight: 600;")
    return label


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
