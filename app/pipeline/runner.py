"""Render one item in a child process: a crash in native code fails the item, not the app.

Progress comes back over a queue; ``cancel`` terminates the child at once; ``stop`` asks it
to end at the next stage boundary (what a pause does). Partial files are always removed.
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import psutil

from app.domain.errors import UserError
from app.domain.idea import Idea
from app.pipeline.errors import Canceled, RenderError
from app.pipeline.lifeline import die_with_parent, guard_children
from app.pipeline.render import (
    AlreadyRendered,
    RenderSettings,
    output_stem,
    remove_partials,
    render_item,
)

POLL_SECONDS = 0.2
GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class RenderTask:
    """Everything a child needs, as plain picklable data."""

    idea: dict[str, Any]
    row: int
    settings: RenderSettings
    out_dir: Path
    work_dir: Path


class RenderStatus(StrEnum):
    """How a render ended (a StrEnum: it still compares equal to its text)."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    STOPPED = "stopped"  # at a stage boundary, for a pause or a shutdown
    SKIPPED = "skipped"  # its video was already there


@dataclass(slots=True)
class RenderOutcome:
    status: RenderStatus
    result: dict[str, Any] | None = None
    error: str | None = None
    details: str | None = None  # a traceback for the log, when the failure was a bug
    stage: str | None = None
    stages_seen: list[str] = field(default_factory=list)
    transient: bool = False  # a crash, a timeout or a bug: worth retrying, unlike a RenderError


