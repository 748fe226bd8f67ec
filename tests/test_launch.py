"""``python main.py`` with no command: the real entry point opens the window and quits cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.conftest import ROOT


def _demo_jobs(database: Path) -> list[tuple[str, str]]:
    if not database.exists():
        return []
    try:
        with closing(sqlite3.connect(database)) as raw:
            return raw.execute("select title, state from jobs").fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def test_the_app_opens_on_the_demo_workspace_and_stops_on_sigterm(data_dir: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen(  # --tray, where there is none: said, and the window opens
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "--tray"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        demo = [("Demo: ideas from the sample sheet", "paused")]  # rendered on request only
        while _demo_jobs(data_dir / "cadence.db") != demo:
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "the demo job never appeared"
            time.sleep(0.2)
        # The window runs the engine: a second engine on the same data folder is refused.
        while "engine started" not in (data_dir / "logs" / "cadence.log").read_text():
            assert time.monotonic() < deadline, "the engine never started"
            time.sleep(0.2)
        second = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "run",
             "--headless", "--until-idle"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 2 and "already running" in second.stderr
        app.send_signal(signal.SIGTERM)
        _out, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err  # a SIGTERM nobody handles ends the process with -15
    assert "Traceback" not in err
    assert "no system tray to start in, so the window opens instead" in err
    log = (data_dir / "logs" / "cadence.log").read_text()
    assert "window opened" in log and log.rstrip().endswith("stopped")


def test_quitting_after_a_render_exits_cleanly(data_dir: Path, tmp_path: Path) -> None:
    """A session that rendered, then quit: exit code 0, and no fatal error while Python
    tears down (the qasync loop, Qt objects and worker threads go in a defined order)."""
    import csv

    from tests.conftest import HEADER, full_row

    sheet = tmp_path / "one.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(full_row(script_content="A short one. Done now.", style_override="minimal"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    app = subprocess.Popen(main, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        log = data_dir / "logs" / "cadence.log"
        while not log.exists() or "engine started" not in log.read_text():
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "the engine never started"
            time.sleep(0.2)
        made = subprocess.run(
            [*main, "jobs", "create", "--source", str(sheet), "--resolution", "720p",
             "--out", str(tmp_path / "videos")],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        while not any(state == "completed" for _t, state in _demo_jobs(data_dir / "cadence.db")):
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "the job never finished"
            time.sleep(0.5)
        app.send_signal(signal.SIGTERM)
        _out, err = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    assert "Fatal Python error" not in err and "Traceback" not in err


def test_a_session_of_many_signals_still_quits_cleanly() -> None:
    """More signal emits than ``True`` has references — a day of render progress — and the
    process still ends with exit code 0 (PySide6 6.12.0 lost a reference on each emit, so
    Python aborted with ``bool_dealloc`` while finalising; the guard and the pin keep it away)."""
    script = (
        "from PySide6.QtCore import QObject, Signal\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.ui.qt_guard import guard_signal_emits\n"
        "guard_signal_emits()\n"
        "app = QApplication([])\n"
        "class Host(QObject):\n"
        "    happened = Signal(object)\n"
        "host = Host()\n"
        "host.happened.connect(lambda event: None)\n"
        "for n in range(100_000):\n"
        "    host.happened.emit(n)\n"
        "print('emitted')\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "emitted" in done.stdout and "Fatal Python error" not in done.stderr


def test_sigterm_while_a_video_renders_quits_without_asking_and_the_next_start_finishes_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """What a desktop session does at logout, and service managers do: SIGTERM during a
    render. The window (no tray here, so closing would ask) quits without a question, exit
    status 0, no traceback, within 10 s — and the next start finishes that video, once."""
    import csv

    from tests.conftest import HEADER, full_row

    sheet = tmp_path / "one.csv"
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        script = "A sentence about the sky and its light, read slowly. " * 4
        writer.writerow(full_row(script_content=script, style_override="minimal"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    main = [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir)]
    made = subprocess.run(
        [*main, "jobs", "create", "--source", str(sheet), "--resolution", "720p",
         "--optimize", "speed", "--out", str(tmp_path / "videos")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    database = data_dir / "cadence.db"
    app = subprocess.Popen(main, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # the window's engine renders the item
            with closing(sqlite3.connect(database)) as raw:
                stage = raw.execute("select state, stage from items").fetchone()
            if stage == ("running", "encode"):
                break
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, stage
            time.sleep(0.1)
        app.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        _out, err = app.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    assert took < 10, f"quitting took {took:.1f} s"
    assert "Traceback" not in err
    again = subprocess.run(
        [*main, "run", "--headless", "--until-idle"], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    with closing(sqlite3.connect(database)) as raw:
        assert raw.execute("select state, attempts from items").fetchall() == [("completed", 1)]
    assert sorted(p.suffix for p in (tmp_path / "videos").iterdir()) == [
        ".json",
        ".mp4",
        ".png",
        ".srt",
    ]
