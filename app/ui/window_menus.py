"""The window's menus, toolbar and shortcuts — each action a `WindowAction` — and its help."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QStyle

from app import APP_NAME, __version__
from app.paths import USER_GUIDE
from app.ui.opener import open_or_offer
from app.ui.operations import WindowAction

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def make_actions(window: MainWindow) -> dict[str, QAction]:
    """Every action of the menus and the toolbar, with its shortcut and what it does."""
    jobs = window.job_handlers
    A = WindowAction
    on_selected = {  # these act on the jobs selected in the table
        A.RESUME: ("&Resume", "Ctrl+R"),
        A.PAUSE: ("&Pause", "Ctrl+P"),
        A.CANCEL: ("&Cancel…", "Ctrl+Shift+X"),
        A.RETRY: ("Re&try failed items", "Ctrl+Shift+R"),
        A.DELETE: ("&Delete…", "Del"),
        A.ENABLE: ("E&nable its schedule", "Ctrl+Shift+E"),
        A.DISABLE: ("D&isable its schedule", "Ctrl+Shift+D"),
    }
    specs: list[tuple[WindowAction, str, str, Callable[[], object]]] = [
        (A.NEW, "&New job…", "Ctrl+N", jobs.new_job)
    ]
    specs += [
        (name, text, keys, partial(jobs.act_on_selected, name))
        for name, (text, keys) in on_selected.items()
    ]
    specs += [
        (A.APPROVE, "Re&view videos awaiting approval…", "Ctrl+Shift+A", jobs.review_approvals),
        (A.EXPORT, "&Export jobs…", "Ctrl+E", jobs.export_jobs),
        (A.REFRESH, "Re&fresh", "F5", window.refresh),
        (A.FIND, "&Find", "Ctrl+F", window.focus_search),
    ]
    actions: dict[str, QAction] = {}
    for name, text, keys, slot in specs:
        action = QAction(text, window)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _checked=False, s=slot: s())
        actions[name] = action
    return actions


def build_menus(window: MainWindow) -> QAction:
    """The menu bar; returns its Quit action."""
    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(window.job_actions["new"])
    file_menu.addAction(window.job_actions["export"])
    file_menu.addSeparator()
    quit_action = QAction("&Quit", window, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
    quit_action.triggered.connect(window.quit_app)
    file_menu.addAction(quit_action)
    jobs_menu = window.menuBar().addMenu("&Jobs")
    from app.ui.main_window import PAGES
    from app.ui.pages.jobs import ACTIONS

    for name in ACTIONS:
        jobs_menu.addAction(window.job_actions[name])
    jobs_menu.addSeparator()
    jobs_menu.addAction(window.job_actions["approve"])
    view = window.menuBar().addMenu("&View")
    for n, name in enumerate(PAGES):
        action = QAction(name, window, shortcut=QKeySequence(f"Ctrl+{n + 1}"))
        action.triggered.connect(lambda _c=False, i=n: window.nav.setCurrentRow(i))
        view.addAction(action)
    view.addSeparator()
    view.addAction(window.job_actions["find"])
    view.addAction(window.job_actions["refresh"])
    help_menu = window.menuBar().addMenu("&Help")
    about = QAction("&About Cadence", window)
    about.triggered.connect(
        lambda: QMessageBox.about(
            window, f"About {APP_NAME}", f"{APP_NAME} {__version__}\n\nIdeas in, videos out."
        )
    )
    guide = QAction(
        "&User guide", window, shortcut=QKeySequence(QKeySequence.StandardKey.HelpContents)
    )
    guide.triggered.connect(lambda: open_guide(window))
    help_menu.addAction(guide)
    keys = QAction("&Keyboard shortcuts", window)
    keys.triggered.connect(lambda: show_shortcuts(window))
    help_menu.addAction(keys)
    help_menu.addSeparator()
    help_menu.addAction(about)
    return quit_action


def build_toolbar(window: MainWindow) -> dict[str, QStyle.StandardPixmap]:
    """The toolbar; returns its actions' icons (tinted to the theme by the window)."""
    bar = window.addToolBar("Actions")
    bar.setObjectName("actions")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    icons = {
        "new": QStyle.StandardPixmap.SP_FileIcon,
        "resume": QStyle.StandardPixmap.SP_MediaPlay,
        "pause": QStyle.StandardPixmap.SP_MediaPause,
        "cancel": QStyle.StandardPixmap.SP_MediaStop,
        "retry": QStyle.StandardPixmap.SP_BrowserReload,
        "approve": QStyle.StandardPixmap.SP_DialogApplyButton,
    }
    for name in icons:
        bar.addAction(window.job_actions[name])
    window.job_actions["approve"].setIconText("Approvals")
    return icons


def shortcut_list(window: MainWindow) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in menu order."""
    found = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                found.append((keys, action.text().replace("&", "").rstrip("…")))
    found.append(("Shift+F10", "Menu of the selected job or item"))
    return found


def show_shortcuts(window: MainWindow) -> None:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>{t}</td></tr>" for k, t in shortcut_list(window))
    box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>",
                      parent=window)  # fmt: skip
    box.setModal(False)
    window.shortcuts_box = box
    box.show()


def open_guide(window: MainWindow) -> None:
    """The README, the user guide that ships with Cadence, in the desktop's own viewer."""
    if not USER_GUIDE.exists():
        window.statusBar().showMessage(
            "The user guide did not come with this copy of Cadence — it is the README"
            " of Cadence's source.",
            15_000,
        )
        return
    open_or_offer(USER_GUIDE, window, "the user guide")
