"""The window opens on the demo workspace, loading everything off the GUI thread."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from pytestqt.qtbot import QtBot

from app.domain.errors import UserError
from app.engine import rendering
from app.paths import AppPaths
from app.services import Services
from app.ui.background import Background
from app.ui.main_window import MainWindow


def test_first_start_shows_the_demo_job_and_its_items(qtbot: QtBot, data_dir: Path) -> None:
    opened_on: list[threading.Thread] = []

    def open_workspace() -> Services:
        opened_on.append(threading.current_thread())
        return Services(AppPaths.resolve(data_dir), front_end="gui")

    window = MainWindow(open_workspace)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.jobs.items_model.rowCount() > 0, timeout=15_000)

    assert opened_on and opened_on[0] is not threading.main_thread()
    assert window.jobs.model.rowCount() == 1
    job = window.jobs.model.job(0)
    assert job.title.startswith("Demo") and job.state == "paused"  # renders on request
    assert window.jobs.items_model.rowCount() == job.items_total >= 6
    assert window.jobs.heading.text() == "Jobs (1)"
    assert str(data_dir) in window.statusBar().currentMessage()
    assert (
        window.jobs.items_model.data(window.jobs.items_model.index(0, 1)) == "Why the sky is blue"
    )
    window.close()


def test_demo_is_created_once(qtbot: QtBot, data_dir: Path) -> None:
    paths = AppPaths.resolve(data_dir)
    for _ in range(2):
        window = MainWindow(lambda: Services(paths, front_end="gui"))
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda w=window: w.jobs.model.rowCount() > 0, timeout=15_000)  # type: ignore[misc]
        assert window.jobs.model.rowCount() == 1
        window.close()


def test_models_follow_the_qt_model_contract(qtbot: QtBot, qtmodeltester, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(lambda: Services(AppPaths.resolve(data_dir), front_end="gui"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.jobs.items_model.rowCount() > 0, timeout=15_000)
    qtmodeltester.check(window.jobs.model)
    qtmodeltester.check(window.jobs.items_model)
    window.close()


def test_a_failure_is_shown_as_a_message_not_a_crash(
    qtbot: QtBot, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")

    window = MainWindow(lambda: Services(AppPaths.resolve(blocker), front_end="gui"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.problem is not None, timeout=15_000)
    assert window.problem is not None
    shown = window.problem.text()
    assert shown == f"{blocker} is a file, not a folder — choose another folder with --data-dir"
    assert window.statusBar().currentMessage() == shown
    assert not window.problem.isModal()  # the window goes on working behind it
    window.close()


@pytest.mark.qasync
def test_the_window_runs_the_engine_on_its_event_loop(
    qtbot: QtBot, data_dir: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Resume the demo job from the Jobs menu: the engine, on the window's qasync loop,
    renders its items (stand-in renders) and the table follows."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.pipeline.runner import RenderOutcome

    threads: list[str] = []

    def fake_render(task, progress, **_kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        progress("encode", 0.5)
        return RenderOutcome("completed", None, None)

    monkeypatch.setattr(rendering, "run_render", fake_render)
    paths = AppPaths.resolve(data_dir)
    (data_dir / "videos").mkdir()
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    window = MainWindow(lambda: Services(paths, front_end="gui"), run_engine=True)
    qtbot.addWidget(window)

    async def scenario() -> None:
        while window.jobs.model.rowCount() == 0 or not window.engine.running:
            await asyncio.sleep(0.05)
        assert window.workspace is not None
        window.workspace.settings.set("output.folder", str(data_dir / "videos"))
        assert window.job_actions["resume"].isEnabled()
        assert not window.job_actions["retry"].isEnabled()
        window.job_actions["resume"].trigger()
        for _ in range(400):
            job = window.jobs.model.job(0)
            if job.state == "completed":
                break
            await asyncio.sleep(0.05)
        assert window.jobs.model.job(0).state == "completed"
        assert window.jobs.model.job(0).items_completed == window.jobs.model.job(0).items_total
        await window.stop_engine()

    try:
        with loop:
            loop.run_until_complete(asyncio.wait_for(scenario(), 60))
    finally:
        window.shutdown()
        asyncio.set_event_loop(None)
    assert threads and threading.main_thread().name not in threads  # renders off the GUI thread
    assert not (data_dir / "engine.lock").exists() or _lock_is_free(data_dir / "engine.lock")


def _lock_is_free(path: Path) -> bool:
    from app.engine.lock import AlreadyRunning, InstanceLock

    try:
        InstanceLock(path).acquire().release()
    except AlreadyRunning:
        return False
    return True


class _AtOnce:
    """An executor whose work is done before `submit` returns: the quickest failure there is."""

    def submit(self, work: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(work())
        except Exception as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, **_kwargs: Any) -> None:
        pass


def test_work_done_at_once_is_answered_from_the_event_loop_not_inside_run(qtbot: QtBot) -> None:
    """A window starts opening its workspace in its constructor; a failure in the first
    microseconds must not call back before the constructor has set up what the callback
    uses (it did: the message was set, then the constructor reset it — a flaky test)."""
    background = Background()
    background._pool = _AtOnce()  # type: ignore[assignment]
    seen: list[str] = []

    def fail() -> None:
        raise UserError("no such folder")

    background.run(fail, lambda _value: seen.append("done"), lambda e: seen.append(str(e)))
    background.run(lambda: 1, lambda value: seen.append(f"got {value}"), seen.append)
    assert seen == []  # nothing inside `run`
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5_000)
    assert seen == ["no such folder", "got 1"]  # in the order the work finished


def test_an_answer_for_a_view_closed_meanwhile_is_dropped_not_raised(qtbot: QtBot) -> None:
    """A dialog closes (and is deleted) while its read runs: the answer has nowhere to go.
    It is dropped quietly — no "Exceptions caught in Qt event loop" — and other bugs still
    surface."""
    from PySide6.QtWidgets import QComboBox

    background = Background()
    box = QComboBox()
    box.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(box), timeout=5_000)
    seen: list[str] = []
    background.run(lambda: ["a"], lambda names: box.addItems(names), seen.append)
    background.run(lambda: 1, lambda value: seen.append(f"then {value}"), seen.append)
    qtbot.waitUntil(lambda: seen == ["then 1"], timeout=5_000)
    assert background.pending == 0
    background.shutdown()
