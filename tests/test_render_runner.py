"""Rendering in a child process: crashes, cancels and pauses leave nothing under a final name."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

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
