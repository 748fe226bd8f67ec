"""Every page works from the keyboard: each control Tab reaches has a name a screen reader can
say (its own, its text, or its form label), pictures are passed by, and Ctrl+1 … Ctrl+7 open
the pages."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QFormLayout,
    QLabel,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.paths import AppPaths
from app.services import Services
from app.ui.main_window import PAGES, MainWindow


def spoken_name(widget: QWidget) -> str:
    if widget.accessibleName():
        return widget.accessibleName()
    if isinstance(widget, QAbstractButton) and widget.text():
        return widget.text()
    parent = widget.parentWidget()
    while parent is not None:
        layout = parent.layout()
        if isinstance(layout, QFormLayout):
            label = layout.labelForField(widget)
            if isinstance(label, QLabel) and label.text():
                return label.text()
        parent = parent.parentWidget()
    return ""


def tab_stops(page: QWidget) -> list[QWidget]:
    return [
        widget
        for widget in page.findChildren(QWidget)
        if widget.isVisible()
        and widget.isEnabled()
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
        and not isinstance(widget.parentWidget(), QAbstractSpinBox)  # the box is named
    ]


def test_every_page_is_named_control_by_control(qtbot: QtBot, data_dir: Path) -> None:
    window = MainWindow(lambda: Services(AppPaths.resolve(data_dir), front_end="gui"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=15_000)
    shortcuts = {
        action.shortcut().toString(): action.text()
        for action in window.findChildren(type(window.job_actions["new"]))
    }
    for number, name in enumerate(PAGES, 1):
        assert shortcuts[QKeySequence(f"Ctrl+{number}").toString()] == name
        window.nav.setCurrentRow(number - 1)
        qtbot.wait(150)  # charts are built after the page's first paint
        page = window.stack.currentWidget()
        unnamed = [type(w).__name__ for w in tab_stops(page) if not spoken_name(w)]
        assert unnamed == [], f"{name}: controls without a name: {unnamed}"
        assert tab_stops(page), f"{name}: nothing to reach with Tab"
    window.close()
    window.shutdown()