def _child(task: RenderTask, messages: Any, stop: ProcessEvent, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; Ctrl+C goes to it
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # its own group: ffmpeg and espeak-ng join it, and a cancel stops them all
    die_with_parent(parent)
    guard_children()  # its ffmpeg and espeak-ng die with it, even when it is killed
    render_and_report(task, messages, stop.is_set)


def render_and_report(task: RenderTask, messages: Any, should_stop: Callable[[], bool]) -> None:
    """The render of ``task``, its progress and its outcome put on ``messages`` (what the
    child process runs; in-process for tests)."""

    def progress(stage: str, fraction: float) -> None:
        messages.put(("progress", stage, fraction, False))

    try:
        result = render_item(
            Idea.from_dict(task.idea),
            task.row,
            task.settings,
            task.out_dir,
            task.work_dir,
            progress,
            should_stop,
        )
    except AlreadyRendered as exc:
        messages.put(("skipped", str(exc), None, False))
    except Canceled:
        messages.put(("stopped", None, None, False))
    except RenderError as exc:
        messages.put(("failed", str(exc), None, exc.transient))
    except UserError as exc:  # a file the render could not write, said in one line already
        messages.put(("failed", str(exc), None, False))
    except MemoryError:
        messages.put(
            (
                "failed",
                "ran out of memory — close other programs or render at a lower resolution",
                None,
                False,
            )
        )
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            # The user's to fix, not a retry's: said in one line, and this video's hidden
            # files (a finished encode among them) and work folder removed to give the space
            # back (a retry starts afresh).
            where = Path(exc.filename).parent if exc.filename else _fullest(task)
            remove_partials(
                task.out_dir, output_stem(task.row, Idea.from_dict(task.idea)), every=True
            )
            shutil.rmtree(task.work_dir, ignore_errors=True)  # its half-made stages too
            messages.put(
                ("failed", f"the disk is full (writing in {where}) — free some space on it, "
                 "then retry the item", None, False)
            )  # fmt: skip
        else:  # a bug: worth a retry, with its traceback in the log
            messages.put(
                (
                    "failed",
                    f"internal error ({type(exc).__name__}: {exc})",
                    traceback.format_exc(),
                    True,
                )
            )
    else:
        messages.put(("completed", result.to_dict(), None, False))


def _fullest(task: RenderTask) -> Path:
    """Of the folders a render writes to (its output folder, its work folder), the one with
    the least room: where the disk filled, when the error does not say."""
    room = []
    for folder in (task.out_dir, task.work_dir):
        try:
            room.append((shutil.disk_usage(folder).free, str(folder)))
        except OSError:
            continue
    return Path(min(room)[1]) if room else task.out_dir


def run_render(
    task: RenderTask,
    on_progress: Callable[[str, float], None] = lambda _s, _f: None,
    *,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    on_start: Callable[[int], None] = lambda _pid: None,
    timeout: float | None = None,
) -> RenderOutcome:
    """Run ``task`` in a fresh process and wait for its outcome (call from a worker thread)."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    stop_flag = context.Event()
    child = context.Process(
        target=_child, args=(task, messages, stop_flag, os.getpid()), daemon=True
    )
    child.start()
    assert child.pid is not None
    on_start(child.pid)
    watch = _Watch(child, messages, on_progress, time.monotonic())
    try:
        while (outcome := watch.step(cancel, stop, stop_flag, timeout)) is None:
            pass
    finally:
        child.join(GRACE_SECONDS)
        if child.is_alive():
            _stop_tree(child)
        messages.close()
    if outcome.status != RenderStatus.COMPLETED:
        _kill_group(child.pid)  # what a stopped or crashed render started goes with it
        remove_partials(task.out_dir, output_stem(task.row, Idea.from_dict(task.idea)))
    outcome.stages_seen = watch.seen
    return outcome


class _Watch:
    """The parent's side of a render: the child's messages read, progress passed on, and a
    cancel, a stop, a timeout or a crash turned into the outcome."""

    def __init__(
        self,
        child: Any,
        messages: Any,
        on_progress: Callable[[str, float], None],
        started: float,
    ) -> None:
        self.child, self.messages, self.on_progress = child, messages, on_progress
        self.started = started
        self.stage: str | None = None
        self.seen: list[str] = []

    def step(
        self,
        cancel: threading.Event | None,
        stop: threading.Event | None,
        stop_flag: Any,
        timeout: float | None,
    ) -> RenderOutcome | None:
        """One look (checked on every pass: a busy child reports progress continuously)."""
        stage = self.stage
        if cancel is not None and cancel.is_set():
            _stop_tree(self.child)
            return RenderOutcome(RenderStatus.CANCELED, stage=stage)
        if timeout is not None and time.monotonic() - self.started > timeout:
            _stop_tree(self.child)
            return RenderOutcome(
                RenderStatus.FAILED,
                error=f"the render took longer than {timeout:.0f} s and was stopped",
                stage=stage,
                transient=True,
            )
        if stop is not None and stop.is_set():
            stop_flag.set()
        try:
            kind, first, second, transient = self.messages.get(timeout=POLL_SECONDS)
        except queue_module.Empty:
            if self.child.is_alive():
                return None
            return _drain(self.messages) or RenderOutcome(
                RenderStatus.FAILED,
                error=_crash_message(self.child.exitcode, stage),
                stage=stage,
                transient=True,
            )
        if kind == "progress":
            if first != stage:
                self.stage = first
                self.seen.append(first)
            self.on_progress(first, second)
            return None
        if kind == "completed":
            return RenderOutcome(RenderStatus.COMPLETED, result=first, stage=stage)
        return RenderOutcome(
            RenderStatus(kind), error=first, details=second, stage=stage, transient=transient
        )


def _drain(messages: Any) -> RenderOutcome | None:
    try:
        kind, first, second, transient = messages.get(timeout=POLL_SECONDS)
    except queue_module.Empty:
        return None
    if kind == "completed":
        return RenderOutcome(RenderStatus.COMPLETED, result=first)
    if kind == "progress":
        return None
    return RenderOutcome(RenderStatus(kind), error=first, details=second, transient=transient)


def _stop_tree(child: Any) -> None:
    """Stop the render and everything it started (ffmpeg, espeak-ng). Its descendants are
    listed first — once it is gone they are orphans nobody can find — and then killed: on
    Windows, which has no process groups, this is what stops them."""
    try:
        family = psutil.Process(child.pid).children(recursive=True)
    except psutil.Error:
        family = []
    _terminate(child)
    for process in family:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(family, timeout=GRACE_SECONDS)


def _terminate(child: Any) -> None:
    child.terminate()
    child.join(GRACE_SECONDS)
    if child.is_alive():
        child.kill()
        child.join(GRACE_SECONDS)


def _kill_group(pgid: int | None) -> None:
    """Stop what the render started (ffmpeg, espeak-ng) too, and wait until it is gone, so
    nothing writes a file after the partial files are removed."""
    if pgid is None or not hasattr(os, "killpg"):
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.05)


def _crash_message(exitcode: int | None, stage: str | None) -> str:
    where = f" during {stage}" if stage else ""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        how = f"was stopped by {name}"
    else:
        how = f"stopped unexpectedly (exit code {exitcode})"
    return f"the renderer {how}{where} — retry the item; if it happens again, see the log"
