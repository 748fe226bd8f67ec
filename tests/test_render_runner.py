"""Rendering in a child process: crashes, cancels and pauses leave nothing under a final name."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from app.domain.idea import Idea
from app.domain.output import Optimize, OutputConfig, Resolution
from app.pipeline.render import RenderSettings
from app.pipeline.runner import RenderTask, run_render

IDEA = Idea(idea_title="Runner test", script_content="A sentence to speak. " * 8)
SETTINGS = RenderSettings(output=OutputConfig(resolution=Resolution.HD, optimize=Optimize.SPEED))


def task(tmp: Path, row: int = 4) -> RenderTask:
    return RenderTask(IDEA.to_dict(), row, SETTINGS, tmp / "out", tmp / "work")


def test_a_crash_in_the_child_fails_the_item_and_a_retry_resumes(tmp_path: Path) -> None:
    pid: dict[str, int] = {}

    def kill_during_encode(stage: str, fraction: float) -> None:
        if stage == "encode" and fraction > 0.1 and "done" not in pid:
            pid["done"] = 1
            os.kill(pid["child"], signal.SIGKILL)

    outcome = run_render(
        task(tmp_path), kill_during_encode, on_start=lambda p: pid.__setitem__("child", p)
    )
    assert outcome.status == "failed"
    assert outcome.error == (
        "the renderer was stopped by SIGKILL during encode — retry the item; if it happens "
        "again, see the log"
    )
    assert list((tmp_path / "out").iterdir()) == []  # no final name, no partial file

    retry = run_render(task(tmp_path))
    assert retry.status == "completed" and retry.result is not None
    assert retry.result["resumed_from"] == "encode"
    assert retry.stages_seen == ["encode", "thumbnail", "metadata"]
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [
        ".json",
        ".mp4",
        ".png",
        ".srt",
    ]


def test_cancel_terminates_the_child_and_leaves_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()
    outcome = run_render(
        task(tmp_path),
        lambda s, f: cancel.set() if s == "encode" and f > 0 else None,
        cancel=cancel,
    )
    assert outcome.status == "canceled" and outcome.stage == "encode"
    assert list((tmp_path / "out").iterdir()) == []


def test_stop_ends_at_the_next_stage_boundary(tmp_path: Path) -> None:
    stop = threading.Event()
    outcome = run_render(
        task(tmp_path), lambda s, f: stop.set() if s == "speech" else None, stop=stop
    )
    assert outcome.status == "stopped"
    assert outcome.stages_seen[-1] in ("speech", "captions", "visuals")
    assert list((tmp_path / "out").iterdir()) == []
    resumed = run_render(task(tmp_path))
    assert resumed.status == "completed" and resumed.result is not None
    assert resumed.result["resumed_from"] not in (None, "script")


def test_a_render_error_is_reported_not_raised(tmp_path: Path) -> None:
    bad = RenderTask(
        Idea(idea_title="No script").to_dict(), 2, SETTINGS, tmp_path / "o", tmp_path / "w"
    )
    outcome = run_render(bad)
    assert outcome.status == "failed"
    assert outcome.error is not None and outcome.error.startswith("the row has no script")
    assert outcome.details is None  # a user-fixable cause carries no traceback


def test_a_cancel_stops_ffmpeg_too_without_process_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no process groups: the render's process tree is stopped through psutil."""
    import psutil

    monkeypatch.delattr(os, "killpg")
    cancel = threading.Event()
    outcome = run_render(
        task(tmp_path),
        lambda s, f: cancel.set() if s == "encode" and f > 0.05 else None,
        cancel=cancel,
    )
    assert outcome.status == "canceled"
    survivors = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(str(tmp_path) in part for part in (p.info["cmdline"] or []))
    ]
    assert survivors == []
    assert list((tmp_path / "out").iterdir()) == []


ENGINE = """
import sys
from pathlib import Path
from typing import Any
from app.domain.idea import Idea
from app.domain.output import Optimize, OutputConfig, Resolution
from app.pipeline.render import RenderSettings
from app.pipeline.runner import RenderTask, run_render

tmp = Path(sys.argv[1])
idea = Idea(idea_title="Runner test", script_content="A sentence to speak. " * 8)
settings = RenderSettings(output=OutputConfig(resolution=Resolution.HD, optimize=Optimize.SPEED))
task = RenderTask(idea.to_dict(), 4, settings, tmp / "out", tmp / "work")
if __name__ == "__main__":
    run_render(task, lambda stage, fraction: print(stage, fraction, flush=True))
"""


def _left_behind(folder: Path) -> list[str]:
    """Processes whose command line names ``folder`` (an encoder writing there)."""
    import psutil

    return [
        " ".join(p.info["cmdline"])
        for p in psutil.process_iter(["cmdline"])
        if any(str(folder) in part for part in (p.info["cmdline"] or []))
    ]


