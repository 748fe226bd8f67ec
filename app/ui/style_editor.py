"""A style as a form with a live preview: start from a built-in style, change its colours,
caption box and fonts, see a frame drawn the way renders draw it (in the background, a
moment after each change), and save it as a template in the templates folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import UserError
from app.pipeline.style_templates import CAPTION_FONTS, preview_png, settings_of, style_from
from app.pipeline.styles import BUILTIN
from app.ui.background import Background

PREVIEW_DELAY_MS = 200  # after the last change, the frame is drawn again
log = logging.getLogger(__name__)


def said(error: BaseException) -> str:
    """A problem in the user's words; a bug is logged and said to be one."""
    if isinstance(error, UserError):
        return str(error)
    log.error("style editor", exc_info=error)
    return f"Something went wrong ({type(error).__name__}); the details are in the log."


if TYPE_CHECKING:
    from app.ops.jobs import StyleSaved


class ColorButton(QPushButton):
    """A button showing a colour; clicking it asks for another."""

    picked = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.setAccessibleName(name)
        self.color = "#000000"
        self.clicked.connect(self.choose)

    def set_color(self, color: str) -> None:
        self.color = color
        self.setText(color)
        self.setStyleSheet(
            f"background: {color}; color: {'#000' if QColor(color).lightness() > 140 else '#fff'};"
        )

    def choose(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.color), self, self.name)
        if chosen.isValid():
            self.set_color(chosen.name())
            self.picked.emit()


class StyleEditor(QDialog):
    def __init__(
        self,
        background: Background,
        save: Callable[[str, str, dict[str, Any]], StyleSaved],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New style")
        self.background = background
        self.save_template = save
        self.saved: Path | None = None
        self.asked = 0  # previews asked for; only the latest is shown
        layout = QHBoxLayout(self)
        form = QFormLayout()
        self.base = QComboBox()
        self.base.addItems(list(BUILTIN))
        self.base.setAccessibleName("Start from")
        form.addRow("Start from", self.base)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. night-science")
        self.name.setAccessibleName("Style name")
        form.addRow("Name", self.name)
        self.colors = {
            key: ColorButton(label)
            for key, label in (
                ("background_from", "Background, top left"),
                ("background_to", "Background, bottom right"),
                ("text", "Caption text"),
                ("accent", "Accent"),
                ("caption_box", "Caption box"),
            )
        }
        for key, button in self.colors.items():
            form.addRow(button.name, button)
            button.picked.connect(self.changed)
            if key == "caption_box":
                self.no_box = QCheckBox("No box (an outline instead)")
                form.addRow("", self.no_box)
        self.opacity = QSpinBox()
        self.opacity.setRange(0, 100)
        self.opacity.setSuffix(" %")
        self.opacity.setAccessibleName("Caption box opacity")
        form.addRow("Box opacity", self.opacity)
        self.position = QComboBox()
        self.position.addItems(["bottom", "center", "top"])
        self.position.setAccessibleName("Caption position")
        form.addRow("Captions at", self.position)
        self.caption_font = QComboBox()
        self.caption_font.addItems(list(CAPTION_FONTS))
        self.caption_font.setAccessibleName("Caption font")
        form.addRow("Caption font", self.caption_font)
        self.title_font = QComboBox()
        self.title_font.addItems(list(CAPTION_FONTS))
        self.title_font.setAccessibleName("Title font")
        form.addRow("Title font", self.title_font)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        layout.addLayout(form)
        right = QVBoxLayout()
        self.preview = QLabel("Drawing…")
        self.preview.setFixedSize(480, 270)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setAccessibleName("Preview of a frame in this style")
        right.addWidget(self.preview)
        right.addStretch()
        layout.addLayout(right)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self.draw)
        self.base.currentTextChanged.connect(self.start_from)
        for signal in (
            self.no_box.toggled, self.opacity.valueChanged, self.position.currentIndexChanged,
            self.caption_font.currentIndexChanged, self.title_font.currentIndexChanged,
        ):  # fmt: skip
            signal.connect(self.changed)
        self.start_from(self.base.currentText())

    def start_from(self, base: str) -> None:
        """The form shows the built-in style's own settings."""
        settings = settings_of(BUILTIN[base])
        first, second = settings["background"]
        self.colors["background_from"].set_color(first)
        self.colors["background_to"].set_color(second)
        self.colors["text"].set_color(settings["text"])
        self.colors["accent"].set_color(settings["accent"])
        box = settings["caption_box"]
        self.colors["caption_box"].set_color("#000000" if box == "none" else box)
        self.no_box.setChecked(box == "none")
        self.opacity.setValue(round(100 * settings["caption_box_opacity"]))
        self.position.setCurrentText(settings["caption_position"])
        self.caption_font.setCurrentText(settings["font"])
        self.title_font.setCurrentText(settings["title_font"])
        self.changed()

    def settings(self) -> dict[str, Any]:
        return {
            "background": [
                self.colors["background_from"].color,
                self.colors["background_to"].color,
            ],
            "text": self.colors["text"].color,
            "accent": self.colors["accent"].color,
            "caption_box": "none" if self.no_box.isChecked() else self.colors["caption_box"].color,
            "caption_box_opacity": self.opacity.value() / 100,
            "caption_position": self.position.currentText(),
            "font": self.caption_font.currentText(),
            "title_font": self.title_font.currentText(),
        }

    def changed(self, *_args: object) -> None:
        self.colors["caption_box"].setEnabled(not self.no_box.isChecked())
        self.opacity.setEnabled(not self.no_box.isChecked())
        self.timer.start()

    def draw(self) -> None:
        """The preview frame, drawn in the background; a later change wins."""
        self.asked += 1
        ticket, base, settings = self.asked, self.base.currentText(), self.settings()

        def shown(png: bytes) -> None:
            if ticket == self.asked:
                pixmap = QPixmap()
                pixmap.loadFromData(png, "PNG")
                self.preview.setPixmap(pixmap)
                self.error.setText("")

        def failed(error: BaseException) -> None:
            if ticket == self.asked:
                self.error.setText(said(error))

        self.background.run(
            lambda: preview_png(style_from(base, settings), (480, 270)), shown, failed
        )

    def save(self) -> None:
        name, base = self.name.text().strip().lower(), self.base.currentText()
        settings = self.settings()
        if not name:
            self.error.setText("Name: give the style a name, such as night-science.")
            return

        def saved(done: StyleSaved) -> None:
            self.saved = done.path
            self.accept()

        def failed(error: BaseException) -> None:
            self.error.setText(said(error))

        self.background.run(lambda: self.save_template(name, base, settings), saved, failed)
