"""The window opens on the demo workspace, loading everything off the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.paths import AppPaths
from app.ui.main_window import MainWindow
from app.workspace import Workspace


def test_first_start_shows_the_demo_job_and_its_items(qtbot: QtBot, data_dir: Path) -> None:
    opened_on: list[threading.Thread] = []

    def open_workspace() -> Workspace:
        opened_on.append(threading.current_thread())
        return Workspace(AppPaths.resolve(data_dir), front_end="gui")

    window = MainWindow(open_workspace)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.items_model.rowCount() > 0, timeout=15_000)

    assert opened_on and opened_on[0] is not threading.main_thread()
    assert window.jobs_model.rowCount() == 1
    job = window.jobs_model.job(0)
    assert job.title.startswith("Demo") and job.state == "pending"
    assert window.items_model.rowCount() == job.items_total >= 6
    assert window.heading.text() == "Jobs (1)"
    assert str(data_dir) in window.statusBar().currentMessage()
    assert window.items_model.data(window.items_model.index(0, 1)) == "Why the sky is blue"
    window.close()


def test_demo_is_created_once(qtbot: QtBot, data_dir: Path) -> None:
    paths = AppPaths.resolve(data_dir)
    for _ in range(2):
        window = MainWindow(lambda: Workspace(paths, front_end="gui"))
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda w=window: w.jobs_model.rowCount() > 0, timeout=15_000)  # type: ignore[misc]
        assert window.jobs_model.rowCount() == 1
        window.close()


def test_models_follow_the_qt_model_contract(qtbot: QtBot, qtmodeltester, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(lambda: Workspace(AppPaths.resolve(data_dir), front_end="gui"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.items_model.rowCount() > 0, timeout=15_000)
    qtmodeltester.check(window.jobs_model)
    qtmodeltester.check(window.items_model)
    window.close()


def test_a_failure_is_shown_as_a_message_not_a_crash(
    qtbot: QtBot, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")

    window = MainWindow(lambda: Workspace(AppPaths.resolve(blocker), front_end="gui"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(shown), timeout=15_000)
    assert shown[0] == f"{blocker} is a file, not a folder — choose another folder with --data-dir"
    assert window.statusBar().currentMessage() == shown[0]
    window.close()
