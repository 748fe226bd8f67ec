"""Light and dark themes: follow the system, or an override from Settings."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QApplication


def _dark() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1f2329",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#16191d",
        QPalette.ColorRole.AlternateBase: "#1d2126",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#2a2f36",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#4f46e5",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2a2f36",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a9099",
        QPalette.ColorRole.Mid: "#8a9099",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    # Disabled actions, menu items and fields must look disabled in the dark too.
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, QColor("#23272d"))
    return palette


DEVICE_RATIOS = (1.0, 1.5, 2.0, 3.0)


def tinted(icon: QIcon, colour: QColor, size: int = 24, selected: QColor | None = None) -> QIcon:
    """A monochrome icon recoloured to ``colour`` (the theme's text colour), with a dimmer
    copy for the disabled state: the platform's dark glyphs vanish on a dark toolbar.
    ``selected`` colours it on a highlighted row (the highlighted text's colour)."""
    result = QIcon()
    modes = [(QIcon.Mode.Normal, colour, 255), (QIcon.Mode.Disabled, colour, 90)]
    if selected is not None:
        modes.append((QIcon.Mode.Selected, selected, 255))
    for mode, tint, alpha in modes:
        for ratio in DEVICE_RATIOS:  # crisp on high-DPI screens (scaled 150 %, 200 %, 300 %)
            pixmap = icon.pixmap(QSize(size, size), ratio)
            painter = QPainter(pixmap)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
            shade = QColor(tint)
            shade.setAlpha(alpha)
            painter.fillRect(pixmap.rect(), shade)
            painter.end()
            result.addPixmap(pixmap, mode)
    return result


def apply_theme(choice: str) -> None:
    """``System`` keeps the platform's palette (and its light/dark setting)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if choice == "Dark":
        app.setStyle("Fusion")
        app.setPalette(_dark())
    elif choice == "Light":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(QPalette())  # the platform's own, which follows its light/dark setting
    for widget in app.allWidgets():  # style-sheeted widgets keep old colours until re-polished
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())