def test_a_killed_engine_takes_its_encoder_with_it_and_the_retry_makes_a_sound_file(
    tmp_path: Path,
) -> None:
    """SIGKILL the process that runs a render while it encodes: the render and its ffmpeg
    end with it (nothing writes on), and the next attempt's video is one sound container."""
    import subprocess
    import sys
    import time

    from app.pipeline.probe import container_problem

    script = tmp_path / "engine.py"
    script.write_text(ENGINE)
    engine = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert engine.stdout is not None
        for line in engine.stdout:
            stage, fraction = line.split()
            if stage == "encode" and float(fraction) > 0.05:
                break
        else:
            pytest.fail("the render never reached its encode")
        assert [name for name in _left_behind(tmp_path) if "ffmpeg" in name]  # it encodes
        os.kill(engine.pid, signal.SIGKILL)
        engine.wait(10)
    finally:
        if engine.poll() is None:
            engine.kill()
    # Killed with it, not left to finish its file: an orphaned ffmpeg here took over 1 s to
    # see its input end and write its last boxes (a long 1080p one, 10-20 s).
    deadline = time.monotonic() + 0.5
    while _left_behind(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _left_behind(tmp_path) == []

    retry = run_render(task(tmp_path))
    assert retry.status == "completed" and retry.result is not None
    video = Path(retry.result["video"])
    assert container_problem(video, retry.result["duration"], matroska=False) is None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "004-runner-test.json",
        "004-runner-test.mp4",
        "004-runner-test.png",
        "004-runner-test.srt",
    ]


def test_sweep_stops_leftovers_of_a_dead_render_and_spares_live_ones(tmp_path: Path) -> None:
    """At start the engine stops processes an earlier render left running (their parent
    gone), never one a live render of this program owns."""
    import subprocess
    import sys
    import time

    import psutil

    from app.pipeline.lifeline import sweep_leftovers

    work = tmp_path / "work"
    work.mkdir()
    sleeper = f"import time; time.sleep(60)  # {work}/item-1"
    # An orphan: started by a shell that has already gone.
    subprocess.run(["sh", "-c", f'"{sys.executable}" -c "{sleeper}" >/dev/null 2>&1 &'], check=True)
    live = subprocess.Popen([sys.executable, "-c", sleeper])  # its parent (this test) lives
    try:
        deadline = time.monotonic() + 5
        while len(_left_behind(work)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if any(str(work) in part for part in (p.info["cmdline"] or [])) and p.pid != live.pid
        ]
        assert len(orphans) == 1
        assert sweep_leftovers(work) == orphans
        assert not psutil.pid_exists(orphans[0]) or psutil.Process(orphans[0]).status() == "zombie"
        assert live.poll() is None
    finally:
        live.kill()
        live.wait()


def test_a_stop_near_the_end_of_an_encode_lets_it_finish_and_keeps_it(tmp_path: Path) -> None:
    """A pause or a quit asked at 85 % of the encode: the encode finishes and is kept as its
    stage's checkpoint (not thrown away), and the next run resumes after it."""
    stop = threading.Event()
    outcome = run_render(
        task(tmp_path),
        lambda s, f: stop.set() if s == "encode" and f >= 0.85 else None,
        stop=stop,
    )
    assert outcome.status == "stopped"
    assert outcome.stages_seen[-1] == "encode"
    kept = [p.name for p in (tmp_path / "out").iterdir()]
    assert kept == [".004-runner-test.encoded.mp4"]  # the finished encode, hidden, kept
    resumed = run_render(task(tmp_path))
    assert resumed.status == "completed" and resumed.result is not None
    assert resumed.result["resumed_from"] == "thumbnail"
    assert "encode" not in resumed.stages_seen


def test_a_stop_early_in_a_long_encode_stops_it_at_once(tmp_path: Path) -> None:
    stop = threading.Event()
    long_task = RenderTask(
        Idea(idea_title="Runner test", script_content="A sentence to speak. " * 40).to_dict(),
        4,
        SETTINGS,
        tmp_path / "out",
        tmp_path / "work",
    )
    outcome = run_render(
        long_task, lambda s, f: stop.set() if s == "encode" and f > 0.02 else None, stop=stop
    )
    assert outcome.status == "stopped" and outcome.stages_seen[-1] == "encode"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_disk_that_fills_after_the_encode_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the finished files are put in place: the user's to fix (not retried, no
    traceback), and no hidden file of the video stays in the job folder."""
    import errno

    from app.pipeline import render
    from app.pipeline.runner import render_and_report

    real = render._publish

    def full(source: Path, target: Path, *, copy: bool) -> None:
        if target.suffix == ".mp4":
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real(source, target, copy=copy)

    monkeypatch.setattr(render, "_publish", full)
    said: list[tuple[Any, ...]] = []
    render_and_report(task(tmp_path), type("Q", (), {"put": staticmethod(said.append)}), bool)
    kind, message, details, transient = said[-1]
    assert kind == "failed" and details is None and transient is False
    assert message == (
        f"the disk is full (writing in {tmp_path / 'out'}) — free some space on it, then "
        "retry the item"
    )
    assert not [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    assert not (tmp_path / "work").exists()  # its half-made stages gave their room back
